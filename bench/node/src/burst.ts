/**
 * 100,000 synchronous `track()` calls, then the SDK's graceful shutdown, against a loopback sink
 * that counts events by id: Sightline, Segment (`@segment/analytics-node`) and PostHog
 * (`posthog-node`), each in its own child process on plain node so its RSS is its own, in the
 * same run. The sink runs here, in the parent.
 *
 *   pnpm --filter @sightline/core build && pnpm --filter @sightline/node build
 *   pnpm --filter @sightline/bench-node bench
 *   tsx src/burst.ts --events 100000 --scenarios clean,flaky --flaky 0.1 --timeout 120 --close-timeout 60
 *                    [--sdks sightline,segment,posthog,sightline-small-queue] [--keep-alive] [--cpu-prof DIR]
 *
 * --keep-alive holds each child open while close() is pending, as a server's sockets would; without
 * it the child is a script that awaits close() and ends when Node finds nothing left to run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BURST_SDKS, type BurstSdk, installedVersion } from './burstClients';
import { type SinkCounts, startCountingSink } from './countingSink';
import type { BurstResult } from './runBurst';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const events = Number(argument('events', '100000'));
const closeTimeoutMs = Number(argument('close-timeout', '60')) * 1000;
const keepAlive = process.argv.includes('--keep-alive');

/** Bundles the child (SDK packages stay external, loaded from node_modules as published). */
async function buildChild(): Promise<string> {
  const outfile = join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'burstChild.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./burstChild.ts', import.meta.url))],
    outfile,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}

interface ChildOutcome {
  result?: BurstResult;
  timedOut: boolean;
  /** Event-loop utilisation of this process (the sink) while the child ran. */
  sinkUtilisation: number;
  exitCode: number | null;
  stderrLines: string[];
}

function runInChild(
  childScript: string,
  sdk: BurstSdk,
  host: string,
  timeoutMs: number,
): Promise<ChildOutcome> {
  const profileDir = argument('cpu-prof', '');
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const utilisationBefore = performance.eventLoopUtilization();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...profile,
      childScript,
      '--sdk',
      sdk.key,
      '--host',
      host,
      '--events',
      String(events),
      '--close-timeout',
      String(closeTimeoutMs / 1000),
      ...(keepAlive ? ['--keep-alive'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 100_000) stderr += chunk.toString('utf8');
  });
  let result: BurstResult | undefined;
  child.on('message', (message) => {
    result = message as BurstResult;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      const stderrLines = stderr.split('\n').filter((line) => line.trim() !== '');
      const sinkUtilisation = performance.eventLoopUtilization(utilisationBefore).utilization;
      resolve({ result, timedOut, exitCode, stderrLines, sinkUtilisation });
    });
  });
}

const format = (value: number) => Math.round(value).toLocaleString('en-US');

function row(sdk: BurstSdk, outcome: ChildOutcome, counts: SinkCounts) {
  const { result } = outcome;
  const failedNote = counts.failedRequests > 0 ? ` (${counts.failedRequests} × 500)` : '';
  return {
    SDK: sdk.label,
    version: installedVersion(sdk.packageName),
    'events/s': result
      ? format((events / result.totalMs) * 1000)
      : outcome.timedOut
        ? 'timeout'
        : outcome.exitCode === 13
          ? 'exited'
          : 'crashed',
    'track() loop ms': result ? format(result.burstMs) : '-',
    'close() done ms': result ? format(result.totalMs) : '-',
    delivered: format(counts.distinct),
    duplicates: format(counts.received - counts.distinct),
    lost: format(events - counts.distinct),
    requests: `${format(counts.requests)}${failedNote}`,
    'peak RSS MB': result ? format(result.peakRssMb) : '-',
  };
}

interface Scenario {
  name: string;
  title: string;
  failureRate: number;
}

