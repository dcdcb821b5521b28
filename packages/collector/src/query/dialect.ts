import { clickhouseDialect } from './clickhouseDialect';
import { javaScriptNumberText } from './numberText';
import { postgresDialect } from './postgresDialect';
import { joinSql, raw, type Sql, sql } from './sql';
import { standardSumAmounts } from './standardSumAmounts';
import { type Interval, offsetSegments } from './time';

/**
 * The engine-specific pieces of the metric definitions. Every metric in `src/query` is written
 * once against this interface; a store engine supplies its dialect (DuckDB here; ClickHouse and
 * PostgreSQL provide their own), so a definition never names an engine's function directly.
 * Where ClickHouse needs another query shape (no CTEs or window functions on 18.16), the metric
 * module picks the engine's rows function (`src/query/clickhouse`); the scalar pieces still come
 * from here.
 */
export interface SqlDialect {
  readonly name: string;
  /** An instant (Unix ms) as a timestamp-with-time-zone value, exact to the microsecond. */
  instant(ms: number): Sql;
  /**
   * The local calendar day (a DATE) of timestamp `column` in IANA zone `tz`. With `span`, the
   * timestamps are known to lie in [startMs, endMs): the day comes from integer arithmetic on the
   * zone's offsets over that span (see `offsetSegments`), much cheaper per row than a time-zone
   * conversion.
   */
  localDay(column: Sql, tz: string, span?: { startMs: number; endMs: number }): Sql;
  /** The first day (a DATE) of the day/ISO week/month holding DATE `day`. */
  periodStart(interval: Interval, day: Sql): Sql;
  /** Whole periods from period start `from` to period start `to` (both DATEs). */
  periodsBetween(interval: Interval, from: Sql, to: Sql): Sql;
  /** DATE `day` moved by `days` (an integer known to the code, not input). */
  addDays(day: Sql, days: number): Sql;
  /** Unix ms of timestamp `column`. */
  epochMs(column: Sql): Sql;
  /** `timestamp + seconds`. */
  plusSeconds(column: Sql, seconds: number): Sql;
  /** Top-level property `name` of JSON text `column`, as JSON text (null when absent). */
  jsonProperty(column: Sql, name: string): Sql;
  /** Whether property `name` of `column` equals `value`, JSON type included. */
  jsonPropertyEquals(column: Sql, name: string, value: string | number | boolean): Sql;
  /**
   * Property `name` of `column` as a double: a JSON number, or a string holding a decimal number
   * (as revenue is read on ingest); else null.
   */
  jsonNumber(column: Sql, name: string): Sql;
  /**
   * Aggregate: `value` of the row with the smallest / largest `order` (NULL when that row's value
   * is NULL; rows whose `order` is NULL are skipped).
   */
  valueAtMin(value: Sql, order: Sql): Sql;
  valueAtMax(value: Sql, order: Sql): Sql;
  /** Aggregate: the first `value` ordered by `order` (several keys allowed). */
  firstOrdered(value: Sql, order: Sql): Sql;
  /**
   * Aggregate: the sum of amounts (doubles such as revenue; NULLs skipped, NULL when there are
   * none), exact to the millionth: each amount below 1e9 in size is rounded to 6 decimal places
   * (`floor(v × 10⁶ + 0.5)`, the same IEEE operations in every engine) and added as an integer, so
   * the sum is the same double whatever order the engine adds rows in. Larger amounts are added
   * as doubles.
   */
  sumAmounts(value: Sql): Sql;
  /** Aggregate: the median (the mean of the two middle values for an even count). */
  median(value: Sql): Sql;
  /** A calendar date `YYYY-MM-DD` (validated by the caller) as a DATE value. */
  date(day: string): Sql;
  /** A row of named values, compared as a whole (for `valueAtMin` of several columns). */
  pack(fields: Record<string, Sql>): Sql;
  /** Field `name` of a packed row (as text on PostgreSQL and ClickHouse). */
  unpack(packed: Sql, name: string): Sql;
  /** Whether `column` is one of `values` (bound as one list parameter). */
  inList(column: Sql, values: readonly string[]): Sql;
  /** `value` as text. */
  text(value: Sql): Sql;
  /** `value` as a double. */
  double(value: Sql): Sql;
  /**
   * Text `value` as a spreadsheet-safe CSV cell: text starting with `=`, `+`, `-`, `@`, tab or
   * CR (which spreadsheet apps run as a formula: OWASP CSV injection) gets a leading `'`.
   */
  csvText(value: Sql): Sql;
  /** Timestamp `column` as ISO 8601 in UTC with milliseconds, as `Date#toISOString` writes it. */
  isoTime(column: Sql): Sql;
  /** Double `value` as text, as JavaScript's `String(number)` writes it: `100`, `19.99`, `-5`. */
  numberText(value: Sql): Sql;
}

/** A field name chosen by the code (letters, digits, underscores only). */
function identifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not an identifier: ${name}`);
  return name;
}

/** A JSON pointer to a top-level property (RFC 6901: `~` → `~0`, `/` → `~1`). */
function pointer(name: string): string {
  return `/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** DuckDB (1.x): ICU time zones, `json_extract` with JSON pointers, `arg_min`, `median`. */
