import {
  backoffDelay,
  classifyStatus,
  type DeliveryVerdict,
  type RetryOptions,
  type Scheduler,
} from '@sightline/core';
import { ForwardingError } from './forwardingError';

/** One payload waiting for a request: already serialized, so its size is known exactly. */
export interface QueuedItem {
  /** The Sightline message id it came from, for error reports. */
  messageId: string;
  json: string;
  /** UTF-8 length of `json`. */
  bytes: number;
}

/** A provider's documented limits for one endpoint. */
export interface BatchLimits {
  /** Most items in one request. */
  maxItems: number;
  /** Largest request body in bytes before compression, envelope included. */
  maxBytes: number;
  /** Largest single item in bytes; larger ones are dropped (reason `event_too_large`). */
  maxItemBytes: number;
  /** Bytes the request adds around the items, e.g. `{"api_key":"…","events":[]}`. */
  envelopeBytes: number;
}

/** What a provider answered to one request, in the terms the batcher acts on. */
export interface DeliveryAnswer {
  /** HTTP status; `undefined` when no answer came (network error, timeout): retried. */
  status: number | undefined;
  /** How long the provider asked us to wait before trying again (`Retry-After`, in ms). */
  retryAfterMs?: number;
  /** What the provider said, for error reports. */
  detail?: string;
  /** Overrides what the status means, e.g. a 200 whose body says the update failed. */
  verdict?: DeliveryVerdict;
  /**
   * Positions in the batch the provider refused for good. `others` says what became of the rest:
   * `delivered` (Mixpanel ingests the valid events of a 400) or `resend` (Amplitude ingests none,
   * so the valid ones go again at once).
   */
  refused?: { indexes: readonly number[]; others: 'delivered' | 'resend' };
}

/**
 * Counters of one destination, for dashboards and tests.
 *
 * @example
 * const { queued, dropped } = amplitude.stats();
 * metrics.gauge('amplitude_queued', queued);
 */
export interface ForwardingStats {
  /** Waiting for a request. */
  queued: number;
  /** In the request being sent or retried. */
  inFlight: number;
  delivered: number;
  /** Sends that were retried (one per item per retry). */
  retried: number;
  /** Events or updates given up, by reason (`queue_overflow`, `retries_exhausted`, `http_400`…). */
  dropped: Record<string, number>;
  /** Events not forwarded by design (e.g. `alias` where the provider has none), by reason. */
  skipped: Record<string, number>;
}

/** Everything a batcher needs; defaults are resolved by the caller (`resolveForwardingOptions`). */
export interface BatcherOptions {
  /** Destination name used in error reports. */
  destination: string;
  limits: BatchLimits;
  /** Sends one batch; may throw (treated as a network error and retried). */
  send(items: readonly QueuedItem[]): Promise<DeliveryAnswer>;
  report(error: ForwardingError): void;
  flushIntervalMs: number;
  /** Send without waiting for the interval once this many items are queued. */
  flushAt: number;
  /** Most items queued; the oldest is dropped (reason `queue_overflow`) to make room. */
  maxQueued: number;
  retry: Required<RetryOptions>;
  /** How long `close()` keeps delivering before dropping what is left (`close_timeout`). */
  closeTimeoutMs: number;
  scheduler: Scheduler;
  random?: () => number;
}

/** A queue with its own limits in front of one endpoint. */
export interface Batcher {
  add(item: QueuedItem): void;
  /** Resolves once everything queued before the call is delivered or given up. */
  flush(): Promise<void>;
  /** Flushes for up to `closeTimeoutMs`, then drops the rest; later items are refused. */
  close(): Promise<void>;
  stats(): Omit<ForwardingStats, 'skipped'>;
}

/**
 * The batching and retry engine behind every forwarding destination. Items wait until a full
 * request's worth is queued or `flushIntervalMs` passes, then go out one request at a time (so a
 * throttled provider slows the queue down instead of being hammered in parallel) in batches that
 * respect the provider's item and byte limits. 429, 408, 5xx and network errors are retried with
 * core's jittered backoff or the provider's `Retry-After`; 413 splits the batch; any other status
 * drops it with a report. Timers come from the scheduler, which Node destinations `unref()`.
 *
 * @example
 * const batcher = createBatcher({ destination: 'amplitude', limits, send, report, ...settings });
 * batcher.add({ messageId, json, bytes });
 * await batcher.flush();
 */
