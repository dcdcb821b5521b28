import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import type { CollectorOptions } from '../options';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';

/** A collector served over real HTTP (node:http on a loopback port) on a real DuckDB store. */
export interface HttpCollector {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  collector: Collector;
  /** The DuckDB store behind the collector, for direct assertions. */
  store: Store;
  /** Closes the server, then the collector and its store. */
  close(): Promise<void>;
}

/**
 * Starts a collector on an in-memory DuckDB store (unless `options.store` is given), served by
 * its node:http adapter on a free loopback port.
 *
 * @example
 * const http = await startHttpCollector({ writeKeys: ['wk_test_12345678=acme'], readKeys: ['rk_test_12345678=acme'] });
 * await ingest(http.url, 'wk_test_12345678', [{ type: 'track', event: 'x', userId: 'u-1' }]);
 * await http.close();
 */
export async function startHttpCollector(
  options: Omit<CollectorOptions, 'store'> & { store?: Store },
): Promise<HttpCollector> {
  const store = options.store ?? (await createDuckDbStore({ path: ':memory:' }));
  const collector = createCollector({ rateLimit: false, ...options, store });
  await collector.ready();
  const server = createServer(createNodeListener(collector));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    collector,
    store,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await collector.close();
    },
  };
}

/** `Authorization` value of a write key, Segment's way. */
export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** Posts `batch` to `/v1/batch` with `writeKey` and expects every event stored. */
export async function ingest(
  url: string,
  writeKey: string,
  batch: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  const response = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(writeKey) },
    body: JSON.stringify({ batch }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  expect(await response.json()).toEqual({ success: true });
}

/** A read request with a Bearer key (none when `readKey` is undefined). */
export async function readApi(
  url: string,
  path: string,
  readKey: string | undefined,
  method = 'GET',
): Promise<Response> {
  return fetch(`${url}${path}`, {
    method,
    headers: readKey === undefined ? {} : { authorization: `Bearer ${readKey}` },
  });
}

/** {@link readApi}, expecting `status`, with the JSON body. */
export async function readJson<T>(
  url: string,
  path: string,
  readKey: string | undefined,
  options: { method?: string; status?: number } = {},
): Promise<T> {
  const response = await readApi(url, path, readKey, options.method);
  const text = await response.text();
  expect(response.status, text).toBe(options.status ?? 200);
  return JSON.parse(text) as T;
}
