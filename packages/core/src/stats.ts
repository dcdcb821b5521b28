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
