import { writeFile } from 'node:fs/promises';
import pg from 'pg';
import { postgresDialect } from '../../query/postgresDialect';
import { render } from '../../query/sql';
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
import { ensureActivityEvents, recordedActivityEvents } from './activityHours';
import { csvRecord } from './csvRecord';
import { runPostgresMigrations } from './migrations';
import { eraseSubject, inTransaction, pruneBefore } from './postgresDeletes';
import { appendEvents, withoutNul } from './postgresWriter';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db` (node-postgres connection string, `?sslmode=` and all). */
  url: string;
  /** Connections for reads (appends and deletes use one more, one at a time). Default 4. */
  readConnections?: number;
  /**
   * The KPIs' signup, payment and ad spend event names the `activity_hours` rollup keeps figures
   * of; other names than the recorded ones rebuild it on open. Default: the names recorded, or
   * the collector's defaults on a new database.
   */
  activityEvents?: ActivityEvents;
  /**
   * How often the store re-reads the recorded names (ms, default 5000): another collector started
   * with other names rebuilds the rollup for them, and queries must then see they changed.
   */
  activityEventsRefreshMs?: number;
}

/** Counts (int8) and numeric sums as numbers (exact up to 2^53), DATEs as `YYYY-MM-DD` text. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return Number;
    if (oid === pg.types.builtins.DATE) return String;
    return format === 'binary'
      ? pg.types.getTypeParser(oid, 'binary')
      : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

/**
 * Connects to the PostgreSQL database at `options.url` (15 or newer), brings its schema up to
 * date and returns the store.
 *
 * Durability: `append` resolves only after `COMMIT` returned, i.e. after PostgreSQL flushed the
 * transaction to its WAL (with the server's default `synchronous_commit = on`).
 *
 * Concurrency: appends, erasures and prunes go through one connection, one at a time, each its own
 * transaction; reads use a pool and see only committed rows.
 *
 * @example
 * const store = await createPostgresStore({ url: 'postgres://sightline:secret@127.0.0.1:5432/analytics' });
 * await store.append(rows); // committed here
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const config: pg.PoolConfig = {
    connectionString: options.url,
    // Untouched SQL on TIMESTAMPTZ buckets by UTC day, and DATEs read back as YYYY-MM-DD. No JIT:
    // compiling a metric query's expressions took longer than running them (0.4–0.9 s each).
    options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c jit=off',
    types: TYPES,
  };
  const reads = new pg.Pool({ ...config, max: options.readConnections ?? 4 });
  const writes = new pg.Pool({ ...config, max: 1 });
  // An idle pooled connection that drops (server restart) must not crash the process.
  reads.on('error', () => {});
  writes.on('error', () => {});
  try {
    const client = await writes.connect();
    let activityEvents: ActivityEvents;
    try {
      await runPostgresMigrations(client);
      activityEvents = await ensureActivityEvents(client, options.activityEvents);
    } finally {
      client.release();
    }
    return new PostgresStore(
      reads,
      writes,
      activityEvents,
      options.activityEventsRefreshMs ?? 5_000,
    );
  } catch (error) {
    await Promise.allSettled([reads.end(), writes.end()]);
    throw error;
  }
}

class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly activityHours = true;
  #activityEvents: ActivityEvents;
  readonly #refresh: ReturnType<typeof setInterval>;
  readonly #reads: pg.Pool;
  readonly #writes: pg.Pool;
  #writeTail: Promise<unknown> = Promise.resolve();
  readonly #pending = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(reads: pg.Pool, writes: pg.Pool, activityEvents: ActivityEvents, refreshMs: number) {
    this.#activityEvents = activityEvents;
    this.#reads = reads;
    this.#writes = writes;
    this.#refresh = setInterval(() => {
      // A failed read changes nothing: the store's health shows on the next request.
      this.#read(() => recordedActivityEvents(this.#reads)).then(
        (names) => {
          if (names) this.#activityEvents = names;
        },
        () => {},
      );
    }, refreshMs);
    this.#refresh.unref();
  }

  /** The names the rollup holds figures of, as recorded when last read (see the refresh). */
  get activityEvents(): ActivityEvents {
    return this.#activityEvents;
  }

  append(events: readonly StoredEvent[]): Promise<AppendResult> {
    return this.#write((client) => appendEvents(client, events));
  }

  eraseUser(tenant: string, userId: string, actor: string) {
    return this.#write((client) => eraseSubject(client, tenant, userId, actor));
  }

  prune(olderThanMs: number) {
    return this.#write((client) => pruneBefore(client, olderThanMs));
  }

  importHistory(history: StoreHistory): Promise<void> {
    return this.#write((client) =>
      inTransaction(client, async () => {
        for (const fragment of importHistoryStatements(postgresDialect, history)) {
          const statement = render(fragment);
          await client.query(statement.text, bindValues(statement));
        }
      }),
    );
  }

  async query(statement: SqlStatement): Promise<Row[]> {
    const result = await this.#read(() => this.#reads.query(statement.text, bindValues(statement)));
    return result.rows;
  }

  /**
   * Unlike DuckDB's `COPY … TO`, rows come to JavaScript (node-postgres has no COPY TO STDOUT
   * without `pg-copy-streams`) and are written with the same RFC 4180 rules: the statement is
   * paged by the caller (10,000 rows per file), so a file's rows fit in memory.
   */
  async writeCsv(statement: SqlStatement, path: string): Promise<void> {
    const result = await this.#read(() =>
      this.#reads.query({
        text: statement.text,
        values: bindValues(statement),
        rowMode: 'array',
      }),
    );
    const text = (result.rows as unknown[][]).map(csvRecord).join('');
    await writeFile(path, text, { flag: 'wx' });
  }

  async findMessageIds(tenant: string, messageIds: readonly string[]): Promise<Set<string>> {
    if (messageIds.length === 0) return new Set();
    const result = await this.#read(() =>
      this.#reads.query<{ message_id: string }>(
        'SELECT message_id FROM events WHERE tenant = $1 AND message_id = ANY(CAST($2 AS TEXT[]))',
        [withoutNul(tenant), messageIds.map(withoutNul)],
      ),
    );
    return new Set(result.rows.map((row) => row.message_id));
  }

  async countEvents(tenant: string): Promise<number> {
    const result = await this.#read(() =>
      this.#reads.query<{ count: number }>(
        'SELECT count(*) AS count FROM events WHERE tenant = $1',
        [withoutNul(tenant)],
      ),
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  async identityLinks(tenant: string): Promise<Array<{ anonymousId: string; userId: string }>> {
    const result = await this.#read(() =>
      this.#reads.query<{ anonymous_id: string; user_id: string }>(
        `SELECT anonymous_id, user_id FROM identity_links WHERE tenant = $1
          ORDER BY first_seen, anonymous_id, user_id`,
        [withoutNul(tenant)],
      ),
    );
    return result.rows.map((row) => ({ anonymousId: row.anonymous_id, userId: row.user_id }));
  }

  async ping(): Promise<void> {
    await this.#read(() => this.#reads.query('SELECT 1'));
  }

  close(): Promise<void> {
    clearInterval(this.#refresh);
    this.#closing ??= (async () => {
      // Let work accepted before close finish, then disconnect.
      await Promise.allSettled([this.#writeTail, ...this.#pending]);
      await Promise.all([this.#reads.end(), this.#writes.end()]);
    })();
    return this.#closing;
  }

  /** Runs `task` on the write connection after every write enqueued before it has settled. */
  #write<T>(task: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('The PostgreSQL store is closed.'));
    const run = this.#writeTail.then(async () => {
      const client = await this.#writes.connect();
      let broken: Error | undefined;
      try {
        return await task(client);
      } catch (error) {
        // A connection lost mid-transaction is discarded rather than reused.
        if (isConnectionError(error)) broken = error as Error;
        throw error;
      } finally {
        client.release(broken);
      }
    });
    this.#writeTail = run.catch(() => {});
    return run;
  }

  #read<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new Error('The PostgreSQL store is closed.'));
    const run = task();
    this.#pending.add(run);
    const forget = () => this.#pending.delete(run);
    run.then(forget, forget);
    return run;
  }
}

/** Values as node-postgres binds them: lists as text arrays, text without U+0000. */
function bindValues(statement: SqlStatement): unknown[] {
  return statement.values.map((value: SqlValue) =>
    Array.isArray(value)
      ? value.map(withoutNul)
      : typeof value === 'string'
        ? withoutNul(value)
        : value,
  );
}

/** A client-side or network failure (PostgreSQL's own errors carry a `severity`). */
function isConnectionError(error: unknown): boolean {
  return error instanceof Error && !('severity' in error);
}
