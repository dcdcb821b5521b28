import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { SqlStatement } from '../store';
import type { ClickHouseConnection } from './clickhouseConnection';
import { bindStatement } from './literal';

/** A column name from `DESCRIBE` as a ClickHouse identifier (backquoted, escaped). */
function identifier(name: string): string {
  return `\`${name.replace(/[\\`]/g, (char) => `\\${char}`)}\``;
}

/**
 * One RFC 4180 field of `column`, as the DuckDB store's `COPY … (FORMAT csv)` writes it: NULL
 * empty, empty text `""`, quoted (quotes doubled) when it holds `,` `"` CR or LF, else as is.
 */
function csvField(column: string, type: string): string {
  // A NULL literal's column has no values to convert.
  if (type === 'Nullable(Nothing)') return "''";
  const text = `toString(assumeNotNull(${column}))`;
  return `if(isNull(${column}), '', multiIf(${text} = '', '""',
    position(${text}, '"') > 0 OR position(${text}, ',') > 0
      OR position(${text}, '\\r') > 0 OR position(${text}, '\\n') > 0,
    concat('"', replaceAll(${text}, '"', '""'), '"'), ${text}))`;
}

/**
 * Writes the rows of `statement` to a new file at `path` as CSV records (the `Store.writeCsv`
 * contract), without the rows passing through JavaScript. ClickHouse's own CSV writer quotes
 * every string and writes NULL as `\N` (18.16 has no setting for either), so the server builds
 * each record itself: the statement's columns (read with `DESCRIBE`, which runs nothing) become
 * one text per row, fields joined by `,` and ending in CR; `TSVRaw` writes it unescaped with the
 * LF, and the response is streamed to the file. `wait_end_of_query` makes the server finish the
 * query before it answers, so an error is an error status, never a truncated file.
 *
 * `columns` (the statement's column names, given by a caller that knows them) replace the
 * `DESCRIBE`: it analyses the statement, which builds its `IN` sets, and for an export page that
 * is a `FINAL` read of its own (0.4 s of a 2.3 s export at 10M events). Every such column is then
 * treated as nullable (`isNull` of a column that cannot be NULL is 0).
 *
 * @example
 * await writeClickHouseCsv(connection, render(sql`SELECT message_id FROM events`), '/tmp/page.csv');
 */
export async function writeClickHouseCsv(
  connection: ClickHouseConnection,
  statement: SqlStatement,
  path: string,
  names?: readonly string[],
): Promise<void> {
  const text = bindStatement(statement);
  const columns = names
    ? names.map((name) => ({ name, type: 'Nullable(String)' }))
    : await connection.rows(`DESCRIBE TABLE (${text})`);
  const fields = columns.map((column) =>
    csvField(identifier(String(column.name)), String(column.type)),
  );
  const result = await connection.client.exec({
    query: `SELECT concat(${fields.join(", ',', ")}, '\\r') FROM (${text}) FORMAT TSVRaw`,
    clickhouse_settings: { wait_end_of_query: 1 },
  });
  await pipeline(result.stream, createWriteStream(path, { flags: 'wx' }));
}
