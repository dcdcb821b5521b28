import type { Row, Store } from '../../store/store';
import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { raw, render, type Sql, sql } from '../sql';
import type { TimeRange } from '../time';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/**
 * The experiment's rows on ClickHouse (`variant`, `exposed`, `converted`, `mixed`, as the
 * standard query of `experiments.ts` returns them). 18.16 has no CTEs and joins on equal keys
 * only, so each user key's exposures and goal times are gathered in one pass: its first exposure
 * (time, then variant text, smallest first) picks its variant, and it converted when some goal
 * time lies in [first exposure, first exposure + window] (`arrayExists` over its goal times; an
 * 18.16 lambda cannot read a column of its query, so the first exposure comes in as a second
 * array).
 *
 * `exposure` and `variant` are expressions over the events row `e`; `events` the names of the
 * exposure and goal events, which bound the rows read.
 *
 * @example
 * await experimentRows(store, 'acme', { exposure, variant, goal: 'signup', events, windowMs, range });
 */
export function experimentRows(
  store: Store,
  tenant: string,
  query: {
    exposure: Sql;
    variant: Sql;
    goal: string;
    events: readonly string[];
    windowMs: number;
    range: TimeRange;
  },
): Promise<Row[]> {
  const { range, windowMs } = query;
  const rows = sql`SELECT user_id, anonymous_id, ${LINK_ANON}, e."timestamp" AS ts,
      ${isTrue(query.exposure)} AS exposed,
      CAST(${query.variant} AS Nullable(String)) AS row_variant,
      ${isTrue(sql`e.event = ${query.goal}`)} AS goal_hit
    FROM events AS e
    WHERE e.tenant = ${tenant} AND has(${query.events}, ifNull(e.event, ''))
      AND e."timestamp" >= ${dialect.instant(range.startMs)}
      AND e."timestamp" < ${dialect.instant(range.endMs + windowMs + 1)}`;
  const users = sql`SELECT user_key,
      minIf(ts, exposed = 1) AS first_ts,
      tupleElement(argMinIf(tuple(row_variant), tuple(ts, ifNull(row_variant, '')), exposed = 1), 1) AS variant,
      uniqExactIf(row_variant, exposed = 1) AS variants,
      groupArrayIf(ts, goal_hit = 1) AS goals
    FROM (${withUserKey(tenant, rows, sql`ts, exposed, row_variant, goal_hit`)})
    GROUP BY user_key HAVING countIf(exposed = 1) > 0`;
  const window = raw(String(windowMs));
  return store.query(
    render(sql`SELECT variant, count() AS exposed, sum(user_converted) AS converted,
        countIf(variants > 1) AS mixed
      FROM (
        SELECT variant, variants,
          arrayExists((goal, start) -> goal >= start AND goal <= start + ${window},
            goals, arrayResize([first_ts], length(goals), first_ts)) AS user_converted
        FROM (${users}))
      GROUP BY variant`),
  );
}
