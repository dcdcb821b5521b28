import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTimestampTZValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { AppendResult, Store, StoredEvent } from '../store';
import { runMigrations } from './migrations';

/** Options of {@link createDuckDbStore}. */
export interface DuckDbStoreOptions {
  /** Database file (its directory is created if missing), or `:memory:` for a throwaway store. */
  path: string;
}

/** How a `StoredEvent` field is appended to the staging table. */
type ColumnKind = 'text' | 'time' | 'number' | 'json';

interface Column {
  readonly name: string;
  readonly field: keyof StoredEvent;
  readonly kind: ColumnKind;
}

/** `events` columns in `StoredEvent` order; identifiers only, never values. */
const COLUMNS = [
  { name: 'tenant', field: 'tenant', kind: 'text' },
  { name: 'message_id', field: 'messageId', kind: 'text' },
  { name: 'type', field: 'type', kind: 'text' },
  { name: 'event', field: 'event', kind: 'text' },
  { name: '"timestamp"', field: 'timestamp', kind: 'time' },
  { name: 'received_at', field: 'receivedAt', kind: 'time' },
  { name: 'sent_at', field: 'sentAt', kind: 'time' },
  { name: 'user_id', field: 'userId', kind: 'text' },
  { name: 'anonymous_id', field: 'anonymousId', kind: 'text' },
  { name: 'session_id', field: 'sessionId', kind: 'text' },
  { name: 'group_id', field: 'groupId', kind: 'text' },
  { name: 'previous_id', field: 'previousId', kind: 'text' },
  { name: 'utm_source', field: 'utmSource', kind: 'text' },
  { name: 'utm_medium', field: 'utmMedium', kind: 'text' },
  { name: 'utm_campaign', field: 'utmCampaign', kind: 'text' },
  { name: 'utm_term', field: 'utmTerm', kind: 'text' },
  { name: 'utm_content', field: 'utmContent', kind: 'text' },
  { name: 'referrer_domain', field: 'referrerDomain', kind: 'text' },
  { name: 'revenue', field: 'revenue', kind: 'number' },
  { name: 'currency', field: 'currency', kind: 'text' },
  { name: 'browser', field: 'browser', kind: 'text' },
  { name: 'os', field: 'os', kind: 'text' },
  { name: 'device_type', field: 'deviceType', kind: 'text' },
  { name: 'ip', field: 'ip', kind: 'text' },
  { name: 'properties', field: 'properties', kind: 'json' },
  { name: 'traits', field: 'traits', kind: 'json' },
  { name: 'context', field: 'context', kind: 'json' },
] as const satisfies readonly Column[];

// Compile-time check that every StoredEvent field has a column.
type UnmappedField = Exclude<keyof StoredEvent, (typeof COLUMNS)[number]['field']>;
const allFieldsMapped: UnmappedField extends never ? true : UnmappedField = true;
void allFieldsMapped;

const STAGING = 'events_staging';
const COLUMN_LIST = COLUMNS.map((column) => column.name).join(', ');

const STAGING_TYPES: Record<ColumnKind, string> = {
  text: 'VARCHAR',
  time: 'TIMESTAMPTZ',
  number: 'DOUBLE',
  // Staged as text; the insert into events casts to JSON, which rejects invalid JSON.
  json: 'VARCHAR',
};

/**
 * Per-connection scratch table the appender bulk-loads a batch into. No constraints: NOT NULL and
 * the primary key are enforced when rows move into `events`. Temporary tables are not logged to
 * the WAL, so staging costs no disk I/O.
 */
const CREATE_STAGING_SQL = `CREATE OR REPLACE TEMP TABLE ${STAGING} (${COLUMNS.map(
  (column) => `${column.name} ${STAGING_TYPES[column.kind]}`,
).join(', ')})`;

/** Per-connection scratch table for the identity links of a batch appended straight to events. */
const LINKS_STAGING = 'identity_links_staging';
const CREATE_LINKS_STAGING_SQL = `CREATE OR REPLACE TEMP TABLE ${LINKS_STAGING} (
  tenant VARCHAR, anonymous_id VARCHAR, user_id VARCHAR, first_seen TIMESTAMPTZ)`;
