import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { type Migration, migrations, runMigrations } from '../store/duckdb/migrations';
import { openStore as openStoreUrl } from '../store/openStore';
import type { AppendResult, Store, StoredEvent } from '../store/store';
import { makeStoredEvent } from './storedEvent';

let dir: string;
let dbPath: string;
const open: Store[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sightline-duckdb-'));
  dbPath = join(dir, 'events.duckdb');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(path = dbPath): Promise<Store> {
  const store = await createDuckDbStore({ path });
  open.push(store);
  return store;
}

/** Runs `fn` on a raw DuckDB connection to `path` (the store must be closed). */
async function withConnection<T>(
  path: string,
  fn: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Rows of `sql` run on the (closed) database file at `path`, as plain JS values. */
function query(
  path: string,
  sql: string,
  values?: Record<string, DuckDBValue>,
): Promise<Record<string, unknown>[]> {
  return withConnection(path, async (connection) =>
    (await connection.runAndReadAll(sql, values)).getRowObjectsJS(),
  );
}

function batch(count: number, overrides: Partial<StoredEvent> = {}): StoredEvent[] {
  return Array.from({ length: count }, () => makeStoredEvent(overrides));
}

describe('migrations', () => {
  it('create events, identity_links, daily_usage, erasure_audit, activity_hours, activity_events, identity_firsts and schema_migrations on a new file', async () => {
    const store = await openStore();
    await store.close();

    const tables = await query(
      dbPath,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1`,
    );
    expect(tables.map((row) => row.table_name)).toEqual([
      'activity_events',
      'activity_hours',
      'daily_usage',
      'erasure_audit',
      'events',
      'identity_firsts',
      'identity_links',
      'schema_migrations',
    ]);
    const columns = await query(
      dbPath,
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = 'events' ORDER BY ordinal_position`,
    );
    expect(columns).toContainEqual({
      column_name: 'timestamp',
      data_type: 'TIMESTAMP WITH TIME ZONE',
      is_nullable: 'NO',
    });
    expect(columns).toContainEqual({
      column_name: 'properties',
      data_type: 'JSON',
      is_nullable: 'NO',
    });
    expect(columns).toContainEqual({
      column_name: 'revenue',
      data_type: 'DOUBLE',
      is_nullable: 'YES',
    });
    expect(columns).toContainEqual({ column_name: 'seq', data_type: 'BIGINT', is_nullable: 'YES' });
    expect(columns).toHaveLength(28);
  });

  it('are recorded once when the same file is opened again', async () => {
    await (await openStore()).close();
    await (await openStore()).close();

    const versions = await query(dbPath, 'SELECT version FROM schema_migrations');
    expect(versions).toEqual(migrations.map((migration) => ({ version: migration.version })));
  });

  it('apply only the missing versions and report them', async () => {
    const extra: Migration = {
      version: 6,
      description: 'add a table',
      sql: 'CREATE TABLE extra (id INTEGER)',
    };
    await withConnection(':memory:', async (connection) => {
      expect(await runMigrations(connection)).toEqual([1, 2, 3, 4, 5]);
      expect(await runMigrations(connection)).toEqual([]);
      expect(await runMigrations(connection, [...migrations, extra])).toEqual([6]);
      expect(await runMigrations(connection, [...migrations, extra])).toEqual([]);
    });
  });

  it('roll back a failing migration entirely and name it in the error', async () => {
    const broken: Migration = {
      version: 6,
      description: 'half-broken',
      sql: 'CREATE TABLE half (id INTEGER); SELECT no_such_column FROM half;',
    };
    await withConnection(':memory:', async (connection) => {
      await expect(runMigrations(connection, [...migrations, broken])).rejects.toThrow(
        /Schema migration 6 \(half-broken\) failed/,
      );
      const tables = await connection.runAndReadAll(
        `SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'`,
      );
      expect(tables.getRowsJS()).toEqual([[0n]]);
      const versions = await connection.runAndReadAll('SELECT version FROM schema_migrations');
      expect(versions.getRowsJS()).toEqual([[1], [2], [3], [4], [5]]);
    });
  });

  it('refuse a database written by a newer schema version', async () => {
    await withConnection(':memory:', async (connection) => {
      await runMigrations(connection);
      await connection.run(`INSERT INTO schema_migrations VALUES (99, TIMESTAMP '2030-01-01')`);
      await expect(runMigrations(connection)).rejects.toThrow(/version 99 is newer/);
    });
  });
});

describe('createDuckDbStore', () => {
  it('creates missing parent directories of the database file', async () => {
    const nested = join(dir, 'a', 'b', 'events.duckdb');
    const store = await openStore(nested);
    expect(store.kind).toBe('duckdb');
    expect(existsSync(nested)).toBe(true);
  });

  it('bounds its buffer pool: 1GB by default, memory_limit when given, a clear error for a non-size', async () => {
    const setting = async (store: Store) =>
      (
        await store.query({ text: "SELECT current_setting('memory_limit') AS limit", values: [] })
      )[0]?.limit;
    expect(await setting(await openStore(':memory:'))).toMatch(/^(1\.0 GiB|953\.6 MiB)$/);
    const small = await createDuckDbStore({ path: ':memory:', memoryLimit: '256MB' });
    open.push(small);
    expect(await setting(small)).toMatch(/^(256\.0 MiB|244\.1 MiB)$/);
    await expect(
      createDuckDbStore({ path: ':memory:', memoryLimit: "1GB'; DROP" }),
    ).rejects.toThrow(/memory_limit.*not a size/);
    await expect(openStoreUrl('duckdb::memory:?threads=64')).rejects.toThrow(
      /unknown DuckDB setting "threads"/,
    );
  });

  it('runs each read on the first free read connection, and closes after the reads under way', async () => {
    const store = await openStore(':memory:');
    const finished: string[] = [];
    const read = (name: string, rows: number) =>
      store
        .query({ text: `SELECT sum(i) AS total FROM range(${rows}) t(i)`, values: [] })
        .then(() => finished.push(name));
    // A long read, a short one on the other connection, and, while both run, a medium one: it
    // must not wait for the long read once the short one's connection is free again.
    const long = read('long', 1_500_000_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const short = read('short', 1_000);
    const medium = read('medium', 50_000_000);
    await Promise.all([long, short, medium]);
    expect(finished).toEqual(['short', 'medium', 'long']);
    // Close waits for reads already running or waiting.
    const pending = [read('a', 50_000_000), read('b', 50_000_000), read('c', 50_000_000)];
    await store.close();
    expect(finished.slice(3).sort()).toEqual(['a', 'b', 'c']);
    await Promise.all(pending);
  });

  it('works in memory', async () => {
    const store = await openStore(':memory:');
    await store.ping();
    await store.append(batch(3));
    expect(await store.countEvents('default')).toBe(3);
  });
});

describe('append', () => {
  it('stores every typed column and round-trips the JSON columns verbatim', async () => {
    const store = await openStore();
    const full = makeStoredEvent({
      tenant: 'acme',
      messageId: 'm-full',
      type: 'track',
      event: 'Order Completed',
      timestamp: Date.UTC(2024, 2, 1, 23, 59, 59, 123),
      receivedAt: Date.UTC(2024, 2, 2, 0, 0, 0, 456),
      sentAt: Date.UTC(2024, 2, 2, 0, 0, 0, 400),
      userId: 'u-1',
      anonymousId: 'a-1',
      sessionId: 's-1',
      groupId: 'g-1',
      previousId: 'p-1',
      utmSource: 'newsletter',
      utmMedium: 'email',
      utmCampaign: 'spring',
      utmTerm: 'shoes',
      utmContent: 'hero',
      referrerDomain: 'news.example.com',
      revenue: 19.99,
      currency: 'EUR',
      browser: 'Firefox',
      os: 'Linux',
      deviceType: 'desktop',
      ip: '203.0.113.0',
      properties: '{"revenue": 19.99, "items": [1, 2], "nested": {"ok": true}}',
      traits: '{"plan":"pro"}',
      context: '{"locale":"fr-FR","page":{"path":"/checkout"}}',
    });
    const sparse = makeStoredEvent({ tenant: 'acme', messageId: 'm-sparse', type: 'identify' });
    await store.append([full, sparse]);
    await store.close();

    const rows = await query(
      dbPath,
      `SELECT tenant, message_id, type, event,
          epoch_ms("timestamp") AS ts, epoch_ms(received_at) AS received, epoch_ms(sent_at) AS sent,
          user_id, anonymous_id, session_id, group_id, previous_id,
          utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer_domain,
          revenue, currency, browser, os, device_type, ip,
          properties::VARCHAR AS properties, traits::VARCHAR AS traits, context::VARCHAR AS context,
          properties->>'$.nested.ok' AS nested_ok, context->'$.page'->>'path' AS path
        FROM events ORDER BY message_id`,
    );
    expect(rows).toEqual([
      {
        tenant: 'acme',
        message_id: 'm-full',
        type: 'track',
        event: 'Order Completed',
        ts: BigInt(full.timestamp),
        received: BigInt(full.receivedAt),
        sent: BigInt(full.sentAt ?? 0),
        user_id: 'u-1',
        anonymous_id: 'a-1',
        session_id: 's-1',
        group_id: 'g-1',
        previous_id: 'p-1',
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: 'spring',
        utm_term: 'shoes',
        utm_content: 'hero',
        referrer_domain: 'news.example.com',
        revenue: 19.99,
        currency: 'EUR',
        browser: 'Firefox',
        os: 'Linux',
        device_type: 'desktop',
        ip: '203.0.113.0',
        properties: full.properties,
        traits: full.traits,
        context: full.context,
        nested_ok: 'true',
        path: '/checkout',
      },
      expect.objectContaining({
        message_id: 'm-sparse',
        type: 'identify',
        sent: null,
        user_id: null,
        revenue: null,
        properties: '{}',
      }),
    ]);
  });

  it('stores timestamps as UTC instants that date_trunc by UTC day', async () => {
    const store = await openStore();
    await store.append([makeStoredEvent({ timestamp: Date.UTC(2024, 0, 1, 23, 30) })]);
    await store.close();

    const [row] = await query(
      dbPath,
      `SELECT strftime(date_trunc('day', "timestamp" AT TIME ZONE 'UTC'), '%Y-%m-%d') AS utc_day,
          strftime(date_trunc('day', "timestamp" AT TIME ZONE 'Asia/Tokyo'), '%Y-%m-%d') AS tokyo_day
        FROM events`,
    );
    expect(row).toEqual({ utc_day: '2024-01-01', tokyo_day: '2024-01-02' });
  });

  it('resolves with empty maps for an empty batch', async () => {
    const store = await openStore(':memory:');
    const result = await store.append([]);
    expect(result.stored.size).toBe(0);
    expect(result.duplicates.size).toBe(0);
  });
});

describe('dedupe on (tenant, messageId)', () => {
  it('stores a batch appended three times in a row once and counts the rest as duplicates', async () => {
    const store = await openStore();
    const rows = [...batch(4, { tenant: 'a' }), ...batch(2, { tenant: 'b' })];

    const first = await store.append(rows);
    const second = await store.append(rows);
    const third = await store.append(rows);

    expect(first.stored).toEqual(
      new Map([
        ['a', 4],
        ['b', 2],
      ]),
    );
    expect(first.duplicates).toEqual(
      new Map([
        ['a', 0],
        ['b', 0],
      ]),
    );
    for (const again of [second, third]) {
      expect(again.stored).toEqual(
        new Map([
          ['a', 0],
          ['b', 0],
        ]),
      );
      expect(again.duplicates).toEqual(
        new Map([
          ['a', 4],
          ['b', 2],
        ]),
      );
    }
    expect(await store.countEvents('a')).toBe(4);
    expect(await store.countEvents('b')).toBe(2);
  });

  it('stores a batch appended three times concurrently once', async () => {
    const store = await openStore();
    const rows = [...batch(5, { tenant: 'a' }), ...batch(3, { tenant: 'b' })];

    const results = await Promise.all([store.append(rows), store.append(rows), store.append(rows)]);

    const total = (pick: (result: AppendResult) => number | undefined) =>
      results.reduce((sum, result) => sum + (pick(result) ?? 0), 0);
    expect(total((result) => result.stored.get('a'))).toBe(5);
    expect(total((result) => result.stored.get('b'))).toBe(3);
    expect(total((result) => result.duplicates.get('a'))).toBe(10);
    expect(total((result) => result.duplicates.get('b'))).toBe(6);
    expect(await store.countEvents('a')).toBe(5);
    expect(await store.countEvents('b')).toBe(3);
  });

  it('dedupes rows stored before the store opened (primary key, not memory), storing only the new rows of a mixed batch', async () => {
    const first = await openStore();
    const old = batch(3, { anonymousId: 'anon-old', userId: 'user-old' });
    await first.append(old);
    await first.close();

    // A new store remembers nothing: the batch fails its fast append on the key and is staged.
    const store = await openStore();
    const fresh = batch(2, { anonymousId: 'anon-new', userId: 'user-new' });
    const result = await store.append([old[0]!, fresh[0]!, old[2]!, fresh[1]!]);
    expect(result.stored.get('default')).toBe(2);
    expect(result.duplicates.get('default')).toBe(2);
    expect(await store.countEvents('default')).toBe(5);
    const links = await store.identityLinks('default');
    expect(links.map((link) => `${link.anonymousId}→${link.userId}`).sort()).toEqual([
      'anon-new→user-new',
      'anon-old→user-old',
    ]);
    // Remembered now: the same rows again are all duplicates.
    const again = await store.append([old[1]!, fresh[1]!]);
    expect(again.duplicates.get('default')).toBe(2);
    expect(await store.countEvents('default')).toBe(5);
  });

  it('keeps the first of several rows sharing a messageId within one batch', async () => {
    const store = await openStore();
    const rows = [
      makeStoredEvent({ messageId: 'same', event: 'first' }),
      makeStoredEvent({ messageId: 'other' }),
      makeStoredEvent({ messageId: 'same', event: 'second' }),
      makeStoredEvent({ messageId: 'same', event: 'third' }),
    ];

    const result = await store.append(rows);

    expect(result.stored.get('default')).toBe(2);
    expect(result.duplicates.get('default')).toBe(2);
    await store.close();
    expect(await query(dbPath, `SELECT event FROM events WHERE message_id = 'same'`)).toEqual([
      { event: 'first' },
    ]);
  });

  it('stores the same messageId once per tenant (tenants are isolated)', async () => {
    const store = await openStore();
    const result = await store.append([
      makeStoredEvent({ tenant: 'a', messageId: 'shared' }),
      makeStoredEvent({ tenant: 'b', messageId: 'shared' }),
    ]);

    expect(result.stored).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
    expect(await store.countEvents('a')).toBe(1);
    expect(await store.countEvents('b')).toBe(1);
    expect(await store.findMessageIds('a', ['shared', 'missing'])).toEqual(new Set(['shared']));
    expect(await store.findMessageIds('c', ['shared'])).toEqual(new Set());
  });
});

describe('findMessageIds', () => {
  it('returns the stored subset of the given ids, and an empty set for no ids', async () => {
    const store = await openStore(':memory:');
    await store.append([
      makeStoredEvent({ messageId: 'm1' }),
      makeStoredEvent({ messageId: 'm2' }),
      makeStoredEvent({ messageId: 'm3' }),
    ]);

    expect(await store.findMessageIds('default', ['m1', 'm3', 'm9'])).toEqual(
      new Set(['m1', 'm3']),
    );
    expect(await store.findMessageIds('default', [])).toEqual(new Set());
  });
});

describe('identity links', () => {
  it('are recorded from events with both ids and from alias events, once each', async () => {
    const store = await openStore();
    await store.append([
      makeStoredEvent({ type: 'identify', anonymousId: 'anon-1', userId: 'user-1' }),
      makeStoredEvent({ type: 'track', anonymousId: 'anon-1', userId: 'user-1' }),
      makeStoredEvent({ type: 'track', anonymousId: 'anon-2', userId: null }),
      makeStoredEvent({
        type: 'alias',
        anonymousId: null,
        previousId: 'old-id',
        userId: 'user-2',
        timestamp: Date.UTC(2024, 0, 16),
      }),
      makeStoredEvent({ tenant: 'other', anonymousId: 'anon-9', userId: 'user-9' }),
    ]);
    await store.append([makeStoredEvent({ anonymousId: 'anon-1', userId: 'user-1' })]);

    expect(await store.identityLinks('default')).toEqual([
      { anonymousId: 'anon-1', userId: 'user-1' },
      { anonymousId: 'old-id', userId: 'user-2' },
    ]);
    expect(await store.identityLinks('other')).toEqual([
      { anonymousId: 'anon-9', userId: 'user-9' },
    ]);
  });

  it('record the earliest event time of the batch as first_seen', async () => {
    const store = await openStore();
    await store.append([
      makeStoredEvent({ anonymousId: 'a', userId: 'u', timestamp: Date.UTC(2024, 5, 2) }),
      makeStoredEvent({ anonymousId: 'a', userId: 'u', timestamp: Date.UTC(2024, 5, 1) }),
    ]);
    await store.close();

    expect(await query(dbPath, 'SELECT epoch_ms(first_seen) AS ms FROM identity_links')).toEqual([
      { ms: BigInt(Date.UTC(2024, 5, 1)) },
    ]);
  });
});

describe('first_seen of a link', () => {
  it('moves earlier when a later batch carries an older event (events arrive out of order)', async () => {
    const store = await openStore();
    const link = { anonymousId: 'a', userId: 'u' };
    await store.append([makeStoredEvent({ ...link, timestamp: Date.UTC(2024, 5, 3) })]);
    await store.append([makeStoredEvent({ ...link, timestamp: Date.UTC(2024, 5, 1) })]);
    await store.append([makeStoredEvent({ ...link, timestamp: Date.UTC(2024, 5, 2) })]);
    await store.close();

    expect(await query(dbPath, 'SELECT epoch_ms(first_seen) AS ms FROM identity_links')).toEqual([
      { ms: BigInt(Date.UTC(2024, 5, 1)) },
    ]);
  });
});

describe('seq and daily usage', () => {
  it('number stored rows in arrival order, across appends and reopening, skipping duplicates', async () => {
    const first = batch(3);
    let store = await openStore();
    await store.append(first);
    await store.append([first[0]!, ...batch(2)]);
    await store.close();
    store = await openStore();
    await store.append(batch(1));
    await store.close();

    const rows = await query(dbPath, 'SELECT seq FROM events ORDER BY seq');
    const seqs = rows.map((row) => Number(row.seq));
    expect(seqs).toHaveLength(6);
    expect(new Set(seqs).size).toBe(6);
    expect(seqs.slice(0, 3)).toEqual([1, 2, 3]);
    expect(seqs[5]).toBeGreaterThan(seqs[4]!);
  });

  it('count stored rows per tenant, UTC day and name, duplicates excluded', async () => {
    const store = await openStore();
    const day1 = Date.UTC(2024, 2, 10, 23, 59);
    const day2 = Date.UTC(2024, 2, 11, 0, 1);
    const rows = [
      makeStoredEvent({ event: 'Signed Up', timestamp: day1 }),
      makeStoredEvent({ event: 'Signed Up', timestamp: day2 }),
      makeStoredEvent({ event: 'Signed Up', timestamp: day2 }),
      makeStoredEvent({ type: 'identify', event: null, timestamp: day2 }),
      makeStoredEvent({ tenant: 'other', event: 'Signed Up', timestamp: day2 }),
    ];
    await store.append(rows);
    await store.append(rows.slice(0, 2)); // duplicates: not counted again
    await store.close();

    const usage = await query(
      dbPath,
      `SELECT tenant, CAST(day AS VARCHAR) AS day, event, count FROM daily_usage ORDER BY ALL`,
    );
    expect(usage).toEqual([
      { tenant: 'default', day: '2024-03-10', event: 'Signed Up', count: 1n },
      { tenant: 'default', day: '2024-03-11', event: 'Signed Up', count: 2n },
      { tenant: 'default', day: '2024-03-11', event: 'identify', count: 1n },
      { tenant: 'other', day: '2024-03-11', event: 'Signed Up', count: 1n },
    ]);
  });

  it('migration 2 numbers the rows a version-1 database already holds', async () => {
    await withConnection(dbPath, async (connection) => {
      await runMigrations(connection, migrations.slice(0, 1));
      await connection.run(`INSERT INTO events (tenant, message_id, type, "timestamp", received_at, properties, traits, context)
        VALUES ('default', 'old-1', 'track', now(), now(), '{}', '{}', '{}'),
               ('default', 'old-2', 'track', now(), now(), '{}', '{}', '{}')`);
    });
    const store = await openStore();
    await store.append(batch(1));
    await store.close();

    const rows = await query(dbPath, 'SELECT message_id, seq FROM events ORDER BY seq');
    expect(rows.map((row) => row.seq)).toEqual([1n, 2n, 3n]);
    expect(rows.slice(0, 2).map((row) => row.message_id)).toEqual(['old-1', 'old-2']);
  });
});

describe('persistence', () => {
  it('keeps events and links across close and reopen of the file', async () => {
    const rows = batch(10, { userId: 'user-1' });
    const first = await openStore();
    await first.append(rows);
    await first.close();

    const reopened = await openStore();
    expect(await reopened.countEvents('default')).toBe(10);
    expect(await reopened.identityLinks('default')).toEqual([
      { anonymousId: 'anon-1', userId: 'user-1' },
    ]);
    expect((await reopened.append(rows)).duplicates.get('default')).toBe(10);
  });

  it('keeps a resolved append when the process is killed with SIGKILL right after', async () => {
    const storeModule = pathToFileURL(
      fileURLToPath(new URL('../store/duckdb/duckdbStore.ts', import.meta.url)),
    ).href;
    const script = join(dir, 'kill.mts');
    writeFileSync(
      script,
      `import { createDuckDbStore } from ${JSON.stringify(storeModule)};
const store = await createDuckDbStore({ path: ${JSON.stringify(dbPath)} });
const rows = Array.from({ length: 1000 }, (_, i) => ({
  tenant: 'default', messageId: 'kill-' + i, type: 'track', event: 'e', timestamp: 1700000000000 + i,
  receivedAt: 1700000000000, sentAt: null, userId: 'u', anonymousId: 'a', sessionId: null,
  groupId: null, previousId: null, utmSource: null, utmMedium: null, utmCampaign: null,
  utmTerm: null, utmContent: null, referrerDomain: null, revenue: null, currency: null,
  browser: null, os: null, deviceType: null, ip: null, properties: '{}', traits: '{}', context: '{}',
}));
await store.append(rows);
process.stdout.write('appended\\n');
process.kill(process.pid, 'SIGKILL');
`,
    );
    const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: packageRoot });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, exitSignal) => resolve(exitSignal)),
    );

    expect(output).toContain('appended');
    expect(signal).toBe('SIGKILL');
    const store = await openStore();
    expect(await store.countEvents('default')).toBe(1000);
    expect(await store.identityLinks('default')).toEqual([{ anonymousId: 'a', userId: 'u' }]);
  }, 30_000);
});

