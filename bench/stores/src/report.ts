/**
 * The stores bench's printed report: one table (rows = measurements, columns = stores, then the
 * target and whether it is met), then the details of each store's run.
 */
import { cpus } from 'node:os';
import type { Query } from '@sightline/bench-aggregator/src/readQueries';
import { differences } from './differences';
import { median, type QueryResult, runLabel, type StoreRun } from './storeRun';

const INGEST_TARGET = 100_000;
const QUERY_TARGET_MS = 2_000;

const format = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

type Verdict = 'yes' | 'warm only' | 'NO' | 'not supported' | 'FAILED' | 'not run';

function queryVerdict(result: QueryResult | undefined): Verdict {
  if (!result) return 'not run';
  if (result.unsupported !== undefined) return 'not supported';
  if (result.failure !== undefined) return 'FAILED';
  if (result.timedOut || result.warmMs.length === 0) return 'NO';
  const warm = median(result.warmMs);
  if (warm > QUERY_TARGET_MS) return 'NO';
  return result.coldMs! <= QUERY_TARGET_MS ? 'yes' : 'warm only';
}

function queryCell(result: QueryResult | undefined, timeoutMs: number): string {
  if (!result) return '–';
  if (result.unsupported !== undefined) return 'not supported (501)';
  if (result.failure !== undefined) return 'FAILED';
  const cold = result.coldMs === undefined ? `> ${format(timeoutMs)}` : format(result.coldMs);
  if (result.warmMs.length === 0) return `> ${format(timeoutMs)} (cold ${cold})`;
  return `${format(median(result.warmMs))} (cold ${cold})${result.timedOut ? ', then timed out' : ''}`;
}

/** "DuckDB yes, PostgreSQL NO" for the stores that ran. */
const verdicts = (runs: readonly StoreRun[], verdictOf: (run: StoreRun) => Verdict) =>
  runs.map((run) => `${runLabel(run)} ${verdictOf(run)}`).join(', ');

export interface Report {
  command: string;
  machine: string;
  dataset: string;
  concurrency: number;
  warmRuns: number;
  queries: readonly Query[];
  runs: readonly StoreRun[];
  queryTimeoutMs?: number;
}

export function printReport(report: Report): void {
  const { runs, queries } = report;
  const timeoutMs = report.queryTimeoutMs ?? 120_000;
  const columns = (cell: (run: StoreRun) => string) =>
    Object.fromEntries(runs.map((run) => [runLabel(run), cell(run)]));
  const reference = runs.find((run) => run.stored !== undefined);
  const rows: Array<Record<string, string>> = [];
  const row = (measurement: string, cell: (run: StoreRun) => string, target: string, met: string) =>
    rows.push({ measurement, ...columns(cell), target, 'met?': met });

  row('collector processes', (run) => String(run.collectors), '', '');
  const clickhouse = runs.find((run) => run.kind === 'clickhouse');
  row(
    'ingest events/s (first request → last 200)',
    (run) => (run.ingest ? format(run.ingest.eventsPerSecond) : '–'),
    `ClickHouse ≥ ${format(INGEST_TARGET)}, 2 collectors`,
    !clickhouse?.ingest
      ? 'not run'
      : clickhouse.ingest.eventsPerSecond >= INGEST_TARGET && clickhouse.collectors === 2
        ? 'yes'
        : clickhouse.collectors !== 2
          ? `not measured (${clickhouse.collectors} collectors)`
          : `NO (${format((clickhouse.ingest.eventsPerSecond / INGEST_TARGET) * 100)} %)`,
  );
  row(
    'ingest seconds; request p50 / p99 ms',
    (run) =>
      run.ingest
        ? `${format(run.ingest.seconds, 1)} s; ${format(run.ingest.p50Ms)} / ${format(run.ingest.p99Ms)}`
        : '–',
    '',
    '',
  );
  row(
    'CPU cores in ingest: collectors + server + load gen.',
    (run) =>
      run.cores
        ? `${format(run.cores.collectors, 2)} + ${format(run.cores.server, 2)} + ${format(run.cores.load, 2)}`
        : '–',
    `${cpus().length} cores in all`,
    '',
  );
  row(
    'CPU µs per stored event: collectors + server',
    (run) =>
      run.cores && run.ingest && run.ingest.eventsPerSecond > 0
        ? `${format((run.cores.collectors / run.ingest.eventsPerSecond) * 1e6, 1)} + ${format((run.cores.server / run.ingest.eventsPerSecond) * 1e6, 1)}`
        : '–',
    '',
    '',
  );
  const sent = (run: StoreRun) => run.ingest?.acknowledged ?? 0;
  const storedExactly = (run: StoreRun) =>
    run.stored !== undefined &&
    run.stored.distinctIds === sent(run) &&
    run.stored.rows === sent(run) &&
    run.ingest?.timedOut === false;
  row(
    'events stored (distinct messageIds; rows)',
    (run) =>
      run.stored
        ? `${format(run.stored.distinctIds)}; ${format(run.stored.rows)} ${storedExactly(run) ? '✔' : '✘'}`
        : '–',
    'every acknowledged event, once',
    verdicts(runs, (run) => (run.stored ? (storedExactly(run) ? 'yes' : 'NO') : 'not run')),
  );
  row(
    'store size on disk, MB (bytes per event)',
    (run) =>
      run.stored
        ? `${format(run.stored.diskBytes / 1024 ** 2)} (${format(run.stored.diskBytes / Math.max(1, run.stored.rows))})`
        : '–',
    '',
    '',
  );
  row(
    'identity links; daily usage total',
    (run) =>
      run.stored ? `${format(run.stored.identityLinks)}; ${format(run.stored.dailyUsage)}` : '–',
    'equal in every store',
    runs.filter((run) => run.stored).length < 2
      ? '–'
      : runs.every(
            (run) =>
              !run.stored ||
              (run.stored.identityLinks === reference!.stored!.identityLinks &&
                run.stored.dailyUsage === reference!.stored!.dailyUsage),
          )
        ? 'yes'
        : 'NO',
  );
  for (const query of queries) {
    const resultOf = (run: StoreRun) => run.queries.find((result) => result.query === query);
    row(
      `${query.label}: warm median ms (cold)`,
      (run) => queryCell(resultOf(run), timeoutMs),
      `≤ ${format(QUERY_TARGET_MS)} ms`,
      verdicts(runs, (run) => queryVerdict(resultOf(run))),
    );
  }
  // Answers compared with the first store that answered each query.
  const disagreements: string[] = [];
  const agreement = (run: StoreRun) => {
    const compared: string[] = [];
    for (const query of queries) {
      const mine = run.queries.find((result) => result.query === query);
      const first = runs
        .map((other) => other.queries.find((result) => result.query === query))
        .find((result) => result?.comparable !== undefined);
      if (!mine || mine.comparable === undefined || !first || first === mine) continue;
      const found = differences(first.comparable, mine.comparable);
      if (found.length > 0) {
        disagreements.push(`${runLabel(run)} ${query.name}: ${found.join('; ')}`);
      }
      compared.push(found.length > 0 ? `${query.name} ✘` : query.name);
    }
    const isReference = queries.some(
      (query) =>
        runs
          .map((other) => other.queries.find((result) => result.query === query))
          .find((result) => result?.comparable !== undefined) ===
        run.queries.find((result) => result.query === query),
    );
    if (compared.length === 0) return isReference ? 'reference' : '–';
    return compared.join(' ');
  };
  row(
    'answers equal to the first store’s',
    agreement,
    'identical answers',
    disagreements.length === 0 ? 'yes' : 'NO',
  );

  console.log(
    `command: ${report.command}   (in bench/stores; pnpm --filter @sightline/bench-stores bench)`,
  );
  console.log(`${report.machine}`);
  console.log(`dataset: ${report.dataset}`);
  console.log(
    `ingest: every body POSTed once to /v1/batch, round-robin over the store's collectors, ${report.concurrency} requests in flight per collector; events/s = events answered 200 ÷ (last 200 − first request)`,
  );
  console.log(
    `queries: through a fresh collector (result cache off): cold = first run in that process, warm = median of the next ${report.warmRuns}; the database server's own caches are warm from the ingest`,
  );
  console.log(
    `constraint: the load generator, the collector processes and the database server share the machine's ${cpus().length} CPUs\n`,
  );
  console.table(rows);
  console.log('');
  for (const run of runs) printRunDetails(run, timeoutMs);
  for (const line of disagreements) console.log(`differs: ${line}`);
}

