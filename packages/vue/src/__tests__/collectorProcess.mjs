/**
 * Our real collector (in-memory DuckDB, real HTTP on a free loopback port) in its own Node
 * process, started by collector.ts for a test file. A process of its own because the vue project
 * runs in happy-dom, whose Request would reach the collector in place of Node's. Prints
 * `{ "url": … }` once listening; exits when its stdin closes (the test worker went away).
 *
 *   node collectorProcess.mjs <writeKey> <readKey>
 */
import { createServer } from 'node:http';
import { createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';

const [writeKey, readKey] = process.argv.slice(2);
const store = await openStore('duckdb::memory:');
const collector = createCollector({
  store,
  writeKeys: [`${writeKey}=vue`],
  readKeys: [`${readKey}=vue`],
  rateLimit: false,
  pii: false,
  read: { cacheTtlMs: 0 },
});
await collector.ready();
const server = createServer(createNodeListener(collector));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
});

async function stop() {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await collector.close();
  process.exit(0);
}
process.stdin.on('end', stop);
process.stdin.resume();
process.once('SIGTERM', stop);
