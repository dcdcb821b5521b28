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

/**
 * A FIFO ring buffer bounded by event count and bytes. `push` is O(1) amortised; when a bound is
 * passed the oldest events are evicted and returned, so the caller can count every drop.
 *
 * @example
 * const queue = new EventQueue(10_000, 5_000_000);
 * const evicted = queue.push(item); // [] unless the queue was full
 */
export class EventQueue implements EventBuffer {
  #items: Array<QueuedEvent | undefined> = new Array(16);
  #head = 0;
  #length = 0;
  #bytes = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(item: QueuedEvent): readonly QueuedEvent[] {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) & (this.#items.length - 1)] = item;
    this.#length++;
    this.#bytes += item.bytes;
    if (this.#length <= this.maxEvents && this.#bytes <= this.maxBytes) return EMPTY;
    const evicted: QueuedEvent[] = [];
    while (this.#length > 1 && (this.#length > this.maxEvents || this.#bytes > this.maxBytes)) {
      evicted.push(this.shift()!);
    }
    return evicted;
  }

  peek(): QueuedEvent | undefined {
    return this.#length === 0 ? undefined : this.#items[this.#head];
  }

  shift(): QueuedEvent | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#length--;
    this.#bytes -= item.bytes;
    return item;
  }

  /** Puts events back at the front, keeping their order (a batch split after HTTP 413). */
  unshiftAll(items: readonly QueuedEvent[]): void {
    for (let index = items.length - 1; index >= 0; index--) {
      if (this.#length === this.#items.length) this.#grow();
      this.#head = (this.#head - 1) & (this.#items.length - 1);
      this.#items[this.#head] = items[index];
      this.#length++;
      this.#bytes += items[index]!.bytes;
    }
  }

  toArray(): QueuedEvent[] {
    const result: QueuedEvent[] = [];
    for (let index = 0; index < this.#length; index++) {
      result.push(this.#items[(this.#head + index) & (this.#items.length - 1)]!);
    }
    return result;
  }

  #grow(): void {
    const items = this.toArray();
    this.#items = new Array(this.#items.length * 2);
    for (let index = 0; index < items.length; index++) this.#items[index] = items[index];
    this.#head = 0;
  }
}

const EMPTY: readonly QueuedEvent[] = [];
