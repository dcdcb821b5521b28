import type { Row, Store } from '../store/store';
import { ACTIVITY_IDS, activityRevenue, usesActivityHours } from './activity';
import { adSpendRows, kpiRows } from './clickhouse/kpis';
import { dialectOf, type SqlDialect } from './dialect';
import { linksCte, USER_KEY } from './keyedEvents';
import { render, type Sql, sql } from './sql';
import { addDays, addPeriods, periodStart, startOfDay, type TimeRange } from './time';

/** The KPI summary of `GET /v1/dashboard`; definitions in docs/metrics.md. */
export interface Dashboard {
  from: string;
  to: string;
  tz: string;
  dau: number;
  wau: number;
  mau: number;
  newUsers: number;
  revenue: number;
  signups: number;
  /** Share (0–1) of the range's signups that paid by the end of the range. */
  conversion: number;
  churn: number | null;
  arpu: number | null;
  ltv: number | null;
  cac: number | null;
  ltvCac: number | null;
  acquisitionSpend: number;
  newPayingUsers: number;
}

export interface KpiSettings {
  signupEvent: string;
  paymentEvent: string;
  adSpendEvent: string;
  /** Configured spend for this tenant, replacing `adSpendEvent` events when set. */
  acquisitionSpend: number | undefined;
}

/** The instants the dashboard's aggregates compare event times with, in the store's dialect. */
export interface KpiBounds {
  /** Start and end of the range. */
  from: Sql;
  end: Sql;
  /** Start of the month holding the range's last day, and of the month before. */
  monthStart: Sql;
  previousStart: Sql;
  /** Starts of the 1-, 7- and 30-day windows ending on the range's last day. */
  day: Sql;
  week: Sql;
  month: Sql;
}

/**
 * The dashboard's KPIs over `range`: active users on its last day, new users and revenue over it,
 * signup → payment conversion, churn, ARPU and LTV of the month holding its last day, CAC and
 * LTV/CAC.
 *
 * @example
 * await computeDashboard(store, 'acme', range, { signupEvent: 'signup_completed', ... });
 */
