import { EventQueue, type QueuedEvent } from '@sightline/core';
import { describe, expect, it } from 'vitest';
import { PackedEventQueue } from '../packedQueue';

function event(seq: number, text = `e${seq}`): QueuedEvent {
  const json = JSON.stringify({ seq, text });
  return {
    seq,
    messageId: `id-${seq}`,
    json,
    bytes: Buffer.byteLength(json),
    createdAt: 1_700_000_000_000 + seq,
  };
}

/** What a queue hands out, reduced to plain data (a packed event decodes through getters). */
const plain = (item: QueuedEvent | undefined) =>
  item && {
    seq: item.seq,
    messageId: item.messageId,
    json: item.json,
    bytes: item.bytes,
    createdAt: item.createdAt,
  };

/** A small seeded generator, so a failing sequence can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('PackedEventQueue', () => {
  it('behaves exactly like core’s EventQueue over 20,000 random pushes, shifts, put-backs and evictions', () => {
    const next = random(42);
    const reference = new EventQueue(300, 40_000);
    const packed = new PackedEventQueue(300, 40_000);
    const taken: QueuedEvent[] = [];
    let seq = 0;
    for (let step = 0; step < 20_000; step++) {
      const roll = next();
      if (roll < 0.6) {
        // Some events are large (a slab of their own) and some carry multi-byte text.
        const text =
          next() < 0.003 ? 'x'.repeat(1_100_000) : next() < 0.3 ? 'é€😀'.repeat(20) : 'plain';
        const item = event(seq++, text);
        const evictedPacked = packed.push({ ...item }).map(plain);
        expect(evictedPacked).toEqual(reference.push({ ...item }).map(plain));
      } else if (roll < 0.9) {
        expect(plain(packed.peek())).toEqual(plain(reference.peek()));
        const fromPacked = packed.shift();
        expect(plain(fromPacked)).toEqual(plain(reference.shift()));
        if (fromPacked) taken.push(fromPacked);
      } else if (taken.length > 0) {
        // A batch put back for a retry (what delivery does after a failed send).
        const batch = taken.splice(0, Math.ceil(next() * taken.length));
        packed.unshiftAll(batch);
        reference.unshiftAll(batch.map(plain) as QueuedEvent[]);
      }
      expect(packed.length).toBe(reference.length);
      expect(packed.bytes).toBe(reference.bytes);
    }
    expect(packed.toArray().map(plain)).toEqual(reference.toArray().map(plain));
  });

  it('gives each event its UTF-8 bytes, which stay intact while later events fill new slabs', () => {
    const queue = new PackedEventQueue(100_000, 1e9);
    for (let seq = 0; seq < 100; seq++) queue.push(event(seq, 'ü'.repeat(200)));
    const first = queue.shift()!;
    while (queue.shift()) {
      // Emptied: the batch in flight is all that holds the first slab now.
    }
    // Thousands more events, past several 1 MiB slabs, must not overwrite the batch in flight.
    for (let seq = 100; seq < 20_000; seq++) {
      queue.push(event(seq, 'ü'.repeat(200)));
      queue.shift();
    }
    expect(Buffer.from(first.utf8!).toString('utf8')).toBe(event(0, 'ü'.repeat(200)).json);
    expect(first.bytes).toBe(first.utf8!.length);
    expect(first.messageId).toBe('id-0');
  });

  it('is bounded by bytes, counting UTF-8 bytes rather than characters', () => {
    const item = event(0, '€'.repeat(100)); // 300 bytes of text in 100 characters
    const queue = new PackedEventQueue(1_000, item.bytes * 2);
    queue.push(event(0, '€'.repeat(100)));
    queue.push(event(1, '€'.repeat(100)));
    const evicted = queue.push(event(2, '€'.repeat(100)));
    expect(evicted.map((entry) => entry.seq)).toEqual([0]);
    expect(queue.bytes).toBe(item.bytes * 2);
  });
});
