import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Collector, createCollector, openStore, type Store } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';

export const WRITE_KEY = 'wk_node_test_0001';
export const TENANT = 'node';

export interface RealCollector {
  url: string;
  store: Store;
  /** Stops answering: the HTTP server closes (connections refused); the store stays open. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /**
   * How many times each `properties.seq` was stored: a duplicate (the same event stored under
   * two messageIds) shows as a count of 2.
   */
  storedSeqs(): Promise<Map<number, number>>;
  close(): Promise<void>;
}

/**
 * Our real collector on a DuckDB file, on a loopback port. `fault` may answer a request itself
 * (a 500 before the collector sees it) or after it (`afterStore`: the events are stored, yet the
 * client gets a 500, as when a response is lost).
 *
 * @example
 * const collector = await startRealCollector();
 */
export async function startRealCollector(
  fault?: (request: Request) => 'before' | 'after' | undefined,
): Promise<RealCollector> {
  const directory = mkdtempSync(join(tmpdir(), 'sightline-node-'));
  const store = await openStore(`duckdb:${join(directory, 'events.duckdb')}`);
  const collector: Collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=${TENANT}`],
    rateLimit: false,
    pii: false,
  });
  await collector.ready();
  const faulty: Collector = {
    ...collector,
    async fetch(request, connection) {
      const when = fault?.(request);
      if (when === 'before') return new Response('{"success":false}', { status: 500 });
      const response = await collector.fetch(request, connection);
      return when === 'after' ? new Response('{"success":false}', { status: 500 }) : response;
    },
  };
  let server: Server;
  let port = 0;
  const listen = async () => {
    server = createServer(createNodeListener(faulty));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    stop,
    restart: listen,
    async storedSeqs() {
      const rows = await store.query({
        text: `SELECT CAST(json_extract(properties, '$.seq') AS BIGINT) AS seq, count(*) AS copies
          FROM events WHERE tenant = $1 AND type = 'track' GROUP BY 1`,
        values: [TENANT],
      });
      return new Map(rows.map((row) => [Number(row.seq), Number(row.copies)]));
    },
    async close() {
      await stop().catch(() => {});
      await collector.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
