import { raw, type Sql, sql } from './sql';

/**
 * `SqlDialect.sumAmounts` in standard SQL (DuckDB, PostgreSQL), with the engine's name of the
 * double type: amounts below 1e9 in size added exactly as integer millionths, larger ones as
 * doubles.
 *
 * @example
 * standardSumAmounts(sql`revenue`, 'DOUBLE');
 */
export function standardSumAmounts(value: Sql, double: 'DOUBLE' | 'DOUBLE PRECISION'): Sql {
  return sql`CASE WHEN count(${value}) = 0 THEN NULL ELSE
    CAST(coalesce(sum(CASE WHEN abs(${value}) < 1e9
      THEN CAST(floor(${value} * 1000000 + 0.5) AS BIGINT) END), 0) AS ${raw(double)}) / 1000000
    + coalesce(sum(CASE WHEN abs(${value}) >= 1e9 THEN ${value} END), 0) END`;
}
