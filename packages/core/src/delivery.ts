import type { EventContext } from './event';
import { BATCH_ENVELOPE_RESERVE_BYTES, LIMITS } from './limits';
import { type EventBufferFactory, EventQueue, type QueuedEvent } from './queue';
import { backoffDelay, classifyStatus, parseRetryAfter, type RetryOptions } from './retry';
import type { Scheduler } from './scheduler';
import type { OutgoingBatch, Transport, TransportResponse } from './transport';

/** Options of {@link createDelivery}; `createAnalytics` fills every default. */
export interface DeliveryOptions {
  transport: Transport;
  scheduler: Scheduler;
  flushAt: number;
  flushIntervalMs: number;
  maxBatchEvents: number;
  maxBatchBytes: number;
  maxQueueEvents: number;
  maxQueueBytes: number;
  maxInFlight: number;
  maxEventAgeMs: number;
  retry: Required<RetryOptions>;
  random?: () => number;
  /** Makes the queue; default an {@link EventQueue}. */
  createQueue?: EventBufferFactory;
  /** Context sent once per request and merged into each event by the collector. */
  batchContext?: EventContext;
  /** Events that left the client for good without being delivered. */
  onDrop(events: readonly QueuedEvent[], reason: string, detail?: string): void;
  /** Events the collector rejected for good (a 4xx other than 408/413/429). */
  onDeadLetter(events: readonly QueuedEvent[], reason: string, detail?: string): void;
  onDelivered(events: readonly QueuedEvent[]): void;
  onRetry(events: readonly QueuedEvent[], attempt: number, delayMs: number): void;
  /** The set of undelivered events changed (for persistence). */
  onChange?(): void;
}

interface Batch {
  items: QueuedEvent[];
  attempts: number;
}

interface FlushWaiter {
  watermark: number;
  resolve(): void;
}

/** The transport's view of a batch; with bytes from the queue, `events` is decoded only if read. */
function outgoing(items: QueuedEvent[], sentAt: string, context?: EventContext): OutgoingBatch {
  const json = () => items.map((item) => item.json);
  if (!items.every((item) => item.utf8)) return { events: json(), sentAt, context };
  return {
    get events() {
      return json();
    },
    utf8: items.map((item) => item.utf8!),
    sentAt,
    context,
  };
}

/** The queue, batcher and retry loop behind `createAnalytics`. */
export interface Delivery {
  /** Takes ownership of `item` (its `seq` is assigned here). */
  enqueue(item: Omit<QueuedEvent, 'seq'>): void;
  /** Resolves when everything enqueued before the call is delivered or definitively failed. */
  flush(): Promise<void>;
  /** Undelivered events: queued and in flight. */
  pending(): QueuedEvent[];
  counts(): { queued: number; inFlight: number };
  /** Stops timers; returns what was still undelivered. */
  stop(): QueuedEvent[];
}

