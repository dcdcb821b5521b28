/**
 * One collector process of the stores bench: `createCollector` from the built
 * `@sightline/collector` on a store URL, served by its node:http adapter, as
 * `sightline-collector start` does, with two differences a benchmark needs: no per-key rate limit
 * (its default, 10,000 events/s per key, would cap the ingest run) and the read API's result
 * cache off (every query request runs its SQL).
 *
 *   node dist/collectorServer.mjs --store clickhouse://127.0.0.1:8123/bench \
 *     --write-key KEY=bench --read-key KEY=bench
 *
 * Prints `{"port":n}` once listening; SIGTERM stops accepting requests, writes what was accepted,
 * closes the store and exits 0.
 *
 * With `--count TENANT` it serves nothing: it opens the store with the collector's own code, prints
 * what the store holds for the tenant as one JSON line (see {@link countStored}) and exits.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    'write-key': { type: 'string' },
    'read-key': { type: 'string' },
    count: { type: 'string' },
  },
  strict: true,
});

/**
 * Events (rows and distinct message ids), identity links and the daily usage total of `tenant`.
 * ClickHouse rows are counted in the raw table, where copies not merged yet are still apart.
 */
async function countStored(url: string, tenant: string): Promise<Record<string, number>> {
  const store = await openStore(url);
  const one = async (text: string) => {
    const [row] = await store.query({ text, values: [tenant] });
    return Number(Object.values(row ?? {})[0] ?? 0);
  };
  try {
    const raw = store.kind === 'clickhouse' ? 'event_rows_v4' : 'events';
    return {
      rows: await one(`SELECT count(*) AS n FROM ${raw} WHERE tenant = $1`),
      distinctIds: await one(
        `SELECT count(DISTINCT message_id) AS n FROM ${raw} WHERE tenant = $1`,
      ),
      identityLinks: await one('SELECT count(*) AS n FROM identity_links WHERE tenant = $1'),
      dailyUsage: await one('SELECT sum(count) AS n FROM daily_usage WHERE tenant = $1'),
    };
  } finally {
    await store.close();
  }
}

if (values.store && values.count) {
  process.stdout.write(`${JSON.stringify(await countStored(values.store, values.count))}\n`);
  process.exit(0);
}
if (!values.store || !values['write-key'] || !values['read-key']) {
  throw new Error(
    'usage: collectorServer.mjs --store <url> --write-key K=tenant --read-key K=tenant',
  );
}

const collector = createCollector({
  store: values.store,
  writeKeys: [values['write-key']],
  readKeys: [values['read-key']],
  read: { cacheTtlMs: 0 },
  rateLimit: false,
});
await collector.ready();
const server = createServer(createNodeListener(collector));
// Long queries must not be cut by the server's own timeouts.
server.requestTimeout = 0;
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
