import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect } from '../../query/postgresDialect';
import { render, sql } from '../../query/sql';
import { openStore } from '../../store/openStore';
import { postgresMigrations, runPostgresMigrations } from '../../store/postgres/migrations';
import { createPostgresStore } from '../../store/postgres/postgresStore';
import type { Store } from '../../store/store';
import { makeStoredEvent } from '../storedEvent';
import { type PostgresServer, startPostgres } from './postgresServer';

/** The PostgreSQL store against a real PostgreSQL 15 server. */

let server: PostgresServer;
let store: Store;
let url: string;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('store_test');
  store = await openStore(url);
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
}, 60_000);

const HOSTILE = [
  "O'Brien",
  'back\\slash',
  '"; DROP TABLE events; --',
  "'; DROP TABLE events; --",
  '日本語 🚀 ñ',
  '$1',
  '=HYPERLINK("x")',
];

describe('PostgreSQL store', () => {
  it('opens from a postgres:// URL and migrates once', async () => {
    expect(store.kind).toBe('postgres');
    const again = await createPostgresStore({ url });
    const rows = await again.query(render(sql`SELECT version FROM schema_migrations ORDER BY 1`));
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
    await again.close();
  });

  it('upgrades a version 2 database with events to the covering index and a filled rollup', async () => {
    const upgradeUrl = await server.createDatabase('store_upgrade');
    const pool = new pg.Pool({ connectionString: upgradeUrl, max: 1 });
    const client = await pool.connect();
    try {
      expect(await runPostgresMigrations(client, postgresMigrations.slice(0, 2))).toEqual([1, 2]);
      await client.query(`INSERT INTO events (tenant, message_id, type, "timestamp", received_at,
        properties, traits, context) VALUES ('upgrade', 'm-1', 'track', now(), now(), '{}', '{}', '{}')`);
    } finally {
      client.release();
      await pool.end();
    }
    const upgraded = await openStore(upgradeUrl);
    try {
      const rows = await upgraded.query(
        render(sql`SELECT
            (SELECT count(*) FROM pg_indexes WHERE indexname = 'events_tenant_timestamp_metrics') AS indexes,
            (SELECT max(version) FROM schema_migrations) AS version,
            (SELECT count(*) FROM events WHERE tenant = 'upgrade') AS events,
            (SELECT sum(events) FROM activity_hours WHERE tenant = 'upgrade') AS rolled_up`),
      );
      expect(rows).toEqual([{ indexes: 1, version: 4, events: 1, rolled_up: 1 }]);
    } finally {
      await upgraded.close();
    }
  });

  it('dedupes on (tenant, messageId) within a batch and across appends', async () => {
    const a = makeStoredEvent({ tenant: 'dedupe', messageId: 'm-1' });
    const b = makeStoredEvent({ tenant: 'dedupe', messageId: 'm-2' });
    const other = makeStoredEvent({ tenant: 'dedupe-2', messageId: 'm-1' });
    const first = await store.append([a, b, { ...a, event: 'copy' }, other]);
    expect(first.stored).toEqual(
      new Map([
        ['dedupe', 2],
        ['dedupe-2', 1],
      ]),
    );
    expect(first.duplicates).toEqual(
      new Map([
        ['dedupe', 1],
        ['dedupe-2', 0],
      ]),
    );
    const second = await store.append([b, makeStoredEvent({ tenant: 'dedupe', messageId: 'm-3' })]);
    expect(second.stored.get('dedupe')).toBe(1);
    expect(second.duplicates.get('dedupe')).toBe(1);
    expect(await store.countEvents('dedupe')).toBe(3);
    expect(await store.findMessageIds('dedupe', ['m-1', 'm-3', 'm-9'])).toEqual(
      new Set(['m-1', 'm-3']),
    );
    const [kept] = await store.query(
      render(sql`SELECT event FROM events WHERE tenant = 'dedupe' AND message_id = 'm-1'`),
    );
    expect(kept?.event).toBe('Signed Up');
  });

  it('stores hostile strings as data in every column and filter', async () => {
    const rows = HOSTILE.map((text, index) =>
      makeStoredEvent({
        tenant: 'hostile',
        messageId: text,
        event: text,
        userId: text,
        anonymousId: `anon-${index}`,
        properties: JSON.stringify({ [text]: text, plan: text }),
      }),
    );
    expect((await store.append(rows)).stored.get('hostile')).toBe(HOSTILE.length);
    expect(await store.countEvents('hostile')).toBe(HOSTILE.length);
    for (const text of HOSTILE) {
      const found = await store.query(
        render(sql`SELECT message_id, user_id, CAST(properties AS TEXT) AS properties FROM events
          WHERE tenant = 'hostile' AND event = ${text}
            AND ${postgresDialect.jsonPropertyEquals(sql`properties`, 'plan', text)}
            AND ${postgresDialect.inList(sql`user_id`, [text, 'other'])}`),
      );
      expect(found).toHaveLength(1);
      expect(found[0]?.message_id).toBe(text);
      expect(JSON.parse(String(found[0]?.properties))).toEqual({ [text]: text, plan: text });
    }
    expect(await store.identityLinks('hostile')).toHaveLength(HOSTILE.length);
    const erased = await store.eraseUser('hostile', "'; DROP TABLE events; --", 'rk_test');
    expect(erased).toEqual({ events: 1, identityLinks: 1 });
    expect(await store.countEvents('hostile')).toBe(HOSTILE.length - 1);
  });

  it('replaces U+0000, which PostgreSQL text cannot hold, with U+FFFD', async () => {
    const row = makeStoredEvent({
      tenant: 'nul',
      messageId: 'nul\u0000id',
      event: 'a\u0000b',
      userId: 'u\u0000',
      properties: JSON.stringify({ 'k\u0000': 'v\u0000', escaped: '\\u0000' }),
    });
    expect((await store.append([row])).stored.get('nul')).toBe(1);
    const [stored] = await store.query(
      render(sql`SELECT message_id, event, user_id, CAST(properties AS TEXT) AS properties
        FROM events WHERE tenant = 'nul'`),
    );
    expect(stored?.message_id).toBe('nul\uFFFDid');
    expect(stored?.event).toBe('a\uFFFDb');
    expect(JSON.parse(String(stored?.properties))).toEqual({
      'k\uFFFD': 'v\uFFFD',
      escaped: '\\u0000',
    });
    // A property filter with the original text finds it (funnel `where`, model and experiment names).
    const [matched] = await store.query(
      render(sql`SELECT count(*) AS n FROM events WHERE tenant = 'nul'
        AND ${postgresDialect.jsonPropertyEquals(sql`properties`, 'k\u0000', 'v\u0000')}`),
    );
    expect(Number(matched?.n)).toBe(1);
    // Lookups by the original id find it; a resend is a duplicate.
    expect(await store.findMessageIds('nul', ['nul\u0000id'])).toEqual(new Set(['nul\uFFFDid']));
    expect((await store.append([row])).duplicates.get('nul')).toBe(1);
    expect(await store.eraseUser('nul', 'u\u0000', 'rk_test')).toEqual({
      events: 1,
      identityLinks: 1,
    });
  });

  it('records identity links with the earliest time and daily usage of stored rows only', async () => {
    const t = Date.UTC(2024, 2, 1, 10);
    await store.append([
      makeStoredEvent({
        tenant: 'links',
        messageId: 'l1',
        userId: 'u',
        anonymousId: 'a',
        timestamp: t,
      }),
      makeStoredEvent({
        tenant: 'links',
        messageId: 'l2',
        userId: 'u',
        anonymousId: 'a',
        timestamp: t - 5,
      }),
      makeStoredEvent({
        tenant: 'links',
        messageId: 'l3',
        type: 'alias',
        event: null,
        userId: 'u',
        previousId: 'old',
        anonymousId: null,
        timestamp: t + 1,
      }),
    ]);
    await store.append([makeStoredEvent({ tenant: 'links', messageId: 'l1', timestamp: t })]);
    expect(await store.identityLinks('links')).toEqual([
      { anonymousId: 'a', userId: 'u' },
      { anonymousId: 'old', userId: 'u' },
    ]);
    const usage = await store.query(
      render(sql`SELECT CAST(day AS TEXT) AS day, event, count FROM daily_usage
        WHERE tenant = 'links' ORDER BY event`),
    );
    expect(usage).toEqual([
      { day: '2024-03-01', event: 'Signed Up', count: 2 },
      { day: '2024-03-01', event: 'alias', count: 1 },
    ]);
  });

  it('prunes old events and unreferenced links, keeping daily usage', async () => {
    const old = Date.UTC(2023, 0, 1);
    await store.append([
      makeStoredEvent({
        tenant: 'prune',
        messageId: 'p1',
        userId: 'u',
        anonymousId: 'pa',
        timestamp: old,
      }),
      makeStoredEvent({ tenant: 'prune', messageId: 'p2', timestamp: Date.UTC(2024, 0, 1) }),
    ]);
    const before = await store.countEvents('prune');
    const pruned = await store.prune(Date.UTC(2023, 6, 1));
    expect(pruned.events).toBeGreaterThanOrEqual(1);
    expect(await store.countEvents('prune')).toBe(before - 1);
    expect(await store.identityLinks('prune')).toEqual([]);
    const [usage] = await store.query(
      render(sql`SELECT sum(count) AS total FROM daily_usage WHERE tenant = 'prune'`),
    );
    expect(usage?.total).toBe(2);
    await expect(store.prune(Number.NaN)).rejects.toThrow('cutoff');
  });

  it('writes CSV with RFC 4180 quoting, NULL empty and empty text quoted', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'sightline-pg-csv-'));
    const path = join(directory, 'out.csv');
    await store.writeCsv(
      render(sql`SELECT ${'a,b'} AS x, NULL AS y, '' AS z, ${'say "hi"\r\nok'} AS w, 1.5 AS n`),
      path,
    );
    expect(await readFile(path, 'utf8')).toBe('"a,b",,"","say ""hi""\r\nok",1.5\r\n');
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects reads and writes after close with a clear error', async () => {
    const other = await createPostgresStore({ url });
    await other.close();
    await expect(other.ping()).rejects.toThrow('closed');
    await expect(other.append([makeStoredEvent()])).rejects.toThrow('closed');
  });
});
