import { raw, type Sql, sql } from '../query/sql';

/*
 * What the `activity_hours` rollup of the DuckDB and PostgreSQL stores holds, independent of the
 * engine: the event names it keeps figures of, and its rows computed in JavaScript from a batch of
 * stored events (an append adds them without reading `events` back). The tables and their SQL are
 * in duckdb/activityHours.ts and postgres/activityHours.ts.
 */

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
export function amountParts(value: Sql, prefix: 'revenue' | 'ad_spend'): Sql {
  const column = (part: string) => raw(`${prefix}_${part}`);
  return sql`count(${value}) AS ${column('count')},
      coalesce(sum(CASE WHEN abs(${value}) < 1e9 THEN CAST(floor(${value} * 1000000 + 0.5) AS BIGINT) END), 0) AS ${column('micros')},
      coalesce(sum(CASE WHEN abs(${value}) >= 1e9 THEN ${value} END), 0) AS ${column('large')}`;
}

/**
 * The select list of rows of `activity_hours`, grouped by (tenant, hour, user_id, anonymous_id,
 * session_id), over rows with the events' `tenant`, `"timestamp"`, ids and `event`, and the
 * computed `amount` (revenue), `spend` (ad spend), `touch_at` and `touch`. `hour` is the engine's
 * UTC hour of the timestamp; `touch` picks the first and last touch by `touch_at`. `names` are
 * values, or SQL reading them (PostgreSQL's trigger reads them from `activity_events`).
 */
export function activityRowSelect(
  names: Record<keyof ActivityEvents, string | Sql>,
  hour: Sql,
  touch: { first: Sql; last: Sql },
): Sql {
  return sql`tenant, ${hour} AS hour, coalesce(user_id, '') AS user_id,
      coalesce(anonymous_id, '') AS anonymous_id, coalesce(session_id, '') AS session_id,
      count(*) AS events, ${amountParts(sql`amount`, 'revenue')},
      min(touch_at) AS first_touch_at, ${touch.first} AS first_touch,
      max(touch_at) AS last_touch_at, ${touch.last} AS last_touch,
      min("timestamp") FILTER (WHERE event = ${names.signup}) AS signup_first_at,
      count(*) FILTER (WHERE event = ${names.payment}) AS payments,
      min("timestamp") FILTER (WHERE event = ${names.payment}) AS payment_first_at,
      max("timestamp") FILTER (WHERE event = ${names.payment}) AS payment_last_at,
      ${amountParts(sql`spend`, 'ad_spend')}`;
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
 * The rollup rows of a batch of stored rows, as each store's rollup SQL computes them (tests hold
 * the two equal): computed in JavaScript so an append never reads `events` back.
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

/**
 * The `ON CONFLICT` clause that merges rollup rows an insert adds into the rows of the same key
 * already in `activity_hours` (`excluded`: the new ones); the same text in DuckDB and PostgreSQL.
 */
export const MERGE_ACTIVITY_ROWS = `ON CONFLICT (tenant, hour, user_id, anonymous_id, session_id) DO UPDATE SET
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
