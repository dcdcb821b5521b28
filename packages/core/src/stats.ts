/**
 * Counters of everything the client did with events. Every event that does not arrive has a
 * reason in `dropped`.
 *
 * @example
 * const { sent, dropped } = analytics.stats();
 * if (dropped.queue_overflow) console.warn('raise maxQueueEvents');
 */
export interface AnalyticsStats {
  /** Events accepted by the pipeline and put on the queue. */
  enqueued: number;
  /** Events waiting on the queue now. */
  queued: number;
  /** Events in a request or waiting to retry one. */
  inFlight: number;
  /** Events waiting for a pending consent category. */
  pendingConsent: number;
  /** Events the collector acknowledged. */
  sent: number;
  /** Event sends repeated after a failure (one batch of 10 retried twice counts 20). */
  retried: number;
  /** Events the collector rejected for good (also counted in `dropped`). */
  deadLettered: number;
  /** Events that will never arrive, by reason (`consent`, `queue_overflow`, `max_age`, …). */
  dropped: Record<string, number>;
}

/** The mutable counters behind `stats()`. */
export function createCounters() {
  const counters = { enqueued: 0, sent: 0, retried: 0, deadLettered: 0 };
  const dropped: Record<string, number> = {};
  return {
    counters,
    drop(reason: string, count = 1) {
      dropped[reason] = (dropped[reason] ?? 0) + count;
    },
    snapshot(live: { queued: number; inFlight: number; pendingConsent: number }): AnalyticsStats {
      return { ...counters, ...live, dropped: { ...dropped } };
    },
  };
}
