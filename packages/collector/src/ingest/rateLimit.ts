/** A token bucket per write key, counted in events. */
export interface RateLimitOptions {
  /** Sustained events per second per write key. */
  eventsPerSecond: number;
  /** Events a key may send at once after being idle. Default 2 × eventsPerSecond. */
  burst?: number;
}

/**
 * Token buckets keyed by write key: each event takes a token, tokens refill at
 * `eventsPerSecond` up to `burst`. `take` answers how long to wait when a batch does not fit.
 *
 * @example
 * const limiter = createRateLimiter({ eventsPerSecond: 1000 });
 * const waitMs = limiter.take('wk_abc', 100, Date.now()); // 0 when allowed
 */
export function createRateLimiter(options: RateLimitOptions) {
  const rate = options.eventsPerSecond / 1000;
  // At least one event, so a zero or negative burst cannot switch the limit off, and a NaN one
  // (an unparsed environment variable) cannot answer 429 forever.
  const burst = options.burst ?? Number.NaN;
  const capacity = Math.max(1, Number.isFinite(burst) ? burst : options.eventsPerSecond * 2);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    /** Takes `count` tokens; returns 0 when allowed, else the ms until they would be there. */
    take(key: string, count: number, now: number): number {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size > 100_000) buckets.clear();
        bucket = { tokens: capacity, at: now };
        buckets.set(key, bucket);
      }
      // A clock that steps back (NTP) does not drain the bucket: refill restarts from `now`.
      bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * rate);
      bucket.at = now;
      // A batch larger than the whole bucket can never fit: let it through once the bucket is full.
      const needed = Math.min(count, capacity);
      if (bucket.tokens >= needed) {
        bucket.tokens -= needed;
        return 0;
      }
      return Math.ceil((needed - bucket.tokens) / rate);
    },
  };
}
