import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { openStore } from '../../store/openStore';
import { createPostgresStore } from '../../store/postgres/postgresStore';
import { type ClickHouseTestServer, startClickHouse } from '../clickhouse/clickhouseServer';
import { type HttpCollector, ingest, startHttpCollector } from '../httpCollector';
import { type PostgresServer, startPostgres } from '../postgres/postgresServer';
import { generateEvents, toBatches } from '../synthetic/generator';
import { PARITY_CASES, SERIES } from './parityCases';
import { type Answer, call, expectSame } from './parityHelpers';

/**
 * One golden dataset (fixed seed) ingested over HTTP into a DuckDB-, a PostgreSQL- and a
 * ClickHouse-backed collector (clickhouse-server 18.16 as Debian ships it); every read endpoint
 * must answer as DuckDB does. ClickHouse must match exactly, floats and CSV bytes included;
 * PostgreSQL to 1e-9 (its sums add in another order) and cell by cell (JSONB rewrites JSON text).
 * Some batches are sent twice to every collector, and ClickHouse also holds raw duplicate rows (as
 * when two collectors insert the same batch), read before any merge.
 */

const WRITE_KEY = 'wk_parity_12345678';
const READ_KEY = 'rk_parity_12345678';
const ADMIN_KEY = 'rk_parity_admin_1234';
const EDGE_WRITE_KEY = 'wk_parity_edge_1234';
const EDGE_READ_KEY = 'rk_parity_edge_1234';
const NOW = Date.UTC(2024, 3, 1, 12);
const EVENTS = generateEvents({ seed: 7, users: 160, days: 75, start: '2024-01-01' });
const BATCHES = toBatches(EVENTS, 500);

type StoreName = 'duckdb' | 'postgres' | 'clickhouse';
let postgresServer: PostgresServer;
let clickhouseServer: ClickHouseTestServer;
const collectors = {} as Record<StoreName, HttpCollector>;

async function start(store: HttpCollector['store']): Promise<HttpCollector> {
  const http = await startHttpCollector({
    store,
    writeKeys: [`${WRITE_KEY}=parity`, `${EDGE_WRITE_KEY}=edge`],
    readKeys: [`${READ_KEY}=parity`, `${EDGE_READ_KEY}=edge`, `${ADMIN_KEY}=*`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
    quotas: { limits: { edge: { quota_event: 1, 'never seen': 5 } } },
    now: () => NOW,
  });
  for (const batch of BATCHES) {
    await ingest(http.url, WRITE_KEY, batch as unknown as Array<Record<string, unknown>>);
  }
  // Retries of some batches: acknowledged again, stored once.
  for (const batch of BATCHES.filter((_, index) => index % 3 === 1)) {
    await ingest(http.url, WRITE_KEY, batch as unknown as Array<Record<string, unknown>>);
  }
  await ingest(http.url, EDGE_WRITE_KEY, EDGE_EVENTS);
  return http;
}

const at = (time: string) => `2024-02-01T${time}Z`;
const signup = (user: string, time: string, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'signup_started',
  anonymousId: `anon-${user}`,
  messageId: `edge-${user}-${time}`,
  timestamp: at(time),
  ...extra,
});

/**
 * Cases the generated data does not reach. `a`: a first signup_started without a campaign, a
 * second with one (the entry's value, null, is its breakdown group); `b`: a property key that
 * also appears, earlier, inside a nested object, and a string ending in a backslash; revenue
 * whose float sum depends on the order it is added in; ad spend amounts whose decimal text
 * ClickHouse 18.16 reads one unit in the last place off when it parses it as data.
 */
