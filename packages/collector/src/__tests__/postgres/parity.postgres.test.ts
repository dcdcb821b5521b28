import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { createPostgresStore } from '../../store/postgres/postgresStore';
import { type HttpCollector, ingest, startHttpCollector } from '../httpCollector';
import { generateEvents, toBatches } from '../synthetic/generator';
import { type PostgresServer, startPostgres } from './postgresServer';

/**
 * One golden dataset (fixed seed) ingested over HTTP into a DuckDB-backed and a PostgreSQL-backed
 * collector; every read endpoint must answer the same on both.
 */

const WRITE_KEY = 'wk_parity_12345678';
const READ_KEY = 'rk_parity_12345678';
const ADMIN_KEY = 'rk_parity_admin_1234';
const NOW = Date.UTC(2024, 3, 1, 12);
const EVENTS = generateEvents({ seed: 7, users: 160, days: 75, start: '2024-01-01' });

let server: PostgresServer;
let duckdb: HttpCollector;
let postgres: HttpCollector;

async function start(store: HttpCollector['store']): Promise<HttpCollector> {
  const http = await startHttpCollector({
    store,
    writeKeys: [`${WRITE_KEY}=parity`],
    readKeys: [`${READ_KEY}=parity`, `${ADMIN_KEY}=*`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
    now: () => NOW,
  });
  for (const batch of toBatches(EVENTS, 500))
    await ingest(http.url, WRITE_KEY, batch as unknown as Array<Record<string, unknown>>);
  return http;
}

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase('parity');
  [duckdb, postgres] = await Promise.all([
    createDuckDbStore({ path: ':memory:' }).then(start),
    createPostgresStore({ url }).then(start),
  ]);
}, 120_000);

afterAll(async () => {
  await duckdb?.close();
  await postgres?.close();
  await server?.stop();
}, 60_000);

interface Answer {
  status: number;
  body: unknown;
}

async function call(
  http: HttpCollector,
  path: string,
  options: { body?: unknown; method?: string; key?: string } = {},
): Promise<Answer> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const response = await fetch(`${http.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? READ_KEY}`,
      'content-type': 'application/json',
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const csv = response.headers.get('content-type')?.startsWith('text/csv');
  return { status: response.status, body: csv ? csvRows(text) : JSON.parse(text) };
}

/** CSV records as arrays of cells; JSON cells parsed (JSONB orders keys and spaces its text). */
function csvRows(text: string): unknown[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quoted) {
      if (char === '"' && text[at + 1] === '"') {
        cell += '"';
        at++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\r' && text[at + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      at++;
    } else cell += char;
  }
  const header = records[0] ?? [];
  const json = ['properties', 'traits', 'context'].map((name) => header.indexOf(name));
  return records.map((cells, index) =>
    index === 0
      ? cells
      : cells.map((value, column) => (json.includes(column) ? JSON.parse(value) : value)),
  );
}

