import type { AppendResult, Store, StoredEvent } from '../store/store';

/** The write queue is full: the collector answers 503 with `Retry-After`. */
export class OverloadedError extends Error {
  constructor(readonly pendingRows: number) {
    super(`the write queue holds ${pendingRows} rows`);
    this.name = 'OverloadedError';
  }
}

interface Pending {
  rows: readonly StoredEvent[];
  resolve(): void;
  reject(error: unknown): void;
}

/** Options of {@link createWriteQueue}. */
export interface WriteQueueOptions {
  /** Rows waiting for a write before new requests get 503. Default 100,000. */
  maxPendingRows?: number;
  /** Most rows in one store write. Default 20,000. */
  maxRowsPerWrite?: number;
  onWrite?(result: AppendResult, rows: number, seconds: number): void;
}

/**
 * Group commit: requests that arrive while a store write is running wait and are written together
 * in the next one, so concurrent requests cost one transaction, and an idle collector writes at
 * once (no added latency). Each request's promise resolves only after the write holding its rows
 * has committed, and rejects if that write failed.
 *
 * @example
 * const queue = createWriteQueue(store);
 * await queue.write(rows); // committed
 */
export function createWriteQueue(store: Store, options: WriteQueueOptions = {}) {
  const maxPendingRows = options.maxPendingRows ?? 100_000;
  const maxRowsPerWrite = options.maxRowsPerWrite ?? 20_000;
  const pending: Pending[] = [];
  let pendingRows = 0;
  let writing: Promise<void> | undefined;

  function report(result: AppendResult, rows: number, started: number): void {
    try {
      options.onWrite?.(result, rows, (performance.now() - started) / 1000);
    } catch {
      // Metrics must never turn a committed write into a failure.
    }
  }

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch: Pending[] = [];
      let rows = 0;
      while (
        pending.length > 0 &&
        (batch.length === 0 || rows + pending[0]!.rows.length <= maxRowsPerWrite)
      ) {
        const next = pending.shift()!;
        batch.push(next);
        rows += next.rows.length;
      }
      pendingRows -= rows;
      const all = batch.length === 1 ? batch[0]!.rows : batch.flatMap((entry) => entry.rows);
      const started = performance.now();
      try {
        const result = await store.append(all);
        for (const entry of batch) entry.resolve();
        report(result, all.length, started);
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        // One row the store refuses must not fail the other requests it was grouped with:
        // write each request on its own, and fail only those that fail again.
        for (const entry of batch) {
          const alone = performance.now();
          try {
            const result = await store.append(entry.rows);
            entry.resolve();
            report(result, entry.rows.length, alone);
          } catch (retryError) {
            entry.reject(retryError);
          }
        }
      }
    }
  }

  function kick(): void {
    if (writing) return;
    writing = drain().finally(() => {
      writing = undefined;
      // Rows that arrived after the last loop turn but before this callback: write them too.
      if (pending.length > 0) kick();
    });
  }

  return {
    /** Resolves once `rows` are committed. Throws `OverloadedError` when the queue is full. */
    write(rows: readonly StoredEvent[]): Promise<void> {
      if (rows.length === 0) return Promise.resolve();
      // An empty queue always takes a request, however large: otherwise it would be refused forever.
      if (pendingRows > 0 && pendingRows + rows.length > maxPendingRows) {
        throw new OverloadedError(pendingRows);
      }
      const done = new Promise<void>((resolve, reject) => {
        pending.push({ rows, resolve, reject });
      });
      pendingRows += rows.length;
      kick();
      return done;
    },
    /** Rows waiting for a write. */
    get depth() {
      return pendingRows;
    },
    /** Resolves when every accepted row has been written (or failed). */
    async idle(): Promise<void> {
      while (writing) await writing;
    },
  };
}

export type WriteQueue = ReturnType<typeof createWriteQueue>;