describe('failed append', () => {
  it('rolls back the whole batch when a row violates NOT NULL, and the store keeps working', async () => {
    const store = await openStore();
    const bad = [
      makeStoredEvent({ anonymousId: 'anon-x', userId: 'user-x' }),
      makeStoredEvent(),
      makeStoredEvent({ tenant: 'other', type: null as unknown as StoredEvent['type'] }),
    ];

    await expect(store.append(bad)).rejects.toThrow(/NOT NULL/i);

    expect(await store.countEvents('default')).toBe(0);
    expect(await store.countEvents('other')).toBe(0);
    expect(await store.identityLinks('default')).toEqual([]);
    const good = await store.append(bad.slice(0, 2));
    expect(good.stored.get('default')).toBe(2);
    expect(await store.countEvents('default')).toBe(2);
  });

  it('rolls back when a row cannot even be staged (non-finite timestamp)', async () => {
    const store = await openStore(':memory:');
    await expect(
      store.append([makeStoredEvent(), makeStoredEvent({ timestamp: Number.NaN })]),
    ).rejects.toThrow(/Invalid timestamp/);

    expect(await store.countEvents('default')).toBe(0);
    await store.append([makeStoredEvent()]);
    expect(await store.countEvents('default')).toBe(1);
  });
});

describe('hostile strings', () => {
  it('are stored verbatim and leave the tables intact', async () => {
    const hostile = [
      `it's "quoted"`,
      'back\\slash \\\\ and \\n',
      `'; DROP TABLE events; --`,
      `"); DELETE FROM identity_links; --`,
      'nul\u0000inside\u0000',
      'emoji 👩‍💻🦆 and RTL \u202e',
      'x'.repeat(100 * 1024),
      '$1 $tenant ? %s',
    ];
    const store = await openStore();
    const rows = hostile.map((value, index) =>
      makeStoredEvent({
        tenant: value,
        messageId: value,
        event: value,
        userId: value,
        anonymousId: `anon-${index}`,
        utmCampaign: value,
        properties: JSON.stringify({ value }),
      }),
    );

    const result = await store.append(rows);

    for (const value of hostile) {
      expect(result.stored.get(value)).toBe(1);
      expect(await store.countEvents(value)).toBe(1);
      expect(await store.findMessageIds(value, [value])).toEqual(new Set([value]));
    }
    expect(await store.identityLinks(hostile[2] ?? '')).toEqual([
      { anonymousId: 'anon-2', userId: hostile[2] },
    ]);
    await store.close();

    const stored = await query(
      dbPath,
      `SELECT tenant, message_id, event, user_id, utm_campaign, properties->>'$.value' AS value
        FROM events ORDER BY anonymous_id`,
    );
    expect(stored).toEqual(
      hostile.map((value) => ({
        tenant: value,
        message_id: value,
        event: value,
        user_id: value,
        utm_campaign: value,
        value,
      })),
    );
    expect(await query(dbPath, 'SELECT count(*) AS n FROM identity_links')).toEqual([
      { n: BigInt(hostile.length) },
    ]);
  });
});

