import { ConfigurationError } from '@sightline/core';

/** Read API settings. */
export interface ReadOptions {
  /** How long identical query results are reused, in ms (dropped early when the tenant writes). Default 10,000; 0 turns caching off. */
  cacheTtlMs?: number;
  /** Longest `from`–`to` range a query may ask for, in days. Default 400. */
  maxRangeDays?: number;
  /** Most rows one `GET /v1/export.csv` returns. Default 50,000. */
  exportRowCap?: number;
}

/** Event names and acquisition spend behind the business KPIs of `GET /v1/dashboard`. */
export interface KpiOptions {
  /** Default `signup_completed`. */
  signupEvent?: string;
  /** Default `payment_completed`. */
  paymentEvent?: string;
  /** Track events whose `properties.amount` is acquisition spend. Default `ad_spend`. */
  adSpendEvent?: string;
  /** Acquisition spend per tenant for CAC, used instead of `adSpendEvent` events when set. */
  acquisitionSpend?: Record<string, number>;
}

/** Daily usage quotas (UTC days). */
export interface QuotaOptions {
  /** `soft` (default) reports and counts; `hard` answers 429 to events over their quota. */
  mode?: 'soft' | 'hard';
  /** tenant → event name → events per UTC day. */
  limits: Record<string, Record<string, number>>;
}

function positiveInteger(value: number, option: string, fix: string): number {
  if (!Number.isInteger(value) || value < 0) throw new ConfigurationError(option, fix);
  return value;
}

function eventName(value: string | undefined, fallback: string, option: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '' || value.length > 256) {
    throw new ConfigurationError(option, 'use a non-empty event name of at most 256 characters');
  }
  return value;
}

/**
 * Validates and completes the read-side options, defaults in one place.
 *
 * @example
 * resolveReadOptions({ read: { cacheTtlMs: 0 } }).read.exportRowCap; // 50000
 */
export function resolveReadOptions(options: {
  read?: ReadOptions;
  kpis?: KpiOptions;
  quotas?: QuotaOptions;
  retentionDays?: number;
}) {
  const read = options.read ?? {};
  const cacheTtlMs = positiveInteger(
    read.cacheTtlMs ?? 10_000,
    'read.cacheTtlMs',
    'use a whole number of milliseconds ≥ 0 (0 turns caching off)',
  );
  const maxRangeDays = positiveInteger(
    read.maxRangeDays ?? 400,
    'read.maxRangeDays',
    'use a whole number of days ≥ 1',
  );
  if (maxRangeDays < 1)
    throw new ConfigurationError('read.maxRangeDays', 'use a whole number of days ≥ 1');
  const exportRowCap = positiveInteger(
    read.exportRowCap ?? 50_000,
    'read.exportRowCap',
    'use a whole number of rows ≥ 1',
  );
  if (exportRowCap < 1)
    throw new ConfigurationError('read.exportRowCap', 'use a whole number of rows ≥ 1');

  const kpis = options.kpis ?? {};
  const acquisitionSpend = kpis.acquisitionSpend ?? {};
  for (const [tenant, spend] of Object.entries(acquisitionSpend)) {
    if (!(Number.isFinite(spend) && spend >= 0)) {
      throw new ConfigurationError(`kpis.acquisitionSpend.${tenant}`, 'use a number ≥ 0');
    }
  }

  const quotas = options.quotas ?? { limits: {} };
  const mode = quotas.mode ?? 'soft';
  if (mode !== 'soft' && mode !== 'hard') {
    throw new ConfigurationError('quotas.mode', "use 'soft' or 'hard'");
  }
  for (const [tenant, limits] of Object.entries(quotas.limits ?? {})) {
    for (const [event, limit] of Object.entries(limits)) {
      positiveInteger(
        limit,
        `quotas.limits.${tenant}.${event}`,
        'use a whole number of events per day ≥ 0',
      );
    }
  }

  const retentionDays = options.retentionDays;
  if (retentionDays !== undefined) {
    positiveInteger(
      retentionDays,
      'retentionDays',
      'use a whole number of days ≥ 1, or leave it out to keep events forever',
    );
    if (retentionDays < 1) {
      throw new ConfigurationError(
        'retentionDays',
        'use a whole number of days ≥ 1, or leave it out to keep events forever',
      );
    }
  }

  return {
    read: { cacheTtlMs, maxRangeDays, exportRowCap },
    kpis: {
      signupEvent: eventName(kpis.signupEvent, 'signup_completed', 'kpis.signupEvent'),
      paymentEvent: eventName(kpis.paymentEvent, 'payment_completed', 'kpis.paymentEvent'),
      adSpendEvent: eventName(kpis.adSpendEvent, 'ad_spend', 'kpis.adSpendEvent'),
      acquisitionSpend,
    },
    quotas: { mode, limits: quotas.limits ?? {} },
    retentionDays,
  };
}

export type ResolvedReadOptions = ReturnType<typeof resolveReadOptions>;
