import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '@sightline/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollector } from '../../collector';
import { loadReportsConfig, parseReportsConfig } from '../../reports/reportConfig';
import { reportPeriods } from '../../reports/reportPeriod';

const directory = mkdtempSync(join(tmpdir(), 'sightline-reports-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const schedule = {
  id: 'weekly',
  template: 'weekly',
  cron: '0 9 * * 1',
  destination: { type: 'directory', path: './out' },
} as const;
const alert = {
  id: 'dau-drop',
  metric: 'dau',
  cron: '0 8 * * *',
  condition: { type: 'change', direction: 'drop', percent: 30 },
  webhook: { url: 'https://hooks.example.com/a', secret: 'a-secret-of-16-chars' },
} as const;

function errorOf(input: unknown): ConfigurationError {
  try {
    parseReportsConfig(input);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('reports configuration', () => {
  it('fills the defaults', () => {
    const config = parseReportsConfig({ schedules: [schedule], alerts: [alert] });
    expect(config.runSchedules).toBe(true);
    expect(config.retry).toEqual({
      attempts: 5,
      baseDelayMs: 1000,
      maxDelayMs: 60000,
      timeoutMs: 10000,
    });
    expect(config.schedules[0]).toMatchObject({
      tenant: 'default',
      timezone: 'UTC',
      format: 'json',
    });
    expect(config.alerts[0]).toMatchObject({
      day: 'yesterday',
      notifyResolved: true,
      condition: { trailingDays: 7 },
    });
  });

  it.each([
    [
      { schedules: [{ ...schedule, cron: 'every monday' }] },
      'reports.schedules[0].cron',
      'cron expression',
    ],
    [
      { schedules: [{ ...schedule, timezone: 'Mars/Olympus' }] },
      'reports.schedules[0].timezone',
      'IANA time zone',
    ],
    [
      { schedules: [{ ...schedule, template: 'hourly' }] },
      'reports.schedules[0].template',
      'daily, weekly, monthly, custom',
    ],
    [
      { schedules: [{ ...schedule, template: 'custom' }] },
      'reports.schedules[0].custom',
      'a custom report needs',
    ],
    [
      { schedules: [{ ...schedule, format: 'pdf' }] },
      'reports.schedules[0].format',
      'json, csv, html',
    ],
    [
      { schedules: [{ ...schedule, destination: { type: 'webhook', url: 'https://x.test/h' } }] },
      'reports.schedules[0].destination.secret',
      'secretEnv',
    ],
    [
      { schedules: [{ ...schedule, destination: { type: 'email', to: 'a@b.c' } }] },
      'reports.schedules[0].destination.type',
      '"type": "webhook"',
    ],
    [{ alerts: [{ ...alert, metric: 'sessions' }] }, 'reports.alerts[0].metric', 'dau, wau'],
    [
      { alerts: [{ ...alert, condition: { type: 'change', direction: 'down', percent: 30 } }] },
      'reports.alerts[0].condition.direction',
      "'drop' or 'rise'",
    ],
    [
      { alerts: [{ ...alert, webhook: { url: 'ftp://x', secret: 'a-secret-of-16-chars' } }] },
      'reports.alerts[0].webhook.url',
      'http://',
    ],
    [
      { schedules: [schedule], alerts: [{ ...alert, id: 'weekly' }] },
      'reports.alerts[0].id',
      'used twice',
    ],
    [{ schedule: [] }, 'reports', 'unknown field(s) "schedule"'],
  ])('refuses %j naming %s', (input, field, fix) => {
    const error = errorOf(input);
    expect(error.option).toBe(field);
    expect(error.message).toContain(fix);
  });

  it('createCollector refuses a bad reports option at once, naming the field', () => {
    expect(() =>
      createCollector({
        writeKeys: ['wk_test_12345678'],
        store: 'duckdb::memory:',
        reports: { alerts: [{ ...alert, cron: '61 * * * *' }] },
      }),
    ).toThrow(/reports\.alerts\[0\]\.cron/);
  });

  it('loads a file, resolving relative directories against it, and names the file on bad JSON', () => {
    const file = join(directory, 'reports.json');
    writeFileSync(file, JSON.stringify({ stateDirectory: 'state', schedules: [schedule] }));
    const config = loadReportsConfig(file);
    expect(config.stateDirectory).toBe(join(directory, 'state'));
    expect(config.schedules[0]!.destination).toEqual({
      type: 'directory',
      path: join(directory, 'out'),
    });
    writeFileSync(file, '{ "schedules": [');
    expect(() => loadReportsConfig(file)).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not valid JSON`),
    );
  });
});

describe('schedules in a time zone across daylight saving changes', () => {
  const collector = createCollector({
    writeKeys: ['wk_test_12345678'],
    store: 'duckdb::memory:',
    reports: {
      runSchedules: false,
      schedules: [
        { ...schedule, id: 'ny', timezone: 'America/New_York' },
        { ...schedule, id: 'berlin', cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      ],
    },
  });
  afterAll(() => collector.close());

  const wallClock = (date: Date, timeZone: string) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(date);

  it('Mondays 09:00 in New York stay 09:00 local when the UTC offset changes (2024-03-10)', () => {
    const runs = collector.reports.nextRuns('ny', 3, new Date('2024-02-27T00:00:00Z'));
    expect(runs.map((run) => wallClock(run, 'America/New_York'))).toEqual([
      'Mon 09:00',
      'Mon 09:00',
      'Mon 09:00',
    ]);
    // EST (UTC−5) before the change, EDT (UTC−4) after: the same local time, one hour apart in UTC.
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2024-03-04T14:00:00.000Z',
      '2024-03-11T13:00:00.000Z',
      '2024-03-18T13:00:00.000Z',
    ]);
  });

  it('a daily 02:30 in Berlin runs once on the spring-forward day (02:30 does not exist) and once on the fall-back day (it exists twice)', () => {
    const spring = collector.reports.nextRuns('berlin', 3, new Date('2024-03-29T12:00:00Z'));
    expect(spring.map((run) => run.toISOString().slice(0, 10))).toEqual([
      '2024-03-30',
      '2024-03-31',
      '2024-04-01',
    ]);
    expect(wallClock(spring[0]!, 'Europe/Berlin')).toBe('Sat 02:30');
    expect(wallClock(spring[2]!, 'Europe/Berlin')).toBe('Mon 02:30');
    const autumn = collector.reports.nextRuns('berlin', 3, new Date('2024-10-25T12:00:00Z'));
    expect(new Set(autumn.map((run) => run.toISOString().slice(0, 10))).size).toBe(3);
    expect(autumn.map((run) => wallClock(run, 'Europe/Berlin'))).toEqual([
      'Sat 02:30',
      'Sun 02:30',
      'Mon 02:30',
    ]);
  });
});

describe('report periods', () => {
  const now = Date.parse('2024-05-15T10:00:00Z'); // a Wednesday

  it.each([
    ['daily', { from: '2024-05-14', to: '2024-05-14' }, { from: '2024-05-13', to: '2024-05-13' }],
    ['weekly', { from: '2024-05-06', to: '2024-05-12' }, { from: '2024-04-29', to: '2024-05-05' }],
    ['monthly', { from: '2024-04-01', to: '2024-04-30' }, { from: '2024-03-01', to: '2024-03-31' }],
    ['custom', { from: '2024-05-08', to: '2024-05-14' }, { from: '2024-05-01', to: '2024-05-07' }],
  ] as const)('%s: the last complete period and the one before', (template, current, previous) => {
    expect(reportPeriods(template, { now, tz: 'UTC' })).toEqual({ current, previous });
  });

  it('counts days in the time zone: 01:00 UTC on Monday is still Sunday in Los Angeles', () => {
    const monday = Date.parse('2024-05-13T01:00:00Z');
    expect(reportPeriods('weekly', { now: monday, tz: 'UTC' }).current.from).toBe('2024-05-06');
    expect(reportPeriods('weekly', { now: monday, tz: 'America/Los_Angeles' }).current.from).toBe(
      '2024-04-29',
    );
  });

  it('takes an explicit range, with a previous period of the same length', () => {
    expect(
      reportPeriods('weekly', { now, tz: 'UTC', from: '2024-02-27', to: '2024-03-01' }),
    ).toEqual({
      current: { from: '2024-02-27', to: '2024-03-01' },
      previous: { from: '2024-02-23', to: '2024-02-26' },
    });
  });
});
