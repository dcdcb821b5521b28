import type { Row, Store } from '../../store/store';
import { clickhouseDialect } from '../clickhouseDialect';
import type { KpiBounds, KpiSettings } from '../kpis';
import { render, type Sql, sql } from '../sql';
import { eventRows, uniqueEventRows } from './eventRows';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/**
 * The dashboard's totals row on ClickHouse (`dau`, `wau`, `mau`, `new_users`, `revenue`,
 * `signups`, `converted`, `previous_active`, `churned`, `month_active`, `month_revenue`,
 * `new_paying`), as the standard query of `kpis.ts` returns it and in the same three steps:
 * per (userId, anonymousId), per user key, totals (each step's columns named apart: a ClickHouse
 * alias equal to a column name would replace the column inside the aggregate). `FILTER` becomes a conditional value that the
 * aggregate skips when NULL, `bool_or` becomes `max` of a 0/1 condition. Events are read without
 * `FINAL` (`eventRows`): every column but the revenue sums is a min, max or flag, which a copy not
 * merged yet cannot change; revenue comes from one row per message id (`uniqueEventRows`), added
 * to the rows with their revenue left out. `endMs` is the instant of `bounds.end`.
 *
 * @example
 * const [row] = await kpiRows(store, 'acme', bounds, settings);
 */
export function kpiRows(
  store: Store,
  tenant: string,
  bounds: KpiBounds,
  settings: KpiSettings,
  endMs: number,
): Promise<Row[]> {
  const { from, monthStart, previousStart } = bounds;
  const sum = clickhouseDialect.sumAmounts;
  const at = (condition: Sql) => sql`if(${isTrue(condition)}, "timestamp", NULL)`;
  const ids = sql`SELECT user_id, anonymous_id, ${LINK_ANON},
      min("timestamp") AS pair_first_seen,
      max("timestamp" >= ${bounds.day}) AS pair_daily,
      max("timestamp" >= ${bounds.week}) AS pair_weekly,
      max("timestamp" >= ${bounds.month}) AS pair_monthly,
      ${sum(sql`if(type = 'track' AND "timestamp" >= ${from}, revenue, NULL)`)} AS pair_revenue,
      min(${at(sql`event = ${settings.signupEvent} AND "timestamp" >= ${from}`)}) AS pair_signed_up,
      max(${at(sql`event = ${settings.paymentEvent}`)}) AS pair_last_paid,
      min(${at(sql`event = ${settings.paymentEvent}`)}) AS pair_first_paid,
      max("timestamp" >= ${previousStart} AND "timestamp" < ${monthStart}) AS pair_active_before,
      max("timestamp" >= ${monthStart}) AS pair_active_now,
      ${sum(sql`if(type = 'track' AND "timestamp" >= ${monthStart}, revenue, NULL)`)} AS pair_month_revenue
    FROM (
      SELECT user_id, anonymous_id, "timestamp", type, event, CAST(NULL AS Nullable(Float64)) AS revenue
      ${eventRows(tenant, { until: endMs })}
      UNION ALL
      SELECT user_id, anonymous_id, "timestamp", type, event, revenue
      FROM ${uniqueEventRows(
        tenant,
        ['user_id', 'anonymous_id', 'timestamp', 'type', 'event', 'revenue'],
        sql`type = 'track' AND isNotNull(revenue)`,
        { until: endMs },
      )}
    )
    GROUP BY user_id, anonymous_id`;
  const users = sql`SELECT user_key,
      min(pair_first_seen) AS user_first_seen, max(pair_daily) AS user_daily,
      max(pair_weekly) AS user_weekly, max(pair_monthly) AS user_monthly,
      ${sum(sql`pair_revenue`)} AS user_revenue, min(pair_signed_up) AS user_signed_up,
      max(pair_last_paid) AS user_last_paid, min(pair_first_paid) AS user_first_paid,
      max(pair_active_before) AS user_active_before, max(pair_active_now) AS user_active_now,
      ${sum(sql`pair_month_revenue`)} AS user_month_revenue
    FROM (${withUserKey(
      tenant,
      ids,
      sql`pair_first_seen, pair_daily, pair_weekly, pair_monthly, pair_revenue, pair_signed_up,
        pair_last_paid, pair_first_paid, pair_active_before, pair_active_now, pair_month_revenue`,
    )})
    GROUP BY user_key`;
  return store.query(
    render(sql`SELECT
        countIf(user_daily) AS dau,
        countIf(user_weekly) AS wau,
        countIf(user_monthly) AS mau,
        countIf(user_first_seen >= ${from}) AS new_users,
        toFloat64(ifNull(${sum(sql`user_revenue`)}, 0)) AS revenue,
        count(user_signed_up) AS signups,
        countIf(${isTrue(sql`user_last_paid >= user_signed_up`)}) AS converted,
        countIf(user_active_before) AS previous_active,
        countIf(user_active_before AND NOT user_active_now) AS churned,
        countIf(user_active_now) AS month_active,
        toFloat64(ifNull(${sum(sql`user_month_revenue`)}, 0)) AS month_revenue,
        countIf(${isTrue(sql`user_first_paid >= ${from}`)}) AS new_paying
      FROM (${users})`),
  );
}

/**
 * The dashboard's acquisition spend on ClickHouse (`ad_spend`): the sum of `properties.amount` of
 * the range's `adSpendEvent` track events, one row per message id.
 *
 * @example
 * const [row] = await adSpendRows(store, 'acme', 'ad_spend', { startMs, endMs });
 */
export function adSpendRows(
  store: Store,
  tenant: string,
  adSpendEvent: string,
  range: { startMs: number; endMs: number },
): Promise<Row[]> {
  const dialect = clickhouseDialect;
  const spend = uniqueEventRows(
    tenant,
    ['properties'],
    sql`type = 'track' AND event = ${adSpendEvent}`,
    { since: range.startMs, until: range.endMs },
  );
  return store.query(
    render(sql`SELECT ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`amount`)}, 0)`)} AS ad_spend
      FROM (SELECT ${dialect.jsonNumber(sql`properties`, 'amount')} AS amount FROM ${spend})`),
  );
}