/**
 * The delivery engine: a bounded FIFO, batching by count and bytes, at most `maxInFlight`
 * requests, exponential backoff with full jitter, `Retry-After`, 413 splitting, a dead-letter
 * path and a maximum event age. A batch keeps its slot while it waits to retry, so with one slot
 * events are delivered in order and a failing collector is not hammered.
 *
 * @example
 * const delivery = createDelivery({ transport, scheduler: defaultScheduler, ...limits, onDrop, onDeadLetter, onDelivered, onRetry });
 * delivery.enqueue({ messageId, json, bytes, createdAt: Date.now() });
 * await delivery.flush();
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  const { scheduler, retry, flushAt, maxInFlight, maxEventAgeMs } = options;
  const random = options.random ?? Math.random;
  const createQueue: EventBufferFactory =
    options.createQueue ?? ((maxEvents, maxBytes) => new EventQueue(maxEvents, maxBytes));
  const queue = createQueue(options.maxQueueEvents, options.maxQueueBytes);
  const inFlight = new Set<Batch>();
  /** In watermark order: `flush()` hands out watermarks that only grow. */
  const waiters: FlushWaiter[] = [];
  const timers = new Set<unknown>();
  let nextSeq = 0;
  let maxBatchEvents = Math.min(options.maxBatchEvents, LIMITS.maxBatchEvents);
  // `maxBatchBytes` bounds the request body, so the envelope's reserve comes off the caller's value
  // as well as off the 500 KB limit (a 64 KB beacon budget must not become 64 KB + envelope).
  let maxBatchBytes = Math.max(
    1,
    Math.min(options.maxBatchBytes, LIMITS.maxRequestBytes) - BATCH_ENVELOPE_RESERVE_BYTES,
  );
  let intervalArmed = false;
  let intervalDue = false;
  /**
   * Events up to this seq go out without waiting for `flushAt` or the interval: a `flush()` asked
   * for them, or they were already sent once and put back after a 413. Later events batch as usual.
   */
  let dueThrough = -1;
  let pausedUntil = 0;
  let stopped = false;

  /** Calls a hook; a throwing hook must not leave a batch stuck in flight (and flush() hanging). */
  function notify<Args extends unknown[]>(
    hook: ((...args: Args) => void) | undefined,
    ...args: Args
  ) {
    try {
      hook?.apply(options, args);
    } catch {
      // The hooks belong to createAnalytics, which reports its own failures.
    }
  }

  /** Runs `callback` after `delayMs`, unless `stop()` comes first. */
  function after(delayMs: number, callback: () => void): void {
    const timer = scheduler.setTimeout(() => {
      timers.delete(timer);
      callback();
    }, delayMs);
    timers.add(timer);
  }

  /** The lowest seq not yet delivered or given up; `nextSeq` (above every seq) when none is. */
  function lowestUnsettled(): number {
    let lowest = queue.peek()?.seq ?? nextSeq;
    for (const batch of inFlight) {
      for (const item of batch.items) if (item.seq < lowest) lowest = item.seq;
    }
    return lowest;
  }

  function isExpired(item: QueuedEvent, now: number): boolean {
    return now - item.createdAt > maxEventAgeMs;
  }

  /** Drops, in one report, events that passed `maxEventAgeMs`. */
  function dropExpired(expired: QueuedEvent[]): void {
    if (expired.length > 0) notify(options.onDrop, expired, 'max_age');
  }

  /** Takes the next batch off the queue, by count and bytes; expired events are dropped instead. */
  function takeBatch(now: number): QueuedEvent[] {
    const items: QueuedEvent[] = [];
    const expired: QueuedEvent[] = [];
    let bytes = 0;
    for (let head = queue.peek(); head && items.length < maxBatchEvents; head = queue.peek()) {
      if (isExpired(head, now)) {
        expired.push(queue.shift()!);
        continue;
      }
      if (items.length > 0 && bytes + head.bytes + 1 > maxBatchBytes) break;
      items.push(queue.shift()!);
      bytes += head.bytes + 1;
    }
    dropExpired(expired);
    return items;
  }

  /** Sends whatever is due into the free slots, then arms the interval and settles `flush()`es. */
  function pump(): void {
    if (stopped) return;
    const now = scheduler.now();
    while (
      inFlight.size < maxInFlight &&
      queue.length > 0 &&
      now >= pausedUntil &&
      (intervalDue || queue.length >= flushAt || queue.peek()!.seq <= dueThrough)
    ) {
      const items = takeBatch(now);
      if (items.length > 0) send({ items, attempts: 0 });
    }
    if (queue.length === 0) {
      intervalDue = false;
    } else if (!intervalArmed && !intervalDue) {
      intervalArmed = true;
      after(options.flushIntervalMs, () => {
        intervalArmed = false;
        intervalDue = true;
        pump();
      });
    }
    while (waiters.length > 0 && waiters[0]!.watermark < lowestUnsettled()) {
      waiters.shift()!.resolve();
    }
  }

  function finish(batch: Batch): void {
    inFlight.delete(batch);
    notify(options.onChange);
    pump();
  }

  function send(batch: Batch): void {
    inFlight.add(batch);
    batch.attempts++;
    const sentAt = new Date(scheduler.now()).toISOString();
    // A transport that throws instead of rejecting lands in the same place.
    new Promise<TransportResponse>((resolve) =>
      resolve(options.transport.send(outgoing(batch.items, sentAt, options.batchContext))),
    ).then(
      (response) => handle(batch, response),
      (error: unknown) => handle(batch, undefined, error),
    );
  }

  function handle(batch: Batch, response: TransportResponse | undefined, error?: unknown): void {
    if (stopped) return;
    const verdict = classifyStatus(response?.status);
    if (verdict === 'retry') {
      scheduleRetry(batch, response, error);
    } else if (verdict === 'split' && batch.items.length > 1) {
      split(batch);
    } else if (verdict === 'delivered') {
      notify(options.onDelivered, batch.items);
      finish(batch);
    } else {
      // Refused for good: a 4xx, or a 413 for a single event that cannot be split any further.
      const reason = verdict === 'split' ? 'payload_too_large' : `http_${response!.status}`;
      notify(options.onDeadLetter, batch.items, reason, response!.body);
      finish(batch);
    }
  }

  function split(batch: Batch): void {
    const { items } = batch;
    // The collector's real limit is lower than ours: remember it for every later batch too. Never
    // raise it again: a bigger batch sent earlier may be refused after a smaller one was.
    const bytes = items.reduce((sum, item) => sum + item.bytes + 1, 0);
    maxBatchEvents = Math.min(maxBatchEvents, Math.ceil(items.length / 2));
    maxBatchBytes = Math.min(maxBatchBytes, Math.floor(bytes / 2));
    inFlight.delete(batch);
    putBack(items);
    dueThrough = Math.max(dueThrough, items[items.length - 1]!.seq);
    pump();
  }

  /**
   * Returns events to the queue in seq order. With several requests in flight, the halves of an
   * earlier split may already be queued; they stay in front, or the queue would no longer be
   * sorted and `flush()` (which reads the lowest seq at the head) could resolve too early.
   */
  function putBack(items: readonly QueuedEvent[]): void {
    const first = items[0]!.seq;
    const earlier: QueuedEvent[] = [];
    while ((queue.peek()?.seq ?? first) < first) earlier.push(queue.shift()!);
    queue.unshiftAll(items);
    queue.unshiftAll(earlier);
  }

  function scheduleRetry(
    batch: Batch,
    response: TransportResponse | undefined,
    error: unknown,
  ): void {
    if (batch.attempts >= retry.maxAttempts) {
      const detail = response ? `last status ${response.status}` : String(error);
      notify(options.onDrop, batch.items, 'retries_exhausted', detail);
      finish(batch);
      return;
    }
    const now = scheduler.now();
    const retryAfter = parseRetryAfter(response?.retryAfter, now);
    // A Retry-After pause holds every request (this retry, others, new batches); without one,
    // this batch backs off on its own, but still not before a pause another batch was given.
    if (retryAfter !== undefined) {
      pausedUntil = Math.max(pausedUntil, now + Math.min(retryAfter, retry.maxRetryAfterMs));
    }
    const backoff = retryAfter === undefined ? backoffDelay(batch.attempts, retry, random) : 0;
    const wait = Math.max(backoff, pausedUntil - now);
    notify(options.onRetry, batch.items, batch.attempts, wait);
    armRetry(batch, wait);
  }

  /**
   * Resends `batch` after `delayMs`, keeping its in-flight slot meanwhile. A Retry-After pause
   * always ends with such a resend (the batch told to wait holds its slot until then), so the
   * resend also pumps: events queued during the pause leave with it, no timer of their own.
   */
  function armRetry(batch: Batch, delayMs: number): void {
    after(delayMs, () => {
      const now = scheduler.now();
      // Another batch was told to wait (Retry-After) while this one was waiting: wait with it.
      if (now < pausedUntil) {
        armRetry(batch, pausedUntil - now);
        return;
      }
      const expired = batch.items.filter((item) => isExpired(item, now));
      if (expired.length > 0) batch.items = batch.items.filter((item) => !isExpired(item, now));
      dropExpired(expired);
      if (batch.items.length === 0) {
        finish(batch);
        return;
      }
      send(batch);
      pump();
    });
  }

  return {
    enqueue(item) {
      if (stopped) {
        notify(options.onDrop, [{ ...item, seq: -1 }], 'closed');
        return;
      }
      // Assigned, not spread: this runs once per event and object spread is slow on Node 20.
      const queued = item as QueuedEvent;
      queued.seq = nextSeq++;
      const evicted = queue.push(queued);
      if (evicted.length > 0) notify(options.onDrop, evicted, 'queue_overflow');
      const canSend = inFlight.size < maxInFlight && queue.length >= flushAt;
      if (canSend || !intervalArmed) pump();
    },
    flush() {
      if (stopped) return Promise.resolve();
      // Everything enqueued so far is due now (no seq is above it, so this never lowers
      // `dueThrough`); pump() settles the flush at once when all of it is already settled.
      const watermark = nextSeq - 1;
      dueThrough = watermark;
      return new Promise<void>((resolve) => {
        waiters.push({ watermark, resolve });
        pump();
      });
    },
    pending() {
      // In enqueue order, so a persisted queue is restored in the order it was tracked.
      const items = queue.toArray();
      for (const batch of inFlight) items.push(...batch.items);
      return items.sort((a, b) => a.seq - b.seq);
    },
    counts() {
      let flying = 0;
      for (const batch of inFlight) flying += batch.items.length;
      return { queued: queue.length, inFlight: flying };
    },
    stop() {
      const left = this.pending();
      stopped = true;
      for (const timer of timers) scheduler.clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters.splice(0)) waiter.resolve();
      return left;
    },
  };
}
