import type { Row, Store } from '../store/store';
import { ACTIVITY_IDS, activityRevenue, rollupKeeps, usesActivityHours } from './activity';
import { adSpendRows, kpiRows } from './clickhouse/kpis';
import { dialectOf, type SqlDialect } from './dialect';
import { linksCte, USER_KEY } from './keyedEvents';
import { joinSql, raw, render, type Sql, sql } from './sql';
import {
  addDays,
  addPeriods,
  dayOf,
  daysBetween,
  periodStart,
  startOfDay,
  type TimeRange,
} from './time';

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
  /** With `compare=previous`: the same KPIs over the range just before (see previousRange). */
  previous?: Dashboard;
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

/** The instants of {@link KpiBounds} for `range`, as Unix ms. */
function boundsMs(range: TimeRange): Record<keyof KpiBounds, number> {
  const month = periodStart(range.toDay, 'month');
  const windowStart = (days: number) => startOfDay(addDays(range.toDay, -(days - 1)), range.tz);
  return {
    from: range.startMs,
    end: range.endMs,
    monthStart: startOfDay(month, range.tz),
    previousStart: startOfDay(addPeriods(month, 'month', -1), range.tz),
    day: windowStart(1),
    week: windowStart(7),
    month: windowStart(30),
  };
}

/**
 * The range just before `range`, as long: as many days ending the day before its first one, or,
 * for a range given as instants, as long a span ending where it starts. The dashboard's KPI cards
 * compare with it.
 *
 * @example
 * previousRange(resolveRange({ from: '2026-03-08', to: '2026-03-14' }, 400)); // 03-01 … 03-07
 */
export function previousRange(range: TimeRange): TimeRange {
  const wholeDays =
    range.startMs === startOfDay(range.fromDay, range.tz) &&
    range.endMs === startOfDay(addDays(range.toDay, 1), range.tz);
  if (wholeDays) {
    const days = daysBetween(range.fromDay, range.toDay) + 1;
    const fromDay = addDays(range.fromDay, -days);
    const toDay = addDays(range.fromDay, -1);
    return {
      tz: range.tz,
      fromDay,
      toDay,
      startMs: startOfDay(fromDay, range.tz),
      endMs: range.startMs,
    };
  }
  const startMs = range.startMs - (range.endMs - range.startMs);
  return {
    tz: range.tz,
    fromDay: dayOf(startMs, range.tz),
    toDay: dayOf(range.startMs - 1, range.tz),
    startMs,
    endMs: range.startMs,
  };
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
  const [dashboard] = await computeDashboards(store, tenant, [range], settings);
  return dashboard!;
}

/**
 * {@link computeDashboard} for several ranges at once (the dashboard's range and the one before
 * it): on DuckDB and PostgreSQL one pass over the tenant's data answers them all, so a second
 * range costs a few more aggregates rather than a second scan.
 *
 * @example
 * const [now, before] = await computeDashboards(store, 'acme', [range, previousRange(range)], settings);
 */
export async function computeDashboards(
  store: Store,
  tenant: string,
  ranges: readonly TimeRange[],
  settings: KpiSettings,
): Promise<Dashboard[]> {
  const dialect = dialectOf(store.kind);
  const periods = ranges.map((range) => {
    const ms = boundsMs(range);
    const bounds = Object.fromEntries(
      Object.entries(ms).map(([name, value]) => [name, dialect.instant(value)]),
    ) as unknown as KpiBounds;
    return { range, ms, bounds };
  });
  let rows: Row[];
  let spends: number[];
  if (store.kind === 'clickhouse') {
    // Every period's KPIs in one query, and the ad spend queries beside it.
    [rows, spends] = await Promise.all([
      kpiRows(
        store,
        tenant,
        periods.map(({ range, bounds }) => ({ bounds, endMs: range.endMs })),
        settings,
      ),
      Promise.all(
        periods.map(async ({ range }) => {
          if (settings.acquisitionSpend !== undefined) return settings.acquisitionSpend;
          const [row] = await adSpendRows(store, tenant, settings.adSpendEvent, range);
          return Number(row?.ad_spend ?? 0);
        }),
      ),
    ]);
  } else {
    const allMs = periods.flatMap(({ ms }) => Object.values(ms));
    const activity =
      usesActivityHours(
        store,
        ranges[0]?.tz ?? 'UTC',
        { startMs: Math.min(...allMs), endMs: Math.max(...allMs) },
        allMs,
      ) && ranges.every((range) => range.tz === ranges[0]!.tz);
    const [row = {}] = await standardKpiRows(
      dialect,
      store,
      tenant,
      periods.map(({ bounds }) => bounds),
      settings,
      activity,
      {
        // Revenue counts from the earliest period's start or month start, whichever is first.
        start: dialect.instant(
          Math.min(...periods.map(({ ms }) => Math.min(ms.from, ms.monthStart))),
        ),
        end: dialect.instant(Math.max(...periods.map(({ ms }) => ms.end))),
      },
    );
    // Columns `<name>_<k>` of the one row, as one row per period.
    rows = periods.map(() => ({}) as Row);
    for (const [column, value] of Object.entries(row)) {
      const [, name, k] = /^(.*)_(\d+)$/.exec(column) ?? [];
      if (name !== undefined) rows[Number(k)]![name] = value;
    }
    spends =
      settings.acquisitionSpend !== undefined
        ? periods.map(() => settings.acquisitionSpend!)
        : await standardAdSpend(
            dialect,
            store,
            tenant,
            settings.adSpendEvent,
            periods,
            activity && rollupKeeps(store, { adSpend: settings.adSpendEvent }),
          );
  }
  return periods.map(({ range }, k) => dashboardOf(range, rows[k]!, spends[k]!));
}

