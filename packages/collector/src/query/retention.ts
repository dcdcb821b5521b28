import type { Row, Store } from '../store/store';
import { ACTIVITY_IDS, usesActivityHours } from './activity';
import { retentionRows } from './clickhouse/retention';
import { dialectOf, type SqlDialect } from './dialect';
import { linksCte, USER_KEY } from './keyedEvents';
import { render, type Sql, sql } from './sql';
import { addPeriods, type Interval, periodStart, startOfDay, type TimeRange } from './time';

export interface Cohort {
  /** First day of the cohort's period, `YYYY-MM-DD` in the query's time zone. */
  cohort: string;
  size: number;
  /** Users of the cohort with a return event k periods later; `retained[0]` is `size`. */
  retained: number[];
  /** `retained[k] / size × 100`. */
  percent: number[];
}

/**
 * Retention as docs/metrics.md defines it: a user's cohort is the period of its first event (or
 * first `startEvent`) ever; cohorts starting inside the range are reported; `retained[k]` counts
 * cohort users with a return event in the k-th period after.
 *
 * @example
 * await computeRetention(store, 'acme', { interval: 'week', periods: 8, range });
 */
export async function computeRetention(
  store: Store,
  tenant: string,
  query: {
    interval: Interval;
    periods: number;
    range: TimeRange;
    startEvent?: string;
    returnEvent?: string;
  },
): Promise<{ cohorts: Cohort[] }> {
  const { interval, periods, range } = query;
  // Cohort periods start inside the range; their users' activity runs `periods` periods on.
  const since = startOfDay(periodStart(range.fromDay, interval), range.tz);
  const until = startOfDay(
    addPeriods(periodStart(range.toDay, interval), interval, periods),
    range.tz,
  );
  const rows =
    store.kind === 'clickhouse'
      ? await retentionRows(store, tenant, {
          ...query,
          since,
          until,
          toDay: range.toDay,
          tz: range.tz,
        })
      : await standardRows(dialectOf(store.kind), store, tenant, { ...query, since, until });
  const cohorts = new Map<string, Cohort>();
  for (const row of rows) {
    const key = String(row.cohort);
    let cohort = cohorts.get(key);
    if (!cohort) {
      const size = Number(row.size);
      cohort = { cohort: key, size, retained: new Array(periods).fill(0), percent: [] };
      cohort.retained[0] = size;
      cohorts.set(key, cohort);
    }
    if (row.k !== null && row.k !== undefined) cohort.retained[Number(row.k)] = Number(row.kept);
  }
  const result = [...cohorts.values()].filter((cohort) => cohort.cohort >= range.fromDay);
  for (const cohort of result) {
    cohort.percent = cohort.retained.map((count) => (count / cohort.size) * 100);
  }
  return { cohorts: result };
}

/** Retention's rows (`cohort`, `size`, `k`, `kept`) in standard SQL with CTEs. */
function standardRows(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  query: {
    interval: Interval;
    periods: number;
    range: TimeRange;
    since: number;
    until: number;
    startEvent?: string;
    returnEvent?: string;
  },
): Promise<Row[]> {
  const { interval, periods, range, since, until } = query;
  // Aggregated per (userId, anonymousId) first; user keys are resolved on that smaller set.
  // Every timestamp bucketed below lies in [since, until).
  const bucket = (column: Sql) =>
    dialect.periodStart(
      interval,
      dialect.localDay(column, range.tz, { startMs: since, endMs: until }),
    );
  // Without a start (return) event, every event counts: the hourly rollup answers for them.
  const activity = usesActivityHours(store, range.tz, { startMs: since, endMs: until }, []);
  const tenantUntil = sql`tenant = ${tenant} AND "timestamp" < ${dialect.instant(until)}`;
  // Each pair's first active hour: a row of `identity_firsts` where the store keeps it, else the
  // earliest of its rollup rows (the same hour: both come from the rollup).
  const pairFirsts =
    query.startEvent === undefined && activity
      ? store.identityFirsts === true
        ? sql`SELECT ${ACTIVITY_IDS}, first_hour AS first_ts
        FROM identity_firsts WHERE tenant = ${tenant} AND first_hour < ${dialect.instant(until)}`
        : sql`SELECT ${ACTIVITY_IDS}, min(hour) AS first_ts
        FROM activity_hours WHERE tenant = ${tenant} AND hour < ${dialect.instant(until)}
        GROUP BY user_id, anonymous_id`
      : sql`SELECT user_id, anonymous_id,
          min("timestamp") FILTER (WHERE ${query.startEvent === undefined ? sql`true` : sql`event = ${query.startEvent}`}) AS first_ts
        FROM events WHERE ${tenantUntil}
        GROUP BY user_id, anonymous_id`;
  const pairReturns =
    query.returnEvent === undefined && activity
      ? sql`SELECT DISTINCT ${ACTIVITY_IDS}, ${bucket(sql`hour`)} AS period FROM activity_hours
        WHERE tenant = ${tenant} AND hour >= ${dialect.instant(since)} AND hour < ${dialect.instant(until)}`
      : sql`SELECT DISTINCT user_id, anonymous_id, ${bucket(sql`"timestamp"`)} AS period FROM events
        WHERE ${tenantUntil} AND "timestamp" >= ${dialect.instant(since)}${
          query.returnEvent === undefined ? sql`` : sql` AND event = ${query.returnEvent}`
        }`;
  return store.query(
    render(sql`WITH ${linksCte(dialect, tenant)},
      pair_firsts AS (${pairFirsts}),
      firsts AS (
        SELECT ${USER_KEY} AS user_key, min(first_ts) AS first_ts
        FROM pair_firsts r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id GROUP BY 1
      ),
      cohorts AS (
        SELECT user_key, ${bucket(sql`first_ts`)} AS cohort FROM firsts
        WHERE first_ts IS NOT NULL AND first_ts >= ${dialect.instant(since)}
      ),
      pair_returns AS (${pairReturns}),
      returns AS (
        SELECT DISTINCT ${USER_KEY} AS user_key, period
        FROM pair_returns r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
      ),
      sizes AS (SELECT cohort, count(*) AS users FROM cohorts GROUP BY cohort),
      kept AS (
        SELECT c.cohort, ${dialect.periodsBetween(interval, sql`c.cohort`, sql`r.period`)} AS k, count(*) AS users
        FROM cohorts c JOIN returns r ON r.user_key = c.user_key AND r.period > c.cohort
        GROUP BY 1, 2
      )
      SELECT ${dialect.text(sql`s.cohort`)} AS cohort, s.users AS size, k.k AS k, k.users AS kept
      FROM sizes s LEFT JOIN kept k ON k.cohort = s.cohort AND k.k < ${periods}
      WHERE s.cohort <= ${dialect.date(range.toDay)}
      ORDER BY s.cohort, k.k`),
  );
}
