import type { SqlStatement, SqlValue } from '../store/store';

/**
 * A piece of SQL with its values kept apart from its text. Built with the {@link sql} tag, nested
 * freely, and rendered once into a statement whose values are bound as parameters: a value can
 * never become SQL text.
 */
export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: ReadonlyArray<SqlValue | Sql>,
  ) {}
}

/**
 * Tagged template for SQL: `${value}` binds a parameter; `${otherSql}` nests a fragment.
 *
 * @example
 * const statement = render(sql`SELECT count(*) FROM events WHERE tenant = ${tenant}`);
 * // { text: 'SELECT count(*) FROM events WHERE tenant = $1', values: [tenant] }
 */
export function sql(strings: TemplateStringsArray, ...values: Array<SqlValue | Sql>): Sql {
  return new Sql(strings, values);
}

/**
 * Trusted SQL text: identifiers and keywords chosen by the code from a fixed list, never input.
 *
 * @example
 * raw(BREAKDOWN_COLUMNS[name]); // 'utm_source'
 */
export function raw(text: string): Sql {
  return new Sql([text], []);
}

/** Fragments joined by `separator` (trusted text). */
export function joinSql(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) return raw('');
  // '' part₀ separator part₁ … separator partₙ ''
  const strings = ['', ...parts.slice(1).map(() => separator), ''];
  return new Sql(strings, parts);
}

/**
 * The statement of `fragment` with positional parameters (`$1`, `$2`, … as DuckDB and PostgreSQL
 * take them).
 *
 * @example
 * render(sql`SELECT ${1} + ${2}`); // { text: 'SELECT $1 + $2', values: [1, 2] }
 */
export function render(fragment: Sql): SqlStatement {
  const values: SqlValue[] = [];
  const text = renderInto(fragment, values);
  return { text, values };
}

function renderInto(fragment: Sql, values: SqlValue[]): string {
  let text = fragment.strings[0] ?? '';
  fragment.values.forEach((value, index) => {
    if (value instanceof Sql) text += renderInto(value, values);
    else {
      values.push(value);
      text += `$${values.length}`;
    }
    text += fragment.strings[index + 1] ?? '';
  });
  return text;
}