async function runScenario(
  childScript: string,
  scenario: Scenario,
  sdks: readonly BurstSdk[],
  timeoutMs: number,
) {
  const sink = await startCountingSink({ failureRate: scenario.failureRate });
  const rows = [];
  const notes: string[] = [];
  const targets: string[] = [];
  for (const sdk of sdks) {
    sink.reset();
    const outcome = await runInChild(childScript, sdk, sink.url, timeoutMs);
    // Let requests already on the wire when the child ended reach the counters.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const counts = sink.counts();
    rows.push(row(sdk, outcome, counts));
    const { result } = outcome;
    const details = [
      result?.report,
      result
        ? `RSS ${format(result.rssBeforeMb)} MB before the loop, ${format(result.rssAfterBurstMb)} MB after it`
        : undefined,
      `${(counts.bodyBytes / 1024 / 1024).toFixed(1)} MB of request bodies, ${counts.gzippedRequests} of ${counts.requests} requests gzipped`,
      counts.announcedRetries > 0
        ? `${format(counts.announcedRetries)} requests with x-retry-count`
        : undefined,
      counts.withoutId > 0 ? `${format(counts.withoutId)} events without an id` : undefined,
      counts.unknownRequests > 0
        ? `${counts.unknownRequests} requests to other paths: ${JSON.stringify(counts.paths)}`
        : undefined,
      scenario.failureRate > 0 ? `${format(counts.acknowledged)} acknowledged with 200` : undefined,
      result?.closeError ? `close() rejected: ${result.closeError}` : undefined,
      result && result.totalMs - result.burstMs >= closeTimeoutMs
        ? `close() ran into its ${closeTimeoutMs / 1000} s timeout`
        : undefined,
      outcome.timedOut ? `killed after ${timeoutMs / 1000} s` : undefined,
      !result && !outcome.timedOut && outcome.exitCode === 13
        ? 'the process ended with close() still pending (exit code 13: nothing left to keep it alive)'
        : undefined,
      !result && !outcome.timedOut && outcome.exitCode !== 13
        ? `exit code ${outcome.exitCode}`
        : undefined,
      `sink busy ${(outcome.sinkUtilisation * 100).toFixed(0)} % of the time`,
      outcome.stderrLines.length > 0
        ? `${format(outcome.stderrLines.length)} stderr lines, first: ${outcome.stderrLines[0]?.slice(0, 160)}`
        : undefined,
    ];
    notes.push(`${sdk.label}: ${details.filter(Boolean).join('; ')}`);
    if (sdk.key === 'sightline' && scenario.failureRate === 0) {
      targets.push(sightlineTargets(result, counts));
    }
  }
  await sink.close();
  console.log(`\n${scenario.title}`);
  console.table(rows);
  for (const note of notes) console.log(`  ${note}`);
  for (const line of targets) console.log(line);
}

function sightlineTargets(result: BurstResult | undefined, counts: SinkCounts): string {
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const perSecond = result ? (events / result.totalMs) * 1000 : 0;
  const duplicates = counts.received - counts.distinct;
  return [
    'Sightline targets:',
    `≥ 100,000 events/s end to end: ${verdict(perSecond >= 100_000)} (${format(perSecond)});`,
    `100 % delivered: ${verdict(counts.distinct === events)} (${((counts.distinct / events) * 100).toFixed(1)} %);`,
    `0 duplicates: ${verdict(duplicates === 0)} (${format(duplicates)});`,
    `peak RSS ≤ 150 MB: ${verdict(result !== undefined && result.peakRssMb <= 150)} (${result ? format(result.peakRssMb) : '-'} MB)`,
  ].join(' ');
}

async function runParent(): Promise<void> {
  const keys = argument('sdks', BURST_SDKS.map((sdk) => sdk.key).join(',')).split(',');
  const sdks = BURST_SDKS.filter((sdk) => keys.includes(sdk.key));
  const failureRate = Number(argument('flaky', '0.1'));
  const timeoutMs = Number(argument('timeout', '120')) * 1000;
  const wanted = argument('scenarios', 'clean,flaky').split(',');
  const scenarios: Scenario[] = [
    {
      name: 'clean',
      title: `clean sink: every request answered 200 at once`,
      failureRate: 0,
    },
    {
      name: 'flaky',
      title: `flaky sink: 1 request in ${Math.round(1 / failureRate)} (the 2nd, then every ${Math.round(1 / failureRate)}th) answered 500 after its events were counted`,
      failureRate,
    },
  ].filter((scenario) => wanted.includes(scenario.name));

  const [cpu] = cpus();
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(2))
      .join(' ');
  console.log(
    `node SDK burst: ${format(events)} synchronous track() calls, then close() (timeout ${closeTimeoutMs / 1000} s), loopback sink counting events by id; each SDK in its own child process (killed after ${timeoutMs / 1000} s)${keepAlive ? "; --keep-alive: a ref'd timer holds each child open until close() resolves" : ''}`,
  );
  console.log(`command: tsx src/burst.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(
    `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} × ${cpu?.model.trim() ?? '?'}, ${new Date().toISOString()}; load average ${load()} before`,
  );
  const childScript = await buildChild();
  for (const scenario of scenarios) await runScenario(childScript, scenario, sdks, timeoutMs);
  console.log(`\nload average ${load()} after`);
}

await runParent();
