import type { EventCatalog } from './catalog';
import type { ConsentOptions } from './consent';
import type { Destination } from './destinations';
import { ConfigurationError, type SightlineError } from './errors';
import type { AnalyticsEvent, ConsentCategory, EventContext } from './event';
import type { IdentityMode } from './identity';
import { LIMITS } from './limits';
import type { Logger } from './logger';
import type { PiiFilterOptions } from './piiFilter';
import type { PipelineStep } from './pipeline';
import type { EventBufferFactory } from './queue';
import { DEFAULT_RETRY, type RetryOptions } from './retry';
import type { Scheduler } from './scheduler';
import type { StoragePort } from './storage';
import type { Transport } from './transport';

/** A drop as reported to `onDrop`: how many events, why, and which. */
export interface DropReport {
  reason: string;
  detail?: string;
  messageIds: string[];
}

/** Events the collector refused for good, as reported to `onDeadLetter`. */
export interface DeadLetterReport {
  reason: string;
  detail?: string;
  events: AnalyticsEvent[];
}

/**
 * Everything `createAnalytics` accepts. Only `writeKey` and one of `host`, `transport` or
 * `sandbox` are required; every default lives in {@link resolveOptions}.
 */
export interface AnalyticsOptions<Catalog extends EventCatalog | undefined = undefined> {
  /** The collector write key (tenant). */
  writeKey: string;
  /** Collector base URL, e.g. `http://127.0.0.1:8787`. Not needed with `transport` or `sandbox`. */
  host?: string;
  /** Where the write key travels with the default fetch transport. Default `header`. */
  writeKeyIn?: 'header' | 'body';
  /** The default fetch transport aborts and retries a request after this long. Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** Replaces the default fetch transport (platforms pass beacon or node transports). */
  transport?: Transport;
  /** Where identity, consent and (with `persistQueue`) the queue are kept. Default in memory. */
  storage?: StoragePort;
  /** Keep undelivered events in `storage` so they survive a restart. Default false. */
  persistQueue?: boolean;
  /**
   * How long queue changes are gathered before `persistQueue` writes them. Default 50 ms; `0`
   * writes at every change, so an event is stored as it is enqueued (browsers, whose pages can
   * vanish at any moment).
   */
  persistDelayMs?: number;
  /** Default `persistent`; servers use `per-call`. */
  identity?: IdentityMode;
  /** Send as soon as this many events are queued. Default 20. */
  flushAt?: number;
  /** Send queued events at least this often. Default 10,000 ms. */
  flushIntervalMs?: number;
  /** Most events per request (≤ 2,500). */
  maxBatchEvents?: number;
  /** Most bytes per request (≤ 500 KB). */
  maxBatchBytes?: number;
  /** Queue bound by count; the oldest events are dropped past it. Default 10,000. */
  maxQueueEvents?: number;
  /** Queue bound by bytes. Default 5 MiB. */
  maxQueueBytes?: number;
  /**
   * Makes the queue events wait in, for the bounds above. Default an in-memory ring of objects;
   * the Node SDK passes one that packs events off the V8 heap.
   */
  createQueue?: EventBufferFactory;
  /** Concurrent requests. Default 1 (in order); Node uses 4. */
  maxInFlight?: number;
  /** Events older than this are dropped with reason `max_age`. Default 7 days. */
  maxEventAgeMs?: number;
  retry?: RetryOptions;
  /** The PII filter, on by default; `false` turns it off. */
  pii?: PiiFilterOptions | false;
  /** Consent categories; `category` is the one Sightline's own collector needs (default `analytics`). */
  consent?: ConsentOptions & { category?: ConsentCategory };
  /** Typed events; see `defineEventCatalog`. */
  catalog?: Catalog;
  /** Before-send steps, run in order after the PII filter. */
  plugins?: readonly PipelineStep[];
  /** Receivers of the final events besides the collector (Amplitude, Mixpanel…). */
  destinations?: readonly Destination[];
  /** Platform context added to every event (page, user agent, session…). */
  context?: () => EventContext;
  library?: { name: string; version: string };
  /** Log events instead of sending them (seed 000's `SANDBOX_MODE`). */
  sandbox?: boolean;
  scheduler?: Scheduler;
  logger?: Logger;
  /** Log every drop and delivery at debug level through the default console logger. */
  debug?: boolean;
  /** Everything that went wrong, as `SightlineError`s. Tracking calls never throw. */
  onError?: (error: SightlineError) => void;
  onDrop?: (report: DropReport) => void;
  onDeadLetter?: (report: DeadLetterReport) => void;
}

