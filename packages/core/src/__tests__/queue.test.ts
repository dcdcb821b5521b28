import { describe, expect, it } from 'vitest';
import { EventQueue, type QueuedEvent } from '../queue';

function item(seq: number, bytes = 10): QueuedEvent {
  return { seq, messageId: `m${seq}`, json: `{"n":${seq}}`, bytes, createdAt: 0 };
}

const seqs = (items: readonly QueuedEvent[]) => items.map((entry) => entry.seq);

function drain(queue: EventQueue): number[] {
  const out: number[] = [];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) out.push(next.seq);
  return out;
}

describe('EventQueue', () => {
  it('hands events back in the order they were pushed (FIFO)', () => {
    const queue = new EventQueue(100, 1_000_000);
    for (let seq = 0; seq < 5; seq++) expect(queue.push(item(seq))).toEqual([]);
    expect(queue.length).toBe(5);
    expect(queue.bytes).toBe(50);
    expect(queue.peek()?.seq).toBe(0);
    expect(drain(queue)).toEqual([0, 1, 2, 3, 4]);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
  });

  it('grows past its initial 16 slots without losing or reordering events, even when wrapped', () => {
    const queue = new EventQueue(1000, 1_000_000);
    // Move the head into the middle of the ring first, so growth happens while wrapped around.
    for (let seq = 0; seq < 10; seq++) queue.push(item(seq));
    for (let seq = 0; seq < 7; seq++) expect(queue.shift()?.seq).toBe(seq);
    for (let seq = 10; seq < 110; seq++) queue.push(item(seq));
    expect(queue.length).toBe(103);
    expect(queue.bytes).toBe(1030);
    expect(seqs(queue.toArray())).toEqual(Array.from({ length: 103 }, (_, index) => index + 7));
    expect(drain(queue)).toEqual(Array.from({ length: 103 }, (_, index) => index + 7));
  });

  it('unshiftAll puts events back at the front in their original order', () => {
    const queue = new EventQueue(1000, 1_000_000);
    for (let seq = 10; seq < 14; seq++) queue.push(item(seq));
    queue.unshiftAll([item(1), item(2), item(3)]);
    expect(queue.length).toBe(7);
    expect(queue.bytes).toBe(70);
    expect(queue.peek()?.seq).toBe(1);
    expect(drain(queue)).toEqual([1, 2, 3, 10, 11, 12, 13]);
  });

  it('unshiftAll grows the ring when the batch put back does not fit', () => {
    const queue = new EventQueue(1000, 1_000_000);
    for (let seq = 100; seq < 116; seq++) queue.push(item(seq)); // ring full (16)
    const back = Array.from({ length: 20 }, (_, index) => item(index));
    queue.unshiftAll(back);
    expect(queue.length).toBe(36);
    expect(drain(queue)).toEqual([
      ...Array.from({ length: 20 }, (_, index) => index),
      ...Array.from({ length: 16 }, (_, index) => index + 100),
    ]);
  });

  it('is bounded by count: pushing past maxEvents evicts and returns the oldest', () => {
    const queue = new EventQueue(3, 1_000_000);
    expect(queue.push(item(0))).toEqual([]);
    expect(queue.push(item(1))).toEqual([]);
    expect(queue.push(item(2))).toEqual([]);
    expect(seqs(queue.push(item(3)))).toEqual([0]);
    expect(seqs(queue.push(item(4)))).toEqual([1]);
    expect(queue.length).toBe(3);
    expect(queue.bytes).toBe(30);
    expect(drain(queue)).toEqual([2, 3, 4]);
  });

  it('is bounded by bytes: a large push evicts as many of the oldest as needed', () => {
    const queue = new EventQueue(100, 100);
    for (let seq = 0; seq < 5; seq++) queue.push(item(seq, 20)); // 100 bytes, exactly full
    expect(queue.bytes).toBe(100);
    const evicted = queue.push(item(5, 50));
    expect(seqs(evicted)).toEqual([0, 1, 2]);
    expect(queue.length).toBe(3);
    expect(queue.bytes).toBe(90);
    expect(drain(queue)).toEqual([3, 4, 5]);
  });

  it('keeps a single event larger than maxBytes rather than evicting the event just pushed', () => {
    const queue = new EventQueue(100, 100);
    queue.push(item(0, 30));
    const evicted = queue.push(item(1, 500));
    expect(seqs(evicted)).toEqual([0]);
    expect(queue.length).toBe(1);
    expect(queue.bytes).toBe(500);
    expect(queue.peek()?.seq).toBe(1);
  });

  it('handles 100,000 pushes and shifts interleaved, in order and with exact byte accounting', () => {
    const queue = new EventQueue(200_000, Number.MAX_SAFE_INTEGER);
    let expected = 0;
    let pushed = 0;
    let shifted = 0;
    while (pushed < 100_000) {
      for (let burst = 0; burst < 7 && pushed < 100_000; burst++) queue.push(item(pushed++, 3));
      for (let burst = 0; burst < 3; burst++) {
        const next = queue.shift();
        if (next === undefined) break;
        if (next.seq !== expected) throw new Error(`expected ${expected}, got ${next.seq}`);
        expected++;
        shifted++;
      }
    }
    expect(queue.length).toBe(100_000 - shifted);
    expect(queue.bytes).toBe((100_000 - shifted) * 3);
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (next.seq !== expected) throw new Error(`expected ${expected}, got ${next.seq}`);
      expected++;
    }
    expect(expected).toBe(100_000);
    expect(queue.length).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it('stays bounded while 100,000 events stream through a full queue', () => {
    const queue = new EventQueue(1000, Number.MAX_SAFE_INTEGER);
    let evictedCount = 0;
    let nextEvicted = 0;
    for (let seq = 0; seq < 100_000; seq++) {
      for (const evicted of queue.push(item(seq, 1))) {
        if (evicted.seq !== nextEvicted) throw new Error(`evicted ${evicted.seq} out of order`);
        nextEvicted++;
        evictedCount++;
      }
    }
    expect(evictedCount).toBe(99_000);
    expect(queue.length).toBe(1000);
    expect(queue.bytes).toBe(1000);
    expect(queue.peek()?.seq).toBe(99_000);
  });
});
