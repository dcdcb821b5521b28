/**
 * The collector under test: `createCollector` from the built `@sightline/collector` with every
 * default except the per-key rate limit (off, or it caps the run at 10,000 events/s), served by
 * its node:http adapter, as `sightline-collector start` does.
 *
 *   tsx src/collectorServer.ts --store duckdb:/tmp/x.duckdb --write-key KEY=tenant
 *   tsx src/collectorServer.ts --store noop --write-key KEY=tenant   (diagnostic: nothing stored)
 *
 * `/metrics` is public, for the bench to read the store-write histograms after the run.
 * `--store` takes a store URL, or `noop`: a `Store` that accepts every batch at once and keeps
 * nothing, to tell the cost of the HTTP and ingest path from the cost of DuckDB.
 * Prints `{"port":n}` once listening; SIGTERM drains requests, writes what was accepted, closes
 * the store and exits 0.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import {
  type AppendResult,
  createCollector,
  type Store,
  type StoredEvent,
} from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';

/** Accepts every batch at once; remembers only how many rows it was given. */
function createNoopStore(): Store {
  let rows = 0;
  return {
    kind: 'noop',
    async append(events: readonly StoredEvent[]): Promise<AppendResult> {
      rows += events.length;
      const stored = new Map<string, number>();
      for (const event of events) stored.set(event.tenant, (stored.get(event.tenant) ?? 0) + 1);
      return { stored, duplicates: new Map([...stored.keys()].map((tenant) => [tenant, 0])) };
    },
    async query() {
      throw new Error('the no-op store answers no queries');
    },
    async importHistory() {
      throw new Error('the no-op store imports nothing');
    },
    async writeCsv() {
      throw new Error('the no-op store answers no queries');
    },
    async findMessageIds() {
      return new Set<string>();
    },
    async countEvents() {
      return rows;
    },
    async identityLinks() {
      return [];
    },
    async eraseUser() {
      return { events: 0, identityLinks: 0 };
    },
    async prune() {
      return { events: 0, identityLinks: 0 };
    },
    async ping() {},
    async close() {},
  };
}

/**
 * Diagnostic for the write path the collector does not have yet: acknowledge at once and load
 * into DuckDB behind it in large transactions (what a durable log + bulk loader would do, minus
 * the log's own I/O). Not durable: it only bounds what that design could reach here.
 */
async function createDeferredStore(url: string): Promise<Store> {
  const { openStore } = await import('@sightline/collector');
  const target = await openStore(url);
  let pending: StoredEvent[] = [];
  let loading: Promise<void> | undefined;
  const load = async () => {
    while (pending.length > 0) {
      const batch = pending.slice(0, 20_000);
      pending = pending.slice(batch.length);
      await target.append(batch);
    }
    loading = undefined;
  };
  return {
    kind: 'deferred',
    async append(events: readonly StoredEvent[]): Promise<AppendResult> {
      pending.push(...events);
      loading ??= load();
      const stored = new Map<string, number>();
      for (const event of events) stored.set(event.tenant, (stored.get(event.tenant) ?? 0) + 1);
      return { stored, duplicates: new Map() };
    },
    query: (statement) => target.query(statement),
    writeCsv: (statement, path) => target.writeCsv(statement, path),
    findMessageIds: (tenant, ids) => target.findMessageIds(tenant, ids),
    countEvents: (tenant) => target.countEvents(tenant),
    identityLinks: (tenant) => target.identityLinks(tenant),
    eraseUser: (tenant, userId, actor) => target.eraseUser(tenant, userId, actor),
    prune: (olderThanMs) => target.prune(olderThanMs),
    importHistory: (history) => target.importHistory(history),
    ping: () => target.ping(),
    async close() {
      while (loading) await loading;
      await target.close();
    },
  };
}

const { values } = parseArgs({
  options: { store: { type: 'string' }, 'write-key': { type: 'string' } },
  strict: true,
});
if (!values.store || !values['write-key']) {
  throw new Error('usage: collectorServer.ts --store duckdb:<file>|noop --write-key KEY=tenant');
}

const collector = createCollector({
  store:
    values.store === 'noop'
      ? createNoopStore()
      : values.store.startsWith('deferred:')
        ? await createDeferredStore(values.store.slice('deferred:'.length))
        : values.store,
  writeKeys: [values['write-key']],
  rateLimit: false,
  // The bench reads the store-write histograms after the run; nothing else reads /metrics.
  publicMetrics: true,
});
await collector.ready();
const server = createServer(createNodeListener(collector));
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});

process.once('SIGTERM', async () => {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  await collector.close();
  await closed;
  process.exit(0);
});
