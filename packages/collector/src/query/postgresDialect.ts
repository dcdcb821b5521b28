import { withoutNul } from '../store/postgres/postgresWriter';
import type { SqlDialect } from './dialect';
import { javaScriptNumberText } from './numberText';
import { joinSql, raw, sql } from './sql';
import { standardSumAmounts } from './standardSumAmounts';

/** A field name chosen by the code (letters, digits, underscores only). */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not an identifier: ${name}`);
  return name;
}

/**
 * PostgreSQL (15+): `timezone()` for local days, JSONB operators for properties, ordered
 * `array_agg` for arg-min/first, `percentile_cont` for the median. Packed rows are JSONB objects
 * (anonymous records have no field names to unpack by). Sessions run with `TimeZone = UTC` and
 * `DateStyle = ISO` (set by the store), so a DATE reads back as `YYYY-MM-DD`.
 *
 * @example
 * const dialect = dialectOf('postgres'); // postgresDialect
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  // Whole microseconds as a bound text, so no float rounding moves the instant.
  instant: (ms) =>
    sql`(TIMESTAMPTZ 'epoch' + CAST(${String(Math.round(ms * 1000))} AS BIGINT) * INTERVAL '1 microsecond')`,
  // One conversion per row; PostgreSQL has no cheaper integer path worth the CASE ladder.
  localDay: (column, tz) => sql`CAST(timezone(CAST(${tz} AS TEXT), ${column}) AS DATE)`,
  periodStart: (interval, day) =>
    interval === 'day'
      ? day
      : interval === 'week'
        ? sql`CAST(${day} - (CAST(extract(isodow FROM ${day}) AS INTEGER) - 1) AS DATE)`
        : sql`CAST(date_trunc('month', CAST(${day} AS TIMESTAMP)) AS DATE)`,
  periodsBetween: (interval, from, to) =>
    interval === 'day'
      ? sql`(${to} - ${from})`
      : interval === 'week'
        ? sql`((${to} - ${from}) / 7)`
        : sql`CAST((extract(year FROM ${to}) - extract(year FROM ${from})) * 12
            + extract(month FROM ${to}) - extract(month FROM ${from}) AS INTEGER)`,
  addDays: (day, days) => sql`(${day} + CAST(${days} AS INTEGER))`,
  epochMs: (column) => sql`CAST(floor(extract(epoch FROM ${column}) * 1000) AS BIGINT)`,
  plusSeconds: (column, seconds) =>
    sql`(${column} + make_interval(secs => CAST(${seconds} AS DOUBLE PRECISION)))`,
  jsonProperty: (column, name) => sql`(${column} -> CAST(${name} AS TEXT))`,
  // Stored JSON holds U+0000 as U+FFFD (postgresWriter.ts), and JSONB rejects a `\u0000` escape.
  jsonPropertyEquals: (column, name, value) =>
    sql`(${column} -> CAST(${name} AS TEXT)) = CAST(${JSON.stringify(typeof value === 'string' ? withoutNul(value) : value)} AS JSONB)`,
  jsonNumber: (column, name) => {
    const value = sql`(${column} -> CAST(${name} AS TEXT))`;
    const text = sql`trim(${column} ->> CAST(${name} AS TEXT))`;
    return sql`CASE
      WHEN jsonb_typeof(${value}) = 'number' THEN CAST(${value} AS DOUBLE PRECISION)
      WHEN jsonb_typeof(${value}) = 'string' AND ${text} ~ '^-?[0-9]+([.][0-9]+)?$'
        THEN CAST(${text} AS DOUBLE PRECISION)
    END`;
  },
  valueAtMin: (value, order) =>
    sql`(array_agg(${value} ORDER BY ${order}) FILTER (WHERE ${order} IS NOT NULL))[1]`,
  valueAtMax: (value, order) =>
    sql`(array_agg(${value} ORDER BY ${order} DESC) FILTER (WHERE ${order} IS NOT NULL))[1]`,
  firstOrdered: (value, order) => sql`(array_agg(${value} ORDER BY ${order}))[1]`,
  sumAmounts: (value) => standardSumAmounts(value, 'DOUBLE PRECISION'),
  median: (value) =>
    sql`percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(${value} AS DOUBLE PRECISION))`,
  date: (day) => sql`CAST(${day} AS DATE)`,
  pack: (fields) =>
    sql`jsonb_build_object(${joinSql(
      Object.entries(fields).map(([name, value]) => sql`${raw(`'${identifier(name)}'`)}, ${value}`),
      ', ',
    )})`,
  unpack: (packed, name) => sql`(${packed} ->> ${raw(`'${identifier(name)}'`)})`,
  inList: (column, values) => sql`(${column} = ANY(CAST(${values} AS TEXT[])))`,
  text: (value) => sql`CAST(${value} AS TEXT)`,
  double: (value) => sql`CAST(${value} AS DOUBLE PRECISION)`,
  csvText: (value) =>
    sql`CASE WHEN left(${value}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))
      THEN '''' || ${value} ELSE ${value} END`,
  isoTime: (column) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  // PostgreSQL (12+) writes doubles as the shortest exact text, in exponent form from 1e15.
  numberText: (value) =>
    javaScriptNumberText(
      value,
      (text, pattern, index) => sql`(regexp_match(${text}, ${pattern}))[${raw(String(index))}]`,
      'TEXT',
    ),
};
