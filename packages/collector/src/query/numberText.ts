import { raw, type Sql, sql } from './sql';

/** The parts of a number's exponent form: sign, first digit, other digits, exponent. */
const EXPONENT_FORM = '^(-?)([0-9])(?:[.]([0-9]+))?e([-+]?[0-9]+)$';

/**
 * A double as JavaScript's `String(number)` writes it, in standard SQL (DuckDB, PostgreSQL), from
 * the engine's shortest round-trip text of it (`1e-07`, `1.5e+21`, `1.2345678901234568e+17`,
 * `0.1`, `100.0`): whole values below 1e15 as integers; otherwise the same digits, written in
 * exponent form only below 1e-6 and from 1e21 on (exponent without leading zeros, with its sign),
 * and in plain decimal form between. `group(text, pattern, index)` is the engine's regular
 * expression group; `textType` its name of the text type.
 *
 * @example
 * javaScriptNumberText(sql`revenue`, (text, pattern, index) => sql`regexp_extract(${text}, ${pattern}, ${index})`, 'VARCHAR');
 */
export function javaScriptNumberText(
  value: Sql,
  group: (text: Sql, pattern: string, index: number) => Sql,
  textType: 'VARCHAR' | 'TEXT',
): Sql {
  const type = raw(textType);
  const text = sql`CAST(${value} AS ${type})`;
  const part = (index: number) => sql`coalesce(${group(text, EXPONENT_FORM, index)}, '')`;
  const sign = part(1);
  const digits = sql`(${part(2)} || ${part(3)})`;
  // Never cast '' (a value without exponent never reaches the branches that read it, but engines
  // may evaluate them).
  const exponent = sql`CAST(coalesce(nullif(${part(4)}, ''), '0') AS INTEGER)`;
  const exponentForm = sql`${sign} || ${part(2)} || CASE WHEN ${part(3)} = '' THEN '' ELSE '.' || ${part(3)} END
    || 'e' || CASE WHEN ${exponent} >= 0 THEN '+' ELSE '-' END || CAST(abs(${exponent}) AS ${type})`;
  const plainForm = sql`CASE
    WHEN ${exponent} < 0 THEN ${sign} || '0.' || repeat('0', -${exponent} - 1) || ${digits}
    WHEN length(${digits}) <= ${exponent} + 1
      THEN ${sign} || ${digits} || repeat('0', ${exponent} + 1 - length(${digits}))
    ELSE ${sign} || substr(${digits}, 1, ${exponent} + 1) || '.' || substr(${digits}, ${exponent} + 2) END`;
  return sql`CASE
    WHEN ${value} IS NULL THEN NULL
    WHEN ${value} = trunc(${value}) AND abs(${value}) < 1e15 THEN CAST(CAST(${value} AS BIGINT) AS ${type})
    WHEN ${text} NOT LIKE '%e%' THEN
      CASE WHEN ${text} LIKE '%.0' THEN left(${text}, length(${text}) - 2) ELSE ${text} END
    WHEN ${exponent} >= 21 OR ${exponent} <= -7 THEN ${exponentForm}
    ELSE ${plainForm} END`;
}
