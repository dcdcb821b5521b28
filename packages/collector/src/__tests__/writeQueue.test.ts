import { describe, expect, it } from 'vitest';
import { createWriteQueue, OverloadedError } from '../ingest/writeQueue';
import type { AppendResult, Store, StoredEvent } from '../store/store';
import { makeStoredEvent } from './storedEvent';

/** One `append` call of a {@link ControlledStore}: its rows, and the switches that settle it. */
export interface AppendCall {
  rows: readonly StoredEvent[];
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A `Store` whose appends stay pending until the test settles them, recording every call. Only
 * `append` matters to the write queue; the read methods answer from what was appended.
 */
export class ControlledStore implements Store {
  readonly kind = 'controlled';
  readonly calls: AppendCall[] = [];
  readonly #waiters: Array<() => void> = [];

  append(events: readonly StoredEvent[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      const rows = [...events];
      this.calls.push({
        rows,
        resolve: () => {
          const stored = new Map<string, number>();
          for (const row of rows) stored.set(row.tenant, (stored.get(row.tenant) ?? 0) + 1);
          resolve({ stored, duplicates: new Map([...stored.keys()].map((tenant) => [tenant, 0])) });
        },
        reject,
      });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Resolves once `count` appends have been called. */
  async appendCalls(count: number): Promise<AppendCall[]> {
    while (this.calls.length < count) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.calls;
  }

  /** The `count`-th append call (1-based), once it has been made. */
  async call(count: number): Promise<AppendCall> {
    const calls = await this.appendCalls(count);
    return calls[count - 1]!;
  }

  async query(): Promise<never> {
    throw new Error('not used by the write queue');
  }

  async writeCsv(): Promise<never> {
    throw new Error('not used by the write queue');
  }

  async findMessageIds(): Promise<Set<string>> {
    return new Set();
  }

  async countEvents(): Promise<number> {
    return 0;
  }

  async identityLinks(): Promise<Array<{ anonymousId: string; userId: string }>> {
    return [];
  }

  async eraseUser(): Promise<{ events: number; identityLinks: number }> {
    return { events: 0, identityLinks: 0 };
  }

  async prune(): Promise<{ events: number; identityLinks: number }> {
    return { events: 0, identityLinks: 0 };
  }

  async importHistory(): Promise<void> {
    throw new Error('not used by these tests');
  }
  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}

function rows(count: number, tag: string): StoredEvent[] {
  return Array.from({ length: count }, (_, index) =>
    makeStoredEvent({ messageId: `${tag}-${index}` }),
  );
}

function ids(list: readonly StoredEvent[]): string[] {
  return list.map((row) => row.messageId);
}

/** Lets every queued microtask and promise reaction run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise's state without waiting for it. */
function track(promise: Promise<unknown>) {
  const state: { status: 'pending' | 'resolved' | 'rejected'; error?: unknown } = {
    status: 'pending',
  };
  promise.then(
    () => {
      state.status = 'resolved';
    },
    (error: unknown) => {
      state.status = 'rejected';
      state.error = error;
    },
  );
  return state;
}

describe('createWriteQueue', () => {
  it('writes at once when idle: one write is one append of exactly its rows', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const done = track(queue.write(rows(3, 'a')));
    const first = await store.call(1);
    expect(ids(first.rows)).toEqual(['a-0', 'a-1', 'a-2']);
    first.resolve();
    await settle();
    expect(done.status).toBe('resolved');
    expect(store.calls).toHaveLength(1);
  });

  it('coalesces concurrent writes that arrive during a store write into one next append', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const writes = Array.from({ length: 10 }, (_, index) => queue.write(rows(2, `w${index}`)));
    const first = await store.call(1);
    expect(ids(first.rows)).toEqual(['w0-0', 'w0-1']);
    first.resolve();
    const second = await store.call(2);
    // The nine writes that waited go in one append, in arrival order.
    expect(second.rows).toHaveLength(18);
    expect(ids(second.rows).slice(0, 4)).toEqual(['w1-0', 'w1-1', 'w2-0', 'w2-1']);
    expect(ids(second.rows).slice(-2)).toEqual(['w9-0', 'w9-1']);
    second.resolve();
    await Promise.all(writes);
    expect(store.calls).toHaveLength(2);
  });

  it('resolves each caller only after the append holding its rows has resolved', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const a = track(queue.write(rows(1, 'a')));
    const b = track(queue.write(rows(1, 'b')));
    const first = await store.call(1);
    await settle();
    expect([a.status, b.status]).toEqual(['pending', 'pending']);
    first.resolve();
    const second = await store.call(2);
    await settle();
    expect([a.status, b.status]).toEqual(['resolved', 'pending']);
    second.resolve();
    await settle();
    expect([a.status, b.status]).toEqual(['resolved', 'resolved']);
  });

  it('when a grouped append fails, retries each request alone and rejects only those that fail again', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const a = track(queue.write(rows(1, 'a')));
    const b = track(queue.write(rows(1, 'b')));
    const c = track(queue.write(rows(1, 'c')));
    const d = track(queue.write(rows(1, 'd')));
    (await store.call(1)).resolve();
    const grouped = await store.call(2);
    expect(ids(grouped.rows)).toEqual(['b-0', 'c-0', 'd-0']);
    grouped.reject(new Error('one row refused'));
    // Retried one request at a time, in order.
    const failure = new Error('row c refused');
    const retryB = await store.call(3);
    expect(ids(retryB.rows)).toEqual(['b-0']);
    retryB.resolve();
    const retryC = await store.call(4);
    expect(ids(retryC.rows)).toEqual(['c-0']);
    retryC.reject(failure);
    const retryD = await store.call(5);
    expect(ids(retryD.rows)).toEqual(['d-0']);
    await settle();
    expect(d.status).toBe('pending');
    retryD.resolve();
    await settle();
    expect(a.status).toBe('resolved');
    expect([b.status, c.status, d.status]).toEqual(['resolved', 'rejected', 'resolved']);
    expect(c.error).toBe(failure);
  });

