import type { EventBuffer, QueuedEvent } from '@sightline/core';

/** Slab size: events are copied into buffers of this size (a larger event gets its own). */
const SLAB_BYTES = 1024 * 1024;

/**
 * The Node queue: each event's UTF-8 bytes are copied into 1 MiB off-heap slabs, and its seq,
 * time and position into typed arrays, so 100,000 queued events cost about their JSON size plus
 * 40 bytes each and leave almost nothing for V8's garbage collector to trace or promote. (As
 * objects, the same events take ~530 bytes each on the V8 heap, and their survival makes V8 grow
 * the young generation to its maximum.) Events are decoded again only as they leave the queue.
 * Bounded by count and bytes; past a bound the oldest events are evicted and returned.
 *
 * @example
 * const analytics = createAnalytics({ writeKey, host, createQueue: (events, bytes) => new PackedEventQueue(events, bytes) });
 */
export class PackedEventQueue implements EventBuffer {
  /** Events put back at the front (a batch to retry), already decoded; they leave first. */
  #front: QueuedEvent[] = [];
  #frontHead = 0;
  // The packed ring: parallel arrays indexed by slot, capacity a power of two.
  #slabs: Array<Buffer | undefined> = new Array(16);
  #offsets = new Int32Array(16);
  #idBytes = new Int32Array(16);
  #jsonBytes = new Int32Array(16);
  #seqs = new Float64Array(16);
  #createdAt = new Float64Array(16);
  #head = 0;
  #packed = 0;
  #bytes = 0;
  #slab: Buffer | undefined;
  #slabUsed = 0;
  /** The decoded head of the ring, so `peek()` then `shift()` decodes it once. */
  #peeked: QueuedEvent | undefined;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.#front.length - this.#frontHead + this.#packed;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(item: QueuedEvent): readonly QueuedEvent[] {
    if (this.#packed === this.#seqs.length) this.#grow();
    // Room for the id at its longest UTF-8 form (3 bytes per UTF-16 unit) spares measuring it.
    const needed = item.messageId.length * 3 + item.bytes;
    if (this.#slab === undefined || this.#slabUsed + needed > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, needed));
      this.#slabUsed = 0;
    }
    const slot = (this.#head + this.#packed) & (this.#seqs.length - 1);
    const offset = this.#slabUsed;
    const idLength = this.#slab.write(item.messageId, offset, 'utf8');
    const jsonBytes = this.#slab.write(item.json, offset + idLength, 'utf8');
    this.#slabUsed += idLength + jsonBytes;
    this.#slabs[slot] = this.#slab;
    this.#offsets[slot] = offset;
    this.#idBytes[slot] = idLength;
    this.#jsonBytes[slot] = jsonBytes;
    this.#seqs[slot] = item.seq;
    this.#createdAt[slot] = item.createdAt;
    this.#packed++;
    this.#bytes += jsonBytes;
    if (this.length <= this.maxEvents && this.#bytes <= this.maxBytes) return EMPTY;
    const evicted: QueuedEvent[] = [];
    while (this.length > 1 && (this.length > this.maxEvents || this.#bytes > this.maxBytes)) {
      evicted.push(this.shift()!);
    }
    return evicted;
  }

  peek(): QueuedEvent | undefined {
    if (this.#frontHead < this.#front.length) return this.#front[this.#frontHead];
    if (this.#packed === 0) return undefined;
    this.#peeked ??= this.#decode(this.#head);
    return this.#peeked;
  }

  shift(): QueuedEvent | undefined {
    if (this.#frontHead < this.#front.length) {
      const item = this.#front[this.#frontHead]!;
      this.#front[this.#frontHead++] = undefined as never;
      if (this.#frontHead === this.#front.length) {
        this.#front = [];
        this.#frontHead = 0;
      }
      this.#bytes -= item.bytes;
      return item;
    }
    if (this.#packed === 0) return undefined;
    const item = this.#peeked ?? this.#decode(this.#head);
    this.#peeked = undefined;
    this.#slabs[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#seqs.length - 1);
    this.#packed--;
    this.#bytes -= item.bytes;
    return item;
  }

  unshiftAll(items: readonly QueuedEvent[]): void {
    if (items.length === 0) return;
    this.#front = [...items, ...this.#front.slice(this.#frontHead)];
    this.#frontHead = 0;
    for (const item of items) this.#bytes += item.bytes;
  }

  toArray(): QueuedEvent[] {
    const result = this.#front.slice(this.#frontHead);
    const mask = this.#seqs.length - 1;
    for (let index = 0; index < this.#packed; index++) {
      const slot = (this.#head + index) & mask;
      result.push(index === 0 && this.#peeked ? this.#peeked : this.#decode(slot));
    }
    return result;
  }

  #decode(slot: number): QueuedEvent {
    const start = this.#offsets[slot]!;
    const idEnd = start + this.#idBytes[slot]!;
    return new PackedEvent(
      this.#seqs[slot]!,
      this.#createdAt[slot]!,
      this.#slabs[slot]!.subarray(start, idEnd + this.#jsonBytes[slot]!),
      idEnd - start,
    );
  }

  #grow(): void {
    const capacity = this.#seqs.length * 2;
    const mask = this.#seqs.length - 1;
    const slabs: Array<Buffer | undefined> = new Array(capacity);
    const offsets = new Int32Array(capacity);
    const idBytes = new Int32Array(capacity);
    const jsonBytes = new Int32Array(capacity);
    const seqs = new Float64Array(capacity);
    const createdAt = new Float64Array(capacity);
    for (let index = 0; index < this.#packed; index++) {
      const slot = (this.#head + index) & mask;
      slabs[index] = this.#slabs[slot];
      offsets[index] = this.#offsets[slot]!;
      idBytes[index] = this.#idBytes[slot]!;
      jsonBytes[index] = this.#jsonBytes[slot]!;
      seqs[index] = this.#seqs[slot]!;
      createdAt[index] = this.#createdAt[slot]!;
    }
    this.#slabs = slabs;
    this.#offsets = offsets;
    this.#idBytes = idBytes;
    this.#jsonBytes = jsonBytes;
    this.#seqs = seqs;
    this.#createdAt = createdAt;
    this.#head = 0;
  }
}

const EMPTY: readonly QueuedEvent[] = [];

/**
 * An event out of the packed queue: a view of its bytes in the slab. `utf8` goes to the transport
 * as it is; `json` and `messageId` are decoded only when something reads them (a drop report, a
 * custom transport).
 */
class PackedEvent implements QueuedEvent {
  readonly bytes: number;
  constructor(
    public seq: number,
    readonly createdAt: number,
    /** messageId then JSON, both UTF-8. */
    readonly record: Buffer,
    readonly idBytes: number,
  ) {
    this.bytes = record.length - idBytes;
  }

  get utf8(): Uint8Array {
    return this.record.subarray(this.idBytes);
  }

  get messageId(): string {
    return this.record.toString('utf8', 0, this.idBytes);
  }

  get json(): string {
    return this.record.toString('utf8', this.idBytes);
  }
}
