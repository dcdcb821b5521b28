import type { DuckDBConnection } from '@duckdb/node-api';
import {
  ACTIVITY_EVENTS_DDL,
  ACTIVITY_HOURS_DDL,
  REBUILD_IDENTITY_FIRSTS_SQL,
} from './activityHours';

/** One schema change, applied once per database, in ascending `version` order. */
export interface Migration {
  /** Positive, unique, ascending; recorded in `schema_migrations` once applied. */
  readonly version: number;
  /** What the migration does, for error messages. */
  readonly description: string;
  /** DDL/DML to run inside the migration's transaction; may hold several statements. */
  readonly sql: string;
}

/**
 * The DuckDB schema, oldest first. Never edit an applied migration: append a new one.
 *
 * Time type choice: every event time is `TIMESTAMPTZ` (an instant, stored as UTC microseconds).
 * - `ts AT TIME ZONE 'Europe/Paris'` turns it into local wall-clock time (a plain `TIMESTAMP`),
 *   so a metric in the caller's `tz` is `date_trunc('day', ts AT TIME ZONE $tz)`, in one step;
 *   with a plain `TIMESTAMP` holding UTC it would take two (`(ts AT TIME ZONE 'UTC') AT TIME ZONE
 *   $tz`), and forgetting the first silently shifts every bucket.
 * - Arithmetic and `date_trunc` directly on a `TIMESTAMPTZ` follow the session's `TimeZone`
 *   setting; the store sets it to `UTC` when it opens, so untouched SQL buckets by UTC day,
 *   DESIGN's default. `epoch_ms(ts)` gives back the Unix milliseconds of `StoredEvent`.
 * `identity_links.first_seen` uses the same type so it compares with `events.timestamp` directly.
 * `schema_migrations.applied_at` is bookkeeping only: a `TIMESTAMP` holding UTC.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'create events and identity_links',
    sql: `
      CREATE TABLE events (
        tenant VARCHAR NOT NULL,
        message_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        "timestamp" TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        session_id VARCHAR,
        group_id VARCHAR,
        previous_id VARCHAR,
        utm_source VARCHAR,
        utm_medium VARCHAR,
        utm_campaign VARCHAR,
        utm_term VARCHAR,
        utm_content VARCHAR,
        referrer_domain VARCHAR,
        revenue DOUBLE,
        currency VARCHAR,
        browser VARCHAR,
        os VARCHAR,
        device_type VARCHAR,
        ip VARCHAR,
        properties JSON NOT NULL,
        traits JSON NOT NULL,
        context JSON NOT NULL,
        -- Exact dedupe: a messageId is stored once per tenant.
        PRIMARY KEY (tenant, message_id)
      );
      CREATE TABLE identity_links (
        tenant VARCHAR NOT NULL,
        anonymous_id VARCHAR NOT NULL,
        user_id VARCHAR NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (tenant, anonymous_id, user_id)
      );
    `,
  },
  {
    version: 2,
    description: 'add events.seq, daily_usage and erasure_audit',
    sql: `
      -- Arrival order, assigned by the store at commit: keyset pagination over it is stable
      -- while events keep arriving (new rows always sort after every page already read).
      ALTER TABLE events ADD COLUMN seq BIGINT;
      UPDATE events SET seq = rowid + 1;
      -- Per UTC day of the event's timestamp and name: outlives raw events (retention policy).
      CREATE TABLE daily_usage (
        tenant VARCHAR NOT NULL,
        day DATE NOT NULL,
        event VARCHAR NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (tenant, day, event)
      );
      CREATE TABLE erasure_audit (
        tenant VARCHAR NOT NULL,
        subject_hash VARCHAR NOT NULL,
        actor VARCHAR NOT NULL,
        erased_at TIMESTAMPTZ NOT NULL,
        events_deleted BIGINT NOT NULL,
        links_deleted BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'add activity_hours, the hourly activity rollup',
    // The table as version 3 created it. Its backfill from the events is gone: version 4
    // replaces the table, and the store fills it when it opens (ensureActivityEvents), so a
    // database at version 2 ends as one at version 3 does.
    sql: `CREATE TABLE activity_hours (
      tenant VARCHAR NOT NULL,
      hour TIMESTAMPTZ NOT NULL,
      user_id VARCHAR NOT NULL,
      anonymous_id VARCHAR NOT NULL,
      session_id VARCHAR NOT NULL,
      events BIGINT NOT NULL,
      revenue_count BIGINT NOT NULL,
      revenue_micros HUGEINT NOT NULL,
      revenue_large DOUBLE NOT NULL,
      first_touch_at TIMESTAMPTZ,
      first_touch STRUCT(utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, referrer_domain VARCHAR),
      last_touch_at TIMESTAMPTZ,
      last_touch STRUCT(utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, referrer_domain VARCHAR),
      PRIMARY KEY (tenant, hour, user_id, anonymous_id, session_id)
    );`,
  },
  {
    version: 4,
    description:
      'activity_hours keeps signup and payment times; activity_events records their names',
    // The table is rebuilt from the events when the store opens (no names recorded yet).
    sql: `DROP TABLE activity_hours;\n${ACTIVITY_HOURS_DDL};\n${ACTIVITY_EVENTS_DDL};`,
  },
  {
    version: 5,
    description: 'add identity_firsts, the first hour and touch of each (userId, anonymousId)',
    // Filled from the rollup as it stands; a database migrated from before version 4 gets its
    // rollup, and these rows with it, when the store opens (ensureActivityEvents).
    sql: `${REBUILD_IDENTITY_FIRSTS_SQL.join(';\n')};`,
  },
];

/**
 * Brings the schema up to date: creates `schema_migrations` if missing, then applies each
 * migration of `list` whose version is not recorded yet, each in its own transaction together
 * with its `schema_migrations` row, so a crash leaves either all or nothing of a migration.
 * Idempotent: on an up-to-date database it changes nothing. Resolves with the versions it applied.
 * Rejects, changing nothing, when the database holds a version newer than any in `list` (a newer
 * collector wrote it).
 *
 * @example
 * const connection = await (await DuckDBInstance.create('events.duckdb')).connect();
 * await runMigrations(connection); // [1] on a new file
 * await runMigrations(connection); // [] from then on
 */
