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
    const { createDuckDbStore } = await import('./duckdb/duckdbStore');
    return createDuckDbStore({ path: url.slice('duckdb:'.length) || ':memory:' });
  }
  throw new ConfigurationError(
    'store',
    `"${url.replace(/\/\/[^@]*@/, '//***@')}" is not a store this version supports: use duckdb:<file> or duckdb::memory:`,
  );
}
