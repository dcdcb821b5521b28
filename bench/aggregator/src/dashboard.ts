/**
 * How fast the collector's dashboard renders on a large store: the aggregator bench's dataset
 * (10,000,000 events of 100,000 users over 90 days, generated once and cached, see generate.ts),
 * the built collector in a child process on a copy of it, and the page in Debian's Chromium.
 *
 * Collectors are measured one after the other: `--cold` of them (default 3) with the query cache
 * off (every panel runs its queries in DuckDB on every load), then one with it on
 * (`--cache-ttl-ms`, default 60 s: the collector's default of 10 s is shorter than one cold load
 * of this store). For each, a new browser profile opens `/dashboard` and signs in (cold: empty
 * browser cache, first queries of the process), then reloads the page `--warm` times (warm:
 * assets from the browser cache, the key kept in sessionStorage). Several uncached collectors,
 * because one load's time moves by a fifth from run to run on a shared machine. Before them, a
 * throwaway profile renders a small page: a browser's first page pays for starting its renderer,
 * which someone opening the dashboard in a running browser does not. The page opens on the dataset's last 30 days through its link
 * form, `dashboard#from=…&to=…`. Times are read in the page (`performance.now()` when each
 * panel's `data-state` turns `ready`), from the navigation or the sign-in click.
 *
 * `--waterfall` prints each load's API requests as start–end ms on the same clock (from the
 * page's resource timings), to see which request or gap decides a load. `--cpu` prints the CPU
 * time each load took in the collector's process and in Chromium's (Linux: from /proc), to see
 * whether a load waited on the cores or on something else.
 *
 *   pnpm --filter @sightline/bench-aggregator bench:dashboard        (after `pnpm build`)
 *   tsx src/dashboard.ts --events 1000000 --warm 5 --cold 5 --cache-ttl-ms 10000 --waterfall --cpu
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants, copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { DAYS, ensureDataset, FIRST_DAY, TENANT } from './generate';
import { format, LAST_DAY } from './readQueries';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    users: { type: 'string' },
    warm: { type: 'string', default: '3' },
    cold: { type: 'string', default: '3' },
    regenerate: { type: 'boolean', default: false },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    'cache-ttl-ms': { type: 'string', default: '60000' },
    waterfall: { type: 'boolean', default: false },
    cpu: { type: 'boolean', default: false },
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
const coldRuns = Number(args.cold);
if (!(Number.isInteger(coldRuns) && coldRuns >= 1))
  throw new Error('--cold: use a whole number ≥ 1');

const READ_KEY = 'rk_bench_dashboard_0001';
const TARGET_MS = 1_000;
const RANGE_FROM = new Date(Date.parse(`${LAST_DAY}T00:00:00Z`) - 29 * 86_400_000)
  .toISOString()
  .slice(0, 10);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

// ── The collector ────────────────────────────────────────────────────────────────────────────

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

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

async function startServer(script: string, file: string, cacheTtlMs: number) {
  const child = spawn(
    process.execPath,
    [
      script,
      '--store',
      `duckdb:${file}`,
      '--read-key',
      `${READ_KEY}=*`,
      '--cache-ttl-ms',
      String(cacheTtlMs),
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
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * CPU time (user + system, ms) so far of the processes below `root` (`root` itself too unless
 * `self` is false), leaving out `except` and the processes below it; 0 where /proc is missing
 * (not Linux).
 */
function cpuMs(root: number, { self = true, except }: { self?: boolean; except?: number } = {}) {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name: state ppid … utime (12th) stime (13th).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(pid), Number(fields[1]));
      ticks.set(Number(pid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended while being read.
    }
  }
  const within = (pid: number): boolean => {
    if (pid === root) return self;
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = parents.get(at)) {
      if (at === except) return false;
      if (at === root) return true;
    }
    return false;
  };
  let total = 0;
  for (const [pid, count] of ticks) if (within(pid)) total += count;
  // Linux reports these in clock ticks of 10 ms (USER_HZ 100).
  return total * 10;
}

// ── The page ─────────────────────────────────────────────────────────────────────────────────

/**
 * Runs in the page before its scripts: records `performance.now()` of the sign-in submit and
 * of each panel's last turn to `data-state="ready"`.
 */
const RECORDER = `
  const now = () => performance.now();
  window.__bench = { submitAt: undefined, formAt: undefined, ready: {} };
  document.addEventListener('submit', (event) => {
    if (event.target.classList.contains('sign-in')) window.__bench.submitAt = now();
  }, true);
  new MutationObserver((records) => {
    for (const record of records) {
      const element = record.target;
      if (record.type === 'childList' && !window.__bench.formAt && document.getElementById('read-key')) {
        window.__bench.formAt = now();
      }
      if (record.type !== 'attributes' || !element.dataset || !element.dataset.panel) continue;
      if (element.dataset.state === 'ready') window.__bench.ready[element.dataset.panel] = now();
      else delete window.__bench.ready[element.dataset.panel];
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
`;
/** Whether all six panels are ready; throws a failed panel's error. Runs in the page. */
function allReady(): boolean {
  const panels = [...document.querySelectorAll<HTMLElement>('[data-panel]')];
  const failed = panels.find((panel) => panel.dataset.state === 'error');
  if (failed) {
    throw new Error(`${failed.dataset.panel}: ${failed.querySelector('.error')?.textContent}`);
  }
  return panels.length === 6 && panels.every((panel) => panel.dataset.state === 'ready');
}