export function createBatcher(options: BatcherOptions): Batcher {
  const { limits, retry, scheduler } = options;
  const queue: QueuedItem[] = [];
  const dropped: Record<string, number> = {};
  let delivered = 0;
  let retried = 0;
  let inFlight = 0;
  let timer: unknown;
  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  /** Set when close() gives up waiting: a pending retry ends at once and drops its batch. */
  let stopped = false;
  let wake: (() => void) | undefined;
  /** Overflow drops are reported together, once per request, so a full queue cannot flood onError. */
  let overflowed: string[] = [];

  function drop(items: readonly QueuedItem[], reason: string, detail: string) {
    if (items.length === 0) return;
    dropped[reason] = (dropped[reason] ?? 0) + items.length;
    report(
      reason,
      items.map((item) => item.messageId),
      detail,
    );
  }
  function report(reason: string, ids: readonly string[], detail: string) {
    try {
      options.report(new ForwardingError(options.destination, reason, ids, detail));
    } catch {
      // A throwing onError stays here: forwarding never throws into the app.
    }
  }
  function reportOverflow() {
    if (overflowed.length === 0) return;
    const ids = overflowed;
    overflowed = [];
    report(
      'queue_overflow',
      ids,
      `the queue held ${options.maxQueued} items, so the oldest were dropped`,
    );
  }

  /** The next request: as many items as fit under both limits, in queue order. */
  function take(): QueuedItem[] {
    let bytes = limits.envelopeBytes;
    let count = 0;
    for (const item of queue) {
      // Items are joined with commas: one byte each after the first.
      const next = bytes + item.bytes + (count > 0 ? 1 : 0);
      if (count === limits.maxItems || (count > 0 && next > limits.maxBytes)) break;
      bytes = next;
      count++;
    }
    return queue.splice(0, count);
  }

  function sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        wake = undefined;
        resolve();
      };
      const handle = scheduler.setTimeout(done, delayMs);
      wake = () => {
        scheduler.clearTimeout(handle);
        done();
      };
    });
  }

  async function deliver(batch: QueuedItem[], attempt: number): Promise<void> {
    let answer: DeliveryAnswer;
    try {
      answer = await options.send(batch);
    } catch (error) {
      answer = {
        status: undefined,
        detail: error instanceof Error ? error.message : String(error),
      };
    }
    const said = answer.detail ? `: ${answer.detail}` : '';
    const status = answer.status === undefined ? 'no answer' : `answered ${answer.status}`;

    if (answer.refused) {
      const refusedAt = new Set(answer.refused.indexes);
      const refused = batch.filter((_, index) => refusedAt.has(index));
      const others = batch.filter((_, index) => !refusedAt.has(index));
      // Without a refused item to remove, resending would loop: the whole batch is refused.
      if (refused.length === 0) return drop(others, `http_${answer.status}`, `${status}${said}`);
      drop(refused, `http_${answer.status}`, `refused ${refused.length} item(s)${said}`);
      if (answer.refused.others === 'delivered') {
        delivered += others.length;
        return;
      }
      if (others.length > 0) return deliver(others, attempt);
      return;
    }

    switch (answer.verdict ?? classifyStatus(answer.status)) {
      case 'delivered':
        delivered += batch.length;
        return;
      case 'split': {
        if (batch.length === 1) return drop(batch, 'event_too_large', `${status}${said}`);
        const half = Math.ceil(batch.length / 2);
        await deliver(batch.slice(0, half), attempt);
        return deliver(batch.slice(half), attempt);
      }
      case 'reject':
        return drop(batch, `http_${answer.status ?? 'error'}`, `${status}${said}`);
      case 'retry': {
        const closed = 'still failing when the destination closed';
        // close() gave up waiting while this request was on the wire: no further wait.
        if (stopped) return drop(batch, 'close_timeout', closed);
        if (attempt >= retry.maxAttempts) {
          return drop(batch, 'retries_exhausted', `${status} ${attempt} time(s)${said}`);
        }
        const delayMs =
          answer.retryAfterMs === undefined
            ? backoffDelay(attempt, retry, options.random)
            : Math.min(answer.retryAfterMs, retry.maxRetryAfterMs);
        retried += batch.length;
        await sleep(delayMs);
        if (stopped) return drop(batch, 'close_timeout', closed);
        return deliver(batch, attempt + 1);
      }
    }
  }

  async function run() {
    while (queue.length > 0 && !stopped) {
      reportOverflow();
      const batch = take();
      inFlight = batch.length;
      try {
        await deliver(batch, 1);
      } finally {
        inFlight = 0;
      }
    }
    reportOverflow();
  }

  function drain(): Promise<void> {
    if (timer !== undefined) scheduler.clearTimeout(timer);
    timer = undefined;
    draining ??= run().finally(() => {
      draining = undefined;
      // An item added while the last request settled would otherwise wait for the next add.
      if (queue.length > 0 && !stopped) schedule();
    });
    return draining;
  }

  function schedule() {
    if (timer !== undefined || draining) return;
    timer = scheduler.setTimeout(() => {
      timer = undefined;
      void drain();
    }, options.flushIntervalMs);
  }

  async function flush(): Promise<void> {
    while ((queue.length > 0 && !stopped) || draining) await drain();
    reportOverflow();
  }

  return {
    add(item) {
      if (closing) return drop([item], 'closed', 'the destination is closed');
      const fits = item.bytes <= limits.maxItemBytes;
      if (!fits || item.bytes + limits.envelopeBytes > limits.maxBytes) {
        return drop(
          [item],
          'event_too_large',
          `${item.bytes} bytes is over the ${Math.min(limits.maxItemBytes, limits.maxBytes - limits.envelopeBytes)}-byte limit per item`,
        );
      }
      if (queue.length >= options.maxQueued) {
        const oldest = queue.shift()!;
        dropped.queue_overflow = (dropped.queue_overflow ?? 0) + 1;
        overflowed.push(oldest.messageId);
      }
      queue.push(item);
      if (queue.length >= options.flushAt) void drain();
      else schedule();
    },
    flush,
    close() {
      closing ??= (async () => {
        let timeout: unknown;
        const timedOut = new Promise<void>((resolve) => {
          timeout = scheduler.setTimeout(resolve, options.closeTimeoutMs);
        });
        await Promise.race([flush(), timedOut]);
        scheduler.clearTimeout(timeout);
        if (queue.length === 0 && !draining) return;
        stopped = true;
        wake?.();
        drop(queue.splice(0), 'close_timeout', `still queued after ${options.closeTimeoutMs} ms`);
        // A request already on the wire settles within the request timeout.
        await draining;
        reportOverflow();
      })();
      return closing;
    },
    stats: () => ({ queued: queue.length, inFlight, delivered, retried, dropped: { ...dropped } }),
  };
}