const INSERT_STAGED_LINKS_SQL = `INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
  SELECT tenant, anonymous_id, user_id, first_seen FROM ${LINKS_STAGING}
  ON CONFLICT DO NOTHING`;

/**
 * How many recently committed (tenant, messageId) keys, and identity links, the store remembers in
 * memory. Client retries come within seconds to minutes, so a retried event is almost always found
 * here and never reaches DuckDB; see `#append`. About 100 bytes each.
 */
const RECENT_KEYS = 100_000;

/**
 * The slow path's move of the staged batch into events; rows whose key is already stored are skipped by the primary
 * key. The batch itself holds each key once (deduplicated in JS before staging), so no window
 * function is needed. `RETURNING tenant` is used only for batches of several tenants.
 */
const INSERT_EVENTS_SQL = `INSERT INTO events (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM ${STAGING}
  ON CONFLICT DO NOTHING`;
const INSERT_EVENTS_RETURNING_SQL = `${INSERT_EVENTS_SQL} RETURNING tenant`;

/**
 * anonymous_id → user_id for events carrying both, previous_id → user_id for aliases; first_seen
 * is the earliest event time of the link within the batch. An already recorded link is kept as is.
 */
const INSERT_LINKS_SQL = `INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
  SELECT tenant, anonymous_id, user_id, min(seen) FROM (
    SELECT tenant, anonymous_id, user_id, "timestamp" AS seen FROM ${STAGING}
      WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
    UNION ALL
    SELECT tenant, previous_id, user_id, "timestamp" FROM ${STAGING}
      WHERE type = 'alias' AND previous_id IS NOT NULL AND user_id IS NOT NULL
  )
  GROUP BY tenant, anonymous_id, user_id
  ON CONFLICT DO NOTHING`;

/**
 * Opens (creating if needed) the embedded DuckDB store at `options.path`, brings its schema up to
 * date and returns it. One process should open a file at a time (DuckDB locks it).
 *
 * Durability: `append` resolves only after `COMMIT` returns, and DuckDB's commit of a file-backed
 * database writes the transaction to the write-ahead log (`<file>.wal`) and fsyncs it before
 * returning (`WriteAheadLog::Flush` → `Sync`; or, when the commit triggers an automatic
 * checkpoint, writes and syncs the database file itself). On the next open DuckDB replays the WAL,
 * so a resolved append survives SIGKILL of the process and, as far as fsync is honoured by the
 * disk, power loss. `:memory:` stores keep nothing across restarts.
 *
 * Concurrency: writes go through one connection, one at a time (an internal promise chain), so
 * each `append` is its own transaction; reads use a second connection and only ever see committed
 * batches.
 *
 * @example
 * const store = await createDuckDbStore({ path: '.sightline/events.duckdb' });
 * const { stored, duplicates } = await store.append(rows); // committed and durable here
 * await store.close();
 */
export async function createDuckDbStore(options: DuckDbStoreOptions): Promise<Store> {
  const { path } = options;
  if (path !== ':memory:' && path !== '') {
    mkdirSync(dirname(path), { recursive: true });
  }
  const instance = await DuckDBInstance.create(path);
  const connections: DuckDBConnection[] = [];
  try {
    const writer = await instance.connect();
    connections.push(writer);
    // Before the reader connects, so it inherits the setting: untouched SQL on TIMESTAMPTZ
    // columns (date_trunc, casts) then works in UTC whatever the host's time zone.
    await writer.run(`SET GLOBAL TimeZone = 'UTC'`);
    // Checkpoints rewrite table and index blocks; at the default 16 MB of WAL they ran every few
    // seconds under load and cost ~25 % of write throughput (bench/collector). 64 MB keeps crash
    // recovery (WAL replay) to a few seconds.
    await writer.run(`SET GLOBAL checkpoint_threshold = '64MB'`);
    // DuckDB's buffer pool defaults to 80 % of RAM; the collector shares its process with the
    // HTTP server, so it gets a bounded share (spilling to disk past it).
    await writer.run(`SET GLOBAL memory_limit = '128MB'`);
    await runMigrations(writer);
    await writer.run(CREATE_STAGING_SQL);
    await writer.run(CREATE_LINKS_STAGING_SQL);
    const reader = await instance.connect();
    connections.push(reader);
    return new DuckDbStore(instance, writer, reader);
  } catch (error) {
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
    throw error;
  }
}

