import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { openStore } from '../../store/openStore';
import { type HttpCollector, ingest, startHttpCollector } from '../httpCollector';
import { type Answer, call } from '../parity/parityHelpers';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * Hostile text through every read path of a ClickHouse-backed collector (18.16 has no query
 * parameters: every value is written as a literal): event names, property keys and values in
 * funnel filters and breakdowns, user ids, start/return events, tenants named by an admin key and
 * cursors. Each must be read as data: the same answer as a DuckDB-backed collector given the same
 * events, and no table touched.
 */

const HOSTILE = [
  "O'Brien",
  "'; DROP TABLE events; --",
  "\\'; DROP TABLE event_rows_v4; --",
  'back\\slash\\',
  'nul\u0000inside',
  'trailing backslash \\',
  'tab\tnew\nline\rcr\u0007bell\u007fdel',
  '$1 $2 ? :name {x:String}',
  '"double" `back` "k":"v"',
  '{"nested": [1, {"k": "v"}]}',
  'ünïcödé ✓ 日本語 😀',
  '=cmd|calc!A1',
  'x'.repeat(240),
];

const WRITE_KEY = 'wk_hostile_12345678';
const ADMIN_KEY = 'rk_hostile_admin_123';

let server: ClickHouseTestServer;
let duckdb: HttpCollector;
let clickhouse: HttpCollector;

/** Per hostile text: a track event named by it, carrying it as user id, key and value. */
function eventsOf(text: string, index: number): Array<Record<string, unknown>> {
  const timestamp = Date.UTC(2024, 1, 1 + index, 12);
  return [
    {
      type: 'track',
      event: text,
      userId: text,
      anonymousId: `anon-${index}`,
      messageId: `first-${index}`,
      timestamp: new Date(timestamp).toISOString(),
      properties: { [text]: text, plan: text, nested: { [text]: 'inner' } },
      context: { campaign: { source: text } },
    },
    {
      type: 'track',
      event: 'second',
      anonymousId: `anon-${index}`,
      messageId: `second-${index}`,
      timestamp: new Date(timestamp + 8 * 86_400_000).toISOString(),
      properties: { revenue: 1.5, [text]: 3 },
    },
  ];
}

beforeAll(async () => {
  server = await startClickHouse();
  const start = async (store: HttpCollector['store']) => {
    const http = await startHttpCollector({
      store,
      writeKeys: [`${WRITE_KEY}=hostile`],
      readKeys: [`${ADMIN_KEY}=*`],
      read: { cacheTtlMs: 0, maxRangeDays: 400 },
      now: () => Date.UTC(2024, 3, 1),
    });
    await ingest(http.url, WRITE_KEY, HOSTILE.flatMap(eventsOf));
    return http;
  };
  [duckdb, clickhouse] = await Promise.all([
    createDuckDbStore({ path: ':memory:' }).then(start),
    openStore(server.storeUrl('hostile_reads')).then(start),
  ]);
}, 120_000);

afterAll(async () => {
  await duckdb?.close();
  await clickhouse?.close();
  await server?.stop();
}, 60_000);

/** Both collectors' answers to one request of an admin key, for `tenant`. */
async function both(
  path: string,
  options: { body?: unknown; method?: string; tenant?: string } = {},
): Promise<[Answer, Answer]> {
  const separator = path.includes('?') ? '&' : '?';
  const url = `${path}${separator}tenant=${encodeURIComponent(options.tenant ?? 'hostile')}`;
  return Promise.all([
    call(duckdb, url, { ...options, key: ADMIN_KEY }),
    call(clickhouse, url, { ...options, key: ADMIN_KEY }),
  ]);
}

/** A page cursor names a store's own `seq`: compared as present or not. */
function cursorShown(answer: Answer): unknown {
  const body = answer.body as Record<string, unknown>;
  return 'nextCursor' in body ? { ...body, nextCursor: body.nextCursor !== null } : body;
}

async function expectSameAnswer(
  path: string,
  options: { body?: unknown; method?: string; tenant?: string; status?: number } = {},
): Promise<Answer> {
  const [expected, actual] = await both(path, options);
  expect(expected.status, JSON.stringify(expected.body)).toBe(options.status ?? 200);
  expect(actual.status, JSON.stringify(actual.body)).toBe(expected.status);
  if (expected.csv !== undefined) expect(actual.csv).toBe(expected.csv);
  else if (expected.status === 200) expect(cursorShown(actual)).toEqual(cursorShown(expected));
  return actual;
}

