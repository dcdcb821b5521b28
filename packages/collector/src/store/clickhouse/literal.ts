import type { SqlStatement, SqlValue } from '../store';

/**
 * The one place where a value becomes ClickHouse SQL text. ClickHouse 18.16 has no query
 * parameters, so values are written as literals that the server can only read back as data:
 * strings in single quotes with `\`, `'` and every control character (NUL included) escaped as
 * `\xHH`; numbers only when finite; lists as arrays of such strings. Identifiers never pass here:
 * they are chosen by the code.
 *
 * @example
 * encodeLiteral("it's"); // "'it\\'s'"
 * encodeLiteral(['a', 'b']); // "['a', 'b']"
 */
export function encodeLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return encodeString(value);
  if (typeof value === 'number') return encodeNumber(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) {
    // `[]` is Array(Nothing) in old servers, which many functions reject.
    if (value.length === 0) return 'emptyArrayString()';
    return `[${value.map((item: unknown) => encodeString(requireString(item))).join(', ')}]`;
  }
  throw new TypeError(`cannot encode a ${typeof value} as a ClickHouse literal`);
}

/** A string literal: quotes, backslashes and control characters escaped as ClickHouse reads them. */
export function encodeString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
  let out = "'";
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '\\') out += '\\\\';
    else if (char === "'") out += "\\'";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${out}'`;
}

/** A finite number; integers stay integers, others are written as JavaScript prints them. */
export function encodeNumber(value: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`not a finite number: ${String(value)}`);
  }
  // `String` gives `1e+21`/`5e-7`, which ClickHouse parses; parentheses keep `-` unary.
  return value < 0 || Object.is(value, -0) ? `(${String(value)})` : String(value);
}

function requireString(value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`list items must be strings, got ${typeof value}`);
  return value;
}

/**
 * The text of a statement rendered by `query/sql.ts` (positional `$1`, `$2`, …) with each
 * placeholder replaced by its encoded value. Placeholders inside the statement's own quoted text
 * (trusted SQL) are left alone.
 *
 * @example
 * bindStatement({ text: 'SELECT $1', values: ["o'k"] }); // "SELECT 'o\\'k'"
 */
export function bindStatement(statement: SqlStatement): string {
  const { text, values } = statement;
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === "'" || char === '"' || char === '`') {
      const end = quotedEnd(text, index, char);
      out += text.slice(index, end);
      index = end;
      continue;
    }
    if (char === '$') {
      const match = /^\$(\d+)/.exec(text.slice(index, index + 12));
      if (match) {
        const position = Number(match[1]);
        if (position < 1 || position > values.length) {
          throw new RangeError(`statement has no value for $${position}`);
        }
        out += encodeLiteral(values[position - 1] as SqlValue);
        index += match[0].length;
        continue;
      }
    }
    out += char;
    index++;
  }
  return out;
}

/** Index just after the quoted section starting at `start` (backslash escapes honoured). */
function quotedEnd(text: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === '\\') index += 2;
    else if (char === quote) {
      // A doubled quote is an escaped quote in standard SQL.
      if (text[index + 1] === quote) index += 2;
      else return index + 1;
    } else index++;
  }
  throw new SyntaxError('unterminated quoted text in a trusted statement');
}
