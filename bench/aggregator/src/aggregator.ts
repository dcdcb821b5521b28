/**
 * Read-API latency of the collector on a large store: 10,000,000 events of ~100,000 users over
 * 90 days (see generate.ts), queried over HTTP with the result cache off.
 *
 * The dataset is generated once into `.data/` (cached, keyed by size and generator version);
 * the collector then runs in a child process on a copy of that file (plain `node`, the server script
 * compiled with esbuild, as bench/collector does), and this process times each query: its first
 * run (cold) and the median of the next `--warm` runs. Every answer is checked for plausibility.
 *
 * A request still unanswered after `--timeout` seconds (default 120, 60× the 2 s target) is
 * recorded as timed out, and its query gets no further runs: the collector is then killed and
 * restarted, since DuckDB would otherwise go on computing the abandoned query and every later
 * request would queue behind it (the store runs one read at a time).
 *
 *   pnpm --filter @sightline/bench-aggregator bench        (after `pnpm build`)
 *   tsx src/aggregator.ts --warm 5
 *   tsx src/aggregator.ts --events 1000000                 (a smaller store, ~100 events per user)
 *   tsx src/aggregator.ts --regenerate                     (rebuild the cached file)
 *   tsx src/aggregator.ts --only funnel,retention --timeout 600
 *   tsx src/aggregator.ts --only export --cpu-prof /tmp/prof     (V8 profiles of the collector)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { DAYS, ensureDataset, FIRST_DAY, TENANT } from './generate';
import {
  type Answer,
  call,
  format,
  Implausible,
  LAST_DAY,
  QUERIES,
  type Query,
  TimedOut,
} from './readQueries';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    users: { type: 'string' },
    warm: { type: 'string', default: '3' },
    regenerate: { type: 'boolean', default: false },
    only: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'cpu-prof': { type: 'string' },
  },
  strict: true,
});

const events = Number(args.events);
const users = args.users === undefined ? Math.round(events / 100) : Number(args.users);
const warmRuns = Number(args.warm);
if (!(Number.isInteger(events) && events > 0 && Number.isInteger(users) && users > 0)) {
  throw new Error('--events and --users: use whole numbers > 0');
}
if (!(Number.isInteger(warmRuns) && warmRuns >= 1))
  throw new Error('--warm: use a whole number ≥ 1');
const timeoutMs = Number(args.timeout) * 1000;
if (!(timeoutMs > 0)) throw new Error('--timeout: use a number of seconds > 0');

const READ_KEY = 'rk_bench_aggregator_0001';
const TARGET_MS = 2_000;
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Server children still running: killed if this process dies first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

// ── The server ───────────────────────────────────────────────────────────────────────────────

function readStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the process has exited
  }
}

/** User + system CPU seconds of a process, all threads (USER_HZ = 100 on Linux). */
function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The server script as plain JavaScript in `dist/`, so the child runs on bare `node` (no tsx
 * loader thread in its RSS); `@sightline/collector` stays an import of the built package.
 */
