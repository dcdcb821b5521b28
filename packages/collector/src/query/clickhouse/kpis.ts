import type { Row, Store } from '../../store/store';
import { clickhouseDialect } from '../clickhouseDialect';
import type { KpiBounds, KpiSettings } from '../kpis';
import { joinSql, raw, render, type Sql, sql } from '../sql';
import { eventRows, uniqueEventRows } from './eventRows';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/** One period of {@link kpiRows}: its bounds, and the instant of `bounds.end`. */
export interface KpiPeriod {
  bounds: KpiBounds;
  endMs: number;
}

/** The names of a period's totals, as {@link kpiRows} returns them. */
const TOTALS = [
  'dau',
  'wau',
  'mau',
  'new_users',
  'revenue',
  'signups',
  'converted',
  'previous_active',
  'churned',
  'month_active',
  'month_revenue',
  'new_paying',
] as const;

/** A column of the per-pair and per-user steps of {@link kpiRows}. */
interface PairColumn {
  name: string;
  /** Its value per pair from the pass over the events, and from the revenue rows. */
  events: Sql;
  revenue: Sql;
  /** How a user's pairs merge. */
  merge: 'min' | 'max' | 'sum';
}

/**
 * The dashboard's totals row on ClickHouse (`dau`, `wau`, `mau`, `new_users`, `revenue`,
 * `signups`, `converted`, `previous_active`, `churned`, `month_active`, `month_revenue`,
 * `new_paying`) of each period, as the standard query of `kpis.ts` returns it, in one query (a
 * second period costs a few more aggregates in the pass over the events, not a second pass) and in
 * the same three steps as that query: per (userId, anonymousId), per user key, totals (each step's columns named apart:
 * a ClickHouse alias equal to a column name would replace the column inside the aggregate).
 * `FILTER` becomes a conditional value that the aggregate skips when NULL.
 *
 * The per-pair step reads every event up to the last period's end and takes most of the query's
 * time (each row's pair is looked up in a hash table, then added to each aggregate), so it keeps
 * few aggregates: instants rather than flags, as the standard query does. The latest activity
 * before a period's end answers its daily, weekly, monthly and month activity, compared with each
 * bound in the totals; per period there remain the activity in the month before its month, its
 * first signup and its latest payment; for all periods, the first activity and first payment.
 * Events are read without `FINAL` (`eventRows`): a min, max or flag cannot change with a copy not
 * merged yet.
 *
 * Revenue is a sum, so it comes from one row per message id (`uniqueEventRows`), in a second part
 * of the per-pair step (`UNION ALL`, each part's columns NULL in the other) that reads only the
 * days since the earliest period start or month start: in the pass over every event, revenue
 * would read message ids and add aggregates for every row.
 *
 * @example
 * const [now, before] = await kpiRows(store, 'acme', [{ bounds, endMs }, { bounds: previous, endMs: previousEndMs }], settings);
 */
