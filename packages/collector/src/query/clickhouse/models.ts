import { raw, type Sql, sql } from '../sql';

/**
 * The two aggregates of the model metrics (`models.ts`) that ClickHouse 18.16 writes its own way;
 * the rest of that query is one shape for every store.
 */

/**
 * Aggregate: the nearest-rank percentile of `value` (NULLs skipped; NULL when there are none):
 * the ⌈fraction × n⌉-th smallest of the n values, as PostgreSQL's `percentile_disc` and DuckDB's
 * `quantile_disc` pick it. 18.16's `quantileExact` picks another rank, so the sorted group is
 * indexed directly; ⌈fraction × n⌉ is the same IEEE double product in every engine.
 *
 * @example
 * nearestRank(sql`latency`, 0.95);
 */
export function nearestRank(value: Sql, fraction: number): Sql {
  const sorted = sql`arraySort(groupArray(${value}))`;
  const rank = sql`toUInt64(greatest(1, ceil(${raw(String(fraction))} * length(${sorted}))))`;
  return sql`if(empty(${sorted}), CAST(NULL AS Nullable(Float64)), toNullable(toFloat64(${sorted}[${rank}])))`;
}

/**
 * Aggregate: the sum of `value` (NULLs skipped; NULL when there are none) in whole units of
 * 1 / `scale`: each value below `limit` in size is rounded (`floor(v × scale + 0.5)`) and added
 * as an integer, so the sum is the same double in any order and in every engine; larger values
 * are added as doubles. `scale` and `limit` are numbers chosen by the code.
 *
 * @example
 * scaledSum(sql`cost`, 1e9, 1e6); // exact to the billionth
 */
export function scaledSum(value: Sql, scale: number, limit: number): Sql {
  const factor = raw(String(scale));
  const bound = raw(String(limit));
  return sql`if(count(${value}) = 0, CAST(NULL AS Nullable(Float64)),
    toFloat64(sum(if(ifNull(abs(${value}) < ${bound}, 0), toInt64(floor(${value} * ${factor} + 0.5)), 0))) / ${factor}
    + sum(if(ifNull(abs(${value}) >= ${bound}, 0), ${value}, 0)))`;
}
