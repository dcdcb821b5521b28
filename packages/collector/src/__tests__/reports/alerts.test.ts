import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveReadOptions } from '../../readOptions';
import { parseReportsConfig, type ReportsConfigInput } from '../../reports/reportConfig';
import { createReportsRuntime } from '../../reports/reportsRuntime';
import { type HttpCollector, ingest, readJson, startHttpCollector } from '../httpCollector';
import { startWebhookServer } from './webhookServer';

/**
 * Alert rules on a generated DAU series with a known shape: 100 users a day, a drop to 60 and 55,
 * then a recovery. Evaluated by the collector's runtime at chosen instants; notifications go to
 * real webhook servers that check the signature.
 */

const WRITE_KEY = 'wk_alerts_12345678';
const READ_KEY = 'rk_alerts_12345678';
const TENANT = 'acme';
const SECRET = 'whsec_alerts_test_0123456789';
const DAU: Record<string, number> = {};
for (let day = 1; day <= 21; day++) DAU[`2024-05-${String(day).padStart(2, '0')}`] = 100;
DAU['2024-05-15'] = 60;
DAU['2024-05-16'] = 55;

/** 08:00 UTC the day after `day`: the evaluation that judges `day` ("yesterday"). */
const morningAfter = (day: string) => Date.parse(`${day}T08:00:00Z`) + 86_400_000;

const lowServer = await startWebhookServer(SECRET);
const dropServer = await startWebhookServer(SECRET);
const quietServer = await startWebhookServer(SECRET);
const downServer = await startWebhookServer(SECRET, () => 500);
const stateDirectory = mkdtempSync(join(tmpdir(), 'sightline-alerts-'));
let http: HttpCollector;

