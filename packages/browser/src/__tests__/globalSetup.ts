import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';
import type { TestProject } from 'vitest/node';
import { READ_KEY, WRITE_KEY } from './collectorServer';

/**
 * Starts our real collector (in-memory DuckDB, real HTTP on a free loopback port) once for the
 * browser tests. It runs here, in Node, because inside happy-dom the collector would be handed
 * happy-dom's `Request`, which drops the `Origin` header as a browser would.
 */
export default async function setup(project: TestProject) {
  const store = await openStore('duckdb::memory:');
  const collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=browser`],
    readKeys: [`${READ_KEY}=browser`],
    rateLimit: false,
    pii: false,
    read: { cacheTtlMs: 0 },
  });
  await collector.ready();
  const server = createServer(createNodeListener(collector));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('collectorUrl', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await collector.close();
  };
}
