/**
 * The collector under test for the aggregator bench: `createCollector` from the built
 * `@sightline/collector` on an existing DuckDB file, with a read key, the query cache off (every
 * request runs its queries) and no rate limit, served by its node:http adapter.
 *
 *   tsx src/collectorServer.ts --store duckdb:.data/events.duckdb --read-key KEY=bench [--cache-ttl-ms 60000]
 *
 * Prints `{"port":n}` once listening; SIGTERM closes the server and the store and exits 0.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createCollector } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    'read-key': { type: 'string' },
    // bench/aggregator measures queries (0: off); the dashboard bench also measures with it on.
    'cache-ttl-ms': { type: 'string', default: '0' },
  },
  strict: true,
});
if (!values.store || !values['read-key']) {
  throw new Error('usage: collectorServer.ts --store duckdb:<file> --read-key KEY=tenant');
}

const collector = createCollector({
  store: values.store,
  // Nothing is ingested; a write key is required all the same.
  writeKeys: ['wk_bench_aggregator_0001=bench'],
  readKeys: [values['read-key']],
  // Measure the queries, not the result cache (unless asked for).
  read: { cacheTtlMs: Number(values['cache-ttl-ms']) },
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
