import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/openStore';
import type { Store } from '../../store/store';
import { type HttpCollector, readApi, readJson, startHttpCollector } from '../httpCollector';
import {
  type ClickHouseTestServer,
  clickHouseCollector,
  databaseAtVersion,
  startClickHouse,
} from './clickhouseServer';

/**
 * `event_seq_rows` (migration 3): the event listing and the CSV export read newest first by seq
 * through it, so a page reads its seq range, not every row of `event_rows_v4` through `FINAL`. The
 * answers stay exact when a re-sent copy is not merged yet, and erasure and retention delete
 * from it too.
 */

const READ_KEY = 'rk_seq_index_1234';
const DATABASE = 'seq_index';
/** 200,000 events over 50 days, one every 21.6 s, arriving in time order (seq = arrival). */
const EVENTS = 200_000;
const START_MS = Date.UTC(2024, 0, 1);
const STEP_MS = 21_600;
/** Rows a read may touch: a few granules in each table, far below the 200,000 stored. */
const ROWS_TO_READ = 80_000;

let server: ClickHouseTestServer;
let store: Store;
let http: HttpCollector;

/** Starts a count for {@link mostRowsRead}. */
async function logFromNow(): Promise<void> {
  await server.run('SYSTEM FLUSH LOGS');
  loggedSince = Math.floor(Date.now() / 1000);
}

/**
 * The most rows one query that reads events read since {@link logFromNow} (the test server logs
 * every query in `system.query_log`). The tenant's seq bounds (newest, oldest, count) read its
 * part of `event_seq_rows` whole, two small columns: those queries are not counted.
 */
async function mostRowsRead(): Promise<number> {
  await server.run('SYSTEM FLUSH LOGS');
  const rows = await server.run(`SELECT query, read_rows FROM system.query_log
    WHERE type = 2 AND query_start_time >= ${loggedSince} AND query NOT LIKE '%query_log%'
    FORMAT JSONEachRow`);
  const reads = rows
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { query: string; read_rows: string })
    .filter(
      (row) => /^\s*SELECT\b/.test(row.query) && /\bevent_rows_v4\b|FROM events\b/.test(row.query),
    );
  expect(reads.length).toBeGreaterThan(0);
  return Math.max(...reads.map((row) => Number(row.read_rows)));
}
let loggedSince = 0;

beforeAll(async () => {
  server = await startClickHouse();
  store = await openStore(server.storeUrl(DATABASE));
  http = await startHttpCollector({
    store,
    writeKeys: ['wk_seq_index_1234=acme'],
    readKeys: [`${READ_KEY}=acme`],
    read: { cacheTtlMs: 0 },
  });
  await server.run(`INSERT INTO ${DATABASE}.event_rows_v4
    (tenant, day, message_id, type, event, "timestamp", received_at, user_id, anonymous_id,
     properties, traits, context, seq)
    SELECT 'acme', toDate(intDiv(ts, 1000)), concat('m-', toString(number)), 'track', 'tick', ts,
      ts, concat('u-', toString(number % 97)), 'anon', '{}', '{}', '{}', toInt64(1000000 + number)
    FROM (SELECT number, toInt64(${START_MS} + number * ${STEP_MS}) AS ts
      FROM system.numbers LIMIT ${EVENTS})`);
}, 120_000);

afterAll(async () => {
  await http?.close();
  await server?.stop();
}, 60_000);

/** Message ids of the newest `count` events, newest first. */
function newest(count: number, skip = 0): string[] {
  return Array.from({ length: count }, (_, index) => `m-${EVENTS - 1 - skip - index}`);
}

interface Page {
  events: Array<{ messageId: string }>;
  nextCursor: string | null;
}

async function exportedIds(query: string): Promise<string[]> {
  const response = await readApi(http.url, `/v1/export.csv${query}`, READ_KEY);
  const body = await response.text();
  expect(response.status, body).toBe(200);
  return body
    .split('\r\n')
    .slice(1, -1)
    .map((record) => record.slice(0, record.indexOf(',')));
}

