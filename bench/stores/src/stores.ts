/**
 * DuckDB, PostgreSQL and ClickHouse side by side in one run: ingest throughput through real
 * collector processes, then the aggregator bench's five read queries on each store.
 *
 * The aggregator bench's dataset (10,000,000 events of ~100,000 users over 90 days, generated
 * once and cached under `.data/`) is turned into `POST /v1/batch` bodies of 500 events (cached
 * too). For each store in turn the bench starts a throwaway server on a loopback port (DuckDB:
 * none, it is embedded), starts the collector processes (the built `@sightline/collector`, rate
 * limit and result cache off), sends every body once in round-robin over the collectors, measures
 * events/s from the first request sent to the last 200, stops the collectors and counts what the
 * store holds. A fresh collector then answers each query once cold and `--warm` times more
 * (median); 501 (not implemented for that store) is recorded as such. Each turn's figures go to
 * stderr as it ends (a run stopped half-way keeps them); the table, with the stores' answers
 * compared, comes at the end.
 *
 *   pnpm --filter @sightline/bench-stores bench        (after `pnpm build`)
 *   tsx src/stores.ts --events 200000                  (a quick run, for development)
 *   tsx src/stores.ts --stores postgres:1,postgres:2 --events 1000000   (one vs two collectors)
 *   tsx src/stores.ts --stores clickhouse:2 --concurrency 16
 *   tsx src/stores.ts --only dashboard,funnel --timeout 300 --ingest-timeout 3600
 */

import { rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DAYS, ensureDataset, FIRST_DAY, TENANT } from '@sightline/bench-aggregator/src/generate';
import { QUERIES } from '@sightline/bench-aggregator/src/readQueries';
import { snapshotCollector } from './collectorSnapshot';
import { printReport, printRunDetails } from './report';
import { ensureRequestBodies } from './requestBodies';
import { runStore, STORE_KINDS, type StoreKind, type StoreRun } from './storeRun';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    users: { type: 'string' },
    // Each store in turn, with its number of collector processes.
    stores: { type: 'string', default: 'duckdb:1,postgres:2,clickhouse:2' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    only: { type: 'string' },
    warm: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '120' },
    'ingest-timeout': { type: 'string', default: '7200' },
    regenerate: { type: 'boolean', default: false },
  },
  strict: true,
});

const wholeNumber = (option: string, value: string | undefined, minimum = 1): number => {
  const number = Number(value);
  if (!(Number.isInteger(number) && number >= minimum)) {
    throw new Error(`--${option}: use a whole number ≥ ${minimum} (got "${value}")`);
  }
  return number;
};
const events = wholeNumber('events', args.events);
const users =
  args.users === undefined ? Math.round(events / 100) : wholeNumber('users', args.users);
const batchSize = wholeNumber('batch', args.batch);
const concurrency = wholeNumber('concurrency', args.concurrency);
const warmRuns = wholeNumber('warm', args.warm);
const queryTimeoutMs = wholeNumber('timeout', args.timeout) * 1000;
const ingestTimeoutMs = wholeNumber('ingest-timeout', args['ingest-timeout']) * 1000;
const turns = args.stores.split(',').map((entry) => {
  const [name = '', count = name === 'clickhouse' ? '2' : '1'] = entry.split(':');
  if (!(STORE_KINDS as readonly string[]).includes(name)) {
    throw new Error(
      `--stores: unknown "${name}" (${STORE_KINDS.join(', ')}, each as name or name:collectors)`,
    );
  }
  const collectors = wholeNumber('stores', count);
  if (name === 'duckdb' && collectors !== 1) {
    throw new Error('--stores: DuckDB takes one collector (it locks its file)');
  }
  return { kind: name as StoreKind, collectors };
});
const queries = args.only
  ? args.only.split(',').map((name) => {
      const query = QUERIES.find((candidate) => candidate.name === name);
      if (!query)
        throw new Error(`--only: unknown "${name}" (${QUERIES.map((q) => q.name).join(', ')})`);
      return query;
    })
  : QUERIES;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const directory = join(packageDir, '.data');
const log = (line: string) => process.stderr.write(`${line}\n`);

const dataset = await ensureDataset({ events, users, directory, regenerate: args.regenerate });
const bodies = await ensureRequestBodies({
  datasetFile: dataset.file,
  tenant: TENANT,
  events,
  batchSize,
  directory,
});
// Each turn copies the collector as built when it starts (other work rebuilds it meanwhile).
const snapshotDir = join(directory, `collector-${process.pid}`);
process.once('exit', () => rmSync(snapshotDir, { recursive: true, force: true }));
const snapshot = () =>
  snapshotCollector(packageDir, join(packageDir, 'src', 'collectorServer.ts'), snapshotDir);

const loadBefore = loadavg();
const startedAt = new Date();
const runs: StoreRun[] = [];
for (const { kind, collectors } of turns) {
  const run = await runStore(
    kind,
    collectors,
    {
      snapshot,
      directory,
      tenant: TENANT,
      writeKey: 'wk_bench_stores_0001',
      readKey: 'rk_bench_stores_0001',
      bodies,
      batchSize,
      concurrency,
      ingestTimeoutMs,
      queries,
      warmRuns,
      queryTimeoutMs,
    },
    log,
  );
  runs.push(run);
  // The figures so far, in case the run is stopped before the report.
  printRunDetails(run, queryTimeoutMs, log);
  log(
    `load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
}

printReport({
  command:
    `tsx ${relative(packageDir, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
  machine: `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 1024 ** 3)} GiB; load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')} before, ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')} after; started ${startedAt.toISOString()}`,
  dataset: `${events.toLocaleString('en-US')} events, ${users.toLocaleString('en-US')} users, ${DAYS} days from ${FIRST_DAY}, tenant "${TENANT}"; ${bodies.bodies.toLocaleString('en-US')} bodies of ${batchSize} events (${(bodies.bytes / bodies.bodies / 1024).toFixed(0)} KB on average, ${(bodies.bytes / events).toFixed(0)} bytes per event)`,
  concurrency,
  warmRuns,
  queries,
  runs,
  queryTimeoutMs,
});
if (runs.some((run) => run.error !== undefined || run.queries.some((query) => query.failure))) {
  process.exitCode = 1;
}