interface Timing {
  formMs?: number;
  /** From the sign-in click (cold) or the navigation (warm) to the last panel ready. */
  panelsMs: number;
  slowest: string;
  panels: Record<string, number>;
  /** `--waterfall`: the load's API requests, `path start–end` in ms from its start. */
  requests?: string;
  /** `--cpu`: CPU ms the load took in the collector's and in Chromium's processes. */
  cpu?: string;
}

/** Loads the dashboard and times it; `starting` runs right before the sign-in click or the reload. */
async function measure(
  page: Page,
  signIn: boolean,
  url: string,
  starting: () => void = () => {},
): Promise<Timing> {
  if (signIn) {
    // The dataset's last 30 days, as a link to the dashboard would carry them.
    await page.goto(`${url}/dashboard#from=${RANGE_FROM}&to=${LAST_DAY}&tz=UTC`);
    await page.waitForSelector('#read-key');
    await page.fill('#read-key', READ_KEY);
    starting();
    await page.click('.sign-in button');
  } else {
    starting();
    await page.reload();
  }
  await page.waitForFunction(allReady, undefined, { timeout: 600_000 });
  const recorded = await page.evaluate<{
    submitAt?: number;
    formAt?: number;
    ready: Record<string, number>;
  }>(() => (window as unknown as { __bench: never }).__bench);
  const start = signIn ? recorded.submitAt! : 0;
  const panels = Object.fromEntries(
    Object.entries(recorded.ready).map(([panel, at]) => [panel, at - start]),
  );
  const [slowest, panelsMs] = Object.entries(panels).sort((a, b) => b[1] - a[1])[0]!;
  const requests = args.waterfall
    ? (
        await page.evaluate(() =>
          performance
            .getEntriesByType('resource')
            .filter((entry) => new URL(entry.name).pathname.includes('/v1/'))
            .map((entry) => ({
              path: new URL(entry.name).pathname,
              start: entry.startTime,
              end: (entry as PerformanceResourceTiming).responseEnd,
            })),
        )
      )
        .map(({ path, start: at, end }) => `${path} ${format(at - start)}–${format(end - start)}`)
        .join(', ')
    : undefined;
  return { formMs: signIn ? recorded.formAt : undefined, panelsMs, slowest, panels, requests };
}

// ── Run ──────────────────────────────────────────────────────────────────────────────────────

