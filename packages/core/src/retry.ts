/** How failed deliveries are retried. */
export interface RetryOptions {
  /** First backoff ceiling; doubles per attempt. Default 1,000 ms. */
  baseDelayMs?: number;
  /** Highest backoff ceiling. Default 60,000 ms. */
  maxDelayMs?: number;
  /** Sends of one batch before its events are given up (reason `retries_exhausted`). Default 10. */
  maxAttempts?: number;
  /** Longest `Retry-After` honoured; longer answers are capped. Default 600,000 ms. */
  maxRetryAfterMs?: number;
}

/**
 * The retry defaults: 1 s base, 60 s cap, 10 attempts, `Retry-After` honoured up to 10 minutes.
 *
 * @example
 * createAnalytics({ writeKey, host, retry: { ...DEFAULT_RETRY, maxAttempts: 20 } });
 */
export const DEFAULT_RETRY: Required<RetryOptions> = {
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxAttempts: 10,
  maxRetryAfterMs: 600_000,
};

/**
 * Exponential backoff with full jitter (a uniformly random delay below the ceiling), which
 * spreads retries of many clients after an outage instead of synchronising them.
 *
 * @example
 * backoffDelay(3, DEFAULT_RETRY); // somewhere in [0, 4000) ms
 */
export function backoffDelay(
  attempt: number,
  options: Required<RetryOptions>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Milliseconds to wait from a `Retry-After` header: delta-seconds or an HTTP date.
 *
 * @example
 * parseRetryAfter('2', Date.now()); // 2000
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now: number,
): number | undefined {
  // A missing or blank header matches neither shape below.
  const trimmed = (header ?? '').trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // `Date.parse` alone accepts garbage such as "-1" or "abc 1" (as dates in 2001), which would
  // turn into an immediate retry, so only the three HTTP-date shapes get this far.
  if (!HTTP_DATE.test(trimmed)) return undefined;
  // asctime (the only shape ending in a digit, its year) carries no zone; HTTP dates are always
  // GMT, never local time.
  const date = Date.parse(/\d$/.test(trimmed) ? `${trimmed} GMT` : trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7): a day name, then a date with hh:mm:ss. */
const HTTP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +(\d{1,2}[ -][a-z]{3}[ -]\d{2,4} +\d{2}:\d{2}:\d{2} +GMT|[a-z]{3} +\d{1,2} +\d{2}:\d{2}:\d{2} +\d{4})$/i;

/** What a delivery attempt's status means for its batch. */
export type DeliveryVerdict = 'delivered' | 'retry' | 'split' | 'reject';

/**
 * Retries network errors (no status), 408, 429 and 5xx; splits on 413; rejects other statuses
 * for good so a malformed batch is never retried forever.
 *
 * @example
 * classifyStatus(503); // 'retry'
 * classifyStatus(400); // 'reject'
 */
export function classifyStatus(status: number | undefined): DeliveryVerdict {
  if (status === undefined || status === 408 || status === 429 || status >= 500) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  return status === 413 ? 'split' : 'reject';
}
