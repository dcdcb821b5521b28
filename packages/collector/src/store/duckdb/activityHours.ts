import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { subjectActivity } from '../../privacy/subject';
import { duckdbDialect } from '../../query/dialect';
import { raw, render, type Sql, sql } from '../../query/sql';
import {
  type ActivityEvents,
  activityRowSelect,
  DEFAULT_ACTIVITY_EVENTS,
  MERGE_ACTIVITY_ROWS,
  sameActivityEvents,
} from '../activityRollup';

/** A touch's channel, as `SqlDialect.pack` builds it for attribution. */
const TOUCH =
  'STRUCT(utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, referrer_domain VARCHAR)';

/**
 * `activity_hours`: the DuckDB store's rollup of `events` per tenant, UTC hour and
 * (userId, anonymousId, sessionId), kept in the transaction of every write that changes `events`.
 * The dashboard's activity metrics read it instead of the raw events (about 10 events per row in
 * the bench's data; see query/activity.ts for when a query may use it).
 *
 * A missing id is stored as `''` (ingest turns an empty id into a missing one, so `''` never is
 * one) because a primary key column cannot hold NULL. Revenue is kept in the parts of
 * `SqlDialect.sumAmounts`, so sums over the rollup equal sums over the events: track events with
 * a revenue (`revenue_count`), amounts below 1e9 in size as integer millionths
 * (`revenue_micros`), larger ones as doubles (`revenue_large`). The earliest and the latest
 * touch of the row's events (an event with UTM source or referrer domain: attribution's
 * channel) are kept with their times, for first- and last-touch attribution.
 *
 * For the dashboard's signup and payment KPIs and attribution's conversions, each row also keeps
 * the time of its first event named like the KPIs' signup event, and the count, first and last
 * time of its events named like their payment event; for acquisition spend, the
 * `properties.amount` of its track events named like the ad spend event, in the same parts as
 * revenue (read as `SqlDialect.jsonNumber` reads it). Which names those are is the store's
 * {@link ActivityEvents}, recorded in `activity_events`; opening the store with other names
 * rebuilds the rollup ({@link ensureActivityEvents}).
 */
export const ACTIVITY_HOURS_DDL = `
  CREATE TABLE activity_hours (
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
    first_touch ${TOUCH},
    last_touch_at TIMESTAMPTZ,
    last_touch ${TOUCH},
    signup_first_at TIMESTAMPTZ,
    payments BIGINT NOT NULL,
    payment_first_at TIMESTAMPTZ,
    payment_last_at TIMESTAMPTZ,
    ad_spend_count BIGINT NOT NULL,
    ad_spend_micros HUGEINT NOT NULL,
    ad_spend_large DOUBLE NOT NULL,
    PRIMARY KEY (tenant, hour, user_id, anonymous_id, session_id)
  )`;

/**
 * `identity_firsts`: per tenant and (userId, anonymousId) of `activity_hours` (a missing id as
 * `''` there too), the first hour with activity and the earliest touch with its time, as the
 * rollup's rows of that pair give them. Kept in the transaction of every write that changes the
 * rollup. Retention's cohorts (first activity ever) and first-touch attribution read it instead of
 * grouping every rollup row of the tenant's history by pair: a row per pair, 146,657 at the
 * bench's 10M events against 1,045,244 rollup rows (and it does not grow with the history's
 * length). Rebuilt from `activity_hours` when that is rebuilt or pruned.
 */
export const IDENTITY_FIRSTS_DDL = `
  CREATE TABLE identity_firsts (
    tenant VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    anonymous_id VARCHAR NOT NULL,
    first_hour TIMESTAMPTZ NOT NULL,
    first_touch_at TIMESTAMPTZ,
    first_touch ${TOUCH},
    PRIMARY KEY (tenant, user_id, anonymous_id)
  )`;

/** `identity_firsts` rows of the rollup rows in `source` (`activity_hours` or the staging table). */
function firstsOf(source: string, touch: string): string {
  return `SELECT tenant, user_id, anonymous_id, min(hour), min(first_touch_at),
      arg_min_null(${touch}, first_touch_at)
    FROM ${source} GROUP BY tenant, user_id, anonymous_id`;
}

/**
 * Replaces `identity_firsts` with the firsts of every `activity_hours` row: a new table rather
 * than DELETE, as for the rollup (re-inserting deleted keys of a primary key in one transaction
 * is slow in DuckDB). Runs inside the caller's transaction.
 */
