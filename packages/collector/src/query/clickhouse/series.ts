import type { Row, Store } from '../../store/store';
import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { render, type Sql, sql } from '../sql';
import { addDays, startOfDay, type TimeRange } from '../time';
import { eventRows } from './eventRows';
import { LINK_ANON, withUserKey } from './userKeys';

/**
 * The rows of the daily series on ClickHouse, in the shapes the standard SQL of `series.ts`
 * returns them (`day` as `YYYY-MM-DD`, `value`).
 */

/**
 * Active users over `window` days: as in the standard query, each user's active days become
 * disjoint spans [day, min(next active day − 1, day + window − 1)], +1 where a span starts and −1
 * the day after it ends; the rows are the running total on each day where it changes, oldest
 * first. 18.16 has no window functions: a user's sorted days are an array (the next day is the
 * array shifted by one), and the running total is `arrayCumSum` over the sorted changes.
 */
export function activeUserRows(
  store: Store,
  tenant: string,
  range: TimeRange,
  window: number,
): Promise<Row[]> {
  const since = startOfDay(addDays(range.fromDay, -(window - 1)), range.tz);
  const localDay = dialect.localDay(sql`"timestamp"`, range.tz, {
    startMs: since,
    endMs: range.endMs,
  });
  const lastDay = (day: Sql) => dialect.addDays(day, window - 1);
  const active = withUserKey(
    tenant,
    sql`SELECT user_id, anonymous_id, ${LINK_ANON}, ${localDay} AS local_day
      ${eventRows(tenant, { since, until: range.endMs })}
      GROUP BY user_id, anonymous_id, local_day`,
    sql`local_day`,
  );
  const spans = sql`SELECT user_key, arraySort(groupUniqArray(local_day)) AS days
    FROM (${active}) GROUP BY user_key`;
  const following = sql`arrayPushBack(arrayPopFront(days), ${dialect.addDays(sql`days[length(days)]`, window)})`;
  const changes = sql`SELECT arrayJoin(arrayConcat(
      arrayMap(d -> (d, toInt64(1)), days),
      arrayMap((d, n) -> (${dialect.addDays(sql`least(${dialect.addDays(sql`n`, -1)}, ${lastDay(sql`d`)})`, 1)}, toInt64(-1)), days, ${following})
    )) AS point, tupleElement(point, 1) AS change_day, tupleElement(point, 2) AS change
    FROM (${spans})`;
  const totals = sql`SELECT arraySort(groupArray((change_day, day_change))) AS totals FROM (
      SELECT change_day, sum(change) AS day_change FROM (${changes}) GROUP BY change_day)`;
  return store.query(
    render(sql`SELECT toString(tupleElement(point, 1)) AS day, toFloat64(tupleElement(point, 2)) AS value
      FROM (${totals})
      ARRAY JOIN arrayMap((total, running) -> (tupleElement(total, 1), running), totals,
        arrayCumSum(arrayMap(total -> tupleElement(total, 2), totals))) AS point
      ORDER BY day`),
  );
}

/** User keys whose first event ever falls on each day of the range (`day`, `value`). */
export function newUserRows(store: Store, tenant: string, range: TimeRange): Promise<Row[]> {
  const firsts = withUserKey(
    tenant,
    sql`SELECT user_id, anonymous_id, ${LINK_ANON}, min("timestamp") AS pair_first
      ${eventRows(tenant, { until: range.endMs })}
      GROUP BY user_id, anonymous_id`,
    sql`pair_first`,
  );
  return store.query(
    render(sql`SELECT toString(${dialect.localDay(sql`first_ts`, range.tz, range)}) AS day, count() AS value
      FROM (SELECT user_key, min(pair_first) AS first_ts FROM (${firsts}) GROUP BY user_key)
      WHERE first_ts >= ${dialect.instant(range.startMs)}
      GROUP BY day`),
  );
}

/** Event counts or track revenue per day of the range (`day`, `value`). */
export function eventTotalRows(
  store: Store,
  tenant: string,
  range: TimeRange,
  name: 'events' | 'revenue',
  event: string | undefined,
): Promise<Row[]> {
  const value =
    name === 'events'
      ? sql`toFloat64(count())`
      : sql`toFloat64(ifNull(${dialect.sumAmounts(sql`if(type = 'track', revenue, NULL)`)}, 0))`;
  const named = event === undefined ? sql`` : sql` AND event = ${event}`;
  return store.query(
    render(sql`SELECT toString(local_day) AS day, value FROM (
        SELECT ${dialect.localDay(sql`"timestamp"`, range.tz, range)} AS local_day, ${value} AS value
        ${eventRows(tenant, { since: range.startMs, until: range.endMs, final: true })}${named}
        GROUP BY local_day)`),
  );
}