/** A {@link Dashboard} from one range's totals row and its acquisition spend. */
function dashboardOf(range: TimeRange, row: Row, acquisitionSpend: number): Dashboard {
  const count = (name: string) => Number(row[name] ?? 0);
  const signups = count('signups');
  const previousActive = count('previous_active');
  const monthActive = count('month_active');
  const churn = previousActive === 0 ? null : count('churned') / previousActive;
  const arpu = monthActive === 0 ? null : count('month_revenue') / monthActive;
  const ltv = arpu === null || churn === null || churn === 0 ? null : arpu / churn;
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

/**
 * Each period's sum of `properties.amount` of its `adSpendEvent` track events, in one query: from
 * the `activity_hours` rollup when `rollup` (it keeps that event's amounts and the bounds are
 * whole hours), else from the events.
 */
async function standardAdSpend(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  adSpendEvent: string,
  periods: ReadonlyArray<{ bounds: KpiBounds; ms: Record<keyof KpiBounds, number> }>,
  rollup: boolean,
): Promise<number[]> {
  const from = dialect.instant(Math.min(...periods.map(({ ms }) => ms.from)));
  const end = dialect.instant(Math.max(...periods.map(({ ms }) => ms.end)));
  const sum = ({ from: since, end: until }: KpiBounds) =>
    rollup
      ? activityRevenue(sql`hour >= ${since} AND hour < ${until}`, 'ad_spend')
      : dialect.sumAmounts(
          sql`CASE WHEN "timestamp" >= ${since} AND "timestamp" < ${until} THEN amount END`,
        );
  const source = rollup
    ? sql`activity_hours
        WHERE tenant = ${tenant} AND ad_spend_count > 0 AND hour >= ${from} AND hour < ${end}`
    : sql`(
        SELECT "timestamp", ${dialect.jsonNumber(sql`properties`, 'amount')} AS amount FROM events
        WHERE tenant = ${tenant} AND type = 'track' AND event = ${adSpendEvent}
          AND "timestamp" >= ${from} AND "timestamp" < ${end}
      ) AS spend`;
  const sums = periods.map(
    ({ bounds }, k) =>
      sql`${dialect.double(sql`coalesce(${sum(bounds)}, 0)`)} AS ${raw(`ad_spend_${k}`)}`,
  );
  const [row] = await store.query(render(sql`SELECT ${joinSql(sums, ', ')} FROM ${source}`));
  return periods.map((_, k) => Number(row?.[`ad_spend_${k}`] ?? 0));
}

/**
 * The per-period columns of `ids` and `users` in {@link standardKpiRows} (`<name>_<k>` for period
 * `k`), in order: the latest activity before the period's end and before its month's start, its
 * first signup and latest payment; with how `users` merges a user's pairs and the column's type.
 */
const PERIOD_COLUMNS = [
  { name: 'last', merge: 'max', type: 'TIMESTAMPTZ' },
  { name: 'before', merge: 'max', type: 'TIMESTAMPTZ' },
  { name: 'signed_up', merge: 'min', type: 'TIMESTAMPTZ' },
  { name: 'last_paid', merge: 'max', type: 'TIMESTAMPTZ' },
] as const;

/** {@link PERIOD_COLUMNS} of `count` periods, named `<name>_<k>`. */
function periodColumns(count: number) {
  return Array.from({ length: count }, (_, k) =>
    PERIOD_COLUMNS.map((column) => ({ ...column, name: `${column.name}_${k}` })),
  ).flat();
}

/**
 * The KPI totals row in standard SQL with CTEs: for each period `k`, `dau_k` … `new_paying_k`.
 *
 * One pass over the tenant's data up to the last period's end, aggregated per (userId,
 * anonymousId) first, so the user key is resolved on that small set rather than per event; then
 * per user key, then one row of totals. Per pair and user it keeps instants (first and latest
 * activity before each bound), not flags, so each further period adds a few aggregates. Revenue
 * is a total, not a per-user figure: it is summed in a one-row aggregate of its own (the rows with
 * revenue), beside the users' (a fifth less time at 10M events than carrying it through them).
 */
function standardKpiRows(
  dialect: SqlDialect,
  store: Store,
  tenant: string,
  periods: readonly KpiBounds[],
  settings: KpiSettings,
  activity: boolean,
  span: { start: Sql; end: Sql },
): Promise<Row[]> {
  const users = periodColumns(periods.length).map(({ name, merge }) => {
    const column = raw(name);
    return sql`${raw(merge)}(${column}) AS ${column}`;
  });
  const totals = periods.flatMap((bounds, k) => {
    const column = (name: string) => raw(`${name}_${k}`);
    const { from, end, monthStart, previousStart } = bounds;
    return [
      sql`count(*) FILTER (WHERE ${column('last')} >= ${bounds.day}) AS ${column('dau')}`,
      sql`count(*) FILTER (WHERE ${column('last')} >= ${bounds.week}) AS ${column('wau')}`,
      sql`count(*) FILTER (WHERE ${column('last')} >= ${bounds.month}) AS ${column('mau')}`,
      sql`count(*) FILTER (WHERE first_seen >= ${from} AND first_seen < ${end}) AS ${column('new_users')}`,
      sql`count(${column('signed_up')}) AS ${column('signups')}`,
      sql`count(*) FILTER (WHERE ${column('last_paid')} >= ${column('signed_up')}) AS ${column('converted')}`,
      sql`count(*) FILTER (WHERE ${column('before')} >= ${previousStart}) AS ${column('previous_active')}`,
      sql`count(*) FILTER (WHERE ${column('before')} >= ${previousStart} AND ${column('last')} < ${monthStart}) AS ${column('churned')}`,
      sql`count(*) FILTER (WHERE ${column('last')} >= ${monthStart}) AS ${column('month_active')}`,
      sql`count(*) FILTER (WHERE first_paid >= ${from} AND first_paid < ${end}) AS ${column('new_paying')}`,
    ];
  });
  return store.query(
    render(sql`WITH ${linksCte(dialect, tenant)},
      ids AS (${activity ? activityIds(store, tenant, periods, settings, span.end) : eventIds(tenant, periods, settings, span.end)}),
      users AS (
        SELECT ${USER_KEY} AS user_key, min(first_seen) AS first_seen, ${joinSql(users, ', ')},
          min(first_paid) AS first_paid
        FROM ids r LEFT JOIN links l ON l.anonymous_id = r.anonymous_id
        GROUP BY 1
      ),
      totals AS (SELECT ${joinSql(totals, ',\n        ')} FROM users),
      revenue AS (${revenueTotals(dialect, tenant, periods, activity, span)})
      SELECT * FROM totals CROSS JOIN revenue`),
  );
}

/**
 * The one-row `revenue` of {@link standardKpiRows}: each period's `revenue_k` (its track revenue)
 * and `month_revenue_k` (from its month's start), summed over the rollup rows or the events with
 * revenue in `span`.
 */
function revenueTotals(
  dialect: SqlDialect,
  tenant: string,
  periods: readonly KpiBounds[],
  activity: boolean,
  { start, end }: { start: Sql; end: Sql },
): Sql {
  const sums = periods.flatMap(({ from, end: periodEnd, monthStart }, k) =>
    (
      [
        ['revenue', from],
        ['month_revenue', monthStart],
      ] as const
    ).map(([name, since]) => {
      const sum = activity
        ? activityRevenue(sql`hour >= ${since} AND hour < ${periodEnd}`)
        : dialect.sumAmounts(
            sql`CASE WHEN "timestamp" >= ${since} AND "timestamp" < ${periodEnd} THEN revenue END`,
          );
      return sql`${dialect.double(sql`coalesce(${sum}, 0)`)} AS ${raw(`${name}_${k}`)}`;
    }),
  );
  return activity
    ? sql`SELECT ${joinSql(sums, ', ')} FROM activity_hours
      WHERE tenant = ${tenant} AND revenue_count > 0 AND hour >= ${start} AND hour < ${end}`
    : sql`SELECT ${joinSql(sums, ', ')} FROM events
      WHERE tenant = ${tenant} AND type = 'track' AND revenue IS NOT NULL
        AND "timestamp" >= ${start} AND "timestamp" < ${end}`;
}

/** `ids` of {@link standardKpiRows}: per (userId, anonymousId), from the events. */
function eventIds(
  tenant: string,
  periods: readonly KpiBounds[],
  settings: KpiSettings,
  end: Sql,
): Sql {
  const columns = periods.flatMap(({ from, end: periodEnd, monthStart }, k) => {
    const column = (name: string) => raw(`${name}_${k}`);
    return [
      sql`max("timestamp") FILTER (WHERE "timestamp" < ${periodEnd}) AS ${column('last')}`,
      sql`max("timestamp") FILTER (WHERE "timestamp" < ${monthStart}) AS ${column('before')}`,
      sql`min("timestamp") FILTER (WHERE event = ${settings.signupEvent} AND "timestamp" >= ${from} AND "timestamp" < ${periodEnd}) AS ${column('signed_up')}`,
      sql`max("timestamp") FILTER (WHERE event = ${settings.paymentEvent} AND "timestamp" < ${periodEnd}) AS ${column('last_paid')}`,
    ];
  });
  return sql`SELECT user_id, anonymous_id, min("timestamp") AS first_seen, ${joinSql(columns, ',\n      ')},
      min("timestamp") FILTER (WHERE event = ${settings.paymentEvent}) AS first_paid
    FROM events WHERE tenant = ${tenant} AND "timestamp" < ${end}
    GROUP BY user_id, anonymous_id`;
}

/**
 * `ids` of {@link standardKpiRows} from the `activity_hours` rollup (bounds on whole hours, see
 * activity.ts): activity, and signup and payment times, from every rollup row. When the rollup
 * keeps other event names than the KPIs', the signup and payment times come from those events
 * alone, in a second part.
 */
function activityIds(
  store: Store,
  tenant: string,
  periods: readonly KpiBounds[],
  settings: KpiSettings,
  end: Sql,
): Sql {
  const { signupEvent, paymentEvent } = settings;
  const columns = [
    { name: 'first_seen', type: 'TIMESTAMPTZ' },
    ...periodColumns(periods.length),
    { name: 'first_paid', type: 'TIMESTAMPTZ' },
  ];
  /** The select list of one part: its own columns by name, NULL (typed) for the others. */
  const part = (own: Record<string, Sql>) =>
    joinSql(
      columns.map(
        ({ name, type }) => sql`${own[name] ?? raw(`CAST(NULL AS ${type})`)} AS ${raw(name)}`,
      ),
      ', ',
    );
  // The rollup keeps signup and payment times when its names are the KPIs' (see
  // store/duckdb/activityHours.ts); else those come from the events of those names.
  const rolled = rollupKeeps(store, { signup: signupEvent, payment: paymentEvent });
  const activityColumns: Record<string, Sql> = { first_seen: sql`min(hour)` };
  const eventColumns: Record<string, Sql> = {};
  const named = rolled ? activityColumns : eventColumns;
  named.first_paid = rolled
    ? sql`min(payment_first_at)`
    : sql`min("timestamp") FILTER (WHERE event = ${paymentEvent})`;
  periods.forEach(({ from, end: periodEnd, monthStart }, k) => {
    activityColumns[`last_${k}`] = sql`max(hour) FILTER (WHERE hour < ${periodEnd})`;
    activityColumns[`before_${k}`] = sql`max(hour) FILTER (WHERE hour < ${monthStart})`;
    named[`signed_up_${k}`] = rolled
      ? sql`min(signup_first_at) FILTER (WHERE hour >= ${from} AND hour < ${periodEnd})`
      : sql`min("timestamp") FILTER (WHERE event = ${signupEvent} AND "timestamp" >= ${from} AND "timestamp" < ${periodEnd})`;
    named[`last_paid_${k}`] = rolled
      ? sql`max(payment_last_at) FILTER (WHERE hour < ${periodEnd})`
      : sql`max("timestamp") FILTER (WHERE event = ${paymentEvent} AND "timestamp" < ${periodEnd})`;
  });
  return sql`SELECT ${ACTIVITY_IDS}, ${part(activityColumns)}
    FROM activity_hours WHERE tenant = ${tenant} AND hour < ${end}
    GROUP BY user_id, anonymous_id${
      rolled
        ? sql``
        : sql`
    UNION ALL
    SELECT user_id, anonymous_id, ${part(eventColumns)}
    FROM events
    WHERE tenant = ${tenant} AND "timestamp" < ${end} AND event IN (${signupEvent}, ${paymentEvent})
    GROUP BY user_id, anonymous_id`
    }`;
}