export async function runMigrations(
  connection: DuckDBConnection,
  list: readonly Migration[] = migrations,
): Promise<number[]> {
  assertOrdered(list);
  await connection.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)',
  );
  const known = Math.max(0, ...list.map((migration) => migration.version));
  const newest = await appliedVersions(connection);
  const tooNew = [...newest].filter((version) => version > known);
  if (tooNew.length > 0) {
    throw new Error(
      `Database schema version ${Math.max(...tooNew)} is newer than this collector supports (${known}); upgrade the collector.`,
    );
  }
  const applied: number[] = [];
  for (const migration of list) {
    await connection.run('BEGIN TRANSACTION');
    try {
      // Re-read inside the transaction: another connection may have applied it meanwhile.
      if ((await appliedVersions(connection)).has(migration.version)) {
        await connection.run('ROLLBACK');
        continue;
      }
      await connection.run(migration.sql);
      await connection.run(
        `INSERT INTO schema_migrations (version, applied_at) VALUES ($version, now() AT TIME ZONE 'UTC')`,
        { version: migration.version },
      );
      await connection.run('COMMIT');
      applied.push(migration.version);
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => {});
      throw new Error(
        `Schema migration ${migration.version} (${migration.description}) failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
  return applied;
}

async function appliedVersions(connection: DuckDBConnection): Promise<Set<number>> {
  const reader = await connection.runAndReadAll('SELECT version FROM schema_migrations');
  return new Set(reader.getRowsJS().map((row) => Number(row[0])));
}

function assertOrdered(list: readonly Migration[]): void {
  list.forEach((migration, index) => {
    const previous = list[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new Error(`Migration version ${migration.version} must be a positive integer.`);
    }
    if (previous !== undefined && migration.version <= previous.version) {
      throw new Error(
        `Migrations must be in strictly ascending version order (${previous.version} then ${migration.version}).`,
      );
    }
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
