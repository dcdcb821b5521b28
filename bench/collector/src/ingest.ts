/**
 * Ingest throughput of the collector against a bare node:http baseline, in the same run.
 *
 * Each server runs in its own child process (its RSS is its own, and autocannon, in this
 * process, does not share its event loop). Autocannon POSTs `/v1/batch` bodies of 100 track
 * events, each request with fresh message ids, over loopback keep-alive connections. After the
 * collector run the server is stopped with SIGTERM (graceful: it writes what it accepted) and
 * the DuckDB file is opened to check that every acknowledged event is stored.
 *
 *   pnpm --filter @sightline/bench-collector bench        (after `pnpm build`)
 *   tsx src/ingest.ts --duration 30 --connections 32
 *   tsx src/ingest.ts --duration 10 --connections 8,16,32,64 --servers collector
 *   tsx src/ingest.ts --servers baseline,collector,collector-memory,collector-noop   (where time goes)
 *   tsx src/ingest.ts --servers collector --cpu-prof /tmp/prof    (V8 profile of the server)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore, type Store } from '@sightline/collector';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { type BatchSource, createBatchSource } from './events';

const SERVERS = {
  baseline: { label: 'bare node:http + JSON.parse', store: undefined },
  collector: { label: 'collector → DuckDB file', store: 'file' },
  'collector-memory': {
    label: 'collector → DuckDB :memory: (diagnostic)',
    store: 'duckdb::memory:',
  },
  'collector-noop': { label: 'collector → no-op store (diagnostic)', store: 'noop' },
  'collector-deferred': {
    label: 'collector → DuckDB loaded behind the ack (diagnostic)',
    store: 'deferred',
  },
} as const;
type ServerKind = keyof typeof SERVERS;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    batch: { type: 'string', default: '100' },
    servers: { type: 'string', default: 'baseline,collector' },
    'cpu-prof': { type: 'string' },
  },
  strict: true,
});

const duration = Number(args.duration);
const warmup = Number(args.warmup);
const batchSize = Number(args.batch);
const connectionCounts = args.connections.split(',').map(Number);
const kinds = args.servers.split(',').map((name) => {
  if (!(name in SERVERS))
    throw new Error(`--servers: unknown "${name}" (${Object.keys(SERVERS).join(', ')})`);
  return name as ServerKind;
});
const WRITE_KEY = 'wk_bench_collector_0001';
const TENANT = 'bench';
const OK_BODY = JSON.stringify({ success: true });
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** Server children still running: killed if this process dies first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

interface RunResult {
  server: ServerKind;
  connections: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  p50: number;
  p99: number;
  peakRssMb: number;
  /** CPU time of the server process (all its threads) over the measured run, in cores. */
  serverCores: number;
  /** CPU time of this process (autocannon, body generation) over the measured run, in cores. */
  loadCores: number;
  statusCodes: Record<string, number>;
  /** Collector servers: their store writes over the whole run (warm-up included), from /metrics. */
  writes?: StoreWrites;
  /** `collector` only: what the DuckDB file holds after shutdown; see {@link verifyStored}. */
  stored?: Stored;
}

interface Stored {
  /** Rows of the tenant in the file. */
  rows: number;
  /** Bodies answered 2xx `{"success":true}` (warm-up included). */
  acknowledged: number;
  /** Rows from acknowledged bodies: must be acknowledged × batch size. */
  acknowledgedRows: number;
  /** Rows from bodies in flight when autocannon stopped (sent, never answered to it). */
  inFlightRows: number;
}

interface StoreWrites {
  count: number;
  rows: number;
  seconds: number;
}

/** Sums of the collector's store-write histograms (`sightline_store_write_*`). */
async function readStoreWrites(port: number): Promise<StoreWrites> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    count: value('sightline_store_write_duration_seconds_count'),
    rows: value('sightline_store_write_rows_sum'),
    seconds: value('sightline_store_write_duration_seconds_sum'),
  };
}

/** What autocannon's callbacks record about one server's run (warm-up included). */
interface Tally {
  /** `seq` of every body answered 2xx `{"success":true}`. */
  acknowledged: Set<number>;
  /** 2xx responses whose body is not `{"success":true}` (some events refused). */
  mismatches: number;
}

function readRssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process has exited
  }
}