class DuckDbStore implements Store {
  readonly kind = 'duckdb';
  readonly #instance: DuckDBInstance;
  readonly #writer: DuckDBConnection;
  readonly #reader: DuckDBConnection;
  readonly #writes = createSerialQueue();
  readonly #reads = createSerialQueue();
  /** (tenant, messageId) keys committed lately, oldest first; see {@link RECENT_KEYS}. */
  readonly #recentKeys = createRecentSet(RECENT_KEYS);
  /** Identity links committed lately (tenant, anonymous id, user id). */
  readonly #recentLinks = createRecentSet(RECENT_KEYS);
  #closing: Promise<void> | undefined;

  constructor(instance: DuckDBInstance, writer: DuckDBConnection, reader: DuckDBConnection) {
    this.#instance = instance;
    this.#writer = writer;
    this.#reader = reader;
  }

  append(events: readonly StoredEvent[]): Promise<AppendResult> {
    return this.#run(this.#writes, () => this.#append(events));
  }

  findMessageIds(tenant: string, messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return this.#run(this.#reads, async () => new Set<string>());
    return this.#run(this.#reads, async () => {
      const reader = await this.#reader.runAndReadAll(
        'SELECT message_id FROM events WHERE tenant = $tenant AND message_id IN (SELECT unnest($ids))',
        { tenant, ids: listValue([...messageIds]) },
        { tenant: VARCHAR, ids: LIST(VARCHAR) },
      );
      return new Set(reader.getRowsJS().map((row) => String(row[0])));
    });
  }

  countEvents(tenant: string): Promise<number> {
    return this.#run(this.#reads, async () => {
      const reader = await this.#reader.runAndReadAll(
        'SELECT count(*) FROM events WHERE tenant = $tenant',
        { tenant },
        { tenant: VARCHAR },
      );
      return Number(reader.getRowsJS()[0]?.[0] ?? 0);
    });
  }

  identityLinks(tenant: string): Promise<Array<{ anonymousId: string; userId: string }>> {
    return this.#run(this.#reads, async () => {
      const reader = await this.#reader.runAndReadAll(
        `SELECT anonymous_id, user_id FROM identity_links WHERE tenant = $tenant
          ORDER BY first_seen, anonymous_id, user_id`,
        { tenant },
        { tenant: VARCHAR },
      );
      return reader
        .getRowsJS()
        .map((row) => ({ anonymousId: String(row[0]), userId: String(row[1]) }));
    });
  }

  ping(): Promise<void> {
    return this.#run(this.#reads, async () => {
      await this.#reader.run('SELECT 1');
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Let work accepted before close finish, then release the file lock.
      await Promise.all([this.#writes.idle(), this.#reads.idle()]);
      this.#reader.closeSync();
      this.#writer.closeSync();
      this.#instance.closeSync();
    })();
    return this.#closing;
  }

  #run<T>(queue: SerialQueue, task: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('The DuckDB store is closed.'));
    return queue.enqueue(task);
  }

  /**
   * Dedupe in two layers. Keys committed lately are remembered in memory, so a client's retry is
   * counted as a duplicate without touching DuckDB. The rest are appended straight into `events`
   * (the fast path: no staging copy, no `ON CONFLICT`), where the primary key still guards every
   * row: if one of them was stored before the store's memory begins (an old retry, a restart),
   * the append fails with a key violation, the transaction is rolled back, and the batch takes the
   * slow path, staging plus `INSERT … ON CONFLICT DO NOTHING`, which skips exactly the stored rows.
   */
  async #append(events: readonly StoredEvent[]): Promise<AppendResult> {
    const result: AppendResult = { stored: new Map(), duplicates: new Map() };
    if (events.length === 0) return result;
    const received = new Map<string, number>();
    // The first row of each (tenant, messageId) not known to be stored; later copies are duplicates.
    const seen = new Set<string>();
    const fresh: StoredEvent[] = [];
    const keys: string[] = [];
    for (const event of events) {
      received.set(event.tenant, (received.get(event.tenant) ?? 0) + 1);
      const key = `${event.tenant}\u0000${event.messageId}`;
      if (seen.has(key) || this.#recentKeys.has(key)) continue;
      seen.add(key);
      fresh.push(event);
      keys.push(key);
    }

    if (fresh.length > 0) {
      const stored = (await this.#appendFast(fresh)) ?? (await this.#appendStaged(fresh));
      for (const [tenant, count] of stored) result.stored.set(tenant, count);
      for (const key of keys) this.#recentKeys.add(key);
    }
    for (const [tenant, count] of received) {
      const stored = result.stored.get(tenant) ?? 0;
      result.stored.set(tenant, stored);
      result.duplicates.set(tenant, count - stored);
    }
    return result;
  }

  /**
   * Appends rows none of which the batch repeats straight into `events`, with their links, in one
   * transaction. Resolves with the rows stored per tenant, or undefined (everything rolled back)
   * when a row's key is already stored.
   */
  async #appendFast(events: readonly StoredEvent[]): Promise<Map<string, number> | undefined> {
    const connection = this.#writer;
    const links = this.#newLinks(events);
    await connection.run('BEGIN TRANSACTION');
    try {
      await this.#appendRows('events', undefined, events);
      if (links.length > 0) {
        const appender = await connection.createAppender(LINKS_STAGING, 'main', 'temp');
        try {
          for (const link of links) {
            appender.appendVarchar(link.tenant);
            appender.appendVarchar(link.anonymousId);
            appender.appendVarchar(link.userId);
            appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(link.firstSeen)));
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        await connection.run(INSERT_STAGED_LINKS_SQL);
        await connection.run(`DELETE FROM ${LINKS_STAGING}`);
      }
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => {});
      if (isKeyViolation(error)) return undefined;
      throw error;
    }
    for (const link of links) this.#recentLinks.add(link.key);
    const stored = new Map<string, number>();
    for (const event of events) stored.set(event.tenant, (stored.get(event.tenant) ?? 0) + 1);
    return stored;
  }

  /**
   * The identity links `events` carry that the store has not recorded lately, once each, with
   * the earliest event time of the batch: anonymousId → userId, and previousId → userId of aliases.
   */
  #newLinks(events: readonly StoredEvent[]): Link[] {
    const links = new Map<string, Link>();
    const add = (event: StoredEvent, anonymousId: string) => {
      const key = `${event.tenant}\u0000${anonymousId}\u0000${event.userId}`;
      if (this.#recentLinks.has(key)) return;
      const known = links.get(key);
      if (known) known.firstSeen = Math.min(known.firstSeen, event.timestamp);
      else {
        links.set(key, {
          key,
          tenant: event.tenant,
          anonymousId,
          userId: event.userId!,
          firstSeen: event.timestamp,
        });
      }
    };
    for (const event of events) {
      if (event.userId === null) continue;
      if (event.anonymousId !== null) add(event, event.anonymousId);
      if (event.type === 'alias' && event.previousId !== null) add(event, event.previousId);
    }
    return [...links.values()];
  }

  /** The slow path: stages the rows, then moves those not stored yet into events. */
  async #appendStaged(unique: readonly StoredEvent[]): Promise<Map<string, number>> {
    const stored = new Map<string, number>();
    const tenants = new Set(unique.map((event) => event.tenant));
    const links = unique.some(
      (event) => event.userId !== null && (event.anonymousId !== null || event.previousId !== null),
    );
    const connection = this.#writer;
    await connection.run('BEGIN TRANSACTION');
    try {
      await this.#appendRows(STAGING, 'temp', unique);
      if (tenants.size === 1) {
        const inserted = await connection.run(INSERT_EVENTS_SQL);
        stored.set(unique[0]!.tenant, Number(inserted.rowsChanged));
      } else {
        const inserted = await connection.runAndReadAll(INSERT_EVENTS_RETURNING_SQL);
        for (const [tenant] of inserted.getRowsJS()) {
          const key = String(tenant);
          stored.set(key, (stored.get(key) ?? 0) + 1);
        }
      }
      if (links) await connection.run(INSERT_LINKS_SQL);
      await connection.run(`DELETE FROM ${STAGING}`);
      await connection.run('COMMIT');
    } catch (error) {
      // Undoes the staging rows too. Fails harmlessly when a failed COMMIT already rolled back.
      await connection.run('ROLLBACK').catch(() => {});
      throw error;
    }
    return stored;
  }

  /** Appends `events` to `table` with an appender, inside the caller's transaction. */
  async #appendRows(
    table: string,
    catalog: 'temp' | undefined,
    events: readonly StoredEvent[],
  ): Promise<void> {
    const appender = await this.#writer.createAppender(table, 'main', catalog);
    try {
      for (const event of events) {
        for (const column of COLUMNS) appendValue(appender, column.kind, event[column.field]);
        appender.endRow();
      }
      appender.flushSync();
    } catch (error) {
      appender.clear(); // drop unflushed rows so closing does not try to flush them again
      throw error;
    } finally {
      appender.closeSync();
    }
  }
}

