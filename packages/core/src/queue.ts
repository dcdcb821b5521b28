/** One event waiting for delivery, serialized once when it was enqueued. */
export interface QueuedEvent {
  /** Enqueue order, used to know what a `flush()` must wait for. */
  seq: number;
  messageId: string;
  json: string;
  /** UTF-8 size of `json`. */
  bytes: number;
  /** When the event happened (ms), for the maximum-age rule. */
  createdAt: number;
  /** `json` as UTF-8, when the queue keeps events as bytes (then `json` is decoded on demand). */
  utf8?: Uint8Array;
}

/**
 * Where queued events wait: a FIFO bounded by event count and bytes. `push` returns the oldest
 * events it evicted past a bound, so the caller can count every drop. {@link EventQueue} is the
 * default; `createQueue` swaps in another (the Node SDK packs events off the V8 heap).
 */
export interface EventBuffer {
  readonly length: number;
  readonly bytes: number;
  push(item: QueuedEvent): readonly QueuedEvent[];
  peek(): QueuedEvent | undefined;
  shift(): QueuedEvent | undefined;
  /** Puts events back at the front, keeping their order. */
  unshiftAll(items: readonly QueuedEvent[]): void;
  /** Every queued event, oldest first. */
  toArray(): QueuedEvent[];
}

/** Makes the queue for the given bounds (events, bytes). */
export type EventBufferFactory = (maxEvents: number, maxBytes: number) => EventBuffer;

const NONE_EVICTED: readonly QueuedEvent[] = [];

/**
 * A FIFO bounded by event count and bytes: an array read from a moving head, compacted once the
 * consumed part is half of it, so `push` and `shift` are O(1) amortised. When a bound is passed
 * the oldest events are evicted and returned, so the caller can count every drop.
 *
 * @example
 * const queue = new EventQueue(10_000, 5_000_000);
 * const evicted = queue.push(item); // [] unless the queue was full
 */
export class EventQueue implements EventBuffer {
  // TypeScript-private, not `#private`: the ES2020 <script> build would emulate `#` fields with
  // WeakMaps, slower on this hot path and about 0.6 KB bigger.
  private items: QueuedEvent[] = [];
  private head = 0;
  private queuedBytes = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  push(item: QueuedEvent): readonly QueuedEvent[] {
    this.items.push(item);
    this.queuedBytes += item.bytes;
    // The common case allocates nothing: this runs once per tracked event.
    if (!this.overflows()) return NONE_EVICTED;
    const evicted: QueuedEvent[] = [];
    while (this.overflows()) evicted.push(this.shift()!);
    return evicted;
  }

  peek(): QueuedEvent | undefined {
    return this.items[this.head];
  }

  shift(): QueuedEvent | undefined {
    const item = this.peek();
    if (item) {
      this.head++;
      this.queuedBytes -= item.bytes;
      if (this.head * 2 >= this.items.length) this.compact();
    }
    return item;
  }

  /** Puts events back at the front, keeping their order (a batch split after HTTP 413: rare). */
  unshiftAll(items: readonly QueuedEvent[]): void {
    for (const item of items) this.queuedBytes += item.bytes;
    this.compact();
    this.items.unshift(...items);
  }

  toArray(): QueuedEvent[] {
    return this.items.slice(this.head);
  }

  /** Past a bound, with more than the newest event left (an event over `maxBytes` alone stays). */
  private overflows(): boolean {
    return this.length > 1 && (this.length > this.maxEvents || this.queuedBytes > this.maxBytes);
  }

  private compact(): void {
    this.items = this.toArray();
    this.head = 0;
  }
}
