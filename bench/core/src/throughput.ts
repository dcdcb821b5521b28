/**
 * Throughput of the full default pipeline (enrich → consent → PII filter → queue → batcher) into
 * a no-op transport. Each scenario runs in its own child process so peak RSS is its own.
 *
 *   pnpm --filter @sightline/bench-core bench         (after `pnpm build`)
 *   tsx src/throughput.ts --events 1000000
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AnalyticsOptions, createAnalytics } from '@sightline/core';

interface Scenario {
  name: string;
  /** Yield to the event loop every N calls (0 = one synchronous burst). */
  yieldEvery: number;
  /** Multiplies `--events`: the same queue caps must hold memory flat. */
  scale?: number;
  options: Partial<AnalyticsOptions>;
}

const SCENARIOS: Scenario[] = [
  { name: 'default pipeline, PII on, yield every 1,000 calls', yieldEvery: 1000, options: {} },
  { name: 'default pipeline, PII on, one synchronous burst', yieldEvery: 0, options: {} },
  { name: 'PII filter off, yield every 1,000 calls', yieldEvery: 1000, options: { pii: false } },
  {
    name: 'default pipeline, PII on, one synchronous burst, 3x calls',
    yieldEvery: 0,
    scale: 3,
    options: {},
  },
];

interface Result {
  events: number;
  seconds: number;
  sent: number;
  dropped: number;
  peakRssMb: number;
}

async function runScenario(scenario: Scenario, events: number): Promise<Result> {
  let peakRss = process.memoryUsage.rss();
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  };
  const analytics = createAnalytics({
    writeKey: 'bench',
    transport: { send: async () => ({ status: 200 }) },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...scenario.options,
  });
  const started = process.hrtime.bigint();
  for (let index = 0; index < events; index++) {
    analytics.track('button_clicked', {
      feature: 'generate',
      page: '/dashboard/projects',
      variant: index % 2 === 0 ? 'control' : 'treatment',
    });
    if (index % 10_000 === 0) sample();
    if (scenario.yieldEvery > 0 && index % scenario.yieldEvery === scenario.yieldEvery - 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await analytics.flush();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  sample();
  const stats = analytics.stats();
  await analytics.close();
  const dropped = Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
  return { events, seconds, sent: stats.sent, dropped, peakRssMb: peakRss / 1024 / 1024 };
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const events = Number(argument('events', '1000000'));
const child = argument('scenario', '');

if (child !== '') {
  const scenario = SCENARIOS[Number(child)]!;
  const result = await runScenario(scenario, events * (scenario.scale ?? 1));
  process.stdout.write(JSON.stringify(result));
} else {
  const rows = SCENARIOS.map((scenario, index) => {
    const run = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--scenario',
        String(index),
        '--events',
        String(events),
      ],
      { encoding: 'utf8' },
    );
    if (run.status !== 0) throw new Error(`scenario ${scenario.name} failed:\n${run.stderr}`);
    const result = JSON.parse(run.stdout) as Result;
    return {
      scenario: scenario.name,
      events: result.events.toLocaleString('en-US'),
      'events/s': Math.round(result.events / result.seconds).toLocaleString('en-US'),
      seconds: result.seconds.toFixed(2),
      sent: result.sent.toLocaleString('en-US'),
      dropped: result.dropped.toLocaleString('en-US'),
      'peak RSS (MB)': result.peakRssMb.toFixed(0),
    };
  });
  console.log(
    `core throughput: ${events.toLocaleString('en-US')} track() calls, 3 string properties each, no-op transport`,
  );
  console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
  console.table(rows);
}
