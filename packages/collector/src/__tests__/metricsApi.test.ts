import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { generateEvents, type RawEvent, toBatches } from './synthetic/generator';
import { createReference, type Reference } from './synthetic/reference';

/**
 * Every metric of docs/metrics.md, computed by the collector in DuckDB and read over HTTP, is
 * compared with the plain-TypeScript reference over the same generated events, for several seeds
 * and time zones.
 */

const WRITE_KEY = 'wk_metrics_12345678';
const READ_KEY = 'rk_metrics_12345678';
const TENANT = 'metrics';
const START = '2024-01-01';
const DAYS = 75;

interface Dataset {
  seed: number;
  events: RawEvent[];
  reference: Reference;
  base: string;
  collector: Collector;
  server: Server;
}

async function startCollector(seed: number, users: number): Promise<Dataset> {
  const events = generateEvents({ seed, users, days: DAYS, start: START });
  const store = await createDuckDbStore({ path: ':memory:' });
  const collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=${TENANT}`],
    readKeys: [`${READ_KEY}=${TENANT}`],
    rateLimit: false,
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
  });
  await collector.ready();
  const server = createServer(createNodeListener(collector));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  for (const batch of toBatches(events, 500)) {
    const response = await fetch(`${base}/v1/batch`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ batch }),
    });
    expect(await response.json()).toEqual({ success: true });
  }
  return { seed, events, reference: createReference(events), base, collector, server };
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are compared field by field below
async function read(dataset: Dataset, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${dataset.base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (response.status !== 200)
    throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Floating sums compared to 1e-6 relative precision; everything else exactly. */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const scale = Math.max(1, Math.abs(expected));
    if (Math.abs(actual - expected) > 1e-6 * scale) {
      throw new Error(`${path}: expected ${expected}, got ${actual}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    for (const [index, item] of expected.entries()) {
      expectClose((actual as unknown[])[index], item, `${path}[${index}]`);
    }
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual, path).toBeTypeOf('object');
    for (const [key, value] of Object.entries(expected)) {
      expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}

const SEEDS = [
  { seed: 11, users: 220 },
  { seed: 29, users: 260 },
];
const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata'];
/** The 31 days before 2024-02-10 … 2024-03-11. */
const PREVIOUS_DAYS = { from: '2024-01-10', to: '2024-02-09' };

