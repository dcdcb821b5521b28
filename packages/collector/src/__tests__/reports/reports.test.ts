import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../reports/computeReport';
import type { ReportsConfigInput } from '../../reports/reportConfig';
import type { RunRecord } from '../../reports/runHistory';
import {
  type HttpCollector,
  ingest,
  readApi,
  readJson,
  startHttpCollector,
} from '../httpCollector';
import { generateEvents, toBatches } from '../synthetic/generator';
import { startWebhookServer } from './webhookServer';

/**
 * Reports end to end: a real collector on DuckDB with a generated dataset, reports read over HTTP
 * in the three formats and compared with what the read API answers for the same periods, and
 * scheduled deliveries to a real directory and real webhook servers.
 */

const WRITE_KEY = 'wk_reports_12345678';
const READ_KEY = 'rk_reports_12345678';
const OTHER_READ_KEY = 'rk_reports_other_1234';
const TENANT = 'acme';
const START = '2024-03-04'; // a Monday
const NOW = Date.parse('2024-04-17T10:00:00Z'); // Wednesday: the last full week is 04-08 – 04-14
const WEEK = { from: '2024-04-08', to: '2024-04-14' };
const PREVIOUS_WEEK = { from: '2024-04-01', to: '2024-04-07' };
const SECRET = 'whsec_reports_test_0123456789';
const HOSTILE_SOURCE = '<script>window.__pwned=1</script>';
const HOSTILE_EVENT = '"onload="alert(1)';

const directories: string[] = [];
function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'sightline-reports-'));
  directories.push(directory);
  return directory;
}

let http: HttpCollector;
let outDirectory: string;
let stateDirectory: string;
const servers: Array<Awaited<ReturnType<typeof startWebhookServer>>> = [];
const flaky = await startWebhookServer(SECRET, (n) => (n <= 2 ? 503 : 200));
const broken = await startWebhookServer(SECRET, () => 500);
const refusing = await startWebhookServer(SECRET, () => 400);
servers.push(flaky, broken, refusing);

function config(): ReportsConfigInput {
  const webhook = (id: string, url: string) => ({
    id,
    tenant: TENANT,
    template: 'weekly' as const,
    cron: '0 9 * * 1',
    timezone: 'Europe/Paris',
    format: 'json' as const,
    destination: { type: 'webhook' as const, url, secret: SECRET },
  });
  return {
    stateDirectory,
    runSchedules: false,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, timeoutMs: 2_000 },
    schedules: [
      {
        id: 'weekly-files',
        tenant: TENANT,
        template: 'weekly',
        cron: '0 9 * * 1',
        timezone: 'UTC',
        format: 'html',
        destination: { type: 'directory', path: outDirectory },
      },
      webhook('weekly-flaky', flaky.url),
      webhook('weekly-broken', broken.url),
      webhook('weekly-refused', refusing.url),
    ],
  };
}

async function startCollector(): Promise<HttpCollector> {
  return startHttpCollector({
    writeKeys: [`${WRITE_KEY}=${TENANT}`],
    readKeys: [`${READ_KEY}=${TENANT}`, `${OTHER_READ_KEY}=other`],
    read: { cacheTtlMs: 0 },
    now: () => NOW,
    reports: config(),
  });
}

beforeAll(async () => {
  outDirectory = tempDir();
  stateDirectory = tempDir();
  http = await startCollector();
  const events = generateEvents({ seed: 4, users: 250, days: 42, start: START });
  for (const batch of toBatches(events, 500))
    await ingest(
      http.url,
      WRITE_KEY,
      batch.map((event) => ({ ...event })),
    );
  // User data with markup in it: a campaign source and two event names, inside the report week.
  // Enough visitors for the hostile campaign to make the report's top channels.
  await ingest(
    http.url,
    WRITE_KEY,
    Array.from({ length: 60 }, (_, index) => ({
      type: 'page',
      anonymousId: `hostile-visitor-${index}`,
      timestamp: '2024-04-09T12:00:00.000Z',
      name: 'Home',
      context: { campaign: { source: HOSTILE_SOURCE, medium: 'x' } },
    })),
  );
  await ingest(http.url, WRITE_KEY, [
    {
      type: 'track',
      anonymousId: 'hostile-visitor',
      event: HOSTILE_EVENT,
      timestamp: '2024-04-09T12:01:00.000Z',
    },
    {
      type: 'track',
      anonymousId: 'hostile-visitor',
      event: '<img src=x onerror=alert(1)>',
      timestamp: '2024-04-09T12:02:00.000Z',
    },
  ]);
});

