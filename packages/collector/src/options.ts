import { ConfigurationError, LIMITS, type PiiFilterOptions } from '@sightline/core';
import type { IpPolicy } from './ingest/enrich';
import type { RateLimitOptions } from './ingest/rateLimit';
import type { WriteQueueOptions } from './ingest/writeQueue';
import { type KeyGrant, type KeyInput, parseKey } from './keys';
import {
  type KpiOptions,
  type QuotaOptions,
  type ReadOptions,
  resolveReadOptions,
} from './readOptions';
import { parseReportsConfig, type ReportsConfigInput } from './reports/reportConfig';
import type { Store } from './store/store';

/**
 * Options of `createCollector`. Only `writeKeys` is required; every default lives in
 * {@link resolveCollectorOptions}.
 */
export interface CollectorOptions {
  /**
   * A `Store`, or a store URL: `duckdb:./.sightline/events.duckdb` (default), `duckdb::memory:`,
   * `clickhouse://user:pass@host:8123/db` or `postgres://user:pass@host:5432/db` (docs/scaling.md).
   */
  store?: Store | string;
  /** Keys that may ingest: `'KEY'` (tenant `default`), `'KEY=tenant'` or `{ key, tenant }`. */
  writeKeys: readonly KeyInput[];
  /** Keys for the read API; tenant `*` makes an admin key (every tenant, `/metrics`). */
  readKeys?: readonly KeyInput[];
  /** Origins allowed to call the API from browsers. Default `*` (write keys are public). */
  allowedOrigins?: '*' | readonly string[];
  /** Largest request body after decompression. Default and maximum 500 KB. */
  maxBodyBytes?: number;
  /** Token bucket per write key, in events. Default 10,000/s with a burst of 20,000; `false` turns it off. */
  rateLimit?: RateLimitOptions | false;
  /** Trust `X-Forwarded-For`: `true` (left-most address) or the number of proxies in front. Default false. */
  trustProxy?: boolean | number;
  /** What to keep of client IPs. Default `anonymize` (IPv4 /24, IPv6 /48). */
  ip?: IpPolicy;
  /** The server-side PII filter (core's), on by default; `false` turns it off. */
  pii?: PiiFilterOptions | false;
  writeQueue?: Omit<WriteQueueOptions, 'onWrite'>;
  /** `/metrics` without an admin read key. Default false. */
  publicMetrics?: boolean;
  /** Read API: result cache, range cap, CSV export cap. */
  read?: ReadOptions;
  /** Event names and acquisition spend behind the dashboard's business KPIs. */
  kpis?: KpiOptions;
  /** Daily usage quotas per tenant and event name. */
  quotas?: QuotaOptions;
  /** Delete events older than this many days (hourly, inside the collector). Default: keep. */
  retentionDays?: number;
  /** Report schedules, alert rules and where their run history is kept (docs/reports.md). */
  reports?: ReportsConfigInput;
  /** The clock, for tests. */
  now?: () => number;
}

export const DEFAULT_STORE_URL = 'duckdb:./.sightline/events.duckdb';

/** Fills defaults once and rejects misuse with an error naming the option and the fix. */
export function resolveCollectorOptions(options: CollectorOptions) {
  if (!options || !Array.isArray(options.writeKeys) || options.writeKeys.length === 0) {
    throw new ConfigurationError(
      'writeKeys',
      "pass at least one write key, e.g. writeKeys: ['wk_dev_1234=default']",
    );
  }
  const writeKeys: KeyGrant[] = options.writeKeys.map((key) => parseKey(key, 'writeKeys'));
  if (writeKeys.some((grant) => grant.tenant === '*')) {
    throw new ConfigurationError(
      'writeKeys',
      'a write key belongs to one tenant: "*" is for read keys',
    );
  }
  const readKeys: KeyGrant[] = (options.readKeys ?? []).map((key) => parseKey(key, 'readKeys'));
  const shared = readKeys.find((read) => writeKeys.some((write) => write.key === read.key));
  if (shared) {
    throw new ConfigurationError(
      'readKeys',
      'a read key must differ from every write key (write keys are public)',
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.maxRequestBytes;
  if (
    !Number.isInteger(maxBodyBytes) ||
    maxBodyBytes < 1024 ||
    maxBodyBytes > LIMITS.maxRequestBytes
  ) {
    throw new ConfigurationError(
      'maxBodyBytes',
      `use a whole number from 1024 to ${LIMITS.maxRequestBytes}`,
    );
  }
  const rateLimit: RateLimitOptions | false =
    options.rateLimit === false
      ? false
      : (options.rateLimit ?? { eventsPerSecond: 10_000, burst: 20_000 });
  if (rateLimit && !(rateLimit.eventsPerSecond > 0 && Number.isFinite(rateLimit.eventsPerSecond))) {
    throw new ConfigurationError(
      'rateLimit.eventsPerSecond',
      'use a positive number, or rateLimit: false',
    );
  }
  if (
    rateLimit &&
    rateLimit.burst !== undefined &&
    !(Number.isFinite(rateLimit.burst) && rateLimit.burst >= 1)
  ) {
    throw new ConfigurationError(
      'rateLimit.burst',
      'use a number ≥ 1 (events a key may send at once)',
    );
  }
  const trustProxy = options.trustProxy ?? false;
  if (typeof trustProxy !== 'boolean' && !(Number.isInteger(trustProxy) && trustProxy >= 0)) {
    throw new ConfigurationError(
      'trustProxy',
      'use true, false, or the number of proxies in front of the collector',
    );
  }
  const ip = options.ip ?? 'anonymize';
  if (!['anonymize', 'drop', 'keep'].includes(ip)) {
    throw new ConfigurationError('ip', "use 'anonymize', 'drop' or 'keep'");
  }
  return {
    store: options.store ?? DEFAULT_STORE_URL,
    writeKeys,
    readKeys,
    allowedOrigins: options.allowedOrigins ?? '*',
    maxBodyBytes,
    rateLimit,
    trustProxy,
    ip,
    pii: options.pii ?? {},
    writeQueue: options.writeQueue ?? {},
    publicMetrics: options.publicMetrics ?? false,
    ...resolveReadOptions(options),
    reports: options.reports === undefined ? undefined : parseReportsConfig(options.reports),
    now: options.now ?? Date.now,
  };
}

export type ResolvedCollectorOptions = ReturnType<typeof resolveCollectorOptions>;
