import { clickhouseDialect as dialect } from '../clickhouseDialect';
import { raw, type Sql, sql } from '../sql';

const DAY_MS = 86_400_000;

/** The UTC day of instant `ms` moved by `offset` days, `YYYY-MM-DD`. */
function utcDay(ms: number, offset: number): string {
  return new Date((Math.floor(ms / DAY_MS) + offset) * DAY_MS).toISOString().slice(0, 10);
}

/**
 * `FROM event_rows_v4 … WHERE …` for the tenant's events in [`since`, `until`) (either end open),
 * read from the table rather than the `events` view, whose `FINAL` 18.16 applies to the whole
 * table (it pushes no `WHERE` into a view) and runs in one thread. The range is also written on
 * `day`, the UTC day stored beside each timestamp and second in the sorting key, so the primary
 * key skips the other days (a day of margin on each side: `day` is the day of the unrounded time).
 * `since` may be an instant in SQL (an expression of constants, such as the earliest of a query's
 * bounds): its day is then computed by the server, which still skips the days before it.
 *
 * `prewhere`, a condition few rows meet on small columns, is checked first, on those columns
 * alone: the others are read only from the blocks of rows that meet it. 18.16 moves a condition of
 * `WHERE` there by itself, but not always the one few rows meet (the dashboard's ad spend took 4×
 * as long at 10M events without its `prewhere`).
 *
 * Without `final`, rows are read as stored: a copy of an event inserted twice (two collectors, or
 * a retry beyond the recent-id window) and not merged yet is read twice. Copies of one message id
 * carry the same event, so that is only for aggregates a repeated row cannot change: distinct
 * counts, min, max, sets of days. Counts and sums read one row per message id instead, with
 * {@link uniqueEventRows} (a few rows) or `final` (whole ranges).
 *
 * @example
 * sql`SELECT uniqExact(user_id) ${eventRows(tenant, { since, until })}`
 */
export function eventRows(
  tenant: string,
  range: {
    since?: number | Sql;
    until?: number;
    final?: boolean;
    alias?: 'e';
    prewhere?: Sql;
  } = {},
): Sql {
  const table = raw(
    `event_rows_v4${range.alias ? ` AS ${range.alias}` : ''}${range.final ? ' FINAL' : ''}`,
  );
  const prewhere = range.prewhere ? sql` PREWHERE ${range.prewhere}` : sql``;
  const since =
    range.since === undefined
      ? sql``
      : typeof range.since === 'number'
        ? sql` AND day >= ${dialect.date(utcDay(range.since, -1))} AND "timestamp" >= ${dialect.instant(range.since)}`
        : sql` AND day >= addDays(toDate('1970-01-01'), toInt32(floor(${range.since} / ${raw(String(DAY_MS))})) - 1)
          AND "timestamp" >= ${range.since}`;
  const until =
    range.until === undefined
      ? sql``
      : sql` AND day <= ${dialect.date(utcDay(range.until - 1, 1))} AND "timestamp" < ${dialect.instant(range.until)}`;
  return sql`FROM ${table}${prewhere} WHERE tenant = ${tenant}${since}${until}`;
}

/**
 * A subquery of the tenant's events in the range that match `where`, one row per message id
 * however many copies are stored, with `columns` (names of `event_rows_v4` columns, chosen by the
 * code). For counts and sums over few rows (revenue, ad spend): the grouping costs little once
 * `where` has kept only those.
 *
 * @example
 * sql`SELECT sum(revenue) FROM ${uniqueEventRows(tenant, ['revenue'], sql`isNotNull(revenue)`, { since })}`
 */
export function uniqueEventRows(
  tenant: string,
  columns: readonly string[],
  where: Sql,
  range: { since?: number | Sql; until?: number; prewhere?: Sql } = {},
): Sql {
  for (const column of columns) {
    if (!/^[a-z_]+$/.test(column)) throw new Error(`not a column: ${column}`);
  }
  const quoted = columns.map((column) => `"${column}"`);
  // The filter runs in the inner query: an alias equal to a column name (`any(x) AS x`) would
  // otherwise replace the column in the WHERE.
  return sql`(SELECT ${raw(quoted.map((column) => `any(${column}) AS ${column}`).join(', '))}
    FROM (SELECT day, message_id, ${raw(quoted.join(', '))} ${eventRows(tenant, range)} AND (${where}))
    GROUP BY day, message_id)`;
}
