import type { Store } from '../store/store';
import { dialectOf } from './dialect';
import { keyedEvents } from './keyedEvents';
import { computeSeries } from './series';
import { render, sql } from './sql';
import { addPeriods, periodStart, resolveRange, startOfDay, type TimeRange } from './time';

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
  const lastDay = resolveRange({ from: range.toDay, to: range.toDay, tz: range.tz }, 1);
  const [active, totals] = await Promise.all([
    computeSeries(store, tenant, { names: ['dau', 'wau', 'mau'], range: lastDay, interval: 'day' }),
    computeSeries(store, tenant, { names: ['new_users', 'revenue'], range, interval: 'day' }),
  ]);
  const lastDayValue = (name: string) => active[name]?.[0]?.value ?? 0;
  const sum = (name: string) =>
    (totals[name] ?? []).reduce((total, point) => total + point.value, 0);

  const dialect = dialectOf(store.kind);
  const instant = dialect.instant;
  const month = periodStart(range.toDay, 'month');
  const monthStart = startOfDay(month, range.tz);
  const previousStart = startOfDay(addPeriods(month, 'month', -1), range.tz);
  const [row] = await store.query(
    render(sql`WITH ${keyedEvents(dialect, tenant, { until: range.endMs, columns: ['type', 'event', 'revenue', 'properties'] })},
      signups AS (
        SELECT user_key, min(ts) AS signed_up FROM ev
        WHERE event = ${settings.signupEvent} AND ts >= ${instant(range.startMs)} GROUP BY user_key
      ),
      payments AS (SELECT user_key, ts FROM ev WHERE event = ${settings.paymentEvent}),
      converted AS (
        SELECT DISTINCT s.user_key FROM signups s JOIN payments p
          ON p.user_key = s.user_key AND p.ts >= s.signed_up
      ),
      first_payments AS (SELECT user_key, min(ts) AS first_paid FROM payments GROUP BY user_key),
      previous_month AS (
        SELECT DISTINCT user_key FROM ev
        WHERE ts >= ${instant(previousStart)} AND ts < ${instant(monthStart)}
      ),
      this_month AS (SELECT DISTINCT user_key FROM ev WHERE ts >= ${instant(monthStart)})
      SELECT
        (SELECT count(*) FROM signups) AS signups,
        (SELECT count(*) FROM converted) AS converted,
        (SELECT count(*) FROM previous_month) AS previous_active,
        (SELECT count(*) FROM previous_month WHERE user_key NOT IN (SELECT user_key FROM this_month)) AS churned,
        (SELECT count(*) FROM this_month) AS month_active,
        (SELECT ${dialect.double(sql`coalesce(sum(revenue) FILTER (WHERE type = 'track'), 0)`)} FROM ev
          WHERE ts >= ${instant(monthStart)}) AS month_revenue,
        (SELECT count(*) FROM first_payments WHERE first_paid >= ${instant(range.startMs)}) AS new_paying,
        (SELECT ${dialect.double(sql`coalesce(sum(${dialect.jsonNumber(sql`properties`, 'amount')}), 0)`)}
          FROM ev WHERE type = 'track' AND event = ${settings.adSpendEvent}
            AND ts >= ${instant(range.startMs)}) AS ad_spend`),
  );
  const count = (name: string) => Number(row?.[name] ?? 0);
  const signups = count('signups');
  const previousActive = count('previous_active');
  const monthActive = count('month_active');
  const churn = previousActive === 0 ? null : count('churned') / previousActive;
  const arpu = monthActive === 0 ? null : count('month_revenue') / monthActive;
  const ltv = arpu === null || churn === null || churn === 0 ? null : arpu / churn;
  const acquisitionSpend = settings.acquisitionSpend ?? count('ad_spend');
  const newPayingUsers = count('new_paying');
  const cac = newPayingUsers === 0 ? null : acquisitionSpend / newPayingUsers;
  return {
    from: range.fromDay,
    to: range.toDay,
    tz: range.tz,
    dau: lastDayValue('dau'),
    wau: lastDayValue('wau'),
    mau: lastDayValue('mau'),
    newUsers: sum('new_users'),
    revenue: sum('revenue'),
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