for (const { seed, users } of SEEDS) {
  describe(`seed ${seed}, ${users} users over ${DAYS} days`, () => {
    let dataset: Dataset;

    beforeAll(async () => {
      dataset = await startCollector(seed, users);
    }, 60_000);

    afterAll(async () => {
      await new Promise((resolve) => dataset.server.close(resolve));
      await dataset.collector.close();
    });

    it('generates data with something in every metric', () => {
      const dau = dataset.reference.series('dau', {
        from: START,
        to: '2024-03-15',
        interval: 'day',
        tz: 'UTC',
      });
      expect(dau.some((point) => point.value > 0)).toBe(true);
    });

    for (const tz of ZONES) {
      for (const interval of ['day', 'week', 'month'] as const) {
        it(`series of every metric by ${interval} in ${tz}`, async () => {
          const query = { from: '2024-01-20', to: '2024-03-10', interval, tz };
          const names = [
            'dau',
            'wau',
            'mau',
            'stickiness',
            'new_users',
            'events',
            'revenue',
          ] as const;
          const params = new URLSearchParams({ names: names.join(','), ...query });
          const { series } = await read(dataset, `/v1/metrics?${params}`);
          for (const name of names) {
            expectClose(series[name], dataset.reference.series(name, query), `${name}`);
          }
        });
      }

      it(`events of one name in ${tz}`, async () => {
        const query = {
          from: '2024-01-05',
          to: '2024-02-25',
          interval: 'week' as const,
          tz,
          event: 'payment_completed',
        };
        const { series } = await read(
          dataset,
          `/v1/metrics?${new URLSearchParams({ names: 'events', ...query })}`,
        );
        expectClose(series.events, dataset.reference.series('events', query));
      });

      it(`a 4-step funnel with a where filter and a breakdown in ${tz}`, async () => {
        const query = {
          steps: [
            { event: 'signup_started' },
            { event: 'signup_completed' },
            { event: 'project_created' },
            { event: 'payment_completed', where: { plan: 'pro' } },
          ],
          windowSeconds: 7 * 86_400,
          from: '2024-01-01',
          to: '2024-02-29',
          tz,
          breakdown: 'utm_source',
        };
        const funnel = await read(dataset, '/v1/funnel', query);
        const expected = dataset.reference.funnel(query);
        expect(expected.steps[0]!.users).toBeGreaterThan(0);
        expectClose(funnel, expected);
      });

      for (const interval of ['day', 'week', 'month'] as const) {
        it(`retention by ${interval} in ${tz}`, async () => {
          const query = {
            interval,
            periods: interval === 'month' ? 3 : 8,
            from: '2024-01-08',
            to: '2024-02-20',
            tz,
          };
          const retention = await read(dataset, '/v1/retention', query);
          expectClose(retention.cohorts, dataset.reference.retention(query).cohorts);
        });
      }

      it(`retention from a start event to a return event in ${tz}`, async () => {
        const query = {
          interval: 'week' as const,
          periods: 6,
          startEvent: 'signup_completed',
          returnEvent: 'project_created',
          from: '2024-01-01',
          to: '2024-02-28',
          tz,
        };
        const retention = await read(dataset, '/v1/retention', query);
        expectClose(retention.cohorts, dataset.reference.retention(query).cohorts);
      });

      it(`dashboard KPIs in ${tz}`, async () => {
        const query = { from: '2024-02-01', to: '2024-03-12', tz };
        const dashboard = await read(dataset, `/v1/dashboard?${new URLSearchParams(query)}`);
        expectClose(dashboard, dataset.reference.dashboard(query));
      });

      it(`dashboard KPIs with the previous range's (compare=previous) in ${tz}`, async () => {
        // 31 days across a month's end: the previous range has its own month for churn and ARPU.
        const query = { from: '2024-02-10', to: '2024-03-11', tz };
        const { previous, ...dashboard } = await read(
          dataset,
          `/v1/dashboard?${new URLSearchParams({ ...query, compare: 'previous' })}`,
        );
        expectClose(dashboard, dataset.reference.dashboard(query));
        expect([previous.from, previous.to]).toEqual(['2024-01-10', '2024-02-09']);
        expectClose(previous, dataset.reference.dashboard({ ...query, ...PREVIOUS_DAYS }));
      });

      it(`dashboard of a range of instants and the one before, as long, in ${tz}`, async () => {
        // Bounds within an hour: DuckDB reads the events rather than its hourly rollup.
        const query = { from: '2024-02-10T06:30:00.000Z', to: '2024-02-20T18:45:00.000Z', tz };
        const both = await read(
          dataset,
          `/v1/dashboard?${new URLSearchParams({ ...query, compare: 'previous' })}`,
        );
        const before = { from: '2024-01-30T18:15:00.000Z', to: query.from, tz };
        const alone = await read(dataset, `/v1/dashboard?${new URLSearchParams(query)}`);
        const previous = await read(dataset, `/v1/dashboard?${new URLSearchParams(before)}`);
        expect(both).toEqual({ ...alone, previous });
        expect(previous.newUsers + previous.mau).toBeGreaterThan(0);
      });

      for (const model of ['first_touch', 'last_touch'] as const) {
        it(`attribution, ${model}, in ${tz}`, async () => {
          const query = { from: '2024-01-15', to: '2024-03-01', tz, model };
          const attribution = await read(dataset, `/v1/attribution?${new URLSearchParams(query)}`);
          expectClose(attribution.channels, dataset.reference.attribution(query).channels);
        });
      }
    }

    it('usage per UTC day and event name', async () => {
      const query = { from: '2024-01-01', to: '2024-03-31' };
      const { usage } = await read(dataset, `/v1/usage?${new URLSearchParams(query)}`);
      expect(usage).toEqual(dataset.reference.usage(query));
    });
  });
}