/** Equal, numbers to 1e-9 relative (sums may add in another order); reports the first difference. */
function expectSame(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    const scale = Math.max(1, Math.abs(expected));
    expect(Math.abs(actual - expected) <= 1e-9 * scale, `${path}: ${actual} vs ${expected}`).toBe(
      true,
    );
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${path} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    for (const [index, item] of expected.entries()) {
      expectSame((actual as unknown[])[index], item, `${path}[${index}]`);
    }
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual, path).toBeTypeOf('object');
    expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(
      Object.keys(expected).sort(),
    );
    for (const [key, value] of Object.entries(expected)) {
      expectSame((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
    return;
  }
  expect(actual, path).toEqual(expected);
}

const SERIES = 'dau,wau,mau,stickiness,new_users,events,revenue';
const FUNNEL_STEPS = [
  { event: 'signup_started' },
  { event: 'signup_completed' },
  { event: 'project_created' },
  { event: 'payment_completed', where: { plan: 'pro' } },
];

const CASES: Array<{ name: string; path: string; body?: unknown; key?: string }> = [
  ...['UTC', 'America/Los_Angeles', 'Asia/Kolkata'].flatMap((tz) =>
    ['day', 'week', 'month'].map((interval) => ({
      name: `series by ${interval} in ${tz}`,
      path: `/v1/metrics?${new URLSearchParams({ names: SERIES, from: '2024-01-20', to: '2024-03-10', interval, tz })}`,
    })),
  ),
  {
    name: 'events of one name',
    path: `/v1/metrics?${new URLSearchParams({ names: 'events', event: 'page_viewed', from: '2024-01-01', to: '2024-03-15', interval: 'week', tz: 'Europe/Paris' })}`,
  },
  ...['UTC', 'America/Los_Angeles'].flatMap((tz) => [
    {
      name: `funnel with a where filter and a breakdown by utm_source in ${tz}`,
      path: '/v1/funnel',
      body: {
        steps: FUNNEL_STEPS,
        windowSeconds: 7 * 86_400,
        from: '2024-01-01',
        to: '2024-02-29',
        tz,
        breakdown: 'utm_source',
      },
    },
    {
      name: `funnel broken down by a property in ${tz}`,
      path: '/v1/funnel',
      body: {
        steps: [{ event: 'signup_completed' }, { event: 'payment_completed' }],
        windowSeconds: 30 * 86_400,
        from: '2024-01-01',
        to: '2024-03-15',
        tz,
        breakdown: 'properties.plan',
      },
    },
    ...['day', 'week', 'month'].map((interval) => ({
      name: `retention by ${interval} in ${tz}`,
      path: '/v1/retention',
      body: {
        interval,
        periods: interval === 'month' ? 3 : 8,
        from: '2024-01-01',
        to: '2024-02-20',
        tz,
      },
    })),
    {
      name: `retention from a start to a return event in ${tz}`,
      path: '/v1/retention',
      body: {
        interval: 'week',
        periods: 6,
        from: '2024-01-01',
        to: '2024-02-20',
        tz,
        startEvent: 'signup_completed',
        returnEvent: 'project_created',
      },
    },
    {
      name: `dashboard KPIs in ${tz}`,
      path: `/v1/dashboard?${new URLSearchParams({ from: '2024-02-01', to: '2024-03-12', tz })}`,
    },
    ...['first_touch', 'last_touch'].map((model) => ({
      name: `attribution, ${model}, in ${tz}`,
      path: `/v1/attribution?${new URLSearchParams({ from: '2024-01-15', to: '2024-03-01', tz, model })}`,
    })),
  ]),
  { name: 'usage', path: '/v1/usage?from=2024-01-01&to=2024-03-31' },
  { name: 'events listing', path: '/v1/events?limit=200' },
  {
    name: 'events listing filtered by name and time',
    path: '/v1/events?event=payment_completed&from=2024-02-01&to=2024-02-29&limit=100',
  },
  { name: 'CSV export', path: '/v1/export.csv' },
  { name: 'CSV export, filtered', path: '/v1/export.csv?type=identify&limit=50' },
];

describe('PostgreSQL answers every read endpoint exactly as DuckDB', () => {
  it('stores the same events', async () => {
    expect(await postgres.store.countEvents('parity')).toBe(EVENTS.length);
    expect(await duckdb.store.countEvents('parity')).toBe(EVENTS.length);
    expect(await postgres.store.identityLinks('parity')).toEqual(
      await duckdb.store.identityLinks('parity'),
    );
  });

  for (const test of CASES) {
    it(test.name, async () => {
      const [expected, actual] = await Promise.all([
        call(duckdb, test.path, test),
        call(postgres, test.path, test),
      ]);
      expect(expected.status, JSON.stringify(expected.body)).toBe(200);
      expectSame(actual, expected);
    });
  }

  it('follows the events cursor to the same pages', async () => {
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const path = `/v1/events?limit=50${cursor ? `&cursor=${cursor}` : ''}`;
      const [expected, actual] = await Promise.all([call(duckdb, path), call(postgres, path)]);
      expectSame(actual, expected);
      cursor = (expected.body as { nextCursor?: string }).nextCursor;
      expect(cursor).toBeTypeOf('string');
    }
  });

  it('exports, then erases, one user the same way (GDPR)', async () => {
    const user = EVENTS.find((event) => typeof event.userId === 'string')?.userId as string;
    const path = `/v1/users/${encodeURIComponent(user)}`;
    const [expectedExport, actualExport] = await Promise.all([
      call(duckdb, `${path}/export`),
      call(postgres, `${path}/export`),
    ]);
    expect(expectedExport.status).toBe(200);
    expectSame(actualExport, expectedExport);
    const [expectedErase, actualErase] = await Promise.all([
      call(duckdb, path, { method: 'DELETE' }),
      call(postgres, path, { method: 'DELETE' }),
    ]);
    expectSame(actualErase, expectedErase);
    const dashboard = `/v1/dashboard?${new URLSearchParams({ from: '2024-02-01', to: '2024-03-12' })}`;
    expectSame(await call(postgres, dashboard), await call(duckdb, dashboard));
  });

  it('prunes the same events and keeps the same usage (retention policy)', async () => {
    const cutoff = Date.UTC(2024, 1, 1);
    const [expected, actual] = await Promise.all([
      duckdb.store.prune(cutoff),
      postgres.store.prune(cutoff),
    ]);
    expect(actual).toEqual(expected);
    for (const path of [
      '/v1/usage?from=2024-01-01&to=2024-03-31',
      `/v1/metrics?names=${SERIES}&from=2024-01-01&to=2024-03-10`,
    ]) {
      expectSame(await call(postgres, path), await call(duckdb, path));
    }
  });
});
