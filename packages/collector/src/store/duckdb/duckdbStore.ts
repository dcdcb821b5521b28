import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import { ConfigurationError } from '@sightline/core';
import { duckdbDialect } from '../../query/dialect';
import type { ActivityEvents } from '../activityRollup';
import { importHistoryStatements } from '../importHistory';
import type {
  AppendResult,
  Row,
  SqlStatement,
  SqlValue,
  Store,
  StoredEvent,
  StoreHistory,
} from '../store';
import { ensureActivityEvents } from './activityHours';
import { type Deleted, eraseSubject, inTransaction, pruneBefore, run } from './duckdbDeletes';
import { DuckDbWriter } from './duckdbWriter';
import { runMigrations } from './migrations';

/** Options of {@link createDuckDbStore}. */
export interface DuckDbStoreOptions {
  /** Database file (its directory is created if missing), or `:memory:` for a throwaway store. */
  path: string;
  /**
   * DuckDB's buffer pool limit, e.g. `512MB` or `2GB`. Default `1GB`: enough for the read API's
   * aggregations over tens of millions of events without spilling, while the collector shares its
   * process with the app (DuckDB's own default is 80 % of RAM).
   */
  memoryLimit?: string;
  /**
   * The KPIs' signup, payment and ad spend event names, whose times and amounts the
   * `activity_hours` rollup keeps for the dashboard (the collector passes its `kpis` options).
   * Opening a file whose rollup holds other names rebuilds it from the events. Default: the
   * names the file holds, or `signup_completed`, `payment_completed` and `ad_spend` for a new one.
   */
  activityEvents?: ActivityEvents;
}

/** Read connections of a store. */
const READERS = 2;

/** The default of {@link DuckDbStoreOptions.memoryLimit}. */
export const DEFAULT_MEMORY_LIMIT = '1GB';
const MEMORY_LIMIT = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

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
 * each `append` is its own transaction; reads use two more connections (each read runs on the
 * first one free) and only ever see committed batches.
 *
 * @example
 * const store = await createDuckDbStore({ path: '.sightline/events.duckdb' });
 * const { stored, duplicates } = await store.append(rows); // committed and durable here
 * await store.close();
 */
export async function createDuckDbStore(options: DuckDbStoreOptions): Promise<Store> {
  const { path } = options;
  const memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  if (!MEMORY_LIMIT.test(memoryLimit)) {
    throw new ConfigurationError(
      'memory_limit',
      `"${memoryLimit}" is not a size: use a number and a unit, e.g. 512MB or 2GB`,
    );
  }
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
    // app, so it gets a bounded share (spilling to disk past it). Validated above: a size.
    await writer.run(`SET GLOBAL memory_limit = '${memoryLimit}'`);
    await runMigrations(writer);
    const activityEvents = await ensureActivityEvents(writer, options.activityEvents);
    const writes = await DuckDbWriter.create(writer, activityEvents);
    // Two read connections sharing one queue: a page's requests overlap (one query's
    // single-threaded phases, result conversion and the next query's scan), as DuckDB runs
    // queries of several connections at once.
    const readers: DuckDBConnection[] = [];
    for (let index = 0; index < READERS; index++) {
      const reader = await instance.connect();
      connections.push(reader);
      readers.push(reader);
    }
    return new DuckDbStore(instance, writer, writes, readers, activityEvents);
  } catch (error) {
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
    throw error;
  }
}

class DuckDbStore implements Store {
  readonly kind = 'duckdb';
  readonly activityHours = true;
  readonly identityFirsts = true;
  readonly activityEvents: ActivityEvents;
  readonly #instance: DuckDBInstance;
  readonly #writer: DuckDBConnection;
  readonly #writes: DuckDbWriter;
  readonly #readers: ConnectionPool;
  readonly #writeQueue = createSerialQueue();
  #closing: Promise<void> | undefined;

  constructor(
    instance: DuckDBInstance,
    writer: DuckDBConnection,
    writes: DuckDbWriter,
    readers: readonly DuckDBConnection[],
    activityEvents: ActivityEvents,
  ) {
    this.activityEvents = activityEvents;
    this.#instance = instance;
    this.#writer = writer;
    this.#writes = writes;
    this.#readers = createConnectionPool(readers);
  }

  append(events: readonly StoredEvent[]): Promise<AppendResult> {
    return this.#run(this.#writeQueue, () => this.#writes.append(events));
  }

  eraseUser(tenant: string, userId: string, actor: string): Promise<Deleted> {
    return this.#deleteOnWriter(() => eraseSubject(this.#writer, tenant, userId, actor));
  }

  prune(olderThanMs: number): Promise<Deleted> {
    return this.#deleteOnWriter(() => pruneBefore(this.#writer, olderThanMs, this.activityEvents));
  }

