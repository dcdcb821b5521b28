import type { Row, Store } from '../../store/store';
import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { raw, render, type Sql, sql } from '../sql';
import type { Interval } from '../time';
import { eventRows } from './eventRows';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/**
 * Retention's rows on ClickHouse (`cohort`, `size`, `k`, `kept`, ordered by cohort and k, `k`
 * NULL for a cohort nobody returned to), as the standard query of `retention.ts` returns them.
 * Instead of joining cohorts to return periods, each user key carries its first (start) event and
 * the set of periods with a return event; its cohort's offsets k come from that array, and one
 * row per (user, k) — k = 0 standing for the cohort itself — is counted per cohort.
 *
 * Events are read in [`since`, `until`) for returns and before `until` for first events;
 * `toDay` is the last day whose cohort is reported.
 *
 * @example
 * await retentionRows(store, 'acme', { interval: 'week', periods: 8, since, until, toDay: '2024-02-20', tz: 'UTC' });
 */
export function retentionRows(
  store: Store,
  tenant: string,
  query: {
    interval: Interval;
    periods: number;
    since: number;
    until: number;
    toDay: string;
    tz: string;
    startEvent?: string;
    returnEvent?: string;
  },
): Promise<Row[]> {
  const { interval, since, until } = query;
  const bucket = (column: Sql) =>
    dialect.periodStart(
      interval,
      dialect.localDay(column, query.tz, { startMs: since, endMs: until }),
    );
  const starts = query.startEvent === undefined ? sql`1` : isTrue(sql`event = ${query.startEvent}`);
  const returns =
    query.returnEvent === undefined ? sql`1` : isTrue(sql`event = ${query.returnEvent}`);
  const pairs = sql`SELECT user_id, anonymous_id, ${LINK_ANON},
      min(if(${starts}, "timestamp", NULL)) AS pair_first,
      groupUniqArrayIf(${bucket(sql`"timestamp"`)}, ${returns} AND "timestamp" >= ${dialect.instant(since)}) AS pair_periods
    ${eventRows(tenant, { until })}
    GROUP BY user_id, anonymous_id`;
  const users = sql`SELECT user_key, min(pair_first) AS first_ts, groupUniqArrayArray(pair_periods) AS periods
    FROM (${withUserKey(tenant, pairs, sql`pair_first, pair_periods`)})
    GROUP BY user_key HAVING ${isTrue(sql`first_ts >= ${dialect.instant(since)}`)}`;
  const offsets = sql`arrayFilter(k -> k > 0 AND k < ${raw(String(query.periods))},
    arrayMap(period -> toInt64(${dialect.periodsBetween(interval, sql`cohort_day`, sql`period`)}), periods))`;
  const cohorts = sql`SELECT ${bucket(sql`assumeNotNull(first_ts)`)} AS cohort_day,
      arrayJoin(arrayConcat([toInt64(0)], ${offsets})) AS k
    FROM (${users})`;
  const counts = sql`SELECT cohort_day, sumIf(users, k = 0) AS size, groupArrayIf((k, users), k > 0) AS kept_counts
    FROM (SELECT cohort_day, k, count() AS users FROM (${cohorts}) GROUP BY cohort_day, k)
    GROUP BY cohort_day HAVING cohort_day <= ${dialect.date(query.toDay)}`;
  return store.query(
    render(sql`SELECT toString(cohort_day) AS cohort, size,
        if(tupleElement(kept_count, 1) = 0, NULL, tupleElement(kept_count, 1)) AS k,
        tupleElement(kept_count, 2) AS kept
      FROM (${counts}) LEFT ARRAY JOIN kept_counts AS kept_count
      ORDER BY cohort_day, k`),
  );
}
