import { Worker } from 'node:worker_threads';
import type { ActivityEvents } from '../activityRollup';
import type { AppendResult, Row, Store, StoredEvent } from '../store';

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * The DuckDB store in a worker thread, behind the same `Store` interface. Same durability: an
 * `append` resolves after the worker's commit. `workerUrl` is the built `worker.js`.
 *
 * @example
 * const store = await createDuckDbWorkerStore({ path: '.sightline/events.duckdb', workerUrl });
 */
export async function createDuckDbWorkerStore(options: {
  path: string;
  memoryLimit?: string;
  activityEvents?: ActivityEvents;
  workerUrl: URL;
}): Promise<Store> {
  const worker = new Worker(options.workerUrl, {
    workerData: {
      path: options.path,
      memoryLimit: options.memoryLimit,
      activityEvents: options.activityEvents,
    },
  });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let failure: Error | undefined;
  let closed = false;

  const ready = new Promise<ActivityEvents>((resolve, reject) => {
    waiting.set(0, { resolve: (names) => resolve(names as ActivityEvents), reject });
  });
  worker.on('message', (reply: Reply) => {
    const entry = waiting.get(reply.id);
    if (!entry) return;
    waiting.delete(reply.id);
    if (reply.error !== undefined) entry.reject(new Error(reply.error));
    else entry.resolve(reply.result);
  });
  const fail = (error: Error) => {
    failure = error;
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!closed) fail(new Error(`the DuckDB store worker exited (code ${code})`));
  });
  const activityEvents = await ready;

  function call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (failure) return Promise.reject(failure);
    if (closed) return Promise.reject(new Error('The DuckDB store is closed.'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ id, method, args });
    });
  }

  return {
    kind: 'duckdb',
    activityHours: true,
    identityFirsts: true,
    activityEvents,
    append: (events: readonly StoredEvent[]) => call<AppendResult>('append', events),
    query: (statement) => call<Row[]>('query', statement),
    writeCsv: (statement, path) => call<void>('writeCsv', statement, path),
    findMessageIds: (tenant, messageIds) => call<Set<string>>('findMessageIds', tenant, messageIds),
    countEvents: (tenant) => call<number>('countEvents', tenant),
    identityLinks: (tenant) =>
      call<Array<{ anonymousId: string; userId: string }>>('identityLinks', tenant),
    eraseUser: (tenant, userId, actor) =>
      call<{ events: number; identityLinks: number }>('eraseUser', tenant, userId, actor),
    prune: (olderThanMs) => call<{ events: number; identityLinks: number }>('prune', olderThanMs),
    importHistory: (history) => call<void>('importHistory', history),
    ping: () => call<void>('ping'),
    async close() {
      if (closed) return;
      await call<void>('close');
      closed = true;
      await worker.terminate();
    },
  };
}
