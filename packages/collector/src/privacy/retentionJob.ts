import { ConfigurationError } from '@sightline/core';
import type { Store } from '../store/store';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The first run comes this soon after the store opens (or after `intervalMs`, if shorter). */
const FIRST_RUN_DELAY_MS = 10_000;

/** What one prune deleted, and the cutoff it used. */
export interface PruneResult {
  events: number;
  identityLinks: number;
  /** Events before this instant (Unix ms) were deleted. */
  cutoffMs: number;
}

/** Options of {@link startRetentionJob}. */
export interface RetentionJobOptions {
  /** The store to prune; the job starts once it opens, and never runs if it fails to open. */
  store: Promise<Store>;
  /** Events older than this many days (by their `timestamp`) are deleted. */
  retentionDays: number;
  /** The clock the cutoff is computed from (Unix ms). */
  now: () => number;
  /** Time between runs. Default one hour. */
  intervalMs?: number;
  /** Called after each successful run. */
  onPruned?(result: PruneResult): void;
  /** Called with each failed run's error. Default: `console.warn` once, until a run succeeds. */
  onError?(error: unknown): void;
}

/**
 * The retention policy: prunes events older than `retentionDays` (and the identity links only
 * they referred to; the `daily_usage` rollup is kept) shortly after the store opens, then every
 * `intervalMs`. Runs never overlap; the timers are `unref()`ed (they do not keep the process
 * alive) and runs never throw: failures go to `onError` (bad options throw at once). `stop()` cancels the next runs; a run
 * in progress finishes (and reports), and the store's `close()` waits for it.
 *
 * @example
 * const job = startRetentionJob({ store: storePromise, retentionDays: 90, now: Date.now });
 * // …
 * job.stop(); // before closing the store
 */
export function startRetentionJob(options: RetentionJobOptions): { stop(): void } {
  if (!(Number.isInteger(options.retentionDays) && options.retentionDays >= 1)) {
    throw new ConfigurationError('retentionDays', 'use a whole number of days ≥ 1');
  }
  const intervalMs = options.intervalMs ?? HOUR_MS;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 1)) {
    throw new ConfigurationError('intervalMs', 'use a number of milliseconds ≥ 1');
  }
  const retentionMs = options.retentionDays * DAY_MS;
  let stopped = false;
  let running = false;
  let warned = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reportError =
    options.onError ??
    ((error: unknown) => {
      if (warned) return;
      warned = true;
      console.warn(
        `sightline: the retention job could not prune old events (it retries every ${Math.round(intervalMs / 1000)} s): ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    });

  function schedule(store: Store, delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => void run(store), delayMs);
    timer.unref?.();
  }

  async function run(store: Store): Promise<void> {
    if (stopped || running) return;
    running = true;
    try {
      const cutoffMs = options.now() - retentionMs;
      const deleted = await store.prune(cutoffMs);
      warned = false;
      safely(() => options.onPruned?.({ ...deleted, cutoffMs }));
    } catch (error) {
      safely(() => reportError(error));
    } finally {
      running = false;
      schedule(store, intervalMs);
    }
  }

  options.store.then(
    (store) => schedule(store, Math.min(FIRST_RUN_DELAY_MS, intervalMs)),
    () => {}, // a store that cannot open is reported by /health and 503s
  );

  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** Runs a callback of the host; its failure must not stop the job. */
function safely(callback: () => void): void {
  try {
    callback();
  } catch {
    // ignored: the job keeps its schedule whatever the callbacks do
  }
}
