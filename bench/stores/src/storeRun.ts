/**
 * One store's turn in the stores bench: start its database server (none for DuckDB), ingest every
 * body through its collector processes, stop them and count what was stored, then time the read
 * queries through a fresh collector, and stop everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  call,
  Implausible,
  type Query,
  TimedOut,
} from '@sightline/bench-aggregator/src/readQueries';
import type { CollectorSnapshot } from './collectorSnapshot';
import { type IngestResult, ingest } from './loadGenerator';
import { cpuSeconds, memoryMb, treeCpuSeconds } from './processStats';
import type { RequestBodies } from './requestBodies';
import { type StoreServer, startClickHouse, startPostgres } from './storeServers';

export const STORE_KINDS = ['duckdb', 'postgres', 'clickhouse'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];
export const STORE_LABELS: Record<StoreKind, string> = {
  duckdb: 'DuckDB',
  postgres: 'PostgreSQL',
  clickhouse: 'ClickHouse',
};

export interface RunSettings {
  /** A private copy of the built collector for one store's turn (see collectorSnapshot.ts). */
  snapshot(): Promise<CollectorSnapshot>;
  /** Where the DuckDB store file goes. */
  directory: string;
  tenant: string;
  writeKey: string;
  readKey: string;
  bodies: RequestBodies;
  batchSize: number;
  concurrency: number;
  ingestTimeoutMs: number;
  queries: readonly Query[];
  warmRuns: number;
  queryTimeoutMs: number;
}

export interface QueryResult {
  query: Query;
  coldMs?: number;
  warmMs: number[];
  summary?: string;
  /** 501: the store does not answer this query (yet). */
  unsupported?: string;
  /** The request failed, or its answer was not plausible. */
  failure?: string;
  timedOut: boolean;
  /** The last answer's comparable part (see `Query.comparable`). */
  comparable?: unknown;
}

export interface Stored {
  /** Bytes the store takes on disk after the ingest. */
  diskBytes: number;
  rows: number;
  distinctIds: number;
  identityLinks: number;
  dailyUsage: number;
}

export interface StoreRun {
  kind: StoreKind;
  collectors: number;
  /** When the collector build this turn used was made. */
  collectorBuiltAt?: Date;
  serverSettings: string;
  ingest?: IngestResult;
  /** CPU cores used during the ingest (CPU seconds / wall seconds). */
  cores?: { collectors: number; server: number; load: number };
  peakCollectorRssMb: number;
  stored?: Stored;
  queries: QueryResult[];
  /** Restarts of the query collector after timed-out requests. */
  restarts: number;
  /** What stopped the run early, if anything. */
  error?: string;
}

/** Collector children still running: killed if this process dies first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface Collector {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/**
 * A collector process, started again (up to 5 times, 5 s apart) when it exits before listening:
 * others rebuild `@sightline/collector` while long runs go on, and its `dist/` is briefly
 * incomplete during a build.
 */
async function startCollector(
  script: string,
  settings: RunSettings,
  storeUrl: string,
): Promise<Collector> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnCollector(script, settings, storeUrl);
    } catch (error) {
      if (attempt === 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
  }
}

