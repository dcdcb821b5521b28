/**
 * Worker-thread entry of the DuckDB store: owns the database and answers the calls of
 * {@link createDuckDbWorkerStore}. Its event loop serves DuckDB only, so a write's awaits never
 * wait behind HTTP requests, and the appender's per-value N-API calls leave the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Store } from '../store';
import { createDuckDbStore, type DuckDbStoreOptions } from './duckdbStore';

interface Call {
  id: number;
  method:
    | 'append'
    | 'query'
    | 'writeCsv'
    | 'findMessageIds'
    | 'countEvents'
    | 'identityLinks'
    | 'eraseUser'
    | 'prune'
    | 'importHistory'
    | 'ping'
    | 'close';
  args: unknown[];
}

const port = parentPort;
if (!port) throw new Error('the DuckDB store worker must run in a worker thread');

const opening: Promise<Store> = createDuckDbStore(workerData as DuckDbStoreOptions);
opening.then(
  // The names its rollup holds, for the main thread's Store.activityEvents.
  (store) => port.postMessage({ id: 0, result: store.activityEvents }),
  (error: unknown) => port.postMessage({ id: 0, error: describe(error) }),
);

port.on('message', (call: Call) => {
  opening
    .then((store) => (store[call.method] as (...args: unknown[]) => Promise<unknown>)(...call.args))
    .then(
      (result) => port.postMessage({ id: call.id, result }),
      (error: unknown) => port.postMessage({ id: call.id, error: describe(error) }),
    );
});

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
