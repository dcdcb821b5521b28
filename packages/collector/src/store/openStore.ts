import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@sightline/core';
import type { Store } from './store';

/**
 * Opens a store from its URL: `duckdb:<file>` or `duckdb::memory:`. Engines load lazily, so an
 * app that passes its own `Store` never loads DuckDB's native module.
 *
 * @example
 * const store = await openStore('duckdb:./.sightline/events.duckdb');
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('duckdb:')) {
    const path = url.slice('duckdb:'.length) || ':memory:';
    // Built packages run DuckDB in a worker thread (its own event loop; see worker.ts). Sources
    // run by a test runner have no built worker file, and use the in-process store.
    const workerUrl = builtWorkerUrl();
    if (workerUrl) {
      const { createDuckDbWorkerStore } = await import('./duckdb/workerStore');
      return createDuckDbWorkerStore({ path, workerUrl });
    }
    const { createDuckDbStore } = await import('./duckdb/duckdbStore');
    return createDuckDbStore({ path });
  }
  throw new ConfigurationError(
    'store',
    `"${url.replace(/\/\/[^@]*@/, '//***@')}" is not a store this version supports: use duckdb:<file> or duckdb::memory:`,
  );
}

/**
 * `dist/store/duckdb/worker.js` next to the built code, or undefined when running from sources or
 * from a bundle that did not keep the file (the in-process store is used then).
 */
function builtWorkerUrl(): URL | undefined {
  const here = import.meta.url;
  if (!here.startsWith('file:') || !/\.c?js$/.test(here)) return undefined;
  // Built code sits in dist/ (entries and shared chunks alike); the worker is a separate entry.
  const url = new URL('./store/duckdb/worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}