async function spawnCollector(
  script: string,
  settings: RunSettings,
  storeUrl: string,
): Promise<Collector> {
  const child = spawn(
    process.execPath,
    [
      script,
      ...['--store', storeUrl],
      ...['--write-key', `${settings.writeKey}=${settings.tenant}`],
      ...['--read-key', `${settings.readKey}=${settings.tenant}`],
    ],
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

/** SIGTERM (the collector writes what it accepted and closes the store), SIGKILL after 120 s. */
async function stopCollector(collector: Collector): Promise<number | null> {
  collector.child.kill('SIGTERM');
  const timer = setTimeout(() => collector.child.kill('SIGKILL'), 120_000);
  const code = await collector.exited;
  clearTimeout(timer);
  return code;
}

async function startServer(kind: StoreKind, directory: string): Promise<StoreServer> {
  if (kind === 'clickhouse') return startClickHouse('sightline_bench');
  if (kind === 'postgres') return startPostgres('sightline_bench');
  const file = join(directory, `run-${process.pid}.duckdb`);
  const remove = () => {
    for (const path of [file, `${file}.wal`, `${file}.tmp`])
      rmSync(path, { recursive: true, force: true });
  };
  remove();
  process.once('exit', remove);
  return {
    storeUrl: `duckdb:${file}`,
    pid: 0,
    settings: 'embedded in the collector (one process: DuckDB locks its file), memory_limit 1 GB',
    async cancelQueries() {},
    async diskBytes() {
      return [file, `${file}.wal`].reduce(
        (sum, path) => sum + (existsSync(path) ? statSync(path).size : 0),
        0,
      );
    },
    async stop() {
      remove();
    },
  };
}

/** What the store holds for the tenant, counted by the collector's own code in a child process. */
async function countStored(
  script: string,
  tenant: string,
  storeUrl: string,
): Promise<Omit<Stored, 'diskBytes'>> {
  const child = spawn(process.execPath, [script, '--store', storeUrl, '--count', tenant], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += String(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`counting the stored events failed (exit code ${code})`);
  return JSON.parse(output) as Omit<Stored, 'diskBytes'>;
}

/** The store and, when more than one, its collector count: "PostgreSQL ×2". */
export const runLabel = (run: Pick<StoreRun, 'kind' | 'collectors'>) =>
  `${STORE_LABELS[run.kind]}${run.collectors > 1 ? ` ×${run.collectors}` : ''}`;

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export { median };

/** Runs one store's ingest and queries; never throws (a failure ends the run with `error`). */
export async function runStore(
  kind: StoreKind,
  collectorCount: number,
  settings: RunSettings,
  log: (line: string) => void,
): Promise<StoreRun> {
  const run: StoreRun = {
    kind,
    collectors: collectorCount,
    serverSettings: '',
    peakCollectorRssMb: 0,
    queries: [],
    restarts: 0,
  };
  let server: StoreServer | undefined;
  const collectors: Collector[] = [];
  try {
    const snapshot = await settings.snapshot();
    const script = snapshot.script;
    run.collectorBuiltAt = snapshot.builtAt;
    server = await startServer(kind, settings.directory);
    run.serverSettings = server.settings;
    // One after the other: the first creates the schema.
    for (let i = 0; i < collectorCount; i++) {
      collectors.push(await startCollector(script, settings, server.storeUrl));
    }
    log(
      `${runLabel(run)}: ingesting ${settings.bodies.events.toLocaleString('en-US')} events through ${collectorCount} collector(s)…`,
    );

    const serverPid = server.pid;
    const cpuBefore = {
      collectors: collectors.reduce((sum, c) => sum + cpuSeconds(c.child.pid!), 0),
      server: serverPid ? treeCpuSeconds(serverPid) : 0,
      load: process.cpuUsage(),
    };
    const rssSampler = setInterval(() => {
      for (const c of collectors) {
        run.peakCollectorRssMb = Math.max(run.peakCollectorRssMb, memoryMb(c.child.pid!, 'VmRSS'));
      }
    }, 500);
    const started = performance.now();
    try {
      run.ingest = await ingest({
        file: settings.bodies.file,
        bodies: settings.bodies.bodies,
        events: settings.bodies.events,
        batchSize: settings.batchSize,
        ports: collectors.map((c) => c.port),
        concurrency: settings.concurrency,
        writeKey: settings.writeKey,
        deadlineMs: settings.ingestTimeoutMs,
        onProgress: (acknowledged, seconds) =>
          log(
            `  ${runLabel(run)}: ${acknowledged.toLocaleString('en-US')} events in ${seconds.toFixed(0)} s (${Math.round(acknowledged / seconds).toLocaleString('en-US')}/s)`,
          ),
      });
    } finally {
      clearInterval(rssSampler);
    }
    const wall = (performance.now() - started) / 1000;
    const load = process.cpuUsage(cpuBefore.load);
    run.cores = {
      collectors:
        (collectors.reduce((sum, c) => sum + cpuSeconds(c.child.pid!), 0) - cpuBefore.collectors) /
        wall,
      server: serverPid ? (treeCpuSeconds(serverPid) - cpuBefore.server) / wall : 0,
      load: (load.user + load.system) / 1e6 / wall,
    };
    for (const c of collectors) {
      run.peakCollectorRssMb = Math.max(run.peakCollectorRssMb, memoryMb(c.child.pid!, 'VmHWM'));
    }
    const codes = await Promise.all(collectors.splice(0).map(stopCollector));
    if (codes.some((code) => code !== 0)) {
      throw new Error(`a collector exited with code ${codes.join(', ')} after SIGTERM`);
    }
    run.stored = {
      ...(await countStored(script, settings.tenant, server.storeUrl)),
      diskBytes: await server.diskBytes().catch(() => Number.NaN),
    };
    if (run.ingest.timedOut || run.ingest.failedEvents > 0) {
      throw new Error(
        run.ingest.timedOut
          ? `ingest stopped after --ingest-timeout (${settings.ingestTimeoutMs / 1000} s)`
          : `${run.ingest.failedEvents} events failed: ${run.ingest.failures[0]}`,
      );
    }

    log(`${runLabel(run)}: read queries, cold + ${settings.warmRuns} warm…`);
    await runQueries(run, script, settings, server);
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    log(`${runLabel(run)}: ${run.error}`);
  } finally {
    await Promise.all(collectors.map(stopCollector));
    await server?.stop();
  }
  return run;
}

async function runQueries(
  run: StoreRun,
  script: string,
  settings: RunSettings,
  server: StoreServer,
): Promise<void> {
  let collector = await startCollector(script, settings, server.storeUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (const query of settings.queries) {
      const result: QueryResult = { query, warmMs: [], timedOut: false };
      run.queries.push(result);
      for (let attempt = 0; attempt <= settings.warmRuns; attempt++) {
        const started = performance.now();
        let answer: Awaited<ReturnType<typeof call>>;
        try {
          answer = await call(
            agent,
            collector.port,
            settings.readKey,
            query,
            settings.queryTimeoutMs,
          );
        } catch (error) {
          if (error instanceof TimedOut) result.timedOut = true;
          else
            result.failure = `request failed: ${error instanceof Error ? error.message : String(error)}`;
          break;
        }
        const ms = performance.now() - started;
        if (answer.status === 501) {
          const body = answer.json as
            | { error?: { message?: string }; message?: string }
            | undefined;
          result.unsupported = body?.error?.message ?? body?.message ?? answer.head;
          break;
        }
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
        result.comparable = query.comparable(answer);
        if (attempt === 0) result.coldMs = ms;
        else result.warmMs.push(ms);
      }
      if (result.timedOut) {
        // The abandoned query may still be running: start over with a fresh collector.
        collector.child.kill('SIGKILL');
        await collector.exited;
        await server.cancelQueries();
        collector = await startCollector(script, settings, server.storeUrl);
        run.restarts++;
      }
    }
  } finally {
    agent.destroy();
    await stopCollector(collector);
  }
}