export async function kpiRows(
  store: Store,
  tenant: string,
  periods: readonly KpiPeriod[],
  settings: KpiSettings,
): Promise<Row[]> {
  const sum = clickhouseDialect.sumAmounts;
  const untilMs = Math.max(...periods.map(({ endMs }) => endMs));
  const at = (condition: Sql) => sql`if(${isTrue(condition)}, "timestamp", NULL)`;
  const noTime = sql`CAST(NULL AS Nullable(Int64))`;
  const noAmount = sql`CAST(NULL AS Nullable(Float64))`;
  // The rows read end with the last period: an earlier one's end is written out.
  const beforeEnd = ({ bounds, endMs }: KpiPeriod) =>
    endMs < untilMs ? sql` AND "timestamp" < ${bounds.end}` : sql``;
  const columns: PairColumn[] = [
    {
      name: 'first_seen',
      events: sql`toNullable(min("timestamp"))`,
      revenue: noTime,
      merge: 'min',
    },
    {
      name: 'first_paid',
      events: sql`min(${at(sql`event = ${settings.paymentEvent}`)})`,
      revenue: noTime,
      merge: 'min',
    },
    ...periods.flatMap((period, k): PairColumn[] => {
      const { from, monthStart, previousStart } = period.bounds;
      const end = beforeEnd(period);
      return [
        {
          name: `last_${k}`,
          events:
            period.endMs < untilMs
              ? sql`max(${at(sql`"timestamp" < ${period.bounds.end}`)})`
              : sql`toNullable(max("timestamp"))`,
          revenue: noTime,
          merge: 'max',
        },
        {
          name: `active_before_${k}`,
          events: sql`max("timestamp" >= ${previousStart} AND "timestamp" < ${monthStart})`,
          revenue: sql`toUInt8(0)`,
          merge: 'max',
        },
        {
          name: `signed_up_${k}`,
          events: sql`min(${at(sql`event = ${settings.signupEvent} AND "timestamp" >= ${from}${end}`)})`,
          revenue: noTime,
          merge: 'min',
        },
        {
          name: `last_paid_${k}`,
          events: sql`max(${at(sql`event = ${settings.paymentEvent}${end}`)})`,
          revenue: noTime,
          merge: 'max',
        },
        // The revenue rows are all track events (`uniqueEventRows` below).
        {
          name: `revenue_${k}`,
          events: noAmount,
          revenue: sum(sql`if("timestamp" >= ${from}${end}, revenue, NULL)`),
          merge: 'sum',
        },
        {
          name: `month_revenue_${k}`,
          events: noAmount,
          revenue: sum(sql`if("timestamp" >= ${monthStart}${end}, revenue, NULL)`),
          merge: 'sum',
        },
      ];
    }),
  ];
  const pairSelect = (part: 'events' | 'revenue') =>
    joinSql(
      columns.map((column) => sql`${column[part]} AS ${raw(`pair_${column.name}`)}`),
      ',\n      ',
    );
  const revenueSince = periods
    .map(({ bounds }) => sql`least(${bounds.from}, ${bounds.monthStart})`)
    .reduce((earliest, next) => sql`least(${earliest}, ${next})`);
  const ids = sql`SELECT user_id, anonymous_id, ${LINK_ANON}, ${pairSelect('events')}
    ${eventRows(tenant, { until: untilMs })}
    GROUP BY user_id, anonymous_id
    UNION ALL
    SELECT user_id, anonymous_id, ${LINK_ANON}, ${pairSelect('revenue')}
    FROM ${uniqueEventRows(
      tenant,
      ['user_id', 'anonymous_id', 'timestamp', 'revenue'],
      sql`type = 'track' AND isNotNull(revenue)`,
      { since: revenueSince, until: untilMs },
    )}
    GROUP BY user_id, anonymous_id`;
  const merged = columns.map(({ name, merge }) => {
    const pair = raw(`pair_${name}`);
    return sql`${merge === 'sum' ? sum(pair) : sql`${raw(merge)}(${pair})`} AS ${raw(`user_${name}`)}`;
  });
  const users = sql`SELECT user_key, ${joinSql(merged, ',\n      ')}
    FROM (${withUserKey(
      tenant,
      ids,
      joinSql(
        columns.map(({ name }) => raw(`pair_${name}`)),
        ', ',
      ),
    )})
    GROUP BY user_key`;
  const totals = periods.flatMap(({ bounds }, k) => {
    const { from, end, monthStart } = bounds;
    const user = (name: string) => raw(`user_${name}_${k}`);
    const total = (name: (typeof TOTALS)[number]) => raw(`${name}_${k}`);
    const activeSince = (since: Sql) => sql`countIf(${isTrue(sql`${user('last')} >= ${since}`)})`;
    // The first activity and first payment are over all the rows read: one before the period's
    // end is also the first before it, one after it is none within it.
    const firstWithin = (column: Sql) =>
      sql`countIf(${isTrue(sql`${column} >= ${from} AND ${column} < ${end}`)})`;
    return [
      sql`${activeSince(bounds.day)} AS ${total('dau')}`,
      sql`${activeSince(bounds.week)} AS ${total('wau')}`,
      sql`${activeSince(bounds.month)} AS ${total('mau')}`,
      sql`${firstWithin(raw('user_first_seen'))} AS ${total('new_users')}`,
      sql`toFloat64(ifNull(${sum(user('revenue'))}, 0)) AS ${total('revenue')}`,
      sql`count(${user('signed_up')}) AS ${total('signups')}`,
      sql`countIf(${isTrue(sql`${user('last_paid')} >= ${user('signed_up')}`)}) AS ${total('converted')}`,
      sql`countIf(${user('active_before')}) AS ${total('previous_active')}`,
      sql`countIf(${user('active_before')} AND NOT ${isTrue(sql`${user('last')} >= ${monthStart}`)}) AS ${total('churned')}`,
      sql`${activeSince(monthStart)} AS ${total('month_active')}`,
      sql`toFloat64(ifNull(${sum(user('month_revenue'))}, 0)) AS ${total('month_revenue')}`,
      sql`${firstWithin(raw('user_first_paid'))} AS ${total('new_paying')}`,
    ];
  });
  const [row = {}] = await store.query(
    render(sql`SELECT ${joinSql(totals, ',\n      ')}
      FROM (${users})`),
  );
  return periods.map((_, k) =>
    Object.fromEntries(TOTALS.map((name) => [name, row[`${name}_${k}`]])),
  );
}

/**
 * The dashboard's acquisition spend on ClickHouse (`ad_spend`): the sum of `properties.amount` of
 * the range's `adSpendEvent` track events, one row per message id. The event name is checked
 * first (`prewhere`): `properties` is then read only where such events are.
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
  const spend = uniqueEventRows(tenant, ['properties'], sql`type = 'track'`, {
    since: range.startMs,
    until: range.endMs,
    prewhere: sql`event = ${adSpendEvent}`,
  });
  return store.query(
    render(sql`SELECT ${dialect.double(sql`coalesce(${dialect.sumAmounts(sql`amount`)}, 0)`)} AS ad_spend
      FROM (SELECT ${dialect.jsonNumber(sql`properties`, 'amount')} AS amount FROM ${spend})`),
  );
}
