import type { Row, Store } from '../../store/store';
import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { joinSql, raw, render, type Sql, sql } from '../sql';
import type { TimeRange } from '../time';
import { eventRows } from './eventRows';
import { isTrue, LINK_ANON, withUserKey } from './userKeys';

/**
 * The funnel's rows on ClickHouse (`step`, `bd`, `users`, `median`, as the standard query of
 * `funnel.ts` returns them), computed exactly as docs/metrics.md defines a funnel rather than
 * with `windowFunnel` (whose steps may share an event and need not be strictly later). Per user
 * key: the entry t₁ (first step-1 event in the range), its breakdown value, and the sorted times
 * of each later step's events; then tₖ is the first time after tₖ₋₁ and within the window of t₁
 * (`arrayFirstIndex` over the sorted array), and each user emits one row per step it reached.
 *
 * `conditions` (one per step) and `breakdown` are expressions over the events row `e`; `events`
 * are the steps' event names, which bound the rows whose properties are read at all.
 *
 * @example
 * await funnelRows(store, 'acme', { conditions, breakdown: sql`e.utm_source`, events: ['a', 'b'], windowSeconds: 86400, range });
 */
export function funnelRows(
  store: Store,
  tenant: string,
  query: {
    conditions: readonly Sql[];
    breakdown: Sql;
    events: readonly string[];
    windowSeconds: number;
    range: TimeRange;
  },
): Promise<Row[]> {
  const { conditions, windowSeconds, range } = query;
  const windowMs = raw(String(windowSeconds * 1000));
  const end = dialect.instant(range.endMs);
  const step = (k: number) => raw(`s${k}`);
  // Step conditions and the breakdown are evaluated after the WHERE: on the steps' events only.
  const rows = sql`SELECT user_id, anonymous_id, ${LINK_ANON}, e."timestamp" AS ts,
      CAST(${query.breakdown} AS Nullable(String)) AS row_bd,
      ${joinSql(
        conditions.map((condition, index) => sql`${isTrue(condition)} AS ${step(index + 1)}`),
        ', ',
      )}
    ${eventRows(tenant, { since: range.startMs, until: range.endMs + windowSeconds * 1000 + 1, alias: 'e' })}
      AND has(${query.events}, ifNull(e.event, ''))`;
  const entry = sql`${step(1)} AND ts < ${end}`;
  const later = conditions
    .slice(1)
    .map(
      (_, index) => sql`arraySort(groupArrayIf(ts, ${step(index + 2)})) AS ${raw(`a${index + 2}`)}`,
    );
  const users = sql`SELECT user_key, min(if(${entry}, ts, NULL)) AS t1,
      tupleElement(argMinIf(tuple(row_bd), ts, ${entry}), 1) AS entry_bd, ${joinSql(later, ', ')}
    FROM (${withUserKey(
      tenant,
      rows,
      sql`ts, row_bd, ${joinSql(
        conditions.map((_, index) => step(index + 1)),
        ', ',
      )}`,
    )})
    GROUP BY user_key HAVING isNotNull(t1)`;
  // i_k: index of step k's time in a_k (0: not reached, and then no later step is).
  const chain: Sql[] = [sql`assumeNotNull(t1) AS time1`];
  for (let k = 2; k <= conditions.length; k++) {
    const found = sql`arrayFirstIndex(x -> x > ${raw(`time${k - 1}`)} AND x <= time1 + ${windowMs}, ${raw(`a${k}`)})`;
    chain.push(
      k === 2
        ? sql`${found} AS i2`
        : sql`if(${raw(`i${k - 1}`)} = 0, 0, ${found}) AS ${raw(`i${k}`)}`,
      sql`${raw(`a${k}`)}[${raw(`i${k}`)}] AS ${raw(`time${k}`)}`,
    );
  }
  const reached = joinSql(
    [raw('1'), ...conditions.slice(1).map((_, index) => raw(`(i${index + 2} > 0)`))],
    ' + ',
  );
  const points = joinSql(
    conditions.map((_, index) =>
      index === 0
        ? sql`(toUInt8(1), CAST(NULL AS Nullable(Float64)))`
        : sql`(toUInt8(${raw(String(index + 1))}), toNullable((${raw(`time${index + 1}`)} - ${raw(`time${index}`)}) / 1000))`,
    ),
    ', ',
  );
  return store.query(
    render(sql`SELECT k AS step, entry_bd AS bd, count() AS users, ${dialect.median(sql`seconds`)} AS median
      FROM (
        SELECT entry_bd, arrayJoin(arraySlice([${points}], 1, ${reached})) AS point,
          tupleElement(point, 1) AS k, tupleElement(point, 2) AS seconds
        FROM (SELECT entry_bd, ${joinSql(chain, ', ')} FROM (${users}))
      )
      GROUP BY k, entry_bd`),
  );
}