export const REBUILD_IDENTITY_FIRSTS_SQL = [
  'DROP TABLE IF EXISTS identity_firsts',
  IDENTITY_FIRSTS_DDL,
  `INSERT INTO identity_firsts ${firstsOf('activity_hours', 'first_touch')} ORDER BY tenant`,
];

/** The names the rollup's signup, payment and ad spend columns were computed for: one row. */
export const ACTIVITY_EVENTS_DDL = `CREATE TABLE activity_events (
    signup_event VARCHAR NOT NULL,
    payment_event VARCHAR NOT NULL,
    ad_spend_event VARCHAR NOT NULL
  )`;

/** Rollup rows of the events `where` selects (a predicate over `events`), one per key. */
function rollupOf(where: Sql, names: ActivityEvents): Sql {
  return sql`SELECT ${activityRowSelect(names, sql`date_trunc('hour', "timestamp")`, {
    first: sql`arg_min(touch, touch_at)`,
    last: sql`arg_max(touch, touch_at)`,
  })}
    FROM (
      SELECT *, CASE WHEN type = 'track' THEN revenue END AS amount,
        CASE WHEN type = 'track' AND event = ${names.adSpend}
          THEN ${duckdbDialect.jsonNumber(sql`properties`, 'amount')} END AS spend,
        CASE WHEN utm_source IS NOT NULL OR referrer_domain IS NOT NULL THEN "timestamp" END AS touch_at,
        struct_pack(utm_source := utm_source, utm_medium := utm_medium,
          utm_campaign := utm_campaign, referrer_domain := referrer_domain) AS touch
      FROM events WHERE ${where}
    )
    GROUP BY tenant, hour, user_id, anonymous_id, session_id`;
}

/**
 * Makes `activity_hours` hold `names`' columns: when `names` is given and differs from the
 * recorded ones, or none are recorded (a new or just migrated database), rebuilds the rollup from
 * every stored event, in one transaction. Resolves with the names the rollup holds.
 */
export async function ensureActivityEvents(
  connection: DuckDBConnection,
  names: ActivityEvents | undefined,
): Promise<ActivityEvents> {
  const recorded = (
    await connection.runAndReadAll(
      'SELECT signup_event, payment_event, ad_spend_event FROM activity_events',
    )
  ).getRowsJS()[0];
  const held = recorded && {
    signup: String(recorded[0]),
    payment: String(recorded[1]),
    adSpend: String(recorded[2]),
  };
  const wanted = names ?? held ?? DEFAULT_ACTIVITY_EVENTS;
  if (held && sameActivityEvents(held, wanted)) return held;
  await connection.run('BEGIN TRANSACTION');
  try {
    // A new table rather than DELETE: re-inserting the deleted keys of the primary key's index in
    // the same transaction took 61 s at 10M events, against 6.7 s into an empty table.
    await connection.run(`DROP TABLE activity_hours; ${ACTIVITY_HOURS_DDL}`);
    const fill = render(
      sql`INSERT INTO activity_hours ${rollupOf(sql`true`, wanted)} ORDER BY tenant, hour`,
    );
    await connection.run(fill.text, fill.values as DuckDBValue[]);
    for (const statement of REBUILD_IDENTITY_FIRSTS_SQL) await connection.run(statement);
    await connection.run('DELETE FROM activity_events');
    await connection.run('INSERT INTO activity_events VALUES ($1, $2, $3)', [
      wanted.signup,
      wanted.payment,
      wanted.adSpend,
    ]);
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => {});
    throw error;
  }
  return wanted;
}

/** The append's scratch table of {@link activityRows}, one column per field. */
export const ACTIVITY_STAGING = 'activity_hours_staging';
export const CREATE_ACTIVITY_STAGING_SQL = `CREATE OR REPLACE TEMP TABLE ${ACTIVITY_STAGING} (
  tenant VARCHAR, hour TIMESTAMPTZ, user_id VARCHAR, anonymous_id VARCHAR, session_id VARCHAR,
  events BIGINT, revenue_count BIGINT, revenue_micros HUGEINT, revenue_large DOUBLE,
  first_touch_at TIMESTAMPTZ, first_utm_source VARCHAR, first_utm_medium VARCHAR,
  first_utm_campaign VARCHAR, first_referrer_domain VARCHAR,
  last_touch_at TIMESTAMPTZ, last_utm_source VARCHAR, last_utm_medium VARCHAR,
  last_utm_campaign VARCHAR, last_referrer_domain VARCHAR,
  signup_first_at TIMESTAMPTZ, payments BIGINT, payment_first_at TIMESTAMPTZ,
  payment_last_at TIMESTAMPTZ, ad_spend_count BIGINT, ad_spend_micros HUGEINT,
  ad_spend_large DOUBLE)`;