const EDGE_EVENTS: Array<Record<string, unknown>> = [
  signup('a', '10:00:00', { properties: { plan: 'free' } }),
  signup('a', '11:00:00', { context: { campaign: { source: 'google' } } }),
  signup('b', '10:30:00', {
    properties: { meta: { plan: 'nested', list: [{ plan: 'deeper' }] }, plan: 'pro\\', tag: '\\' },
    context: { campaign: { source: 'bing' } },
  }),
  signup('c', '09:00:00', { properties: { plan: 'pro\\' } }),
  ...['a', 'b', 'c'].map((user) => ({
    type: 'track',
    event: 'signup_completed',
    userId: `user-${user}`,
    anonymousId: `anon-${user}`,
    messageId: `edge-${user}-done`,
    timestamp: at('12:00:00'),
    properties: { plan: 'pro', revenue: user === 'a' ? 0.1 + 0.2 : 0.1 },
  })),
  // Usage on the collector's today, for quotas.
  {
    type: 'track',
    event: 'quota_event',
    anonymousId: 'quota',
    messageId: 'edge-quota',
    timestamp: '2024-04-01T08:00:00Z',
  },
  // Ad spend read from properties: decimal text 18.16 parses one unit off, as data.
  ...['1.757', ' 5.76031 ', 2.9717].map((amount, index) => ({
    type: 'track',
    event: 'ad_spend',
    anonymousId: 'marketing',
    messageId: `edge-spend-${index}`,
    timestamp: at(`08:0${index}:00`),
    properties: { amount, meta: { amount: 1000 } },
  })),
  ...[0.1, 0.2, 0.3, 19.99, 29.99, 1e-7].map((revenue, index) => ({
    type: 'track',
    event: 'payment_completed',
    userId: 'user-c',
    messageId: `edge-payment-${index}`,
    timestamp: at(`13:0${index}:00`),
    properties: { revenue },
  })),
  // Two step times whose median (their mean) low + (high − low) × 0.5 misses by one bit:
  // 109.539 s and 82,114.076 s, on 2024-02-05.
  ...[
    ['m1', '2024-02-05T00:00:00.000Z', '2024-02-05T00:01:49.539Z'],
    ['m2', '2024-02-05T00:00:00.000Z', '2024-02-05T22:48:34.076Z'],
  ].flatMap(([user, start, done]) => [
    {
      type: 'track',
      event: 'trial_started',
      userId: user,
      messageId: `${user}-s`,
      timestamp: start,
    },
    {
      type: 'track',
      event: 'trial_converted',
      userId: user,
      messageId: `${user}-d`,
      timestamp: done,
    },
  ]),
];

beforeAll(async () => {
  [postgresServer, clickhouseServer] = await Promise.all([startPostgres(), startClickHouse()]);
  const postgresUrl = await postgresServer.createDatabase('parity');
  const [duckdb, postgres, clickhouse] = await Promise.all([
    createDuckDbStore({ path: ':memory:' }).then(start),
    createPostgresStore({ url: postgresUrl }).then(start),
    openStore(clickhouseServer.storeUrl('parity')).then(start),
  ]);
  Object.assign(collectors, { duckdb, postgres, clickhouse });
  // Copies of a fifth of the stored rows in a separate insert, as a second collector would write
  // them; they collapse only in a merge, and no merge is asked for.
  await clickhouseServer.run(
    'INSERT INTO parity.event_rows_v4 SELECT * FROM parity.event_rows_v4 WHERE cityHash64(message_id) % 5 = 0',
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(collectors).map((http) => http.close()));
  await Promise.all([postgresServer?.stop(), clickhouseServer?.stop()]);
}, 60_000);

async function answers(
  path: string,
  options: { body?: unknown; method?: string; key?: string } = {},
): Promise<Record<StoreName, Answer>> {
  const ask = (name: StoreName) => call(collectors[name], path, { key: READ_KEY, ...options });
  const [duckdb, postgres, clickhouse] = await Promise.all([
    ask('duckdb'),
    ask('postgres'),
    ask('clickhouse'),
  ]);
  return { duckdb, postgres, clickhouse };
}

/**
 * A page cursor names a `seq`, which each store assigns its own way (ClickHouse: time-ordered
 * across collector processes): compared as present or not.
 */
function withoutCursorText(answer: Answer): Answer {
  const body = answer.body as { nextCursor?: unknown } | null;
  if (body === null || typeof body !== 'object' || !('nextCursor' in body)) return answer;
  return { ...answer, body: { ...body, nextCursor: body.nextCursor !== null } };
}