/** A whole-number option's default, then its largest and smallest allowed values. */
export type NumericRule = readonly [fallback: number, max?: number, min?: number];

/**
 * A whole-number option's value, or its default when left out; anything else throws a
 * `ConfigurationError` naming the option and its allowed range. For platform SDKs' own options.
 *
 * @example
 * const timeout = wholeNumber('sessionTimeoutMs', options.sessionTimeoutMs, [30 * 60_000]);
 */
export function wholeNumber(
  name: string,
  value: number | undefined,
  [fallback, max, min = 1]: NumericRule,
) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > (max ?? value)) {
    const range = max === undefined ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new ConfigurationError(
      name,
      `use a whole number ${range} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** The numeric options and their rules. */
const NUMERIC_DEFAULTS = {
  maxQueueEvents: [10_000],
  flushAt: [20, LIMITS.maxBatchEvents],
  requestTimeoutMs: [10_000],
  flushIntervalMs: [10_000],
  maxBatchEvents: [LIMITS.maxBatchEvents, LIMITS.maxBatchEvents],
  maxBatchBytes: [LIMITS.maxRequestBytes, LIMITS.maxRequestBytes],
  maxQueueBytes: [5 * 1024 * 1024],
  maxInFlight: [1],
  maxEventAgeMs: [7 * 24 * 3600 * 1000],
  // 0 is meaningful here: write at every change.
  persistDelayMs: [50, undefined, 0],
} as const satisfies Partial<Record<keyof AnalyticsOptions, NumericRule>>;

type NumericOption = keyof typeof NUMERIC_DEFAULTS;

/** Fills every default once and rejects misuse with an error that names the fix. */
export function resolveOptions<Catalog extends EventCatalog | undefined>(
  options: AnalyticsOptions<Catalog>,
) {
  if (typeof options?.writeKey !== 'string' || options.writeKey.trim() === '') {
    throw new ConfigurationError(
      'writeKey',
      'pass the write key printed by `sightline-collector start` (a non-empty string)',
    );
  }
  if (!options.host && !options.transport && !options.sandbox) {
    throw new ConfigurationError(
      'host',
      'pass the collector URL (e.g. "http://127.0.0.1:8787"), a custom `transport`, or `sandbox: true`',
    );
  }
  const retry = {} as Required<RetryOptions>;
  for (const key of Object.keys(DEFAULT_RETRY) as Array<keyof RetryOptions>) {
    retry[key] = wholeNumber(`retry.${key}`, options.retry?.[key], [DEFAULT_RETRY[key]]);
  }
  const numbers = {} as Record<NumericOption, number>;
  for (const key of Object.keys(NUMERIC_DEFAULTS) as NumericOption[]) {
    numbers[key] = wholeNumber(key, options[key], NUMERIC_DEFAULTS[key]);
  }
  if (numbers.flushAt > numbers.maxQueueEvents) {
    throw new ConfigurationError(
      'flushAt',
      `keep it at most maxQueueEvents (${numbers.maxQueueEvents}), or the queue drops events before a batch fills`,
    );
  }
  if (options.createQueue !== undefined && typeof options.createQueue !== 'function') {
    throw new ConfigurationError(
      'createQueue',
      'pass a function (maxEvents, maxBytes) => queue, or leave it out',
    );
  }
  return {
    ...numbers,
    maxPendingEvents: wholeNumber(
      'consent.maxPendingEvents',
      options.consent?.maxPendingEvents,
      [1000],
    ),
    consentCategory: options.consent?.category ?? 'analytics',
    identity: options.identity ?? 'persistent',
    retry,
  };
}
