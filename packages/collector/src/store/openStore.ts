import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@sightline/core';
import type { ActivityEvents } from './activityRollup';
import type { Store } from './store';

/**
 * Opens a store from its URL: `duckdb:<file>` or `duckdb::memory:`, optionally with
 * `?memory_limit=2GB` (DuckDB's buffer pool, default 1GB). Engines load lazily, so an app that
 * passes its own `Store` never loads DuckDB's native module. `activityEvents`: the KPIs' signup,
 * payment and ad spend event names, for the DuckDB and PostgreSQL rollups (see DuckDbStoreOptions).
 *
 * @example
 * const store = await openStore('duckdb:./.sightline/events.duckdb?memory_limit=512MB');
 */
export async function openStore(
  url: string,
  options: { activityEvents?: ActivityEvents } = {},
): Promise<Store> {
  if (url.startsWith('duckdb:')) {
    const [location = '', query = ''] = url.slice('duckdb:'.length).split('?', 2);
    const path = location || ':memory:';
    const settings = new URLSearchParams(query);
    for (const name of settings.keys()) {
      if (name !== 'memory_limit') {
        throw new ConfigurationError('store', `unknown DuckDB setting "${name}": use memory_limit`);
      }
    }
    const memoryLimit = settings.get('memory_limit') ?? undefined;
    // Built packages run DuckDB in a worker thread (its own event loop; see worker.ts). Sources
    // run by a test runner have no built worker file, and use the in-process store.
    const workerUrl = builtWorkerUrl();
    if (workerUrl) {
      const { createDuckDbWorkerStore } = await import('./duckdb/workerStore');
      return createDuckDbWorkerStore({ path, memoryLimit, workerUrl, ...options });
    }
    const { createDuckDbStore } = await import('./duckdb/duckdbStore');
    return createDuckDbStore({ path, memoryLimit, ...options });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { createPostgresStore } = await import('./postgres/postgresStore');
    return createPostgresStore({ url, ...options });
  }
  if (url.startsWith('clickhouse://')) {
    const { createClickHouseStore } = await import('./clickhouse/clickhouseStore');
    return createClickHouseStore({ url });
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