export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  instant: (ms) => sql`make_timestamptz(CAST(${String(Math.round(ms * 1000))} AS BIGINT))`,
  localDay: (column, tz, span) => {
    if (!span) return sql`CAST(timezone(${tz}, ${column}) AS DATE)`;
    const ms = sql`epoch_ms(${column})`;
    const segments = offsetSegments(tz, span.startMs, span.endMs);
    // Offsets and instants are integers computed here from Intl data, never input.
    const offset =
      segments.length === 1
        ? raw(String(segments[0]!.offsetMs))
        : sql`CASE ${joinSql(
            segments.map((segment) =>
              segment.untilMs === undefined
                ? raw(`ELSE ${segment.offsetMs}`)
                : sql`WHEN ${ms} < ${raw(String(segment.untilMs))} THEN ${raw(String(segment.offsetMs))}`,
            ),
            ' ',
          )} END`;
    return sql`CAST(DATE '1970-01-01' + CAST((${ms} + ${offset}) // 86400000 AS INTEGER) AS DATE)`;
  },
  periodStart: (interval, day) =>
    interval === 'day'
      ? day
      : interval === 'week'
        ? sql`CAST(date_trunc('week', ${day}) AS DATE)`
        : sql`CAST(date_trunc('month', ${day}) AS DATE)`,
  periodsBetween: (interval, from, to) =>
    interval === 'day'
      ? sql`(${to} - ${from})`
      : interval === 'week'
        ? sql`((${to} - ${from}) // 7)`
        : sql`((year(${to}) - year(${from})) * 12 + month(${to}) - month(${from}))`,
  addDays: (day, days) => sql`(${day} + CAST(${days} AS INTEGER))`,
  epochMs: (column) => sql`epoch_ms(${column})`,
  plusSeconds: (column, seconds) => sql`(${column} + to_seconds(CAST(${seconds} AS BIGINT)))`,
  jsonProperty: (column, name) => sql`json_extract(${column}, ${pointer(name)})`,
  jsonPropertyEquals: (column, name, value) =>
    sql`json_extract(${column}, ${pointer(name)}) = CAST(${JSON.stringify(value)} AS JSON)`,
  jsonNumber: (column, name) => {
    const value = sql`json_extract(${column}, ${pointer(name)})`;
    const text = sql`trim(json_extract_string(${column}, ${pointer(name)}))`;
    return sql`CASE
      WHEN json_type(${value}) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(${value} AS DOUBLE)
      WHEN json_type(${value}) = 'VARCHAR' AND regexp_full_match(${text}, '-?[0-9]+([.][0-9]+)?')
        THEN TRY_CAST(${text} AS DOUBLE)
    END`;
  },
  // `arg_min` would skip rows whose value is NULL; `arg_min_null` keeps them.
  valueAtMin: (value, order) => sql`arg_min_null(${value}, ${order})`,
  valueAtMax: (value, order) => sql`arg_max_null(${value}, ${order})`,
  firstOrdered: (value, order) => sql`first(${value} ORDER BY ${order})`,
  sumAmounts: (value) => standardSumAmounts(value, 'DOUBLE'),
  median: (value) => sql`median(${value})`,
  date: (day) => sql`CAST(${day} AS DATE)`,
  pack: (fields) =>
    sql`struct_pack(${joinSql(
      Object.entries(fields).map(([name, value]) => sql`${raw(identifier(name))} := ${value}`),
      ', ',
    )})`,
  unpack: (packed, name) => sql`${packed}.${raw(identifier(name))}`,
  inList: (column, values) => sql`list_contains(${values}, ${column})`,
  text: (value) => sql`CAST(${value} AS VARCHAR)`,
  double: (value) => sql`CAST(${value} AS DOUBLE)`,
  csvText: (value) =>
    sql`CASE WHEN left(${value}, 1) IN ('=', '+', '-', '@', chr(9), chr(13))
      THEN '''' || ${value} ELSE ${value} END`,
  isoTime: (column) => sql`strftime(${column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`,
  // DuckDB writes `100.0`, `1e-07`, `1e+16`; JavaScript (and the JSON API) `100`, `1e-7`, `10000000000000000`.
  numberText: (value) =>
    javaScriptNumberText(
      value,
      (text, pattern, index) => sql`nullif(regexp_extract(${text}, ${pattern}, ${index}), '')`,
      'VARCHAR',
    ),
};

const DIALECTS: Record<string, SqlDialect> = {
  duckdb: duckdbDialect,
  postgres: postgresDialect,
  clickhouse: clickhouseDialect,
};

/**
 * The dialect of a store engine (`Store.kind`). Throws for a kind without one (a custom `Store`
 * must report one of `duckdb`, `postgres`, `clickhouse`).
 *
 * @example
 * const dialect = dialectOf(store.kind); // duckdbDialect
 */
export function dialectOf(kind: string): SqlDialect {
  const dialect = DIALECTS[kind];
  if (!dialect) {
    throw new Error(
      `no SQL dialect for store kind "${kind}": a Store's kind must be one of ${Object.keys(DIALECTS).join(', ')}`,
    );
  }
  return dialect;
}