const touchOf = (prefix: 'first' | 'last') =>
  `CASE WHEN ${prefix}_touch_at IS NOT NULL THEN struct_pack(utm_source := ${prefix}_utm_source,
    utm_medium := ${prefix}_utm_medium, utm_campaign := ${prefix}_utm_campaign,
    referrer_domain := ${prefix}_referrer_domain) END`;

/**
 * Adds the staged rows of an append to `activity_hours` (merging into rows of the same key), in
 * the append's transaction.
 */
export const INSERT_STAGED_ACTIVITY_SQL = `INSERT INTO activity_hours
  SELECT tenant, hour, user_id, anonymous_id, session_id, events, revenue_count, revenue_micros,
    revenue_large, first_touch_at, ${touchOf('first')}, last_touch_at, ${touchOf('last')},
    signup_first_at, payments, payment_first_at, payment_last_at, ad_spend_count, ad_spend_micros,
    ad_spend_large
  FROM ${ACTIVITY_STAGING}
  ${MERGE_ACTIVITY_ROWS}`;

/**
 * Adds the staged rows' firsts to `identity_firsts` (keeping the earlier hour and touch of a pair
 * already there), in the append's transaction, after {@link INSERT_STAGED_ACTIVITY_SQL}. A pair
 * already there is rewritten only when the batch has an earlier hour or touch for it, which
 * events arriving in time order seldom do.
 */
export const INSERT_STAGED_FIRSTS_SQL = `INSERT INTO identity_firsts
  ${firstsOf(ACTIVITY_STAGING, touchOf('first'))}
  ON CONFLICT (tenant, user_id, anonymous_id) DO UPDATE SET
    first_hour = least(identity_firsts.first_hour, excluded.first_hour),
    first_touch = CASE WHEN identity_firsts.first_touch_at IS NULL
      OR excluded.first_touch_at < identity_firsts.first_touch_at
      THEN excluded.first_touch ELSE identity_firsts.first_touch END,
    first_touch_at = CASE WHEN identity_firsts.first_touch_at IS NULL
      OR excluded.first_touch_at < identity_firsts.first_touch_at
      THEN excluded.first_touch_at ELSE identity_firsts.first_touch_at END
  WHERE excluded.first_hour < identity_firsts.first_hour
    OR excluded.first_touch_at < identity_firsts.first_touch_at
    OR (identity_firsts.first_touch_at IS NULL AND excluded.first_touch_at IS NOT NULL)`;

/**
 * Drops the rollup rows and the `identity_firsts` rows of one data subject; run in the erasure's
 * transaction, before its identity links go (the predicates read them). Every event of those rows
 * is the subject's (see privacy/subject.ts), so no other event leaves the rollup; the predicate
 * reads only the pair's ids, so a pair's firsts go with all its rollup rows.
 */
export function eraseActivity(tenant: string, userId: string): Sql[] {
  return [
    sql`DELETE FROM activity_hours WHERE ${subjectActivity(tenant, userId)}`,
    sql`DELETE FROM identity_firsts WHERE ${subjectActivity(tenant, userId, 'identity_firsts')}`,
  ];
}

/**
 * After the events before `cutoff` were deleted: drop the rollup's hours up to the one `cutoff`
 * falls in, then rebuild that hour from the events left, and `identity_firsts` from the rollup
 * left; run in the prune's transaction.
 */
export function pruneActivity(cutoff: Sql, names: ActivityEvents): Sql[] {
  const hour = sql`date_trunc('hour', ${cutoff})`;
  return [
    sql`DELETE FROM activity_hours WHERE hour <= ${hour}`,
    sql`INSERT INTO activity_hours ${rollupOf(
      sql`"timestamp" >= ${hour} AND "timestamp" < ${hour} + INTERVAL 1 HOUR`,
      names,
    )}`,
    ...REBUILD_IDENTITY_FIRSTS_SQL.map((statement) => raw(statement)),
  ];
}