afterAll(async () => {
  await http?.close();
  for (const server of servers) await server.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: API bodies are compared field by field
async function api(path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${http.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text);
}

async function generate(query: string): Promise<Response> {
  const response = await readApi(http.url, `/v1/reports/generate?${query}`, READ_KEY);
  expect(response.status, response.status === 200 ? '' : await response.clone().text()).toBe(200);
  return response;
}

/** A minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      row.push(field);
      field = '';
    } else if (character === '\n') {
      row.push(field.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      field = '';
    } else field += character;
  }
  return rows;
}

const DASHBOARD_KPIS = [
  'dau',
  'wau',
  'mau',
  'newUsers',
  'revenue',
  'signups',
  'conversion',
  'churn',
  'arpu',
  'ltv',
  'cac',
  'ltvCac',
];

describe('a weekly report holds the numbers the read API returns', () => {
  let report: Report;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  let dashboard: any;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  let previousDashboard: any;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  let weekly: any;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  let previousWeekly: any;
  const names = 'dau,wau,new_users,events,revenue,stickiness';

  beforeAll(async () => {
    report = (await (await generate('template=weekly&format=json')).json()) as Report;
    dashboard = await api(`/v1/dashboard?from=${WEEK.from}&to=${WEEK.to}`);
    previousDashboard = await api(
      `/v1/dashboard?from=${PREVIOUS_WEEK.from}&to=${PREVIOUS_WEEK.to}`,
    );
    // One ISO week each: /v1/metrics sums counts and averages users over the week's days.
    weekly = await api(`/v1/metrics?names=${names}&from=${WEEK.from}&to=${WEEK.to}&interval=week`);
    previousWeekly = await api(
      `/v1/metrics?names=${names}&from=${PREVIOUS_WEEK.from}&to=${PREVIOUS_WEEK.to}&interval=week`,
    );
  });

  it('JSON: the period, KPIs against the previous week, metrics, series, funnel, retention, channels, forecast', async () => {
    expect(report.period).toEqual(WEEK);
    expect(report.previousPeriod).toEqual(PREVIOUS_WEEK);
    expect(report.kpis.map((kpi) => kpi.name)).toEqual(DASHBOARD_KPIS);
    for (const kpi of report.kpis) {
      expect(kpi.value, kpi.name).toEqual(dashboard[kpi.name]);
      expect(kpi.previous, kpi.name).toEqual(previousDashboard[kpi.name]);
    }
    const dau = report.kpis.find((kpi) => kpi.name === 'dau')!;
    expect(dau.changePercent).toBeCloseTo(
      ((dashboard.dau - previousDashboard.dau) / previousDashboard.dau) * 100,
      9,
    );
    // Not a degenerate dataset.
    expect(dashboard.dau).toBeGreaterThan(0);
    expect(dashboard.revenue).toBeGreaterThan(0);

    for (const metric of report.metrics) {
      expect(weekly.series[metric.name], metric.name).toHaveLength(1);
      expect(metric.value, metric.name).toBeCloseTo(weekly.series[metric.name][0].value, 9);
      expect(metric.previous, metric.name).toBeCloseTo(
        previousWeekly.series[metric.name][0].value,
        9,
      );
    }

    const daily = await api(
      `/v1/metrics?names=${names}&from=${report.series.range.from}&to=${report.series.range.to}`,
    );
    expect(report.series.values).toEqual(daily.series);
    expect(report.series.range).toEqual({ from: PREVIOUS_WEEK.from, to: WEEK.to });

    const funnel = await api('/v1/funnel', {
      steps: [{ event: 'signup_completed' }, { event: 'payment_completed' }],
      windowSeconds: 7 * 86_400,
      from: WEEK.from,
      to: WEEK.to,
    });
    expect(report.funnels).toHaveLength(1);
    expect(report.funnels[0]!.steps).toEqual(funnel.steps);
    expect(funnel.steps[0].users).toBeGreaterThan(0);

    const retention = await api('/v1/retention', {
      interval: 'day',
      periods: 7,
      from: WEEK.from,
      to: WEEK.to,
    });
    expect(report.retention?.cohorts).toEqual(retention.cohorts);
    const attribution = await api(`/v1/attribution?from=${WEEK.from}&to=${WEEK.to}`);
    expect(report.attribution?.channels).toEqual(attribution.channels);

    const historyFrom = new Date(Date.parse(`${WEEK.to}T00:00:00Z`) - 55 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const forecast = await api(
      `/v1/forecast?name=dau&from=${historyFrom}&to=${WEEK.to}&horizon=14`,
    );
    expect(report.forecast).toEqual(forecast);
    expect(forecast.forecast[0].date).toBe('2024-04-15');
    for (const point of forecast.forecast) {
      expect(point.lower).toBeLessThanOrEqual(point.value);
      expect(point.upper).toBeGreaterThanOrEqual(point.value);
    }
  });

  it('CSV: every KPI, metric, daily value and funnel step, unrounded', async () => {
    const response = await generate('template=weekly&format=csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = parseCsv(await response.text());
    expect(rows[0]).toEqual([
      'section',
      'name',
      'key',
      'value',
      'previous',
      'change_percent',
      'lower',
      'upper',
    ]);
    const find = (section: string, name: string, key = '') =>
      rows.find((row) => row[0] === section && row[1] === name && row[2] === key);
    expect(find('report', 'period', WEEK.from)?.[3]).toBe(WEEK.to);
    for (const name of DASHBOARD_KPIS) {
      const row = find('kpi', name);
      expect(row, name).toBeDefined();
      const expected = (value: number | null) => (value === null ? '' : String(value));
      expect(row![3], name).toBe(expected(dashboard[name]));
      expect(row![4], name).toBe(expected(previousDashboard[name]));
    }
    for (const name of names.split(',')) {
      const row = rows.find((candidate) => candidate[0] === 'metric' && candidate[1] === name)!;
      expect(Number(row[3]), name).toBeCloseTo(weekly.series[name][0].value, 9);
    }
    const daily = await api(`/v1/metrics?names=dau,revenue&from=${WEEK.from}&to=${WEEK.to}`);
    for (const name of ['dau', 'revenue']) {
      for (const point of daily.series[name]) {
        expect(Number(find('series', name, point.date)?.[3]), `${name} ${point.date}`).toBe(
          point.value,
        );
      }
    }
    const signups = rows.find((row) => row[0] === 'funnel' && row[2] === '1:signup_completed');
    expect(Number(signups?.[3])).toBe(report.funnels[0]!.steps[0]!.users);
  });

  it('HTML: self-contained, accessible, with the KPI and metric values of the API in its tables and inline SVG charts', async () => {
    const response = await generate('template=weekly&format=html');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain(`<title>Weekly performance — ${TENANT}</title>`);
    expect(html).toContain('Content-Security-Policy" content="default-src \'none\'');
    // No script, no external resource: nothing is loaded from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(/i);
    for (const name of DASHBOARD_KPIS) {
      const row = new RegExp(
        `<tr data-kpi="${name}"><th scope="row">[^<]+</th><td( data-value="([^"]+)")?>`,
      ).exec(html);
      expect(row, name).not.toBeNull();
      if (dashboard[name] === null) expect(row![1], name).toBeUndefined();
      else expect(Number(row![2]), name).toBe(dashboard[name]);
    }
    for (const name of names.split(',')) {
      const row = new RegExp(
        `<tr data-metric="${name}"><th scope="row">[^<]+</th><td data-value="([^"]+)"`,
      ).exec(html);
      expect(Number(row?.[1]), name).toBeCloseTo(weekly.series[name][0].value, 9);
    }
    const charts = html.match(/<svg [^>]*role="img"/g) ?? [];
    expect(charts.length).toBeGreaterThanOrEqual(names.split(',').length + 2); // + forecast + funnel
    expect(html.match(/<caption>/g)?.length).toBeGreaterThanOrEqual(5);
    expect(html).toMatch(/<th scope="col">/);
  });

  it('renders hostile campaign sources and event names inert in HTML and formula-safe in CSV', async () => {
    const query = `template=custom&metrics=dau,events&event=${encodeURIComponent(HOSTILE_EVENT)}&from=${WEEK.from}&to=${WEEK.to}`;
    const custom = await (await generate(`${query}&format=html`)).text();
    const weeklyHtml = await (await generate('template=weekly&format=html')).text();
    // The campaign source is in the weekly channel table, the event name in the custom report.
    expect(weeklyHtml).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(custom).toContain('&quot;onload=&quot;alert(1)');
    for (const html of [custom, weeklyHtml]) {
      expect(html).not.toContain('<script');
      expect(html).not.toContain('"onload="');
      expect(html).not.toContain('<img');
    }
    const customJson = (await (await generate(`${query}&format=json`)).json()) as Report;
    const events = await api(
      `/v1/metrics?names=events&from=${WEEK.from}&to=${WEEK.to}&event=${encodeURIComponent(HOSTILE_EVENT)}&interval=week`,
    );
    expect(customJson.metrics.find((metric) => metric.name === 'events')?.value).toBe(
      events.series.events[0].value,
    );
    expect(events.series.events[0].value).toBe(1);
    const csv = await (await generate(`${query}&format=csv`)).text();
    expect(parseCsv(csv).find((row) => row[0] === 'report' && row[1] === 'event')?.[3]).toBe(
      HOSTILE_EVENT,
    );
  });

  it('daily and monthly templates cover the last complete day and calendar month', async () => {
    const daily = (await (await generate('template=daily')).json()) as Report;
    expect(daily.period).toEqual({ from: '2024-04-16', to: '2024-04-16' });
    const monthly = (await (await generate('template=monthly')).json()) as Report;
    expect(monthly.period).toEqual({ from: '2024-03-01', to: '2024-03-31' });
    expect(monthly.previousPeriod).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    const march = await api('/v1/dashboard?from=2024-03-01&to=2024-03-31');
    expect(monthly.kpis.find((kpi) => kpi.name === 'mau')?.value).toBe(march.mau);
  });

  it('answers 400 naming the parameter for a bad template, format or a lone from', async () => {
    for (const [query, parameter] of [
      ['template=hourly', 'template'],
      ['template=weekly&format=pdf', 'format'],
      ['template=weekly&from=2024-04-01', 'to'],
      ['template=custom&metrics=sessions', 'metrics.0'],
    ]) {
      const body = await readJson<{ error: { parameter: string } }>(
        http.url,
        `/v1/reports/generate?${query}`,
        READ_KEY,
        {
          status: 400,
        },
      );
      expect(body.error.parameter, query).toBe(parameter);
    }
  });
});

describe('scheduled deliveries', () => {
  it('writes the report to a directory: the same bytes the read API renders for that instant', async () => {
    const run = await http.collector.reports.runSchedule('weekly-files', NOW);
    expect(run).toMatchObject({
      status: 'ok',
      attempts: 1,
      kind: 'report',
      format: 'html',
      period: WEEK,
    });
    const file = join(outDirectory, `weekly-files_${WEEK.from}_${WEEK.to}.html`);
    expect(run.destination).toBe(`directory ${file}`);
    expect(readdirSync(outDirectory)).toEqual([`weekly-files_${WEEK.from}_${WEEK.to}.html`]);
    const rendered = await (await generate('template=weekly&format=html')).text();
    expect(readFileSync(file, 'utf8')).toBe(rendered);
  });

  it('retries a webhook that fails twice with exponential backoff, then delivers a signed report', async () => {
    const run = await http.collector.reports.runSchedule('weekly-flaky', NOW);
    expect(run).toMatchObject({
      status: 'ok',
      attempts: 3,
      destination: `webhook ${flaky.url.split('?')[0]}`,
    });
    expect(run.error).toBeUndefined();
    expect(flaky.received.map((delivery) => delivery.status)).toEqual([503, 503, 200]);
    expect(flaky.received.every((delivery) => delivery.signatureValid)).toBe(true);
    // One delivery id on every attempt, so receivers can drop duplicates.
    expect(
      new Set(flaky.received.map((delivery) => delivery.headers['sightline-delivery'])).size,
    ).toBe(1);
    expect(flaky.received[0]!.headers['sightline-event']).toBe('report');
    const gaps = flaky.received
      .slice(1)
      .map((delivery, index) => delivery.at - flaky.received[index]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    // The body is the JSON report of the schedule's week, in its time zone.
    const body = JSON.parse(flaky.received[2]!.body) as Report;
    expect(body).toMatchObject({
      template: 'weekly',
      tenant: TENANT,
      period: WEEK,
      timeZone: 'Europe/Paris',
    });
    const paris = await api(`/v1/dashboard?from=${WEEK.from}&to=${WEEK.to}&tz=Europe/Paris`);
    expect(body.kpis.find((kpi) => kpi.name === 'dau')?.value).toBe(paris.dau);
  });

  it('gives up on a webhook that always fails after the configured attempts, and records why', async () => {
    const run = await http.collector.reports.runSchedule('weekly-broken', NOW);
    expect(run).toMatchObject({ status: 'failed', attempts: 4 });
    expect(run.error).toContain('answered 500');
    expect(broken.received).toHaveLength(4);
  });

  it('does not retry a webhook that refuses the delivery with a 4xx', async () => {
    const run = await http.collector.reports.runSchedule('weekly-refused', NOW);
    expect(run).toMatchObject({ status: 'failed', attempts: 1 });
    expect(run.error).toContain('answered 400');
    expect(refusing.received).toHaveLength(1);
  });

  it('lists the runs through GET /v1/reports/runs, own tenant only, newest first, filtered; and keeps them across a restart', async () => {
    const { runs } = await readJson<{ runs: RunRecord[] }>(http.url, '/v1/reports/runs', READ_KEY);
    expect(runs.map((run) => [run.name, run.status, run.attempts])).toEqual([
      ['weekly-refused', 'failed', 1],
      ['weekly-broken', 'failed', 4],
      ['weekly-flaky', 'ok', 3],
      ['weekly-files', 'ok', 1],
    ]);
    for (const run of runs) {
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
      expect(run.destination).not.toContain('token=abc');
    }
    const failed = await readJson<{ runs: RunRecord[] }>(
      http.url,
      '/v1/reports/runs?status=failed&limit=1',
      READ_KEY,
    );
    expect(failed.runs.map((run) => run.name)).toEqual(['weekly-refused']);
    const other = await readJson<{ runs: RunRecord[] }>(
      http.url,
      '/v1/reports/runs',
      OTHER_READ_KEY,
    );
    expect(other.runs).toEqual([]);
    const forbidden = await readApi(http.url, '/v1/reports/runs?tenant=acme', OTHER_READ_KEY);
    expect(forbidden.status).toBe(403);

    expect(
      readFileSync(join(stateDirectory, 'runs.jsonl'), 'utf8').trim().split('\n'),
    ).toHaveLength(4);
    const restarted = await startHttpCollector({
      store: undefined,
      writeKeys: ['wk_reports_restart_1234=acme'],
      readKeys: [`${READ_KEY}=${TENANT}`],
      reports: config(),
    });
    try {
      const again = await readJson<{ runs: RunRecord[] }>(
        restarted.url,
        '/v1/reports/runs',
        READ_KEY,
      );
      expect(again.runs).toEqual(runs);
    } finally {
      await restarted.close();
    }
  });

  it('runs a schedule when its cron fires, in the collector process, and stops on close', async () => {
    const directory = tempDir();
    const cron = await startHttpCollector({
      writeKeys: ['wk_reports_cron_12345=acme'],
      readKeys: [`${READ_KEY}=${TENANT}`],
      reports: {
        schedules: [
          {
            id: 'every-second',
            tenant: TENANT,
            template: 'daily',
            cron: '* * * * * *',
            format: 'csv',
            destination: { type: 'directory', path: directory },
          },
        ],
      },
    });
    try {
      const deadline = Date.now() + 5_000;
      while (readdirSync(directory).length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(readdirSync(directory)).toHaveLength(1);
      expect(readdirSync(directory)[0]).toMatch(
        /^every-second_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/,
      );
    } finally {
      await cron.close();
    }
    const runs = cron.collector.reports.history.list(TENANT);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((run) => run.status === 'ok')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(cron.collector.reports.history.list(TENANT)).toHaveLength(runs.length);
  });
});