describe('ClickHouse reads by seq through event_seq_rows', () => {
  it('lists the newest events reading a few granules, not the whole table', async () => {
    await logFromNow();
    const first = await readJson<Page>(http.url, '/v1/events?limit=100', READ_KEY);
    expect(first.events.map((event) => event.messageId)).toEqual(newest(100));
    const second = await readJson<Page>(
      http.url,
      `/v1/events?limit=100&cursor=${first.nextCursor}`,
      READ_KEY,
    );
    expect(second.events.map((event) => event.messageId)).toEqual(newest(100, 100));
    // A filter matching a sparse subset: the window widens, still within the limit.
    const user = await readJson<Page>(http.url, '/v1/events?limit=5&userId=u-3', READ_KEY);
    const ids = user.events.map((event) => event.messageId);
    expect(ids).toHaveLength(5);
    expect(ids.every((id) => Number(id.slice(2)) % 97 === 3)).toBe(true);
    expect(ids[0]).toBe(newest(97).find((id) => Number(id.slice(2)) % 97 === 3));
    expect(await mostRowsRead()).toBeLessThan(ROWS_TO_READ);
  });

  it('exports the newest events, page after page, the same way', async () => {
    await logFromNow();
    expect(await exportedIds('?limit=12000')).toEqual(newest(12_000));
    // The pages' CSV is written by the store's own request (not logged); the queries that find
    // each page's bounds read a window of seq values.
    expect(await mostRowsRead()).toBeLessThan(ROWS_TO_READ);
  });

  it('lists and exports a past day from the windows of that day alone', async () => {
    // 2024-01-06: events 20,000 … 23,999 (one every 21.6 s from 2024-01-01).
    const day = Array.from({ length: 4000 }, (_, index) => `m-${23_999 - index}`);
    await logFromNow();
    const page = await readJson<Page>(
      http.url,
      '/v1/events?limit=50&from=2024-01-06&to=2024-01-06',
      READ_KEY,
    );
    expect(page.events.map((event) => event.messageId)).toEqual(day.slice(0, 50));
    expect(await exportedIds('?from=2024-01-06&to=2024-01-06')).toEqual(day);
    expect(await mostRowsRead()).toBeLessThan(ROWS_TO_READ);
  });

  it('lists and exports a re-sent copy once, before any merge', async () => {
    const database = 'seq_index_copies';
    const app = await clickHouseCollector(server, database, {
      write: 'wk_seq_copies_1234',
      read: READ_KEY,
    });
    try {
      await server.run(`SYSTEM STOP MERGES ${database}.event_rows_v4`);
      // Three events, then the second again with a later seq (a second collector's insert).
      for (const [id, seq] of [
        ['a', 10],
        ['b', 20],
        ['c', 30],
        ['b', 40],
      ] as const) {
        await server.run(`INSERT INTO ${database}.event_rows_v4
          (tenant, day, message_id, type, event, "timestamp", received_at, properties, traits,
           context, seq)
          VALUES ('acme', '2024-01-01', '${id}', 'track', 'tick', ${START_MS}, ${START_MS},
            '{}', '{}', '{}', ${seq})`);
      }
      const stored = await server.run(
        `SELECT count() FROM ${database}.event_rows_v4 WHERE message_id = 'b' FORMAT TSV`,
      );
      expect(stored.trim()).toBe('2'); // not merged: both copies are there
      const listed = await readJson<Page>(app.url, '/v1/events?limit=10', READ_KEY);
      // The view's row for b (the last insert wins) has seq 40: newest.
      expect(listed.events.map((event) => event.messageId)).toEqual(['b', 'c', 'a']);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const suffix: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page: Page = await readJson<Page>(app.url, `/v1/events?limit=1${suffix}`, READ_KEY);
        paged.push(...page.events.map((event) => event.messageId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(paged).toEqual(['b', 'c', 'a']);
      const response = await readApi(app.url, '/v1/export.csv', READ_KEY);
      const records = (await response.text()).split('\r\n').slice(1, -1);
      expect(records.map((record) => record.slice(0, record.indexOf(',')))).toEqual([
        'b',
        'c',
        'a',
      ]);
    } finally {
      await server.run(`SYSTEM START MERGES ${database}.event_rows_v4`);
      await app.close();
    }
  });

  it('erasure and retention delete the rows of event_seq_rows too', async () => {
    const count = async (where: string) =>
      Number(
        (
          await server.run(
            `SELECT count() FROM ${DATABASE}.event_seq_rows WHERE ${where} FORMAT TSV`,
          )
        ).trim(),
      );
    expect(await count(`user_id = 'u-5'`)).toBeGreaterThan(2000);
    await store.eraseUser('acme', 'u-5', 'test');
    expect(await count(`user_id = 'u-5'`)).toBe(0);
    const cutoff = START_MS + 10 * 86_400_000;
    expect(await count(`"timestamp" < ${cutoff}`)).toBeGreaterThan(0);
    await store.prune(cutoff);
    expect(await count(`"timestamp" < ${cutoff}`)).toBe(0);
    // The listing still reads the newest events, minus the erased user's.
    const page = await readJson<Page>(http.url, '/v1/events?limit=200', READ_KEY);
    expect(page.events.map((event) => event.messageId)).toEqual(
      newest(205)
        .filter((id) => Number(id.slice(2)) % 97 !== 5)
        .slice(0, 200),
    );
  }, 60_000);

  it('fills event_seq_rows from the stored events when migrating to version 3', async () => {
    const database = 'seq_index_upgrade';
    // A database as version 2 left it, holding events.
    await databaseAtVersion(server, database, 2);
    await server.run(`INSERT INTO ${database}.event_rows
      (tenant, day, message_id, type, "timestamp", received_at, properties, traits, context, seq)
      SELECT 'acme', toDate('2024-01-01'), concat('old-', toString(number)), 'track',
        toInt64(${START_MS} + number), toInt64(${START_MS}), '{}', '{}', '{}', toInt64(number + 1)
      FROM system.numbers LIMIT 1000`);
    const app = await clickHouseCollector(server, database, {
      write: 'wk_seq_upgrade_1234',
      read: READ_KEY,
    });
    try {
      const rows = await server.run(`SELECT count() FROM ${database}.event_seq_rows FORMAT TSV`);
      expect(rows.trim()).toBe('1000');
      const page = await readJson<Page>(app.url, '/v1/events?limit=3', READ_KEY);
      expect(page.events.map((event) => event.messageId)).toEqual([
        'old-999',
        'old-998',
        'old-997',
      ]);
    } finally {
      await app.close();
    }
  });
});