const dataset = await ensureDataset({
  events,
  users,
  directory: join(packageDir, '.data'),
  regenerate: args.regenerate,
});
const script = await compileServer();
const storeFile = join(packageDir, '.data', `dashboard-${process.pid}.duckdb`);
const removeStoreFile = () => {
  for (const path of [storeFile, `${storeFile}.wal`, `${storeFile}.tmp`])
    rmSync(path, { recursive: true, force: true });
};
process.once('exit', removeStoreFile);
copyFileSync(dataset.file, storeFile, constants.COPYFILE_FICLONE);

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
// A browser's first page pays for starting the renderer (process, V8, fonts, layout code).
{
  const warmup = await browser.newContext();
  const page = await warmup.newPage();
  await page.setContent(
    '<main><h1>warm-up</h1><table><tr><td>1</td></tr></table><canvas></canvas></main>' +
      '<script>document.querySelector("canvas").getContext("2d").fillRect(0, 0, 10, 10)</script>',
  );
  await warmup.close();
}
const loadBefore = loadavg();
const rows: Array<Record<string, string>> = [];
const details: string[] = [];
let bundle = '';
const cacheTtlMs = Number(args['cache-ttl-ms']);
if (!(Number.isInteger(cacheTtlMs) && cacheTtlMs > 0)) {
  throw new Error('--cache-ttl-ms: use a whole number of milliseconds > 0');
}
const collectors: Array<readonly [string, number]> = [
  ...Array.from(
    { length: coldRuns },
    (_, index) => [coldRuns === 1 ? 'off' : `off, process ${index + 1}`, 0] as const,
  ),
  [`on (TTL ${format(cacheTtlMs / 1000)} s)`, cacheTtlMs],
];
/** Uncached loads to all panels, ms: the first of each process (cold) and its reloads (warm). */
const uncached = { cold: [] as number[], warm: [] as number[] };
for (const [label, ttl] of collectors) {
  const server = await startServer(script, storeFile, ttl);
  if (!bundle) {
    const page = await (await fetch(`${server.url}/dashboard`)).text();
    const sizes = await Promise.all(
      [...page.matchAll(/(?:href|src)="(dashboard\/app\.\w+\?v=\w+)"/g)].map(async ([, path]) => {
        const body = Buffer.from(await (await fetch(`${server.url}/${path}`)).arrayBuffer());
        return { bytes: body.length, gzip: gzipSync(body).length };
      }),
    );
    const total = sizes.reduce(
      (sum, size) => ({ bytes: sum.bytes + size.bytes, gzip: sum.gzip + size.gzip }),
      {
        bytes: page.length,
        gzip: gzipSync(page).length,
      },
    );
    bundle = `page + script + styles: ${format(total.bytes / 1024, 1)} KB, ${format(total.gzip / 1024, 1)} KB gzipped`;
  }
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  await context.addInitScript({ content: RECORDER });
  const page = await context.newPage();
  process.stderr.write(`query cache ${label}: cold sign-in + ${warmRuns} warm reloads…\n`);
  // Chromium's processes are this one's children and theirs, but for the collector's.
  const chromiumMs = () => cpuMs(process.pid, { self: false, except: server.pid });
  const measured = async (signIn: boolean): Promise<Timing> => {
    if (!args.cpu) return measure(page, signIn, server.url);
    let before: number[] = [];
    const timing = await measure(page, signIn, server.url, () => {
      before = [cpuMs(server.pid), chromiumMs()];
    });
    const [collectorMs, browserMs] = [cpuMs(server.pid), chromiumMs()].map(
      (after, index) => after - before[index]!,
    );
    const cores = (collectorMs! + browserMs!) / timing.panelsMs;
    timing.cpu = `collector ${format(collectorMs!)} ms, Chromium ${format(browserMs!)} ms (from the ${signIn ? 'sign-in click' : 'reload'}): ${format(cores, 1)} cores over the load's ${format(timing.panelsMs)} ms`;
    return timing;
  };
  const runs = [await measured(true)];
  for (let run = 0; run < warmRuns; run++) runs.push(await measured(false));
  await context.close();
  const code = await server.stop();
  if (code !== 0) throw new Error(`collector exited with ${code}`);
  if (ttl === 0) {
    uncached.cold.push(runs[0]!.panelsMs);
    uncached.warm.push(...runs.slice(1).map((timing) => timing.panelsMs));
  }
  runs.forEach((timing, index) => {
    rows.push({
      'query cache': label,
      run: index === 0 ? 'cold: new profile, sign in' : `warm reload ${index}`,
      'page → sign-in form ms': timing.formMs === undefined ? '–' : format(timing.formMs),
      'to all panels ms': format(timing.panelsMs),
      'slowest panel': timing.slowest,
      [`≤ ${format(TARGET_MS)} ms?`]: timing.panelsMs <= TARGET_MS ? 'yes' : 'no',
    });
    details.push(
      `${label.padEnd(22)} ${(index === 0 ? 'cold' : `warm ${index}`).padEnd(7)} ${Object.entries(
        timing.panels,
      )
        .sort((a, b) => a[1] - b[1])
        .map(([panel, ms]) => `${panel} ${format(ms)}`)
        .join(', ')}`,
    );
    if (timing.requests) details.push(`${''.padEnd(30)} requests: ${timing.requests}`);
    if (timing.cpu) details.push(`${''.padEnd(30)} cpu: ${timing.cpu}`);
  });
}
await browser.close();
const loadAfter = loadavg();
const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');

console.log(
  `command: tsx ${relative(packageDir, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}   (in bench/aggregator)`.trim(),
);
console.log(
  `dashboard on ${format(events)} events, ${format(users)} users, ${DAYS} days (${FIRST_DAY} … ${LAST_DAY}), tenant "${TENANT}" picked by an admin key; range: last 30 days to ${LAST_DAY}, UTC`,
);
console.log(
  `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average ${loads(loadBefore)} before, ${loads(loadAfter)} after; Chromium ${args.chromium}`,
);
console.log(
  `dataset: ${relative(packageDir, dataset.file)}, ${format(dataset.bytes / 1024 ** 2)} MB${dataset.generatedSeconds === undefined ? ' (cached)' : `, generated in ${format(dataset.generatedSeconds, 1)} s`}; ${bundle}\n`,
);
console.table(rows);
console.log('ms from the sign-in click (cold) or the navigation (warm) to each panel ready:');
for (const line of details) console.log(`  ${line}`);
/** `n of m ≤ 1,000 ms; median …; range …–…` of some load times. */
const summary = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = Number.isInteger(middle)
    ? (sorted[middle - 1]! + sorted[middle]!) / 2
    : sorted[Math.floor(middle)]!;
  const met = sorted.filter((ms) => ms <= TARGET_MS).length;
  return `${met} of ${sorted.length} ≤ ${format(TARGET_MS)} ms; median ${format(median)}; range ${format(sorted[0]!)}–${format(sorted.at(-1)!)} ms`;
};
console.log(
  `uncached, cold (first load of each of ${coldRuns} processes): ${summary(uncached.cold)}`,
);
console.log(`uncached, warm reloads: ${summary(uncached.warm)}`);