/** ClickHouse exactly as DuckDB (CSV byte for byte); PostgreSQL to 1e-9 and cell by cell. */
function expectParity(answers: Record<StoreName, Answer>): void {
  const all = {
    duckdb: withoutCursorText(answers.duckdb),
    postgres: withoutCursorText(answers.postgres),
    clickhouse: withoutCursorText(answers.clickhouse),
  };
  expect(all.duckdb.status, JSON.stringify(all.duckdb.body)).toBe(200);
  expect(all.clickhouse.status, JSON.stringify(all.clickhouse.body)).toBe(200);
  if (all.duckdb.csv !== undefined) expect(all.clickhouse.csv).toBe(all.duckdb.csv);
  else expect(all.clickhouse.body).toEqual(all.duckdb.body);
  expectSame({ ...all.postgres, csv: undefined }, { ...all.duckdb, csv: undefined });
}

describe('every store answers every read endpoint as DuckDB does', () => {
  it('stores the same events once, ClickHouse with duplicate rows not yet merged', async () => {
    for (const name of ['duckdb', 'postgres', 'clickhouse'] as const) {
      expect(await collectors[name].store.countEvents('parity'), name).toBe(EVENTS.length);
    }
    const links = async (name: StoreName) =>
      (await collectors[name].store.identityLinks('parity')).sort(
        (a, b) => a.anonymousId.localeCompare(b.anonymousId) || a.userId.localeCompare(b.userId),
      );
    expect(await links('postgres')).toEqual(await links('duckdb'));
    expect(await links('clickhouse')).toEqual(await links('duckdb'));
    const raw = await clickhouseServer.run(
      "SELECT count() FROM parity.event_rows_v4 WHERE tenant = 'parity' FORMAT TSV",
    );
    expect(Number(raw)).toBeGreaterThan(EVENTS.length);
  });

  for (const test of PARITY_CASES) {
    it(test.name, async () => {
      expectParity(await answers(test.path, test));
    });
  }

  it('follows the events cursor through every page to the same events', async () => {
    const pages = async (name: StoreName) => {
      const events: unknown[] = [];
      const more: boolean[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/v1/events?limit=250${cursor ? `&cursor=${cursor}` : ''}`;
        const { status, body } = await call(collectors[name], path, { key: READ_KEY });
        expect(status, JSON.stringify(body)).toBe(200);
        const page = body as { events: unknown[]; nextCursor: string | null };
        events.push(...page.events);
        cursor = page.nextCursor;
        more.push(cursor !== null);
      } while (cursor !== null);
      return { events, more };
    };
    const [duckdb, postgres, clickhouse] = await Promise.all([
      pages('duckdb'),
      pages('postgres'),
      pages('clickhouse'),
    ]);
    expect(duckdb.events).toHaveLength(EVENTS.length);
    expect(clickhouse).toEqual(duckdb);
    expectSame(postgres, duckdb);
  });

  it('lists one user key the same way (userId filter, stitched identities)', async () => {
    const users = [...new Set(EVENTS.map((event) => event.userId).filter(Boolean))].slice(0, 5);
    const anonymous = EVENTS.find((event) => !event.userId)?.anonymousId as string;
    for (const user of [...users, anonymous, 'nobody']) {
      const query = new URLSearchParams({ userId: String(user), limit: '1000' });
      expectParity(await answers(`/v1/events?${query}`));
      expectParity(await answers(`/v1/export.csv?${query}`));
    }
  });

  it('exports, then erases, one user the same way (GDPR)', async () => {
    const user = EVENTS.find((event) => typeof event.userId === 'string')?.userId as string;
    const path = `/v1/users/${encodeURIComponent(user)}`;
    expectParity(await answers(`${path}/export`));
    expectParity(await answers(path, { method: 'DELETE' }));
    expectParity(await answers(`${path}/export`));
    const audit = await answers('/v1/audit/erasures', { key: ADMIN_KEY });
    const withoutTimes = (answer: Answer) =>
      (answer.body as { erasures: Array<Record<string, unknown>> }).erasures.map(
        ({ erasedAt, ...rest }) => rest,
      );
    expect(withoutTimes(audit.clickhouse)).toEqual(withoutTimes(audit.duckdb));
    expect(withoutTimes(audit.postgres)).toEqual(withoutTimes(audit.duckdb));
    expectParity(
      await answers(
        `/v1/dashboard?${new URLSearchParams({ from: '2024-02-01', to: '2024-03-12' })}`,
      ),
    );
  });

  it('answers the edge cases the same way, as docs/metrics.md defines them', async () => {
    const key = { key: EDGE_READ_KEY };
    const funnel = (breakdown: string) => ({
      body: {
        steps: [{ event: 'signup_started' }, { event: 'signup_completed' }],
        windowSeconds: 86_400,
        from: '2024-02-01',
        to: '2024-02-01',
        breakdown,
      },
      ...key,
    });
    const bySource = await answers('/v1/funnel', funnel('utm_source'));
    expectParity(bySource);
    const groups = (answer: Answer) =>
      (
        answer.body as { breakdown: Array<{ value: unknown; steps: Array<{ users: number }> }> }
      ).breakdown.map((group) => [group.value, group.steps[0]!.users]);
    // a's entry had no campaign; c never had one.
    expect(groups(bySource.duckdb)).toEqual([
      [null, 2],
      ['bing', 1],
    ]);
    const byPlan = await answers('/v1/funnel', funnel('properties.plan'));
    expectParity(byPlan);
    // b's top-level plan, not the one nested before it.
    expect(groups(byPlan.duckdb)).toEqual([
      ['pro\\', 2],
      ['free', 1],
    ]);
    const median = await answers('/v1/funnel', {
      body: {
        steps: [{ event: 'trial_started' }, { event: 'trial_converted' }],
        windowSeconds: 86_400,
        from: '2024-02-05',
        to: '2024-02-05',
      },
      ...key,
    });
    expectParity(median);
    // The mean of the two middle values, as DuckDB's median gives it (low × 0.5 + high × 0.5).
    const secondStep = (answer: Answer) =>
      (answer.body as { steps: Array<{ medianSecondsFromPrevious: number | null }> }).steps[1]!
        .medianSecondsFromPrevious;
    expect(secondStep(median.duckdb)).toBe(41_111.8075);
    expect(secondStep(median.clickhouse)).toBe(41_111.8075);
    const quotas = await answers('/v1/quotas', key);
    expectParity(quotas);
    expect((quotas.clickhouse.body as { quotas: unknown[] }).quotas).toEqual([
      { event: 'quota_event', limit: 1, current: 1, exceeded: true },
      { event: 'never seen', limit: 5, current: 0, exceeded: false },
    ]);
    for (const path of [
      '/v1/metrics?names=revenue,events&from=2024-02-01&to=2024-02-01',
      '/v1/dashboard?from=2024-02-01&to=2024-02-01',
      '/v1/attribution?from=2024-02-01&to=2024-02-01',
      '/v1/events?limit=1000',
      '/v1/export.csv',
    ]) {
      expectParity(await answers(path, key));
    }
  });

  it('prunes the same events and keeps the same usage (retention policy)', async () => {
    const cutoff = Date.UTC(2024, 1, 1);
    const [duckdb, postgres, clickhouse] = await Promise.all(
      (['duckdb', 'postgres', 'clickhouse'] as const).map((name) =>
        collectors[name].store.prune(cutoff),
      ),
    );
    expect(postgres).toEqual(duckdb);
    expect(clickhouse).toEqual(duckdb);
    for (const path of [
      '/v1/usage?from=2024-01-01&to=2024-03-31',
      `/v1/metrics?names=${SERIES}&from=2024-01-01&to=2024-03-10`,
      '/v1/export.csv?limit=700',
    ]) {
      expectParity(await answers(path));
    }
  });
});