function config(): ReportsConfigInput {
  const rule = (id: string, url: string) => ({
    id,
    tenant: TENANT,
    metric: 'dau' as const,
    cron: '0 8 * * *',
    webhook: { url, secret: SECRET },
  });
  return {
    stateDirectory,
    runSchedules: false,
    retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2_000 },
    alerts: [
      {
        ...rule('dau-low', lowServer.url),
        condition: { type: 'threshold', operator: 'below', value: 80 },
      },
      {
        ...rule('dau-drop', dropServer.url),
        condition: { type: 'change', direction: 'drop', percent: 30 },
      },
      {
        ...rule('dau-drop-quiet', quietServer.url),
        condition: { type: 'change', direction: 'drop', percent: 30, trailingDays: 7 },
        notifyResolved: false,
      },
      {
        ...rule('dau-low-down', downServer.url),
        condition: { type: 'threshold', operator: 'below', value: 80 },
      },
    ],
  };
}

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=${TENANT}`],
    readKeys: [`${READ_KEY}=${TENANT}`],
    read: { cacheTtlMs: 0 },
    reports: config(),
  });
  const events = Object.entries(DAU).flatMap(([day, users]) =>
    Array.from({ length: users }, (_, index) => ({
      type: 'track',
      event: 'opened_app',
      userId: `u-${index}`,
      timestamp: `${day}T${String(10 + (index % 10)).padStart(2, '0')}:00:00.000Z`,
    })),
  );
  for (let at = 0; at < events.length; at += 500)
    await ingest(http.url, WRITE_KEY, events.slice(at, at + 500));
});

afterAll(async () => {
  await http?.close();
  for (const server of [lowServer, dropServer, quietServer, downServer]) await server.close();
  rmSync(stateDirectory, { recursive: true, force: true });
});

async function dauOf(from: string, to: string): Promise<number[]> {
  const body = await readJson<{ series: { dau: Array<{ value: number }> } }>(
    http.url,
    `/v1/metrics?names=dau&from=${from}&to=${to}`,
    READ_KEY,
  );
  return body.series.dau.map((point) => point.value);
}

const payloads = (server: { received: Array<{ body: string }> }) =>
  server.received.map((delivery) => JSON.parse(delivery.body) as Record<string, unknown>);

describe('alert rules', () => {
  it('the generated series has the shape the rules are written for', async () => {
    expect(await dauOf('2024-05-13', '2024-05-18')).toEqual([100, 100, 60, 55, 100, 100]);
  });

  it('stay quiet while the metric is normal', async () => {
    for (const id of ['dau-low', 'dau-drop', 'dau-drop-quiet']) {
      expect(
        await http.collector.reports.evaluateAlert(id, morningAfter('2024-05-14')),
      ).toBeUndefined();
    }
    expect(lowServer.received).toHaveLength(0);
  });

  it('fire once when DAU falls below the threshold and drops 30 % under its 7-day mean, with signed payloads', async () => {
    const low = await http.collector.reports.evaluateAlert('dau-low', morningAfter('2024-05-15'));
    expect(low).toMatchObject({ kind: 'alert', status: 'ok', alertStatus: 'firing', attempts: 1 });
    const drop = await http.collector.reports.evaluateAlert('dau-drop', morningAfter('2024-05-15'));
    expect(drop).toMatchObject({ status: 'ok', alertStatus: 'firing' });
    await http.collector.reports.evaluateAlert('dau-drop-quiet', morningAfter('2024-05-15'));

    const [value] = await dauOf('2024-05-15', '2024-05-15');
    const trailing = await dauOf('2024-05-08', '2024-05-14');
    const baseline = trailing.reduce((sum, item) => sum + item, 0) / trailing.length;
    expect(payloads(lowServer)).toEqual([
      expect.objectContaining({
        type: 'alert',
        status: 'firing',
        day: '2024-05-15',
        value,
        tenant: TENANT,
      }),
    ]);
    const [dropPayload] = payloads(dropServer);
    expect(dropPayload).toMatchObject({ status: 'firing', value, baseline });
    expect(dropPayload!.changePercent).toBeCloseTo(((value! - baseline) / baseline) * 100, 9);
    expect(dropPayload!.changePercent).toBeLessThanOrEqual(-30);
    for (const server of [lowServer, dropServer, quietServer]) {
      expect(server.received.every((delivery) => delivery.signatureValid)).toBe(true);
      expect(server.received[0]!.headers['sightline-event']).toBe('alert');
    }
  });

  it('do not re-send while the same state holds: the same day again, or the next day still low', async () => {
    for (const at of [
      morningAfter('2024-05-15'),
      morningAfter('2024-05-15') + 3_600_000,
      morningAfter('2024-05-16'),
    ]) {
      for (const id of ['dau-low', 'dau-drop', 'dau-drop-quiet']) {
        expect(await http.collector.reports.evaluateAlert(id, at), id).toBeUndefined();
      }
    }
    expect([lowServer, dropServer, quietServer].map((server) => server.received.length)).toEqual([
      1, 1, 1,
    ]);
  });

  it('keep the state across a restart: a new runtime on the same state directory does not re-send', async () => {
    const runtime = createReportsRuntime({
      config: parseReportsConfig(config()),
      store: Promise.resolve(http.store),
      source: { kpis: resolveReadOptions({}).kpis, maxRangeDays: 400 },
      now: Date.now,
    });
    try {
      expect(await runtime.evaluateAlert('dau-low', morningAfter('2024-05-16'))).toBeUndefined();
      expect(runtime.history.list(TENANT).map((run) => run.alertStatus)).toEqual([
        'firing',
        'firing',
        'firing',
      ]);
    } finally {
      await runtime.stop();
    }
    expect(lowServer.received).toHaveLength(1);
  });

  it('send "resolved" once on recovery, unless the rule opts out', async () => {
    const at = morningAfter('2024-05-17');
    expect(await http.collector.reports.evaluateAlert('dau-low', at)).toMatchObject({
      alertStatus: 'resolved',
    });
    expect(await http.collector.reports.evaluateAlert('dau-drop', at)).toMatchObject({
      alertStatus: 'resolved',
    });
    expect(await http.collector.reports.evaluateAlert('dau-drop-quiet', at)).toBeUndefined();
    expect(await http.collector.reports.evaluateAlert('dau-low', at)).toBeUndefined();
    expect(payloads(lowServer).map((payload) => payload.status)).toEqual(['firing', 'resolved']);
    expect(payloads(dropServer).map((payload) => payload.status)).toEqual(['firing', 'resolved']);
    expect(quietServer.received).toHaveLength(1);
    expect(payloads(lowServer)[1]).toMatchObject({ day: '2024-05-17', value: 100 });
  });

  it('retry an undelivered notification at the next evaluation (a failure does not count as sent)', async () => {
    const first = await http.collector.reports.evaluateAlert(
      'dau-low-down',
      morningAfter('2024-05-15'),
    );
    expect(first).toMatchObject({ status: 'failed', attempts: 2, alertStatus: 'firing' });
    expect(first!.error).toContain('answered 500');
    const second = await http.collector.reports.evaluateAlert(
      'dau-low-down',
      morningAfter('2024-05-15'),
    );
    expect(second).toMatchObject({ status: 'failed', alertStatus: 'firing' });
    expect(downServer.received).toHaveLength(4);
    const { runs } = await readJson<{ runs: Array<{ name: string; status: string }> }>(
      http.url,
      '/v1/reports/runs?name=dau-low-down',
      READ_KEY,
    );
    expect(runs.map((run) => run.status)).toEqual(['failed', 'failed']);
  });
});
