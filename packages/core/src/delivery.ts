import { BATCH_ENVELOPE_RESERVE_BYTES, LIMITS } from './limits';
import { EventQueue, type QueuedEvent } from './queue';
import { backoffDelay, classifyStatus, parseRetryAfter, type RetryOptions } from './retry';
import type { Scheduler } from './scheduler';
import type { Transport, TransportResponse } from './transport';

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
  bytes: number;
  attempts: number;
}

interface FlushWaiter {
  watermark: number;
  resolve(): void;
}

/** The queue, batcher and retry loop behind `createAnalytics`. */
export interface Delivery {
  enqueue(item: Omit<QueuedEvent, 'seq'>): void;
  /** Resolves when everything enqueued before the call is delivered or definitively failed. */
  flush(): Promise<void>;
  /** Undelivered events: queued and in flight. */
  pending(): QueuedEvent[];
  counts(): { queued: number; inFlight: number };
  /** Stops timers; returns what was still undelivered. */
  stop(): QueuedEvent[];
}

function batchBytes(items: readonly QueuedEvent[]): number {
  let bytes = 0;
  for (const item of items) bytes += item.bytes + 1;
  return bytes;
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
  const { scheduler, retry } = options;
  const random = options.random ?? Math.random;
  const queue = new EventQueue(options.maxQueueEvents, options.maxQueueBytes);
  const inFlight = new Set<Batch>();
  const waiters: FlushWaiter[] = [];
  let nextSeq = 0;
  let maxBatchEvents = Math.min(options.maxBatchEvents, LIMITS.maxBatchEvents);
  let maxBatchBytes = Math.min(
    options.maxBatchBytes,
    LIMITS.maxRequestBytes - BATCH_ENVELOPE_RESERVE_BYTES,
  );
  let intervalTimer: unknown;
  let resumeTimer: unknown;
  const retryTimers = new Set<unknown>();
  let intervalDue = false;
  let pausedUntil = 0;
  let stopped = false;

  function lowestUnsettled(): number {
    let lowest = queue.peek()?.seq ?? Number.POSITIVE_INFINITY;
    for (const batch of inFlight) {
      for (const item of batch.items) if (item.seq < lowest) lowest = item.seq;
    }
    return lowest;
  }

  function settleWaiters(): void {
    if (waiters.length === 0) return;
    const lowest = lowestUnsettled();
    for (let index = waiters.length - 1; index >= 0; index--) {
      const waiter = waiters[index]!;
      if (waiter.watermark < lowest) {
        waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }

  function takeBatch(now: number): Batch | undefined {
    const items: QueuedEvent[] = [];
    const expired: QueuedEvent[] = [];
    let bytes = 0;
    while (items.length < maxBatchEvents) {
      const head = queue.peek();
      if (!head) break;
      if (now - head.createdAt > options.maxEventAgeMs) {
        expired.push(queue.shift()!);
        continue;
      }
      if (items.length > 0 && bytes + head.bytes + 1 > maxBatchBytes) break;
      items.push(queue.shift()!);
      bytes += head.bytes + 1;
    }
    if (expired.length > 0) options.onDrop(expired, 'max_age');
    return items.length > 0 ? { items, bytes, attempts: 0 } : undefined;
  }

  function pump(): void {
    if (stopped) return;
    const now = scheduler.now();
    const draining = intervalDue || waiters.length > 0;
    while (
      inFlight.size < options.maxInFlight &&
      queue.length > 0 &&
      now >= pausedUntil &&
      (draining || queue.length >= options.flushAt)
    ) {
      const batch = takeBatch(now);
      if (batch) send(batch);
    }
    if (queue.length === 0) intervalDue = false;
    armTimers(now);
    settleWaiters();
  }

  function armTimers(now: number): void {
    if (queue.length > 0 && intervalTimer === undefined && !intervalDue) {
      intervalTimer = scheduler.setTimeout(() => {
        intervalTimer = undefined;
        intervalDue = true;
        pump();
      }, options.flushIntervalMs);
    }
    if (queue.length > 0 && pausedUntil > now && resumeTimer === undefined) {
      resumeTimer = scheduler.setTimeout(() => {
        resumeTimer = undefined;
        pump();
      }, pausedUntil - now);
    }
  }

  function finish(batch: Batch): void {
    inFlight.delete(batch);
    options.onChange?.();
    pump();
  }

  function send(batch: Batch): void {
    inFlight.add(batch);
    batch.attempts++;
    const sentAt = new Date(scheduler.now()).toISOString();
    let request: Promise<TransportResponse>;
    try {
      request = options.transport.send({ events: batch.items.map((item) => item.json), sentAt });
    } catch (error) {
      request = Promise.reject(error);
    }
    request.then(
      (response) => handle(batch, response, undefined),
      (error: unknown) => handle(batch, undefined, error),
    );
  }

  function handle(batch: Batch, response: TransportResponse | undefined, error: unknown): void {
    if (stopped) return;
    const verdict = classifyStatus(response?.status);
    if (verdict === 'delivered') {
      options.onDelivered(batch.items);
      return finish(batch);
    }
    if (verdict === 'split') return split(batch, response);
    if (verdict === 'reject') {
      options.onDeadLetter(batch.items, `http_${response!.status}`, response!.body);
      return finish(batch);
    }
    scheduleRetry(batch, response, error);
  }

  function split(batch: Batch, response: TransportResponse | undefined): void {
    if (batch.items.length === 1) {
      options.onDeadLetter(batch.items, 'payload_too_large', response?.body);
      return finish(batch);
    }
    // The collector's real limit is lower than ours: remember it for every later batch too.
    maxBatchEvents = Math.max(1, Math.ceil(batch.items.length / 2));
    maxBatchBytes = Math.max(1, Math.floor(batch.bytes / 2));
    inFlight.delete(batch);
    queue.unshiftAll(batch.items);
    pump();
  }

  function scheduleRetry(batch: Batch, response: TransportResponse | undefined, error: unknown) {
    if (batch.attempts >= retry.maxAttempts) {
      const detail = response ? `last status ${response.status}` : String(error);
      options.onDrop(batch.items, 'retries_exhausted', detail);
      return finish(batch);
    }
    const now = scheduler.now();
    const retryAfter = parseRetryAfter(response?.retryAfter, now);
    const delay =
      retryAfter === undefined
        ? backoffDelay(batch.attempts, retry, random)
        : Math.min(retryAfter, retry.maxRetryAfterMs);
    if (retryAfter !== undefined) pausedUntil = Math.max(pausedUntil, now + delay);
    options.onRetry(batch.items, batch.attempts, delay);
    const timer = scheduler.setTimeout(() => {
      retryTimers.delete(timer);
      const current = scheduler.now();
      const fresh = batch.items.filter((item) => current - item.createdAt <= options.maxEventAgeMs);
      if (fresh.length < batch.items.length) {
        const expired = batch.items.filter((item) => !fresh.includes(item));
        options.onDrop(expired, 'max_age');
        batch.items = fresh;
        batch.bytes = batchBytes(fresh);
      }
      if (batch.items.length === 0) return finish(batch);
      inFlight.delete(batch);
      send(batch);
    }, delay);
    retryTimers.add(timer);
  }

  return {
    enqueue(item) {
      if (stopped) {
        options.onDrop([{ ...item, seq: -1 }], 'closed');
        return;
      }
      const queued = { ...item, seq: nextSeq++ } as QueuedEvent;
      const evicted = queue.push(queued);
      if (evicted.length > 0) options.onDrop(evicted, 'queue_overflow');
      if (queue.length >= options.flushAt || intervalTimer === undefined) pump();
    },
    flush() {
      const watermark = nextSeq - 1;
      if (stopped || lowestUnsettled() > watermark) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiters.push({ watermark, resolve });
        pump();
      });
    },
    pending() {
      const items = queue.toArray();
      for (const batch of inFlight) items.push(...batch.items);
      return items;
    },
    counts() {
      let flying = 0;
      for (const batch of inFlight) flying += batch.items.length;
      return { queued: queue.length, inFlight: flying };
    },
    stop() {
      const left = this.pending();
      stopped = true;
      for (const timer of [intervalTimer, resumeTimer, ...retryTimers]) {
        if (timer !== undefined) scheduler.clearTimeout(timer);
      }
      retryTimers.clear();
      for (const waiter of waiters.splice(0)) waiter.resolve();
      return left;
    },
  };
}
