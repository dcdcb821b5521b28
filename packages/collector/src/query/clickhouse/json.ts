import { raw, type Sql, sql } from '../sql';

/**
 * Reading the top-level properties of the JSON text ClickHouse stores (`JSON.stringify` output:
 * compact, canonical escapes), on 18.16, which has no `JSONExtract*`.
 */

/**
 * `body(name)` with `name` standing for `value`, computed once: a one-element array mapped by a
 * lambda. Keeps a large expression used several times from being written (and parsed) again each
 * time; statements stay well under the server's limit on expression size.
 */
function bind(value: Sql, name: string, body: (bound: Sql) => Sql): Sql {
  return sql`arrayElement(arrayMap(${raw(name)} -> ${body(raw(name))}, [${value}]), 1)`;
}

/**
 * Regular-expression text (RE2) matching `text` literally: ASCII other than letters, digits and
 * `_` as `\x{HH}` escapes.
 */
function literalPattern(text: string): string {
  return text.replace(
    /[^\w\u0080-\uffff]/g,
    (char) => `\\x{${char.charCodeAt(0).toString(16).padStart(2, '0')}}`,
  );
}

/**
 * Property `name` of JSON object text `text`, as its JSON text ('' when absent), walking the
 * whole text: it splits into tokens (strings with their escapes, brackets, `,`, `:`, bare scalars)
 * whose concatenation is the text again; the nesting depth after each token is a running sum
 * over brackets. The key is the token equal to the JSON-encoded name at depth 1 followed by `:`;
 * its value runs from the next token to the first token back at depth 1.
 */
function walkedProperty(text: Sql, name: string): Sql {
  const split = sql`extractAll(${text}, '"(?:[^"\\\\\\\\]|\\\\\\\\.)*"|[^",:{}\\\\[\\\\]]+|.')`;
  return bind(split, 'json_tokens', (tokens) =>
    bind(
      sql`arrayCumSum(arrayMap(token -> multiIf(token IN ('{', '['), 1, token IN ('}', ']'), -1, 0), ${tokens}))`,
      'json_depths',
      (depths) =>
        bind(
          sql`arrayFirstIndex((token, depth, following) -> token = ${JSON.stringify(name)} AND depth = 1 AND following = ':',
            ${tokens}, ${depths}, arrayPushBack(arrayPopFront(${tokens}), ''))`,
          'json_key',
          (key) =>
            sql`if(${key} = 0, '', arrayStringConcat(arraySlice(${tokens}, ${key} + 2,
              arrayFirstIndex((depth, index) -> index > ${key} + 1 AND depth = 1, ${depths}, arrayEnumerate(${depths})) - ${key} - 1)))`,
        ),
    ),
  );
}

/**
 * Top-level property `name` of JSON object text `column`, as its JSON text; NULL when absent.
 * In a flat object (no `{` after the first character, no `[`) the key is `{"name":` or
 * `,"name":` (inside a JSON string every `"` is escaped, so neither can occur there) and one
 * regular expression reads the scalar after it. Other objects are walked token by token
 * ({@link walkedProperty}, several times slower), and only those: the walk runs inside `arrayMap`
 * over a one-element array that is empty for flat objects. (`visitParam*` would be cheaper, but
 * matches the name at any depth and misreads strings ending in an escaped backslash.)
 *
 * @example
 * topLevelProperty(sql`e.properties`, 'plan'); // '"pro"' for {"plan":"pro"}
 */
export function topLevelProperty(column: Sql, name: string): Sql {
  const flat = (text: Sql) =>
    sql`(position(substring(${text}, 2), '{') = 0 AND position(${text}, '[') = 0)`;
  const pattern = `[{,]${literalPattern(JSON.stringify(name))}:("(?:[^"\\\\]|\\\\.)*"|[^,}]*)`;
  const read = bind(
    column,
    'json_text',
    (text) => sql`if(${flat(text)}, extract(${text}, ${pattern}),
      arrayStringConcat(arrayMap(nested -> ${walkedProperty(sql`nested`, name)},
        arrayFilter(nested -> NOT ${flat(sql`nested`)}, [${text}]))))`,
  );
  return sql`nullIf(${read}, '')`;
}

/** Powers of ten exactly as doubles (SQL literals are parsed exactly; data text is not). */
const POWERS_OF_TEN = raw(`[${Array.from({ length: 16 }, (_, index) => `1e${index}`).join(', ')}]`);

/**
 * Decimal text `-?[0-9]+(\.[0-9]+)?` as the double nearest to it, as JavaScript's `Number` and
 * DuckDB read it. 18.16's text-to-float conversion can be one unit in the last place off (it
 * reads `1.757` as 1.7570000000000001), so up to 15 significant digits the value is the integer
 * of its digits divided by a power of ten: both exact doubles, and IEEE division rounds
 * correctly. Longer text (and exponents) fall back to the server's conversion.
 */
function decimalDouble(text: Sql): Sql {
  return sql`if(length(${text}) - position(${text}, '-') - (position(${text}, '.') > 0) <= 15,
    toFloat64(toInt64OrZero(replaceOne(${text}, '.', '')))
      / ${POWERS_OF_TEN}[if(position(${text}, '.') = 0, 0, length(${text}) - position(${text}, '.')) + 1],
    toFloat64OrZero(${text}))`;
}

/**
 * Top-level property `name` of JSON object text `column` as a double: a JSON number, or a string
 * holding a decimal number (spaces around it allowed, as revenue is read on ingest); else NULL.
 *
 * @example
 * jsonNumber(sql`properties`, 'amount'); // 19.9 for {"amount":"19.90"}
 */
export function jsonNumber(column: Sql, name: string): Sql {
  return bind(sql`ifNull(${topLevelProperty(column, name)}, '')`, 'json_value', (value) =>
    // A string holding a decimal number has no escapes: its text is the quoted digits.
    bind(
      sql`replaceRegexpAll(${value}, '^" *| *"$', '')`,
      'json_digits',
      (digits) => sql`multiIf(
          match(${value}, '^-?[0-9]+([.][0-9]+)?$'), ${decimalDouble(value)},
          match(${value}, '^-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?$'), toFloat64OrZero(${value}),
          match(${value}, '^" *-?[0-9]+([.][0-9]+)? *"$'), ${decimalDouble(digits)},
          CAST(NULL AS Nullable(Float64)))`,
    ),
  );
}
