import type { PoolClient } from 'pg';
import { triggerFunctionBody } from './activityHours';

/** One schema change, applied once per database, in ascending `version` order. */
export interface PostgresMigration {
  /** Positive, unique, ascending; recorded in `schema_migrations` once applied. */
  readonly version: number;
  /** What the migration does, for error messages. */
  readonly description: string;
  /** DDL/DML run inside the migration's transaction; may hold several statements. */
  readonly sql: string;
}

/**
 * The PostgreSQL schema, oldest first. Never edit an applied migration: append a new one.
 * Same tables and columns as the DuckDB store (see `../duckdb/migrations.ts`), with JSONB for the
 * JSON columns and `seq` an identity column (arrival order for keyset pagination).
 */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'create events, identity_links, daily_usage and erasure_audit',
    sql: `
      CREATE TABLE events (
        tenant TEXT NOT NULL,
        message_id TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT,
        "timestamp" TIMESTAMPTZ NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        sent_at TIMESTAMPTZ,
        user_id TEXT,
        anonymous_id TEXT,
        session_id TEXT,
        group_id TEXT,
        previous_id TEXT,
        utm_source TEXT,
        utm_medium TEXT,
        utm_campaign TEXT,
        utm_term TEXT,
        utm_content TEXT,
        referrer_domain TEXT,
        revenue DOUBLE PRECISION,
        currency TEXT,
        browser TEXT,
        os TEXT,
        device_type TEXT,
        ip TEXT,
        properties JSONB NOT NULL,
        traits JSONB NOT NULL,
        context JSONB NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        -- Exact dedupe: a messageId is stored once per tenant (INSERT … ON CONFLICT DO NOTHING).
        PRIMARY KEY (tenant, message_id)
      );
      CREATE INDEX events_tenant_timestamp ON events (tenant, "timestamp");
      CREATE INDEX events_tenant_event_timestamp ON events (tenant, event, "timestamp");
      CREATE INDEX events_tenant_seq ON events (tenant, seq);
      CREATE INDEX events_tenant_user ON events (tenant, user_id);
      CREATE INDEX events_tenant_anonymous ON events (tenant, anonymous_id);
      CREATE TABLE identity_links (
        tenant TEXT NOT NULL,
        anonymous_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        first_seen TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (tenant, anonymous_id, user_id)
      );
      CREATE INDEX identity_links_tenant_user ON identity_links (tenant, user_id);
      -- Per UTC day of the event's timestamp and name: outlives raw events (retention policy).
      CREATE TABLE daily_usage (
        tenant TEXT NOT NULL,
        day DATE NOT NULL,
        event TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (tenant, day, event)
      );
      CREATE TABLE erasure_audit (
        tenant TEXT NOT NULL,
        subject_hash TEXT NOT NULL,
        actor TEXT NOT NULL,
        erased_at TIMESTAMPTZ NOT NULL,
        events_deleted BIGINT NOT NULL,
        links_deleted BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'add the DuckDB functions the shared read SQL calls',
    sql: `
      -- Unix ms of an instant (DuckDB's epoch_ms), truncated like DuckDB's.
      CREATE FUNCTION epoch_ms(value TIMESTAMPTZ) RETURNS BIGINT
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN CAST(floor(extract(epoch FROM value) * 1000) AS BIGINT);
      -- An instant from Unix microseconds (DuckDB's one-argument make_timestamptz).
      CREATE FUNCTION make_timestamptz(micros BIGINT) RETURNS TIMESTAMPTZ
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN TIMESTAMPTZ 'epoch' + micros * INTERVAL '1 microsecond';
      -- DuckDB's first(value ORDER BY …): the first non-null value in the aggregate's order.
      CREATE FUNCTION sightline_first_value(state ANYELEMENT, value ANYELEMENT) RETURNS ANYELEMENT
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS 'SELECT state';
      CREATE AGGREGATE first(ANYELEMENT) (SFUNC = sightline_first_value, STYPE = ANYELEMENT);
    `,
  },
  {
    version: 3,
    description: 'add a covering index the metric queries read instead of the table',
    sql: `
      -- The columns the metric queries read (all but the JSON ones, a small part of each row), so
      -- they scan this index (an index-only scan) instead of the whole table.
      CREATE INDEX events_tenant_timestamp_metrics ON events (tenant, "timestamp")
        INCLUDE (user_id, anonymous_id, type, event, revenue);
    `,
  },
  {
    version: 4,
    description: 'add the activity_hours rollup, kept by a trigger on events',
    sql: `
      CREATE TABLE activity_hours (
        tenant TEXT NOT NULL,
        hour TIMESTAMPTZ NOT NULL,
        user_id TEXT NOT NULL,
        anonymous_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        events BIGINT NOT NULL,
        revenue_count BIGINT NOT NULL,
        revenue_micros NUMERIC NOT NULL,
        revenue_large DOUBLE PRECISION NOT NULL,
        first_touch_at TIMESTAMPTZ,
        first_touch JSONB,
        last_touch_at TIMESTAMPTZ,
        last_touch JSONB,
        signup_first_at TIMESTAMPTZ,
        payments BIGINT NOT NULL,
        payment_first_at TIMESTAMPTZ,
        payment_last_at TIMESTAMPTZ,
        ad_spend_count BIGINT NOT NULL,
        ad_spend_micros NUMERIC NOT NULL,
        ad_spend_large DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (tenant, hour, user_id, anonymous_id, session_id)
      );
      -- The names the rollup's signup, payment and ad spend columns are for: one row, written when
      -- a collector fills the rollup (store/postgres/activityHours.ts).
      CREATE TABLE activity_events (
        signup_event TEXT NOT NULL,
        payment_event TEXT NOT NULL,
        ad_spend_event TEXT NOT NULL
      );
      CREATE FUNCTION sightline_activity_hours() RETURNS trigger LANGUAGE plpgsql AS $body$${triggerFunctionBody()}$body$;
      CREATE TRIGGER events_activity_hours AFTER INSERT ON events
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION sightline_activity_hours();
    `,
  },
];

/** Serialises migrations of several collectors starting at once on one database. */
const MIGRATION_LOCK = 7_263_541_001;

/**
 * Brings the schema up to date: the pending migrations and their `schema_migrations` rows in one
 * transaction (PostgreSQL's DDL is transactional: a failure leaves nothing of any of them), under a
 * transaction-scoped advisory lock so collectors starting together apply each once. Idempotent.
 * Rejects, changing nothing, when the database holds a version newer than any in `list`.
 *
 * @example
 * await runPostgresMigrations(client); // [1, 2] on a new database, [] from then on
 */
export async function runPostgresMigrations(
  client: PoolClient,
  list: readonly PostgresMigration[] = postgresMigrations,
): Promise<number[]> {
  const known = Math.max(0, ...list.map((migration) => migration.version));
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const result = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(result.rows.map((row) => Number(row.version)));
    const tooNew = [...done].filter((version) => version > known);
    if (tooNew.length > 0) {
      throw new Error(
        `Database schema version ${Math.max(...tooNew)} is newer than this collector supports (${known}); upgrade the collector.`,
      );
    }
    for (const migration of list) {
      if (done.has(migration.version)) continue;
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(
          `Schema migration ${migration.version} (${migration.description}) failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
        migration.version,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