  importHistory(history: StoreHistory): Promise<void> {
    return this.#run(this.#writeQueue, async () => {
      try {
        await inTransaction(this.#writer, async () => {
          for (const statement of importHistoryStatements(duckdbDialect, history)) {
            await run(this.#writer, statement);
          }
        });
      } finally {
        this.#writes.forget();
      }
    });
  }

  /** Deletes on the write connection, between appends; the writer then forgets what it remembered. */
  #deleteOnWriter(task: () => Promise<Deleted>): Promise<Deleted> {
    return this.#run(this.#writeQueue, async () => {
      try {
        return await task();
      } finally {
        // Remembered keys and links may name deleted rows: a resent event must be stored again.
        this.#writes.forget();
      }
    });
  }

  query(statement: SqlStatement): Promise<Row[]> {
    return this.#read(async (connection) => {
      const reader = await connection.runAndReadAll(statement.text, bindValues(statement));
      return reader.getRowObjectsJS().map(plainRow);
    });
  }

  writeCsv(statement: SqlStatement, path: string): Promise<void> {
    return this.#read(async (connection) => {
      // COPY takes a literal file name, not a parameter: quotes doubled, as SQL string literals.
      const file = `'${path.replaceAll("'", "''")}'`;
      await connection.run(
        `COPY (${statement.text}) TO ${file} (FORMAT csv, HEADER false, NEW_LINE '\r\n')`,
        bindValues(statement),
      );
    });
  }

  findMessageIds(tenant: string, messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return this.#read(async () => new Set<string>());
    return this.#read(async (connection) => {
      const reader = await connection.runAndReadAll(
        'SELECT message_id FROM events WHERE tenant = $tenant AND message_id IN (SELECT unnest($ids))',
        { tenant, ids: listValue([...messageIds]) },
        { tenant: VARCHAR, ids: LIST(VARCHAR) },
      );
      return new Set(reader.getRowsJS().map((row) => String(row[0])));
    });
  }

  countEvents(tenant: string): Promise<number> {
    return this.#read(async (connection) => {
      const reader = await connection.runAndReadAll(
        'SELECT count(*) FROM events WHERE tenant = $tenant',
        { tenant },
        { tenant: VARCHAR },
      );
      return Number(reader.getRowsJS()[0]?.[0] ?? 0);
    });
  }

  identityLinks(tenant: string): Promise<Array<{ anonymousId: string; userId: string }>> {
    return this.#read(async (connection) => {
      const reader = await connection.runAndReadAll(
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
    return this.#read(async (connection) => {
      await connection.run('SELECT 1');
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Let work accepted before close finish, then release the file lock.
      await Promise.all([this.#writeQueue.idle(), this.#readers.idle()]);
      for (const connection of this.#readers.connections) connection.closeSync();
      this.#writer.closeSync();
      this.#instance.closeSync();
    })();
    return this.#closing;
  }

  /** Runs `task` on the first read connection that is free. */
  #read<T>(task: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('The DuckDB store is closed.'));
    return this.#readers.run(task);
  }

  #run<T>(queue: SerialQueue, task: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('The DuckDB store is closed.'));
    return queue.enqueue(task);
  }
}

function bindValues(statement: SqlStatement): DuckDBValue[] {
  return statement.values.map(
    (value): DuckDBValue =>
      isList(value) ? listValue([...value]) : (value as Exclude<SqlValue, readonly string[]>),
  );
}

function isList(value: SqlValue): value is readonly string[] {
  return Array.isArray(value);
}

/** A result row with BIGINT/HUGEINT counts as plain numbers (exact up to 2^53). */
function plainRow(row: Record<string, unknown>): Row {
  for (const [key, value] of Object.entries(row)) {
    if (typeof value === 'bigint') row[key] = Number(value);
  }
  return row;
}

/** Read connections sharing one queue of tasks: each task runs on the first connection free. */
interface ConnectionPool {
  readonly connections: readonly DuckDBConnection[];
  run<T>(task: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
  /** Resolves once every task run so far has settled. */
  idle(): Promise<void>;
}

/**
 * A {@link ConnectionPool}. Tasks are taken in arrival order by whichever connection finishes
 * first, so a request never waits behind a long query on one connection while another is idle
 * (the dashboard's last panel did, with a queue per connection chosen on arrival).
 */
function createConnectionPool(connections: readonly DuckDBConnection[]): ConnectionPool {
  const free = [...connections];
  const waiting: Array<(connection: DuckDBConnection) => void> = [];
  let idle: Array<() => void> = [];
  const release = (connection: DuckDBConnection) => {
    const next = waiting.shift();
    if (next) return next(connection);
    free.push(connection);
    if (free.length === connections.length) {
      for (const resolve of idle) resolve();
      idle = [];
    }
  };
  return {
    connections,
    async run(task) {
      const connection =
        free.pop() ?? (await new Promise<DuckDBConnection>((resolve) => waiting.push(resolve)));
      try {
        return await task(connection);
      } finally {
        release(connection);
      }
    },
    // Every connection free means nothing runs and nothing waits.
    idle: () =>
      free.length === connections.length
        ? Promise.resolve()
        : new Promise<void>((resolve) => idle.push(resolve)),
  };
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