export async function computeDashboard(
  store: Store,
  tenant: string,
  range: TimeRange,
  settings: KpiSettings,
): Promise<Dashboard> {
  const dialect = dialectOf(store.kind);
  const instant = dialect.instant;
  const month = periodStart(range.toDay, 'month');
  const windowStart = (days: number) => startOfDay(addDays(range.toDay, -(days - 1)), range.tz);
  const boundMs = {
    from: range.startMs,
    end: range.endMs,
    monthStart: startOfDay(month, range.tz),
    previousStart: startOfDay(addPeriods(month, 'month', -1), range.tz),
    day: windowStart(1),
    week: windowStart(7),
    month: windowStart(30),
  };
  const bounds: KpiBounds = {
    from: instant(boundMs.from),
    end: instant(boundMs.end),
    monthStart: instant(boundMs.monthStart),
    previousStart: instant(boundMs.previousStart),
    day: instant(boundMs.day),
    week: instant(boundMs.week),
    month: instant(boundMs.month),
  };
  const [row] =
    store.kind === 'clickhouse'
      ? await kpiRows(store, tenant, bounds, settings, range.endMs)
      : await standardKpiRows(
          dialect,
          store,
          tenant,
          bounds,
          settings,
          usesActivityHours(
            store,
            range.tz,
            { startMs: Math.min(...Object.values(boundMs)), endMs: range.endMs },
            Object.values(boundMs),
          ),
        );
  const { from, end } = bounds;
  const [spend] =
    settings.acquisitionSpend !== undefined
      ? []
      : store.kind === 'clickhouse'
        ? await adSpendRows(store, tenant, settings.adSpendEvent, range)
        : await store.query(
            render(sql`SELECT ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`amount`)}, 0)`)} AS ad_spend
            FROM (
              SELECT ${dialect.jsonNumber(sql`properties`, 'amount')} AS amount FROM events
              WHERE tenant = ${tenant} AND type = 'track' AND event = ${settings.adSpendEvent}
                AND "timestamp" >= ${from} AND "timestamp" < ${end}
            ) AS spend`),
          );
  const count = (name: string) => Number(row?.[name] ?? 0);
  const signups = count('signups');
  const previousActive = count('previous_active');
  const monthActive = count('month_active');
  const churn = previousActive === 0 ? null : count('churned') / previousActive;
  const arpu = monthActive === 0 ? null : count('month_revenue') / monthActive;
  const ltv = arpu === null || churn === null || churn === 0 ? null : arpu / churn;
  const acquisitionSpend = settings.acquisitionSpend ?? Number(spend?.ad_spend ?? 0);
  const newPayingUsers = count('new_paying');
  const cac = newPayingUsers === 0 ? null : acquisitionSpend / newPayingUsers;
  return {
    from: range.fromDay,
    to: range.toDay,
    tz: range.tz,
    dau: count('dau'),
    wau: count('wau'),
    mau: count('mau'),
    newUsers: count('new_users'),
    revenue: count('revenue'),
    signups,
    conversion: signups === 0 ? 0 : count('converted') / signups,
    churn,
    arpu,
    ltv,
    cac,
    ltvCac: ltv === null || cac === null || cac === 0 ? null : ltv / cac,
    acquisitionSpend,
    newPayingUsers,
  };
}

/** The KPI totals row (`dau` … `new_paying`) in standard SQL with CTEs. */
function standardKpiRows(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  bounds: KpiBounds,
  settings: KpiSettings,
  activity: boolean,
): Promise<Row[]> {
  const { from } = bounds;
  // One pass over the tenant's events up to the end of the range, aggregated per (userId,
  // anonymousId) first, so the user key is resolved on that small set rather than per event; then
  // per user key, then one row of totals. Only ad spend, a property of few events, is summed apart.
  return store.query(
    render(sql`WITH ${linksCte(dialect, tenant)},
      ids AS (${activity ? activityIds(tenant, bounds, settings) : eventIds(dialect, tenant, bounds, settings)}),
      users AS (
        SELECT ${USER_KEY} AS user_key,
          min(first_seen) AS first_seen, bool_or(daily) AS daily, bool_or(weekly) AS weekly,
          bool_or(monthly) AS monthly, ${dialect.sumAmounts(sql`revenue`)} AS revenue, min(signed_up) AS signed_up,
          max(last_paid) AS last_paid, min(first_paid) AS first_paid,
          bool_or(active_before) AS active_before, bool_or(active_now) AS active_now,
          ${dialect.sumAmounts(sql`month_revenue`)} AS month_revenue
        FROM ids r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
        GROUP BY 1
      )
      SELECT
        count(*) FILTER (WHERE daily) AS dau,
        count(*) FILTER (WHERE weekly) AS wau,
        count(*) FILTER (WHERE monthly) AS mau,
        count(*) FILTER (WHERE first_seen >= ${from}) AS new_users,
        ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`revenue`)}, 0)`)} AS revenue,
        count(signed_up) AS signups,
        count(*) FILTER (WHERE last_paid >= signed_up) AS converted,
        count(*) FILTER (WHERE active_before) AS previous_active,
        count(*) FILTER (WHERE active_before AND NOT active_now) AS churned,
        count(*) FILTER (WHERE active_now) AS month_active,
        ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`month_revenue`)}, 0)`)} AS month_revenue,
        count(*) FILTER (WHERE first_paid >= ${from}) AS new_paying
      FROM users`),
  );
}

/** `ids` of {@link standardKpiRows}: per (userId, anonymousId), from the events. */
function eventIds(
  dialect: SqlDialect,
  tenant: string,
  bounds: KpiBounds,
  settings: KpiSettings,
): Sql {
  const { from, end, monthStart, previousStart } = bounds;
  return sql`SELECT user_id, anonymous_id,
      min("timestamp") AS first_seen,
      bool_or("timestamp" >= ${bounds.day}) AS daily,
      bool_or("timestamp" >= ${bounds.week}) AS weekly,
      bool_or("timestamp" >= ${bounds.month}) AS monthly,
      ${dialect.sumAmounts(sql`CASE WHEN type = 'track' AND "timestamp" >= ${from} THEN revenue END`)} AS revenue,
      min("timestamp") FILTER (WHERE event = ${settings.signupEvent} AND "timestamp" >= ${from}) AS signed_up,
      max("timestamp") FILTER (WHERE event = ${settings.paymentEvent}) AS last_paid,
      min("timestamp") FILTER (WHERE event = ${settings.paymentEvent}) AS first_paid,
      bool_or("timestamp" >= ${previousStart} AND "timestamp" < ${monthStart}) AS active_before,
      bool_or("timestamp" >= ${monthStart}) AS active_now,
      ${dialect.sumAmounts(sql`CASE WHEN type = 'track' AND "timestamp" >= ${monthStart} THEN revenue END`)} AS month_revenue
    FROM events WHERE tenant = ${tenant} AND "timestamp" < ${end}
    GROUP BY user_id, anonymous_id`;
}

/**
 * `ids` of {@link standardKpiRows} from the `activity_hours` rollup (bounds on whole hours, see
 * activity.ts), plus the signup and payment times from those events alone.
 */
function activityIds(tenant: string, bounds: KpiBounds, settings: KpiSettings): Sql {
  const { from, end, monthStart, previousStart } = bounds;
  const { signupEvent, paymentEvent } = settings;
  return sql`SELECT ${ACTIVITY_IDS},
      min(hour) AS first_seen,
      bool_or(hour >= ${bounds.day}) AS daily,
      bool_or(hour >= ${bounds.week}) AS weekly,
      bool_or(hour >= ${bounds.month}) AS monthly,
      ${activityRevenue(sql`hour >= ${from}`)} AS revenue,
      CAST(NULL AS TIMESTAMPTZ) AS signed_up,
      CAST(NULL AS TIMESTAMPTZ) AS last_paid,
      CAST(NULL AS TIMESTAMPTZ) AS first_paid,
      bool_or(hour >= ${previousStart} AND hour < ${monthStart}) AS active_before,
      bool_or(hour >= ${monthStart}) AS active_now,
      ${activityRevenue(sql`hour >= ${monthStart}`)} AS month_revenue
    FROM activity_hours WHERE tenant = ${tenant} AND hour < ${end}
    GROUP BY user_id, anonymous_id
    UNION ALL
    SELECT user_id, anonymous_id, NULL, NULL, NULL, NULL, NULL,
      min("timestamp") FILTER (WHERE event = ${signupEvent} AND "timestamp" >= ${from}),
      max("timestamp") FILTER (WHERE event = ${paymentEvent}),
      min("timestamp") FILTER (WHERE event = ${paymentEvent}),
      NULL, NULL, NULL
    FROM events
    WHERE tenant = ${tenant} AND "timestamp" < ${end} AND event IN (${signupEvent}, ${paymentEvent})
    GROUP BY user_id, anonymous_id`;
}