const query = (parameters: Record<string, string>) => new URLSearchParams(parameters).toString();

describe('hostile text through every ClickHouse read path', () => {
  it.each(HOSTILE.map((text, index) => [index, text] as const))(
    'reads hostile text #%i as data on every endpoint',
    async (index, text) => {
      const events = await expectSameAnswer(`/v1/events?${query({ event: text })}`);
      expect((events.body as { events: Array<{ event: string }> }).events).toEqual([
        expect.objectContaining({ event: text, userId: text, utmSource: text }),
      ]);
      await expectSameAnswer(`/v1/events?${query({ userId: text })}`);
      await expectSameAnswer(`/v1/events?${query({ userId: `anon-${index}` })}`);
      await expectSameAnswer(`/v1/export.csv?${query({ userId: text })}`);
      await expectSameAnswer(`/v1/export.csv?${query({ event: text })}`);
      const range = { from: '2024-01-01', to: '2024-03-31' };
      await expectSameAnswer(`/v1/metrics?${query({ names: 'events', event: text, ...range })}`);
      const funnel = await expectSameAnswer('/v1/funnel', {
        body: {
          steps: [{ event: text, where: { [text]: text, plan: text } }, { event: 'second' }],
          windowSeconds: 30 * 86_400,
          ...range,
          breakdown: text.includes('.') ? 'utm_source' : `properties.${text}`,
        },
      });
      const steps = (funnel.body as { steps: Array<{ users: number }> }).steps;
      expect(steps.map((step) => step.users)).toEqual([1, 1]);
      await expectSameAnswer('/v1/funnel', {
        body: {
          steps: [
            { event: text, where: { [text]: 3 } },
            { event: 'second', where: { [text]: 3 } },
          ],
          windowSeconds: 30 * 86_400,
          ...range,
        },
      });
      await expectSameAnswer('/v1/retention', {
        body: { interval: 'week', periods: 4, startEvent: text, returnEvent: 'second', ...range },
      });
      await expectSameAnswer(`/v1/users/${encodeURIComponent(text)}/export`);
      // A tenant named by the hostile text: nothing there, on either store.
      await expectSameAnswer(`/v1/events?${query({ event: text })}`, { tenant: text });
      await expectSameAnswer(`/v1/dashboard?${query(range)}`, { tenant: text });
      await expectSameAnswer(`/v1/export.csv?${query({ userId: text })}`, { tenant: text });
      await expectSameAnswer(`/v1/usage?${query(range)}`, { tenant: text });
      await expectSameAnswer(`/v1/attribution?${query(range)}`, { tenant: text });
      await expectSameAnswer('/v1/funnel', {
        tenant: text,
        body: { steps: [{ event: text }, { event: text }], windowSeconds: 60, ...range },
      });
      // Hostile cursors are refused, whatever they decode to.
      for (const cursor of [
        text,
        Buffer.from(text).toString('base64url'),
        Buffer.from(`v2:01:${text}`).toString('base64url'),
        Buffer.from(`v2:-1:${text}`).toString('base64url'),
        Buffer.from(`v3:1:${text}`).toString('base64url'),
        Buffer.from(`v1:${text}`).toString('base64url'),
      ]) {
        await expectSameAnswer(`/v1/events?${query({ cursor })}`, { status: 400 });
      }
      // A cursor carrying the hostile text as its message id is data too.
      const cursor = Buffer.from(`v2:999999999999:${text}`).toString('base64url');
      const paged = await both(`/v1/events?${query({ cursor, limit: '1000' })}`);
      expect(paged[0].status).toBe(200);
      expect(paged[1].status).toBe(200);
    },
  );

  it('erases hostile user ids and leaves every table in place', async () => {
    for (const text of HOSTILE) {
      await expectSameAnswer(`/v1/users/${encodeURIComponent(text)}`, { method: 'DELETE' });
    }
    await expectSameAnswer('/v1/events?limit=1000');
    await expectSameAnswer('/v1/metrics?names=dau,events,revenue&from=2024-01-01&to=2024-03-31');
    const tables = await server.run(
      "SELECT name FROM system.tables WHERE database = 'hostile_reads' AND name IN ('events', 'event_rows_v4', 'identity_links', 'identity_link_rows', 'daily_usage', 'erasure_audit') ORDER BY name FORMAT TSV",
    );
    expect(tables.trim().split('\n')).toEqual([
      'daily_usage',
      'erasure_audit',
      'event_rows_v4',
      'events',
      'identity_link_rows',
      'identity_links',
    ]);
  });
});