/** User + system CPU seconds of a process, all threads. */
function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * The server scripts as plain JavaScript in `dist/`, so the children run on bare `node`: under
 * tsx each would also carry its loader thread (about 35 MB of RSS that is not the server's).
 * `@sightline/collector` stays an import, resolved from this package's node_modules.
 */
async function compileServers(): Promise<Record<'bare' | 'collector', string>> {
  const outdir = fileURLToPath(new URL('../dist', import.meta.url));
  await build({
    entryPoints: ['bareServer', 'collectorServer'].map((name) =>
      fileURLToPath(new URL(`./${name}.ts`, import.meta.url)),
    ),
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return { bare: join(outdir, 'bareServer.mjs'), collector: join(outdir, 'collectorServer.mjs') };
}
const scripts = await compileServers();

/** Starts a server child and resolves once it printed its port. */
async function startServer(
  kind: ServerKind,
  storeFile: string,
  profileDir: string | undefined,
): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const { store } = SERVERS[kind];
  const script = store === undefined ? scripts.bare : scripts.collector;
  const scriptArgs =
    store === undefined
      ? []
      : [
          '--store',
          store === 'file'
            ? `duckdb:${storeFile}`
            : store === 'deferred'
              ? `deferred:duckdb:${storeFile}`
              : store,
          '--write-key',
          `${WRITE_KEY}=${TENANT}`,
        ];
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(process.execPath, [...profile, script, ...scriptArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${kind} server exited (${code}) before listening`)),
    );
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { child, port, exited };
}

/**
 * One autocannon run. Each connection has one request in flight (no pipelining), so the context
 * autocannon passes to `onResponse` is the one `setupRequest` filled for that request.
 */
function load(
  port: number,
  connections: number,
  seconds: number,
  source: BatchSource,
  tally: Tally,
) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    requests: [
      {
        method: 'POST',
        path: '/v1/batch',
        setupRequest(request, context: { seq?: number }) {
          const next = source.next();
          context.seq = next.seq;
          request.body = next.body;
          return request;
        },
        onResponse(status, body, context: { seq?: number }) {
          if (status < 200 || status >= 300) return;
          if (body === OK_BODY && context.seq !== undefined) tally.acknowledged.add(context.seq);
          else tally.mismatches++;
        },
      },
    ],
    timeout: 30,
  });
}

/**
 * Checks that every acknowledged event is in the file. Every row comes from a body this run
 * handed out, so rows − (rows of bodies never acknowledged) = rows of acknowledged bodies, which
 * must equal acknowledged × batch size. Bodies never acknowledged are the few in flight when
 * autocannon stopped (one per connection per run): the server still stored them.
 */
async function verifyStored(store: Store, source: BatchSource, tally: Tally): Promise<Stored> {
  const rows = await store.countEvents(TENANT);
  let inFlightRows = 0;
  for (let seq = 0; seq < source.issued; seq++) {
    if (tally.acknowledged.has(seq)) continue;
    inFlightRows += (await store.findMessageIds(TENANT, source.messageIds(seq))).size;
  }
  return {
    rows,
    acknowledged: tally.acknowledged.size,
    acknowledgedRows: rows - inFlightRows,
    inFlightRows,
  };
}

async function runServer(kind: ServerKind, connections: number): Promise<RunResult> {
  const directory = mkdtempSync(join(tmpdir(), 'sightline-bench-'));
  const storeFile = join(directory, 'events.duckdb');
  try {
    const { child, port, exited } = await startServer(kind, storeFile, args['cpu-prof']);
    const pid = child.pid!;
    let peakKb = readRssKb(pid);
    const sampler = setInterval(() => {
      peakKb = Math.max(peakKb, readRssKb(pid));
    }, 200);

    const source = createBatchSource({ batchSize });
    const tally: Tally = { acknowledged: new Set(), mismatches: 0 };
    if (warmup > 0) await load(port, connections, warmup, source, tally);
    const serverCpuBefore = readCpuSeconds(pid);
    const loadCpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await load(port, connections, duration, source, tally);
    const wall = (performance.now() - started) / 1000;
    const serverCores = (readCpuSeconds(pid) - serverCpuBefore) / wall;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const loadCores = (loadCpu.user + loadCpu.system) / 1e6 / wall;

    const storeKind = SERVERS[kind].store;
    const writes =
      storeKind === undefined || storeKind === 'noop' ? undefined : await readStoreWrites(port);
    child.kill('SIGTERM');
    const code = await exited;
    clearInterval(sampler);
    if (code !== 0) throw new Error(`${kind} server exited with code ${code} after SIGTERM`);

    const statusCodes: Record<string, number> = {};
    for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
      statusCodes[status] = stats.count ?? 0;
    }
    const run: RunResult = {
      server: kind,
      connections,
      seconds: result.duration,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      mismatches: tally.mismatches,
      p50: result.latency.p50,
      p99: result.latency.p99,
      peakRssMb: peakKb / 1024,
      serverCores,
      loadCores,
      statusCodes,
      writes,
    };
    if (storeKind === 'file' || storeKind === 'deferred') {
      const store = await openStore(`duckdb:${storeFile}`);
      try {
        run.stored = await verifyStored(store, source, tally);
      } finally {
        await store.close();
      }
    }
    return run;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const loadBefore = loadavg();
const results: RunResult[] = [];
for (const connections of connectionCounts) {
  for (const kind of kinds) {
    process.stderr.write(
      `${kind}: ${connections} connections, ${warmup} s warm-up + ${duration} s…\n`,
    );
    results.push(await runServer(kind, connections));
  }
}
const loadAfter = loadavg();

const eventsPerSecond = (run: RunResult) => (run.ok * batchSize) / run.seconds;
const format = (value: number) => Math.round(value).toLocaleString('en-US');
const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');

console.log(
  `collector ingest: POST /v1/batch, ${batchSize} track events per request, unique messageIds, ${duration} s per server after a ${warmup} s warm-up`,
);
console.log(
  `node ${process.version}, ${process.platform}/${process.arch}; load average ${loads(loadBefore)} before, ${loads(loadAfter)} after\n`,
);
console.table(
  results.map((run) => ({
    server: SERVERS[run.server].label,
    conn: run.connections,
    'requests/s': format(run.ok / run.seconds),
    'events/s': format(eventsPerSecond(run)),
    'p50 ms': run.p50,
    'p99 ms': run.p99,
    'errors/non-2xx': `${run.errors}/${run.non2xx}`,
    'peak RSS MB': format(run.peakRssMb),
    'CPU server/load': `${run.serverCores.toFixed(2)}/${run.loadCores.toFixed(2)}`,
  })),
);

let failed = false;
for (const run of results) {
  const where = `${run.server} (${run.connections} conn.)`;
  if (run.non2xx > 0 || run.errors > 0) {
    console.log(
      `${where}: statuses ${JSON.stringify(run.statusCodes)}, ${run.errors} errors, ${run.timeouts} timeouts`,
    );
  }
  if (run.mismatches > 0)
    console.log(`${where}: ${run.mismatches} 2xx responses other than ${OK_BODY}`);
  if (run.writes && run.writes.count > 0) {
    const { count, rows, seconds } = run.writes;
    console.log(
      `${where}: ${format(count)} store writes (group commits) of ${format(rows / count)} rows on average, ${((seconds / count) * 1000).toFixed(1)} ms each: ${format(rows / seconds)} rows/s while writing, the store busy ${((seconds / (run.seconds + warmup)) * 100).toFixed(0)} % of the time`,
    );
  }
  if (run.stored) {
    const { rows, acknowledged, acknowledgedRows, inFlightRows } = run.stored;
    const same = acknowledgedRows === acknowledged * batchSize;
    if (!same) failed = true;
    console.log(
      `${where}: ${format(rows)} rows in DuckDB after shutdown: ${format(acknowledgedRows)} from the ${format(acknowledged)} requests answered 200 (warm-up included) ${same ? '==' : '!='} ${format(acknowledged)} × ${batchSize} ${same ? '✔' : '✘'}, and ${format(inFlightRows)} from requests still in flight when the load stopped`,
    );
  }
}
for (const connections of connectionCounts) {
  const baseline = results.find(
    (run) => run.server === 'baseline' && run.connections === connections,
  );
  const collector = results.find(
    (run) => run.server === 'collector' && run.connections === connections,
  );
  if (!collector) continue;
  const rate = eventsPerSecond(collector);
  const ratio = baseline ? rate / eventsPerSecond(baseline) : undefined;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  console.log(
    [
      `\ntargets, collector → DuckDB file, ${connections} connections:`,
      `  ≥ 50,000 events/s stored   ${format(rate)} events/s: ${verdict(rate >= 50_000)}`,
      `  p99 ≤ 100 ms               ${collector.p99} ms: ${verdict(collector.p99 <= 100)}`,
      ratio === undefined
        ? '  ≥ 40 % of the baseline     (no baseline in this run)'
        : `  ≥ 40 % of the baseline     ${(ratio * 100).toFixed(1)} %: ${verdict(ratio >= 0.4)}`,
      `  peak RSS ≤ 400 MB          ${format(collector.peakRssMb)} MB: ${verdict(collector.peakRssMb <= 400)}`,
    ].join('\n'),
  );
}
if (failed) process.exitCode = 1;