describe('bulk', () => {
  it('appends 50,000 rows across tenants in one batch', async () => {
    const store = await openStore();
    const rows = Array.from({ length: 50_000 }, (_, index) =>
      makeStoredEvent({
        tenant: `t${index % 3}`,
        anonymousId: `anon-${index % 1000}`,
        userId: index % 10 === 0 ? `user-${index % 1000}` : null,
        timestamp: Date.UTC(2024, 0, 1) + index * 1000,
        revenue: index % 7 === 0 ? index / 100 : null,
        properties: JSON.stringify({ index }),
      }),
    );

    const result = await store.append(rows);

    expect([...result.stored.values()].reduce((sum, n) => sum + n, 0)).toBe(50_000);
    expect(result.stored.get('t0')).toBe(16_667);
    expect(await store.countEvents('t0')).toBe(16_667);
    expect(await store.countEvents('t1')).toBe(16_667);
    expect(await store.countEvents('t2')).toBe(16_666);
    expect((await store.append(rows.slice(0, 100))).duplicates.get('t0')).toBe(34);
  }, 60_000);
});

describe('close', () => {
  it('makes further calls reject with a clear error, and is idempotent', async () => {
    const store = await openStore(':memory:');
    await store.close();
    await store.close();

    await expect(store.append([makeStoredEvent()])).rejects.toThrow(/store is closed/);
    await expect(store.countEvents('default')).rejects.toThrow(/store is closed/);
    await expect(store.findMessageIds('default', ['m'])).rejects.toThrow(/store is closed/);
    await expect(store.identityLinks('default')).rejects.toThrow(/store is closed/);
    await expect(store.ping()).rejects.toThrow(/store is closed/);
  });

  it('lets an append accepted before close finish and commit', async () => {
    const store = await openStore();
    const pending = store.append(batch(100));
    await store.close();

    expect((await pending).stored.get('default')).toBe(100);
    const reopened = await openStore();
    expect(await reopened.countEvents('default')).toBe(100);
  });
});