  it('rejects a lone request with the error of its failing append', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const a = track(queue.write(rows(2, 'a')));
    const failure = new Error('disk full');
    (await store.call(1)).reject(failure);
    await settle();
    expect(a.status).toBe('rejected');
    expect(a.error).toBe(failure);
    expect(store.calls).toHaveLength(1);
  });

  it('keeps callers of the next append unaffected when the running append fails', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const a = track(queue.write(rows(1, 'a')));
    const b = track(queue.write(rows(1, 'b')));
    (await store.call(1)).reject(new Error('lock timeout'));
    const second = await store.call(2);
    await settle();
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('pending');
    second.resolve();
    await settle();
    expect(b.status).toBe('resolved');
    expect(ids(second.rows)).toEqual(['b-0']);
  });

  it('writes rows that arrive during a write in the next append, not in the running one', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    void queue.write(rows(2, 'first'));
    const first = await store.call(1);
    void queue.write(rows(1, 'late'));
    await settle();
    expect(store.calls).toHaveLength(1);
    expect(ids(first.rows)).toEqual(['first-0', 'first-1']);
    first.resolve();
    const second = await store.call(2);
    expect(ids(second.rows)).toEqual(['late-0']);
    second.resolve();
  });

  it('writes rows queued from a resolved caller callback, after the drain loop has ended', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    let followUp: Promise<void> | undefined;
    const first = queue.write(rows(1, 'a')).then(() => {
      followUp = queue.write(rows(1, 'follow'));
    });
    (await store.call(1)).resolve();
    await first;
    const second = await store.call(2);
    expect(ids(second.rows)).toEqual(['follow-0']);
    second.resolve();
    await expect(followUp).resolves.toBeUndefined();
  });

  it('splits waiting writes into appends of at most maxRowsPerWrite rows, never splitting a write', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store, { maxRowsPerWrite: 5 });
    void queue.write(rows(1, 'a'));
    void queue.write(rows(3, 'b'));
    void queue.write(rows(2, 'c'));
    void queue.write(rows(7, 'd'));
    (await store.call(1)).resolve();
    const second = await store.call(2);
    expect(ids(second.rows)).toEqual(['b-0', 'b-1', 'b-2', 'c-0', 'c-1']);
    second.resolve();
    const third = await store.call(3);
    // A write larger than the limit still goes in one append of its own.
    expect(third.rows).toHaveLength(7);
    third.resolve();
  });

  it('throws OverloadedError when the rows waiting for a write would exceed maxPendingRows', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store, { maxPendingRows: 5 });
    const running = queue.write(rows(3, 'running'));
    const first = await store.call(1);
    // Rows handed to the store no longer count as waiting.
    expect(queue.depth).toBe(0);
    const waiting = queue.write(rows(3, 'waiting'));
    expect(queue.depth).toBe(3);
    let thrown: unknown;
    try {
      void queue.write(rows(3, 'refused'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OverloadedError);
    expect((thrown as OverloadedError).pendingRows).toBe(3);
    expect((thrown as OverloadedError).message).toBe('the write queue holds 3 rows');
    // Up to the limit is still accepted.
    const fits = queue.write(rows(2, 'fits'));
    expect(queue.depth).toBe(5);
    first.resolve();
    const second = await store.call(2);
    expect(ids(second.rows)).toEqual(['waiting-0', 'waiting-1', 'waiting-2', 'fits-0', 'fits-1']);
    expect(queue.depth).toBe(0);
    second.resolve();
    await Promise.all([running, waiting, fits]);
    expect(store.calls.flatMap((call) => ids(call.rows))).not.toContain('refused-0');
  });

  it('resolves an empty write at once without calling the store', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    await expect(queue.write([])).resolves.toBeUndefined();
    expect(store.calls).toHaveLength(0);
  });

  it('idle() waits until every accepted row has been written, and resolves at once when idle', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    await expect(queue.idle()).resolves.toBeUndefined();
    void queue.write(rows(1, 'a'));
    void queue.write(rows(1, 'b'));
    const idle = track(queue.idle());
    (await store.call(1)).resolve();
    await store.appendCalls(2);
    await settle();
    expect(idle.status).toBe('pending');
    store.calls[1]!.resolve();
    await settle();
    expect(idle.status).toBe('resolved');
  });

  it('idle() also resolves when the last append failed', async () => {
    const store = new ControlledStore();
    const queue = createWriteQueue(store);
    const write = track(queue.write(rows(1, 'a')));
    const idle = track(queue.idle());
    (await store.call(1)).reject(new Error('gone'));
    await settle();
    expect(write.status).toBe('rejected');
    expect(idle.status).toBe('resolved');
  });

  it('reports each successful append to onWrite with its result and row count', async () => {
    const store = new ControlledStore();
    const reports: Array<{ stored: number | undefined; rows: number; seconds: number }> = [];
    const queue = createWriteQueue(store, {
      onWrite(result, count, seconds) {
        reports.push({ stored: result.stored.get('default'), rows: count, seconds });
      },
    });
    const a = queue.write(rows(2, 'a'));
    const b = queue.write(rows(3, 'b'));
    (await store.call(1)).resolve();
    (await store.call(2)).resolve();
    await Promise.all([a, b]);
    expect(reports.map(({ stored, rows: count }) => ({ stored, rows: count }))).toEqual([
      { stored: 2, rows: 2 },
      { stored: 3, rows: 3 },
    ]);
    expect(reports.every((report) => report.seconds >= 0)).toBe(true);
  });
});
