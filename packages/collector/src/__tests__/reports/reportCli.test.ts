import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../reports/computeReport';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { assertCliBuilt, killAll, spawnCli, startCli } from '../cliProcess';
import { ingest, readJson, startHttpCollector } from '../httpCollector';
import { generateEvents, toBatches } from '../synthetic/generator';

/**
 * `sightline-collector report` as users run it: the built CLI in a child process, reading a real
 * DuckDB file that a collector filled over HTTP; its numbers compared with that collector's API.
 */

const children = new Set<ChildProcess>();
const directory = mkdtempSync(join(tmpdir(), 'sightline-report-cli-'));
const storeFile = join(directory, 'events.duckdb');
const STORE = `duckdb:${storeFile}`;
const WRITE_KEY = 'wk_report_cli_1234';
const READ_KEY = 'rk_report_cli_1234';
const WEEK = { from: '2024-04-08', to: '2024-04-14' };
// biome-ignore lint/suspicious/noExplicitAny: API bodies
let dashboard: any;
// biome-ignore lint/suspicious/noExplicitAny: API bodies
let daily: any;

beforeAll(async () => {
  assertCliBuilt();
  const http = await startHttpCollector({
    store: await createDuckDbStore({ path: storeFile }),
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`],
    read: { cacheTtlMs: 0 },
  });
  try {
    const events = generateEvents({ seed: 9, users: 120, days: 28, start: '2024-03-18' });
    for (const batch of toBatches(events, 500))
      await ingest(
        http.url,
        WRITE_KEY,
        batch.map((event) => ({ ...event })),
      );
    dashboard = await readJson(http.url, `/v1/dashboard?from=${WEEK.from}&to=${WEEK.to}`, READ_KEY);
    daily = await readJson(
      http.url,
      `/v1/metrics?names=dau,revenue&from=${WEEK.from}&to=${WEEK.to}`,
      READ_KEY,
    );
  } finally {
    await http.close(); // DuckDB locks its file: the CLI opens it after.
  }
});

afterAll(async () => {
  await killAll(children);
  rmSync(directory, { recursive: true, force: true });
});

async function runCli(args: string[]) {
  const cli = spawnCli(directory, args, {}, children);
  const { code } = await cli.closed;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

const range = ['--store', STORE, '--tenant', 'acme', '--from', WEEK.from, '--to', WEEK.to];

describe('sightline-collector report', () => {
  it('writes an HTML report, the format taken from the file name, with the API’s KPI values', async () => {
    const out = join(directory, 'out', 'report.html');
    const result = await runCli(['report', '--template', 'weekly', '--out', out, ...range]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`to ${out} (html,`);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    const dau = /<div class="value" data-kpi="dau" data-value="([^"]+)"/.exec(html);
    expect(Number(dau?.[1])).toBe(dashboard.dau);
    expect(dashboard.dau).toBeGreaterThan(0);
  });

  it('writes CSV and JSON, and JSON to stdout without --out', async () => {
    const csvFile = join(directory, 'report.csv');
    expect(
      (await runCli(['report', '--template', 'weekly', '--out', csvFile, ...range])).code,
    ).toBe(0);
    const csv = readFileSync(csvFile, 'utf8').split('\r\n');
    for (const point of daily.series.revenue) {
      expect(csv, point.date).toContain(`series,revenue,${point.date},${point.value}`);
    }
    const stdout = await runCli([
      'report',
      '--template',
      'custom',
      '--metrics',
      'dau,revenue',
      ...range,
    ]);
    expect(stdout.code, stdout.stderr).toBe(0);
    const report = JSON.parse(stdout.stdout) as Report;
    expect(report.template).toBe('custom');
    expect(report.series.values.dau).toEqual(expect.arrayContaining(daily.series.dau as unknown[]));
    expect(report.kpis.find((kpi) => kpi.name === 'revenue')?.value).toBe(dashboard.revenue);
  });

  it.each([
    [['report'], '--template'],
    [['report', '--template', 'hourly', '--store', STORE], '--template'],
    [['report', '--template', 'weekly', '--out', 'report.pdf', '--store', STORE], '--format'],
    [['report', '--template', 'weekly', '--format', 'xml', '--store', STORE], '--format'],
    [['report', '--template', 'weekly', '--from', '2024-04-08', '--store', STORE], '--to'],
    [
      [
        'report',
        '--template',
        'weekly',
        '--from',
        '08/04/2024',
        '--to',
        '2024-04-14',
        '--store',
        STORE,
      ],
      '--from',
    ],
    [['report', '--template', 'weekly', '--tz', 'Mars/Base', '--store', STORE], '--tz'],
    [['report', '--template', 'custom', '--metrics', 'sessions', '--store', STORE], '--metrics'],
    [['report', '--template', 'custom', '--funnel', 'only_one', '--store', STORE], '--funnel'],
    [['report', '--template', 'weekly', '--colour', 'blue'], '--colour'],
  ])('exits 2 on %j, naming %s on stderr', async (args, names) => {
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(names);
    expect(result.stdout).toBe('');
  });

  it('start refuses a bad --reports file, naming the field, and exits 2', async () => {
    const file = join(directory, 'reports.json');
    writeFileSync(
      file,
      JSON.stringify({
        schedules: [
          { id: 'w', template: 'weekly', cron: '0 9 * * 1', destination: { type: 'directory' } },
        ],
      }),
    );
    const result = await runCli([
      'start',
      '--port',
      '0',
      '--store',
      'duckdb::memory:',
      '--reports',
      file,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}.schedules[0].destination.path`);
  });

  it('start runs the schedules of --reports in the process, keeps the history beside the store, and stops cleanly on SIGTERM', async () => {
    const out = join(directory, 'scheduled');
    const file = join(directory, 'every-second.json');
    writeFileSync(
      file,
      JSON.stringify({
        schedules: [
          {
            id: 'tick',
            template: 'daily',
            cron: '* * * * * *',
            format: 'csv',
            destination: { type: 'directory', path: 'scheduled' },
          },
        ],
      }),
    );
    const store = join(directory, 'live', 'events.duckdb');
    const cli = await startCli(
      directory,
      ['start', '--port', '0', '--store', `duckdb:${store}`, '--reports', file],
      {},
      children,
    );
    expect(cli.stdout()).toContain(
      `reports    1 schedules, 0 alert rules, scheduler on, history in ${join(directory, 'live', 'reports')}`,
    );
    // The report is written to a temporary file, then renamed: wait for the final name (CI once
    // listed the directory between the two).
    const written = () =>
      existsSync(out) ? readdirSync(out).filter((name) => !name.endsWith('.tmp')) : [];
    const deadline = Date.now() + 5_000;
    while (written().length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(written()[0]).toMatch(/^tick_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const history = readFileSync(join(directory, 'live', 'reports', 'runs.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(history.length).toBeGreaterThan(0);
    expect(JSON.parse(history[0]!)).toMatchObject({ name: 'tick', status: 'ok', kind: 'report' });
  });
});
