import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseMigrations } from '../../store/clickhouse/migrations';
import { openStore } from '../../store/openStore';
import { ingest, readJson } from '../httpCollector';
import {
  type ClickHouseTestServer,
  clickHouseCollector,
  databaseAtVersion,
  startClickHouse,
} from './clickhouseServer';

/**
 * Migration 4: the events move from `event_rows` (index granule 8,192 rows) to `event_rows_v4`
 * (1,024), with no event lost, also one an older collector inserts while the move runs, and
 * with daily usage and the seq index fed once from the new table.
 */

const READ_KEY = 'rk_rows_v4_12345678';
const START_MS = Date.UTC(2024, 0, 1);

let server: ClickHouseTestServer;

beforeAll(async () => {
  server = await startClickHouse();
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

const count = async (statement: string) =>
  Number((await server.run(`${statement} FORMAT TSV`)).trim());

const tables = async (database: string) =>
  (
    await server.run(
      `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name FORMAT TSV`,
    )
  )
    .trim()
    .split('\n');

/** A collector of this version on `database`. */
const collectorOn = (database: string) =>
  clickHouseCollector(server, database, { write: 'wk_rows_v4_12345678', read: READ_KEY });

/** Inserts `n` events as a version 3 collector does (into `event_rows`), ids `prefix0…`. */
const insertOld = (database: string, prefix: string, n: number, seqFrom: number) =>
  server.run(`INSERT INTO ${database}.event_rows
    (tenant, day, message_id, type, event, "timestamp", received_at, anonymous_id, properties,
     traits, context, seq)
    SELECT 'acme', toDate(intDiv(ts, 1000)), concat('${prefix}', toString(number)), 'track',
      'tick', ts, ts, 'anon-1', '{"plan":"pro"}', '{}', '{}', toInt64(${seqFrom} + number)
    FROM (SELECT number, toInt64(${START_MS} + number * 60000) AS ts
      FROM system.numbers LIMIT ${n})`);

describe('ClickHouse migration 4 (event_rows_v4)', () => {
  it('moves a version 3 database’s events and feeds, keeping every event once', async () => {
    const database = 'rows_v4_upgrade';
    await databaseAtVersion(server, database, 3);
    await insertOld(database, 'old-', 3000, 1);
    // Another old-version insert of the same ids (a re-send to a second collector), unmerged.
    await insertOld(database, 'old-', 10, 1);

    const app = await collectorOn(database);
    try {
      const names = await tables(database);
      expect(names).toContain('event_rows_v4');
      for (const gone of ['event_rows', 'event_rows_v3', 'event_rows_v4_forward']) {
        expect(names).not.toContain(gone);
      }
      expect(names).not.toContain('event_seq_feed');
      expect(names).not.toContain('daily_usage_ids_feed');
      expect(await server.run(`SHOW CREATE TABLE ${database}.event_rows_v4`)).toContain(
        'index_granularity = 1024',
      );
      expect(await count(`SELECT count() FROM ${database}.events`)).toBe(3000);

      // New events go to the new table and feed daily usage and the seq index exactly once.
      await ingest(
        app.url,
        'wk_rows_v4_12345678',
        Array.from({ length: 5 }, (_, index) => ({
          type: 'track',
          event: 'after_upgrade',
          messageId: `new-${index}`,
          anonymousId: 'anon-2',
          timestamp: new Date(START_MS + 86_400_000).toISOString(),
        })),
      );
      expect(await count(`SELECT count() FROM ${database}.events`)).toBe(3005);
      expect(
        await count(`SELECT count() FROM ${database}.event_seq_rows WHERE message_id LIKE 'new-%'`),
      ).toBe(5);
      expect(
        await count(
          `SELECT sum(count) FROM ${database}.daily_usage WHERE event IN ('tick', 'after_upgrade')`,
        ),
      ).toBe(3005);
      // The listing reads the new table through the seq index.
      const page = await readJson<{ events: Array<{ messageId: string }> }>(
        app.url,
        '/v1/events?limit=2',
        READ_KEY,
      );
      expect(page.events.map((event) => event.messageId)).toEqual(['new-4', 'new-3']);
    } finally {
      await app.close();
    }
  }, 120_000);

  it('keeps an event an older collector inserts while the move runs, and completes when run again', async () => {
    const database = 'rows_v4_concurrent';
    await databaseAtVersion(server, database, 3);
    await insertOld(database, 'before-', 100, 1);
    // Migration 4 interrupted after the copy: the forwarding view exists, event_rows too.
    const four = clickhouseMigrations.find((migration) => migration.version === 4)!;
    const copyStep = four.statements.findIndex(
      (entry) =>
        typeof entry !== 'string' && entry.statement.startsWith('INSERT INTO event_rows_v4'),
    );
    expect(copyStep).toBeGreaterThan(0);
    await databaseAtVersion(server, database, 4, [
      { ...four, version: 99, statements: four.statements.slice(0, copyStep + 1) },
    ]);
    await server.run(`ALTER TABLE ${database}.schema_migrations DELETE WHERE version = 99`);
    // An older collector still writing: its insert lands in event_rows and is forwarded.
    await insertOld(database, 'during-', 7, 1000);
    expect(
      await count(`SELECT count() FROM ${database}.event_rows_v4 WHERE message_id LIKE 'during-%'`),
    ).toBe(7);

    const store = await openStore(server.storeUrl(database));
    try {
      expect(await tables(database)).not.toContain('event_rows');
      expect(await count(`SELECT count() FROM ${database}.events`)).toBe(107);
      expect(await count(`SELECT uniqExact(message_id) FROM ${database}.event_seq_rows`)).toBe(107);
      expect(
        await count(`SELECT count() FROM ${database}.daily_usage WHERE event = 'tick'`),
      ).toBeGreaterThan(0);
      expect(
        await count(`SELECT sum(count) FROM ${database}.daily_usage WHERE event = 'tick'`),
      ).toBe(107);
      // Once done, an older collector's insert fails (it answers 503; its clients resend).
      await expect(insertOld(database, 'late-', 1, 2000)).rejects.toThrow(/event_rows/);
      // Running migration 4 again (another collector starting) changes nothing.
      await databaseAtVersion(server, database, 4, [{ ...four, version: 98 }]);
      expect(await count(`SELECT count() FROM ${database}.events`)).toBe(107);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('completes when several collectors start on a version 3 database at once', async () => {
    const databases = ['rows_v4_race_a', 'rows_v4_race_b', 'rows_v4_race_c'];
    for (const database of databases) {
      await databaseAtVersion(server, database, 3);
      await insertOld(database, 'old-', 500, 1);
    }
    // Four collectors per database, opening it at the same moment.
    const stores = await Promise.all(
      databases.flatMap((database) =>
        Array.from({ length: 4 }, () => openStore(server.storeUrl(database))),
      ),
    );
    try {
      for (const database of databases) {
        const names = await tables(database);
        expect(names).toContain('event_rows_v4');
        expect(names).not.toContain('event_rows');
        expect(names).not.toContain('event_rows_v3');
        expect(await count(`SELECT count() FROM ${database}.events`)).toBe(500);
        expect(
          await count(`SELECT sum(count) FROM ${database}.daily_usage WHERE event = 'tick'`),
        ).toBe(500);
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 120_000);

  it('completes when several collectors start on a new database at once', async () => {
    // A new database takes every migration, from 1 to the last, in each collector at once:
    // statements of one collector meet half-created tables and views of another.
    const databases = ['rows_new_race_a', 'rows_new_race_b', 'rows_new_race_c', 'rows_new_race_d'];
    const stores = await Promise.all(
      databases.flatMap((database) =>
        Array.from({ length: 4 }, () => openStore(server.storeUrl(database))),
      ),
    );
    try {
      const last = Math.max(...clickhouseMigrations.map((migration) => migration.version));
      for (const database of databases) {
        const names = await tables(database);
        expect(names).toContain('event_rows_v4');
        expect(names).toContain('daily_usage_ids_feed_v4');
        expect(names).not.toContain('event_rows');
        expect(await count(`SELECT max(version) FROM ${database}.schema_migrations`)).toBe(last);
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 120_000);

  it('reads one 1,024-row granule per day for a late event, not 8,192', async () => {
    const database = 'rows_v4_granules';
    const app = await collectorOn(database);
    try {
      // 20 days of 20,000 events each (arrived in time order), then one late event per day.
      await server.run(`INSERT INTO ${database}.event_rows_v4
        (tenant, day, message_id, type, event, "timestamp", received_at, anonymous_id, properties,
         traits, context, seq)
        SELECT 'acme', toDate(intDiv(ts, 1000)), concat('m-', toString(number)), 'track', 'tick',
          ts, ts, 'anon', '{}', '{}', '{}', toInt64(1000000 + number)
        FROM (SELECT number, toInt64(${START_MS} + number * 4320) AS ts
          FROM system.numbers LIMIT 400000)`);
      await server.run(`INSERT INTO ${database}.event_rows_v4
        (tenant, day, message_id, type, event, "timestamp", received_at, anonymous_id, properties,
         traits, context, seq)
        SELECT 'acme', toDate(intDiv(ts, 1000)), concat('late-', toString(number)), 'track',
          'tick', ts, ts, 'anon', '{}', '{}', '{}', toInt64(1400000 + number)
        FROM (SELECT number, toInt64(${START_MS} + number * 86400000 + 1000) AS ts
          FROM system.numbers LIMIT 20)`);
      await server.run(`OPTIMIZE TABLE ${database}.event_rows_v4 FINAL`);
      await server.run('SYSTEM FLUSH LOGS');
      const since = Math.floor(Date.now() / 1000);
      const response = await fetch(`${app.url}/v1/export.csv?limit=100`, {
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
      const lines = (await response.text()).split('\r\n').slice(1, -1);
      expect(lines).toHaveLength(100);
      expect(lines.slice(0, 20).map((line) => line.slice(0, line.indexOf(',')))).toEqual(
        Array.from({ length: 20 }, (_, index) => `late-${19 - index}`),
      );
      await server.run('SYSTEM FLUSH LOGS');
      const read = await count(`SELECT max(read_rows) FROM system.query_log
        WHERE type = 2 AND query_start_time >= ${since} AND query LIKE 'SELECT%event_rows_v4%'
          AND query NOT LIKE '%query_log%'`);
      // 20 days × one granule of 1,024 (+ the newest day's window and the seq index's reads);
      // with 8,192-row granules the same read is at least 20 × 8,192 = 163,840 rows.
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThan(20 * 8192);
    } finally {
      await app.close();
    }
  }, 120_000);
});
