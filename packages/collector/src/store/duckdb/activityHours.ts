import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { subjectActivity } from '../../privacy/subject';
import { duckdbDialect } from '../../query/dialect';
import { raw, render, type Sql, sql } from '../../query/sql';

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

/** The event names `activity_hours` keeps figures of: the KPIs' signup, payment and ad spend events. */
export interface ActivityEvents {
  signup: string;
  payment: string;
  adSpend: string;
}

/** The collector's default KPI event names (readOptions.ts). */
export const DEFAULT_ACTIVITY_EVENTS: ActivityEvents = {
  signup: 'signup_completed',
  payment: 'payment_completed',
  adSpend: 'ad_spend',
};

/** The names the rollup's signup, payment and ad spend columns were computed for: one row. */
export const ACTIVITY_EVENTS_DDL = `CREATE TABLE activity_events (
    signup_event VARCHAR NOT NULL,
    payment_event VARCHAR NOT NULL,
    ad_spend_event VARCHAR NOT NULL
  )`;

/** Rollup rows of the events `where` selects (a predicate over `events`), one per key. */
function rollupOf(where: Sql, names: ActivityEvents): Sql {
  return sql`SELECT tenant, date_trunc('hour', "timestamp") AS hour, coalesce(user_id, '') AS user_id,
      coalesce(anonymous_id, '') AS anonymous_id, coalesce(session_id, '') AS session_id,
      count(*) AS events, ${amountParts(sql`amount`, 'revenue')},
      min(touch_at) AS first_touch_at, arg_min(touch, touch_at) AS first_touch,
      max(touch_at) AS last_touch_at, arg_max(touch, touch_at) AS last_touch,
      min("timestamp") FILTER (WHERE event = ${names.signup}) AS signup_first_at,
      count(*) FILTER (WHERE event = ${names.payment}) AS payments,
      min("timestamp") FILTER (WHERE event = ${names.payment}) AS payment_first_at,
      max("timestamp") FILTER (WHERE event = ${names.payment}) AS payment_last_at,
      ${amountParts(sql`spend`, 'ad_spend')}
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

/** The columns of one rollup row an append adds, computed from its stored rows. */
export interface ActivityRow {
  tenant: string;
  /** Start of the UTC hour, Unix ms. */
  hour: number;
  userId: string;
  anonymousId: string;
  sessionId: string;
  events: number;
  /** Track revenue, in the parts of `revenue_count`, `revenue_micros` and `revenue_large`. */
  revenue: AmountParts;
  firstTouch: Touch | undefined;
  lastTouch: Touch | undefined;
  /** Time of the first signup event, Unix ms. */
  signupFirstAt: number | undefined;
  payments: number;
  paymentFirstAt: number | undefined;
  paymentLastAt: number | undefined;
  /** `properties.amount` of ad spend events, in the same parts. */
  adSpend: AmountParts;
}

/** Amounts as `SqlDialect.sumAmounts` adds them: how many, integer millionths below 1e9, larger ones. */
export interface AmountParts {
  count: number;
  micros: bigint;
  large: number;
}

/** Adds `amount` to `parts` with the same double arithmetic as {@link amountParts}' SQL. */
function addAmount(parts: AmountParts, amount: number): void {
  parts.count++;
  if (Math.abs(amount) < 1e9) parts.micros += BigInt(Math.floor(amount * 1000000 + 0.5));
  else parts.large += amount;
}

/** Aggregates `<prefix>_count`, `_micros` and `_large` of the amounts in `value` (NULLs skipped). */
function amountParts(value: Sql, prefix: 'revenue' | 'ad_spend'): Sql {
  const column = (part: string) => raw(`${prefix}_${part}`);
  return sql`count(${value}) AS ${column('count')},
      coalesce(sum(CASE WHEN abs(${value}) < 1e9 THEN CAST(floor(${value} * 1000000 + 0.5) AS BIGINT) END), 0) AS ${column('micros')},
      coalesce(sum(CASE WHEN abs(${value}) >= 1e9 THEN ${value} END), 0) AS ${column('large')}`;
}

/** A touch (an event with UTM source or referrer domain) and its time. */
export interface Touch {
  at: number;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
}

/** What of a stored row the rollup needs. */
export interface ActivityEvent {
  tenant: string;
  timestamp: number;
  type: string;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  revenue: number | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
  /** JSON text of the event's properties. */
  properties: string;
}

const HOUR_MS = 3_600_000;

/**
 * The rollup rows of a batch of stored rows, as {@link ensureActivityEvents} computes them in
 * SQL (tests hold the two equal): computed in JavaScript so an append never reads `events` back.
 */
export function activityRows(rows: readonly ActivityEvent[], names: ActivityEvents): ActivityRow[] {
  const byKey = new Map<string, ActivityRow>();
  for (const row of rows) {
    const hour = Math.floor(row.timestamp / HOUR_MS) * HOUR_MS;
    const userId = row.userId ?? '';
    const anonymousId = row.anonymousId ?? '';
    const sessionId = row.sessionId ?? '';
    const key = `${row.tenant}\u0000${hour}\u0000${userId}\u0000${anonymousId}\u0000${sessionId}`;
    let entry = byKey.get(key);
    if (!entry) {
      entry = {
        tenant: row.tenant,
        hour,
        userId,
        anonymousId,
        sessionId,
        events: 0,
        revenue: { count: 0, micros: 0n, large: 0 },
        firstTouch: undefined,
        lastTouch: undefined,
        signupFirstAt: undefined,
        payments: 0,
        paymentFirstAt: undefined,
        paymentLastAt: undefined,
        adSpend: { count: 0, micros: 0n, large: 0 },
      };
      byKey.set(key, entry);
    }
    entry.events++;
    if (row.type === 'track') {
      if (row.revenue !== null) addAmount(entry.revenue, row.revenue);
      const spend = row.event === names.adSpend ? jsonAmount(row.properties) : null;
      if (spend !== null) addAmount(entry.adSpend, spend);
    }
    if (row.utmSource !== null || row.referrerDomain !== null) {
      const touch: Touch = {
        at: row.timestamp,
        utmSource: row.utmSource,
        utmMedium: row.utmMedium,
        utmCampaign: row.utmCampaign,
        referrerDomain: row.referrerDomain,
      };
      if (!entry.firstTouch || touch.at < entry.firstTouch.at) entry.firstTouch = touch;
      if (!entry.lastTouch || touch.at > entry.lastTouch.at) entry.lastTouch = touch;
    }
    const at = row.timestamp;
    if (
      row.event === names.signup &&
      (entry.signupFirstAt === undefined || at < entry.signupFirstAt)
    )
      entry.signupFirstAt = at;
    if (row.event === names.payment) {
      entry.payments++;
      if (entry.paymentFirstAt === undefined || at < entry.paymentFirstAt)
        entry.paymentFirstAt = at;
      if (entry.paymentLastAt === undefined || at > entry.paymentLastAt) entry.paymentLastAt = at;
    }
  }
  return [...byKey.values()];
}

/** Whether two sets of {@link ActivityEvents} name the same events. */
export function sameActivityEvents(a: ActivityEvents, b: ActivityEvents): boolean {
  return a.signup === b.signup && a.payment === b.payment && a.adSpend === b.adSpend;
}

/**
 * `properties.amount` of a stored event's JSON properties as `SqlDialect.jsonNumber` reads it in
 * DuckDB: a JSON number, or a string holding a decimal number (`-?[0-9]+(.[0-9]+)?` once spaces
 * around it are trimmed); anything else is null.
 */
export function jsonAmount(properties: string): number | null {
  let value: unknown;
  try {
    value = (JSON.parse(properties) as Record<string, unknown> | null)?.amount;
  } catch {
    return null;
  }
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return null;
  const text = value.replace(/^ +| +$/g, '');
  return /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : null;
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
  ON CONFLICT DO UPDATE SET
    events = activity_hours.events + excluded.events,
    revenue_count = activity_hours.revenue_count + excluded.revenue_count,
    revenue_micros = activity_hours.revenue_micros + excluded.revenue_micros,
    revenue_large = activity_hours.revenue_large + excluded.revenue_large,
    first_touch = CASE WHEN activity_hours.first_touch_at IS NULL
      OR excluded.first_touch_at < activity_hours.first_touch_at
      THEN excluded.first_touch ELSE activity_hours.first_touch END,
    first_touch_at = CASE WHEN activity_hours.first_touch_at IS NULL
      OR excluded.first_touch_at < activity_hours.first_touch_at
      THEN excluded.first_touch_at ELSE activity_hours.first_touch_at END,
    last_touch = CASE WHEN activity_hours.last_touch_at IS NULL
      OR excluded.last_touch_at > activity_hours.last_touch_at
      THEN excluded.last_touch ELSE activity_hours.last_touch END,
    last_touch_at = CASE WHEN activity_hours.last_touch_at IS NULL
      OR excluded.last_touch_at > activity_hours.last_touch_at
      THEN excluded.last_touch_at ELSE activity_hours.last_touch_at END,
    signup_first_at = least(activity_hours.signup_first_at, excluded.signup_first_at),
    payments = activity_hours.payments + excluded.payments,
    payment_first_at = least(activity_hours.payment_first_at, excluded.payment_first_at),
    payment_last_at = greatest(activity_hours.payment_last_at, excluded.payment_last_at),
    ad_spend_count = activity_hours.ad_spend_count + excluded.ad_spend_count,
    ad_spend_micros = activity_hours.ad_spend_micros + excluded.ad_spend_micros,
    ad_spend_large = activity_hours.ad_spend_large + excluded.ad_spend_large`;

/**
 * Drops the rollup rows of one data subject; run in the erasure's transaction, before its
 * identity links go (the predicate reads them). Every event of those rows is the subject's (see
 * privacy/subject.ts), so no other event leaves the rollup.
 */
export function eraseActivity(tenant: string, userId: string): Sql {
  return sql`DELETE FROM activity_hours WHERE ${subjectActivity(tenant, userId)}`;
}

/**
 * After the events before `cutoff` were deleted: drop the rollup's hours up to the one `cutoff`
 * falls in, then rebuild that hour from the events left; run in the prune's transaction.
 */
export function pruneActivity(cutoff: Sql, names: ActivityEvents): Sql[] {
  const hour = sql`date_trunc('hour', ${cutoff})`;
  return [
    sql`DELETE FROM activity_hours WHERE hour <= ${hour}`,
    sql`INSERT INTO activity_hours ${rollupOf(
      sql`"timestamp" >= ${hour} AND "timestamp" < ${hour} + INTERVAL 1 HOUR`,
      names,
    )}`,
  ];
}
