import type { Row, Store } from '../store/store';
import { ACTIVITY_IDS, activityRevenue, usesActivityHours } from './activity';
import { activeUserRows, eventTotalRows, newUserRows } from './clickhouse/series';
import { dialectOf, type SqlDialect } from './dialect';
import { keyedEvents, linksCte, USER_KEY } from './keyedEvents';
import { render, type Sql, sql } from './sql';
import { addDays, daysOf, type Interval, periodStart, startOfDay, type TimeRange } from './time';

export const SERIES_NAMES = [
  'dau',
  'wau',
  'mau',
  'stickiness',
  'new_users',
  'events',
  'revenue',
] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

export interface SeriesPoint {
  /** First day of the period, `YYYY-MM-DD` in the query's time zone. */
  date: string;
  value: number;
}

/** Daily values keyed by local day. */
type Daily = Map<string, number>;

/** How a period's value is built from its days (docs/metrics.md). */
const PERIOD_RULE: Record<SeriesName, 'sum' | 'mean'> = {
  dau: 'mean',
  wau: 'mean',
  mau: 'mean',
  stickiness: 'mean',
  new_users: 'sum',
  events: 'sum',
  revenue: 'sum',
};

/**
 * The series of `names` over `range`, one point per period, as defined in docs/metrics.md. Each
 * daily series is one aggregate query in the store; only the daily aggregates come back.
 *
 * @example
 * await computeSeries(store, 'acme', { names: ['dau', 'mau'], range, interval: 'week' });
 */
export async function computeSeries(
  store: Store,
  tenant: string,
  query: { names: readonly SeriesName[]; range: TimeRange; interval: Interval; event?: string },
): Promise<Record<string, SeriesPoint[]>> {
  const days = daysOf(query.range.fromDay, query.range.toDay);
  const daily = new Map<SeriesName, Promise<Daily>>();
  const dailyOf = (name: SeriesName): Promise<Daily> => {
    let values = daily.get(name);
    if (!values) {
      values = dailySeries(store, tenant, name, query.range, days, query.event);
      values.catch(() => {});
      daily.set(name, values);
    }
    return values;
  };
  const series: Record<string, SeriesPoint[]> = {};
  for (const name of query.names) {
    const values = await dailyOf(name);
    series[name] = toPeriods(days, values, query.interval, PERIOD_RULE[name]);
  }
  return series;
}

/** The value of `name` on every day of `days` (0 when nothing happened). */
export async function dailySeries(
  store: Store,
  tenant: string,
  name: SeriesName,
  range: TimeRange,
  days: readonly string[],
  event?: string,
): Promise<Daily> {
  const dialect = dialectOf(store.kind);
  switch (name) {
    case 'dau':
      return activeUsers(dialect, store, tenant, range, days, 1);
    case 'wau':
      return activeUsers(dialect, store, tenant, range, days, 7);
    case 'mau':
      return activeUsers(dialect, store, tenant, range, days, 30);
    case 'stickiness': {
      const [dau, mau] = await Promise.all([
        activeUsers(dialect, store, tenant, range, days, 1),
        activeUsers(dialect, store, tenant, range, days, 30),
      ]);
      return new Map(
        days.map((day) => {
          const monthly = mau.get(day) ?? 0;
          return [day, monthly === 0 ? 0 : (dau.get(day) ?? 0) / monthly];
        }),
      );
    }
    case 'new_users':
      return newUsers(dialect, store, tenant, range, days);
    case 'events':
    case 'revenue':
      return eventTotals(dialect, store, tenant, range, days, name, event);
  }
}

/**
 * Distinct user keys active in the `window` days ending on each day. One pass, no fan-out: each
 * user's active days become disjoint intervals [day, min(next active day − 1, day + window − 1)]
 * during which it counts, and a running sum of interval starts and ends gives every day's count.
 * A one-day window (DAU) is a count per day and needs none of that (a third of DAU's time).
 */
async function activeUsers(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  range: TimeRange,
  days: readonly string[],
  window: number,
): Promise<Daily> {
  if (store.kind !== 'clickhouse' && window === 1) {
    return fill(days, await standardActiveUserRows(dialect, store, tenant, range, window));
  }
  const rows =
    store.kind === 'clickhouse'
      ? await activeUserRows(store, tenant, range, window)
      : await standardActiveUserRows(dialect, store, tenant, range, window);
  // The running count holds from each change day until the next one.
  const values: Daily = new Map();
  let index = 0;
  let current = 0;
  for (const date of days) {
    while (index < rows.length && String(rows[index]!.day) <= date) {
      current = Number(rows[index]!.value);
      index++;
    }
    values.set(date, current);
  }
  return values;
}

/**
 * The running count of {@link activeUsers} on each day it changes, with window functions; for a
 * one-day window, the count of each day with activity.
 */