interface Link {
  key: string;
  tenant: string;
  anonymousId: string;
  userId: string;
  firstSeen: number;
}

/** DuckDB's error for a row whose primary key is already in the table. */
function isKeyViolation(error: unknown): boolean {
  return error instanceof Error && /violates primary key constraint/i.test(error.message);
}

interface RecentSet {
  has(key: string): boolean;
  /** Adds `key`, forgetting the oldest key once `capacity` are held. */
  add(key: string): void;
}

/**
 * A set of at most `capacity` strings that forgets the oldest first. The order is kept in a ring
 * of slots: evicting through a Set's own iterator would scan the tombstones that deletions leave
 * at the front of V8's hash table, and slow down as they pile up.
 */
function createRecentSet(capacity: number): RecentSet {
  const keys = new Set<string>();
  const ring: Array<string | undefined> = new Array(capacity);
  let next = 0;
  return {
    has: (key) => keys.has(key),
    add(key) {
      if (keys.has(key)) return;
      const oldest = ring[next];
      if (oldest !== undefined) keys.delete(oldest);
      ring[next] = key;
      next = (next + 1) % capacity;
      keys.add(key);
    },
  };
}

function appendValue(appender: DuckDBAppender, kind: ColumnKind, value: unknown): void {
  if (value === null || value === undefined) {
    appender.appendNull();
    return;
  }
  switch (kind) {
    case 'text':
    case 'json':
      appender.appendVarchar(requireType(value, 'string'));
      return;
    case 'number':
      appender.appendDouble(requireType(value, 'number'));
      return;
    case 'time':
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(value)));
      return;
  }
}

function requireType<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
): T extends 'string' ? string : number {
  if (typeof value !== type) throw new TypeError(`Expected a ${type}, got ${typeof value}.`);
  return value as T extends 'string' ? string : number;
}

/** Unix milliseconds (sub-millisecond fractions kept) to the microseconds DuckDB stores. */
function millisToMicros(value: unknown): bigint {
  const millis = requireType(value, 'number');
  if (!Number.isFinite(millis)) throw new RangeError(`Invalid timestamp: ${millis}.`);
  return BigInt(Math.round(millis * 1000));
}

interface SerialQueue {
  /** Runs `task` after every task enqueued before it has settled. */
  enqueue<T>(task: () => Promise<T>): Promise<T>;
  /** Resolves once every task enqueued so far has settled. */
  idle(): Promise<void>;
}

function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    enqueue(task) {
      const run = tail.then(task);
      tail = run.catch(() => {});
      return run;
    },
    idle: () => tail.then(() => {}),
  };
}