/**
 * One store's turn in plain lines: settings, ingest, what was stored, each query's runs. Printed
 * as each turn ends (so a run stopped half-way still leaves its figures) and again in the report.
 */
export function printRunDetails(
  run: StoreRun,
  timeoutMs: number,
  write: (line: string) => void = console.log,
): void {
  const built = run.collectorBuiltAt
    ? `; collector built ${run.collectorBuiltAt.toISOString()}`
    : '';
  write(`${runLabel(run)}: ${run.serverSettings}${built}`);
  if (run.ingest) {
    const ingest = run.ingest;
    const retries = Object.entries(ingest.retries)
      .map(([status, count]) => `${format(count)} × ${status}`)
      .join(', ');
    write(
      `  ingest: ${format(ingest.acknowledged)} events in ${format(ingest.requests)} requests (${ingest.perCollector.map((n) => format(n)).join(' + ')} answered 200 per collector) in ${format(ingest.seconds, 1)} s: ${format(ingest.eventsPerSecond)} events/s, p50 ${format(ingest.p50Ms)} ms, p99 ${format(ingest.p99Ms)} ms${retries ? `, retried: ${retries}` : ''}${ingest.failedEvents ? `, ${format(ingest.failedEvents)} events failed: ${ingest.failures.join(' | ')}` : ''}; collector peak RSS ${format(run.peakCollectorRssMb)} MB`,
    );
  }
  if (run.cores) {
    write(
      `  CPU cores during the ingest: collectors ${format(run.cores.collectors, 2)}, database server ${format(run.cores.server, 2)}, load generator ${format(run.cores.load, 2)}`,
    );
  }
  if (run.stored) {
    write(
      `  stored: ${format(run.stored.rows)} rows, ${format(run.stored.distinctIds)} distinct messageIds, ${format(run.stored.identityLinks)} identity links, daily usage total ${format(run.stored.dailyUsage)}, ${format(run.stored.diskBytes / 1024 ** 2)} MB on disk`,
    );
  }
  for (const result of run.queries) {
    const name = result.query.name.padEnd(10);
    const times = [result.coldMs, ...result.warmMs]
      .filter((ms) => ms !== undefined)
      .map((ms) => format(ms));
    if (result.unsupported !== undefined) write(`  ${name} not supported: ${result.unsupported}`);
    else if (result.failure !== undefined) write(`  ${name} ✘ ${result.failure}`);
    else if (result.timedOut) {
      write(
        `  ${name} ⧗ no answer within ${format(timeoutMs / 1000)} s${times.length ? ` (after runs of ${times.join(', ')} ms)` : ''}`,
      );
    } else write(`  ${name} ✔ ${result.summary}; runs ${times.join(', ')} ms`);
  }
  if (run.restarts > 0)
    write(`  query collector restarted ${run.restarts}× after timed-out requests`);
  if (run.error) write(`  stopped: ${run.error}`);
}