function standardActiveUserRows(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  range: TimeRange,
  window: number,
): Promise<Row[]> {
  const since = startOfDay(addDays(range.fromDay, -(window - 1)), range.tz);
  const span = { startMs: since, endMs: range.endMs };
  const lastDay = dialect.addDays(sql`day`, window - 1);
  const within = (column: Sql) =>
    sql`${column} >= ${dialect.instant(since)} AND ${column} < ${dialect.instant(range.endMs)}`;
  const pairs = usesActivityHours(store, range.tz, span, [])
    ? sql`SELECT DISTINCT ${ACTIVITY_IDS}, ${dialect.localDay(sql`hour`, range.tz, span)} AS day
        FROM activity_hours WHERE tenant = ${tenant} AND ${within(sql`hour`)}`
    : sql`SELECT DISTINCT user_id, anonymous_id, ${dialect.localDay(sql`"timestamp"`, range.tz, span)} AS day
        FROM events WHERE tenant = ${tenant} AND ${within(sql`"timestamp"`)}`;
  // Distinct days per (userId, anonymousId) first; user keys are resolved on that smaller set.
  const active = sql`${linksCte(dialect, tenant)},
      pairs AS (${pairs}),
      active AS (
        SELECT DISTINCT ${USER_KEY} AS user_key, day
        FROM pairs r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
      )`;
  if (window === 1) {
    return store.query(
      render(sql`WITH ${active}
      SELECT ${dialect.text(sql`day`)} AS day, count(*) AS value FROM active GROUP BY day`),
    );
  }
  return store.query(
    render(sql`WITH ${active},
      spans AS (
        SELECT day AS first_day,
          least(coalesce(${dialect.addDays(sql`lead(day) OVER (PARTITION BY user_key ORDER BY day)`, -1)}, ${lastDay}),
                ${lastDay}) AS last_day
        FROM active
      ),
      changes AS (
        SELECT first_day AS day, 1 AS change FROM spans
        UNION ALL SELECT ${dialect.addDays(sql`last_day`, 1)}, -1 FROM spans
      ),
      totals AS (SELECT day, sum(change) AS change FROM changes GROUP BY day)
      SELECT ${dialect.text(sql`day`)} AS day, ${dialect.double(sql`sum(change) OVER (ORDER BY day)`)} AS value
      FROM totals ORDER BY day`),
  );
}

async function newUsers(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  range: TimeRange,
  days: readonly string[],
): Promise<Daily> {
  if (store.kind === 'clickhouse') return fill(days, await newUserRows(store, tenant, range));
  const firsts = usesActivityHours(store, range.tz, range, [])
    ? sql`${linksCte(dialect, tenant)},
      pair_firsts AS (
        SELECT ${ACTIVITY_IDS}, min(hour) AS first_ts FROM activity_hours
        WHERE tenant = ${tenant} AND hour < ${dialect.instant(range.endMs)}
        GROUP BY user_id, anonymous_id
      ),
      firsts AS (
        SELECT ${USER_KEY} AS user_key, min(first_ts) AS first_ts
        FROM pair_firsts r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id GROUP BY 1
      )`
    : sql`${keyedEvents(dialect, tenant, { until: range.endMs })},
      firsts AS (SELECT user_key, min(ts) AS first_ts FROM ev GROUP BY user_key)`;
  const rows = await store.query(
    render(sql`WITH ${firsts}
      SELECT ${dialect.text(dialect.localDay(sql`first_ts`, range.tz, range))} AS day, count(*) AS value
      FROM firsts WHERE first_ts >= ${dialect.instant(range.startMs)}
      GROUP BY 1`),
  );
  return fill(days, rows);
}

async function eventTotals(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  range: TimeRange,
  days: readonly string[],
  name: 'events' | 'revenue',
  event: string | undefined,
): Promise<Daily> {
  if (store.kind === 'clickhouse') {
    return fill(days, await eventTotalRows(store, tenant, range, name, event));
  }
  if (event === undefined && usesActivityHours(store, range.tz, range, [])) {
    const value = name === 'events' ? sql`sum(events)` : sql`coalesce(${activityRevenue()}, 0)`;
    const rows = await store.query(
      render(sql`SELECT ${dialect.text(dialect.localDay(sql`hour`, range.tz, range))} AS day,
          ${dialect.double(value)} AS value
        FROM activity_hours
        WHERE tenant = ${tenant} AND hour >= ${dialect.instant(range.startMs)}
          AND hour < ${dialect.instant(range.endMs)}
        GROUP BY 1`),
    );
    return fill(days, rows);
  }
  const value: Sql =
    name === 'events'
      ? sql`count(*)`
      : sql`coalesce(${dialect.sumAmounts(sql`CASE WHEN type = 'track' THEN revenue END`)}, 0)`;
  const named = event === undefined ? sql`` : sql` AND event = ${event}`;
  const rows = await store.query(
    render(sql`SELECT ${dialect.text(dialect.localDay(sql`"timestamp"`, range.tz, range))} AS day,
        ${dialect.double(value)} AS value
      FROM events
      WHERE tenant = ${tenant} AND "timestamp" >= ${dialect.instant(range.startMs)}
        AND "timestamp" < ${dialect.instant(range.endMs)}${named}
      GROUP BY 1`),
  );
  return fill(days, rows);
}

function fill(days: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Daily {
  const found = new Map(rows.map((row) => [String(row.day), Number(row.value)]));
  return new Map(days.map((day) => [day, found.get(day) ?? 0]));
}

/** Daily values grouped into periods: summed or averaged over the period's days in range. */
export function toPeriods(
  days: readonly string[],
  values: Daily,
  interval: Interval,
  rule: 'sum' | 'mean',
): SeriesPoint[] {
  const periods = new Map<string, { total: number; days: number }>();
  for (const day of days) {
    const start = periodStart(day, interval);
    const period = periods.get(start) ?? { total: 0, days: 0 };
    period.total += values.get(day) ?? 0;
    period.days++;
    periods.set(start, period);
  }
  return [...periods].map(([date, period]) => ({
    date,
    value: rule === 'sum' ? period.total : period.total / period.days,
  }));
}
