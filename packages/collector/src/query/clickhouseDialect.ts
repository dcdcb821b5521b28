import { jsonNumber, topLevelProperty } from './clickhouse/json';
import type { SqlDialect } from './dialect';
import { joinSql, raw, sql } from './sql';
import { offsetSegments } from './time';

/** A field name chosen by the code (letters, digits, underscores only). */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not an identifier: ${name}`);
  return name;
}

/**
 * ClickHouse (18.16 and later). Instants are `Int64` Unix milliseconds, so `instant` is an
 * integer literal and `epochMs` the column itself. Local days come from the zone's offsets
 * computed here (as DuckDB's do), so both engines agree with JavaScript's time-zone data to the
 * millisecond. JSON properties are read exactly at the top level (`clickhouse/json.ts`), and
 * decimal text becomes the nearest double as in JavaScript. Aggregates: `argMin`/`argMax` over
 * one-element tuples (so a NULL value at the smallest order is kept, not skipped), the median as
 * the middle of the sorted group (interpolated as DuckDB does for an even count).
 *
 * @example
 * const dialect = dialectOf('clickhouse'); // clickhouseDialect
 */
export const clickhouseDialect: SqlDialect = {
  name: 'clickhouse',
  // Stored instants are whole milliseconds.
  instant: (ms) => sql`toInt64(${Math.floor(ms)})`,
  localDay: (column, tz, span) => {
    if (!span) return sql`toDate(toDateTime(intDiv(${column}, 1000), ${tz}))`;
    const segments = offsetSegments(tz, span.startMs, span.endMs);
    // Offsets and instants are integers computed here from Intl data, never input.
    const offset =
      segments.length === 1
        ? raw(String(segments[0]!.offsetMs))
        : sql`multiIf(${joinSql(
            segments.map((segment) =>
              segment.untilMs === undefined
                ? raw(String(segment.offsetMs))
                : sql`${column} < ${raw(String(segment.untilMs))}, ${raw(String(segment.offsetMs))}`,
            ),
            ', ',
          )})`;
    return sql`addDays(toDate('1970-01-01'), toInt32(intDiv(${column} + ${offset}, 86400000)))`;
  },
  periodStart: (interval, day) =>
    interval === 'day'
      ? day
      : interval === 'week'
        ? sql`toMonday(${day})`
        : sql`toStartOfMonth(${day})`,
  periodsBetween: (interval, from, to) =>
    interval === 'day'
      ? sql`(toRelativeDayNum(${to}) - toRelativeDayNum(${from}))`
      : interval === 'week'
        ? sql`intDiv(toRelativeDayNum(${to}) - toRelativeDayNum(${from}), 7)`
        : sql`(toRelativeMonthNum(${to}) - toRelativeMonthNum(${from}))`,
  addDays: (day, days) => sql`addDays(${day}, ${raw(String(Math.trunc(days)))})`,
  epochMs: (column) => column,
  plusSeconds: (column, seconds) => sql`(${column} + ${raw(String(Math.trunc(seconds) * 1000))})`,
  jsonProperty: (column, name) => topLevelProperty(column, name),
  jsonPropertyEquals: (column, name, value) =>
    sql`ifNull(${topLevelProperty(column, name)} = ${JSON.stringify(value)}, 0)`,
  jsonNumber: (column, name) => jsonNumber(column, name),
  valueAtMin: (value, order) => sql`tupleElement(argMin(tuple(${value}), ${order}), 1)`,
  valueAtMax: (value, order) => sql`tupleElement(argMax(tuple(${value}), ${order}), 1)`,
  firstOrdered: (value, order) => sql`tupleElement(argMin(tuple(${value}), tuple(${order})), 1)`,
  sumAmounts: (value) =>
    sql`if(count(${value}) = 0, CAST(NULL AS Nullable(Float64)),
      toFloat64(sum(if(ifNull(abs(${value}) < 1e9, 0), toInt64(floor(${value} * 1000000 + 0.5)), 0))) / 1000000
      + sum(if(ifNull(abs(${value}) >= 1e9, 0), ${value}, 0)))`,
  median: (value) => {
    const sorted = sql`arraySort(groupArray(${value}))`;
    const low = sql`${sorted}[intDiv(length(${sorted}) + 1, 2)]`;
    const high = sql`${sorted}[intDiv(length(${sorted}), 2) + 1]`;
    // DuckDB interpolates as low × 0.5 + high × 0.5 (the same double as the mean of the two);
    // low + (high − low) × 0.5, as PostgreSQL's percentile_cont does, can be one bit off it
    // (109.539 and 82114.076: 41111.807499999995, not 41111.8075).
    return sql`if(empty(${sorted}), CAST(NULL AS Nullable(Float64)), toFloat64(${low}) * 0.5 + toFloat64(${high}) * 0.5)`;
  },
  date: (day) => sql`toDate(${day})`,
  // 18.16 has no named tuples: a packed row is its names and its values as text, side by side.
  pack: (fields) =>
    sql`tuple([${joinSql(
      Object.keys(fields).map((name) => raw(`'${identifier(name)}'`)),
      ', ',
    )}], [${joinSql(
      Object.values(fields).map((value) => sql`CAST(${value} AS Nullable(String))`),
      ', ',
    )}])`,
  unpack: (packed, name) =>
    sql`arrayElement(tupleElement(${packed}, 2), indexOf(tupleElement(${packed}, 1), ${raw(`'${identifier(name)}'`)}))`,
  inList: (column, values) => sql`has(${values}, ${column})`,
  text: (value) => sql`CAST(${value} AS Nullable(String))`,
  double: (value) => sql`CAST(${value} AS Nullable(Float64))`,
  csvText: (value) =>
    sql`if(substring(${value}, 1, 1) IN ('=', '+', '-', '@', '\\t', '\\r'), concat('''', ${value}), ${value})`,
  isoTime: (column) =>
    sql`concat(replaceOne(toString(toDateTime(intDiv(${column}, 1000), 'UTC')), ' ', 'T'), '.',
      substring(toString(1000 + ${column} % 1000), 2), 'Z')`,
  // ClickHouse writes doubles as the shortest exact text in JavaScript's forms, but `1e21` and
  // `-0` where JavaScript writes `1e+21` and `0`.
  numberText: (value) =>
    sql`if(ifNull(${value} = 0, 0), '0', replaceRegexpOne(toString(${value}), 'e([0-9])', 'e+\\\\1'))`,
};