async function compileServer(): Promise<string> {
  const outdir = join(packageDir, 'dist');
  await build({
    entryPoints: [join(packageDir, 'src', 'collectorServer.ts')],
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return join(outdir, 'collectorServer.mjs');
}

async function startServer(
  script: string,
  file: string,
): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const profile = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const child = spawn(
    process.execPath,
    [...profile, script, '--store', `duckdb:${file}`, '--read-key', `${READ_KEY}=${TENANT}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`collector exited (${code}) before listening`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { child, port, exited };
}

// ── Run ──────────────────────────────────────────────────────────────────────────────────────

interface Measured {
  query: Query;
  coldMs?: number;
  warmMs: number[];
  summary?: string;
  /** The answer was not plausible, or the request failed. */
  failure?: string;
  /** A run got no complete answer within the timeout (the target is missed). */
  timedOut: boolean;
  /** Peak RSS of the server while this query ran (sampled every 50 ms), MB. */
  peakRssMb: number;
  /** Server CPU time over the query's runs / their wall time. */
  cores: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const command =
  `tsx ${relative(packageDir, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim();
const selected = args.only
  ? args.only.split(',').map((name) => {
      const query = QUERIES.find((candidate) => candidate.name === name);
      if (!query)
        throw new Error(`--only: unknown "${name}" (${QUERIES.map((q) => q.name).join(', ')})`);
      return query;
    })
  : QUERIES;

const dataset = await ensureDataset({
  events,
  users,
  directory: join(packageDir, '.data'),
  regenerate: args.regenerate,
});
const script = await compileServer();

// The collector runs on a throwaway copy: the cached file stays exactly the generator's output
// (a collector opening a file read-write may migrate or checkpoint it), and a reader of the
// cache elsewhere (DuckDB's file lock) does not keep the collector from starting.
const storeFile = join(packageDir, '.data', `run-${process.pid}.duckdb`);
const removeStoreFile = () => {
  for (const path of [storeFile, `${storeFile}.wal`, `${storeFile}.tmp`]) {
    rmSync(path, { recursive: true, force: true });
  }
};
process.once('exit', removeStoreFile);
copyFileSync(dataset.file, storeFile, constants.COPYFILE_FICLONE);

const loadBefore = loadavg();
const startedAt = performance.now();
let server = await startServer(script, storeFile);
const startupMs = performance.now() - startedAt;
const idleRssMb = readStatusKb(server.child.pid!, 'VmRSS') / 1024;
/** Highest VmHWM (kernel-tracked peak RSS) over every collector process of the run. */
let peakHwmKb = 0;
let restarts = 0;
let windowPeakKb = 0;
const sampler = setInterval(() => {
  windowPeakKb = Math.max(windowPeakKb, readStatusKb(server.child.pid!, 'VmRSS'));
}, 50);

const results: Measured[] = [];
for (const query of selected) {
  process.stderr.write(`${query.label}: cold + ${warmRuns} warm…\n`);
  const pid = server.child.pid!;
  windowPeakKb = readStatusKb(pid, 'VmRSS');
  const cpuBefore = readCpuSeconds(pid);
  const wallBefore = performance.now();
  const result: Measured = { query, warmMs: [], timedOut: false, peakRssMb: 0, cores: 0 };
  for (let run = 0; run <= warmRuns; run++) {
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await call(agent, server.port, READ_KEY, query, timeoutMs);
    } catch (error) {
      if (error instanceof TimedOut) result.timedOut = true;
      else
        result.failure = `request failed: ${error instanceof Error ? error.message : String(error)}`;
      break;
    }
    const ms = performance.now() - started;
    if (answer.status !== 200) {
      result.failure = `HTTP ${answer.status}: ${answer.head}`;
      break;
    }
    try {
      result.summary = query.check(answer);
    } catch (error) {
      if (!(error instanceof Implausible)) throw error;
      result.failure = error.message;
      break;
    }
    if (run === 0) result.coldMs = ms;
    else result.warmMs.push(ms);
  }
  result.cores = (readCpuSeconds(pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
  result.peakRssMb = Math.max(windowPeakKb, readStatusKb(pid, 'VmRSS')) / 1024;
  results.push(result);
  if (result.timedOut) {
    // The abandoned query is still running in DuckDB: start over with a fresh collector.
    peakHwmKb = Math.max(peakHwmKb, readStatusKb(pid, 'VmHWM'));
    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServer(script, storeFile);
    restarts++;
  }
}
peakHwmKb = Math.max(peakHwmKb, readStatusKb(server.child.pid!, 'VmHWM'));
const peakRssMb = peakHwmKb / 1024;
clearInterval(sampler);
server.child.kill('SIGTERM');
const code = await server.exited;
agent.destroy();
const loadAfter = loadavg();

const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
const mb = (bytes: number) => format(bytes / 1024 ** 2);

console.log(
  `command: ${command}   (in bench/aggregator; pnpm --filter @sightline/bench-aggregator bench)`,
);
console.log(
  `collector read API on ${format(events)} events, ${format(users)} users, ${DAYS} days (${FIRST_DAY} … ${LAST_DAY}), tenant "${TENANT}"; cache off (read.cacheTtlMs 0); cold = first run in the process, warm = median of the next ${warmRuns}`,
);
console.log(
  `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average ${loads(loadBefore)} before, ${loads(loadAfter)} after`,
);
console.log(
  `dataset: ${relative(packageDir, dataset.file)}, ${mb(dataset.bytes)} MB; ${
    dataset.generatedSeconds === undefined
      ? 'cached (pass --regenerate to rebuild it)'
      : `generated in ${format(dataset.generatedSeconds, 1)} s (${Object.entries(
          dataset.stepSeconds,
        )
          .filter(([, seconds]) => seconds >= 0.5)
          .map(([step, seconds]) => `${step} ${format(seconds, 1)} s`)
          .join(', ')})`
  }`,
);
console.log(
  `collector: started in ${format(startupMs)} ms, RSS ${format(idleRssMb)} MB idle, peak RSS ${format(peakRssMb)} MB (VmHWM)${restarts > 0 ? `; restarted ${restarts}× after timed-out requests (--timeout ${timeoutMs / 1000} s)` : ''}\n`,
);
const over = `> ${format(timeoutMs)}`;
console.table(
  results.map((result) => {
    const warm = result.warmMs.length > 0 ? median(result.warmMs) : undefined;
    const met =
      result.failure !== undefined
        ? 'FAILED'
        : result.timedOut || warm === undefined
          ? 'NO (timed out)'
          : warm > TARGET_MS
            ? 'NO'
            : result.coldMs! <= TARGET_MS
              ? 'yes'
              : 'warm only';
    return {
      query: result.query.label,
      'cold ms': result.coldMs !== undefined ? format(result.coldMs) : result.timedOut ? over : '–',
      'warm median ms':
        warm !== undefined
          ? format(warm)
          : result.timedOut && result.coldMs !== undefined
            ? over
            : '–',
      target: `≤ ${format(TARGET_MS)} ms`,
      'met?': met,
      'server cores': format(result.cores, 2),
      'peak RSS MB': format(result.peakRssMb),
    };
  }),
);
for (const result of results) {
  const name = result.query.name.padEnd(10);
  const runs = [result.coldMs, ...result.warmMs]
    .filter((ms) => ms !== undefined)
    .map((ms) => format(ms));
  if (result.failure) console.log(`${name} ✘ ${result.failure}`);
  else if (result.timedOut)
    console.log(
      `${name} ⧗ no answer within ${timeoutMs / 1000} s${runs.length > 0 ? ` (after runs of ${runs.join(', ')} ms; ${result.summary})` : ''}; not checked further`,
    );
  else console.log(`${name} ✔ ${result.summary}; runs ${runs.join(', ')} ms`);
}
if (code !== 0) console.log(`collector exited with code ${code} after SIGTERM`);
if (code !== 0 || results.some((result) => result.failure !== undefined)) process.exitCode = 1;
