/**
 * Rewrites the two DuckDB-only constructs that the shared metric and read SQL (`src/query`,
 * `src/read`) still writes, into PostgreSQL 15 syntax:
 *
 * - `GROUP BY ALL` becomes `GROUP BY 1, 2, …`: the positions of the select items of the same
 *   SELECT that call no aggregate function;
 * - a subquery in FROM without an alias (`FROM (SELECT …)`, allowed from PostgreSQL 16) gets one.
 *
 * The text is code-written SQL (values are bound as parameters, never spliced in), so a scanner
 * that skips quoted literals and identifiers and tracks parentheses sees its whole structure.
 *
 * @example
 * toPostgresSql('SELECT a, count(*) FROM t GROUP BY ALL'); // 'SELECT a, count(*) FROM t GROUP BY 1'
 */
export function toPostgresSql(text: string): string {
  if (!/GROUP BY ALL|FROM\s*\(/i.test(text)) return text;
  return aliasSubqueries(groupByPositions(text));
}

/** Aggregates the shared SQL and the PostgreSQL dialect use; a select item calling one is no key. */
const AGGREGATE =
  /\b(min|max|count|sum|avg|bool_or|bool_and|array_agg|string_agg|percentile_cont|first)\s*\(/i;

interface Scan {
  /** Parenthesis depth before each character. */
  depth: number[];
  /** Whether each character is code (not inside a quoted literal or identifier). */
  code: boolean[];
}

function scan(text: string): Scan {
  const depth: number[] = new Array(text.length);
  const code: boolean[] = new Array(text.length);
  let level = 0;
  let quote: string | undefined;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    depth[at] = level;
    if (quote) {
      code[at] = false;
      if (char === quote) quote = undefined; // a doubled quote reopens on the next character
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      code[at] = false;
      continue;
    }
    code[at] = true;
    if (char === '(') level++;
    else if (char === ')') level--;
  }
  return { depth, code };
}

/** Code positions of `pattern` (global, sticky-free) in `text`. */
function codeMatches(text: string, pattern: RegExp, { code }: Scan): RegExpExecArray[] {
  return [...text.matchAll(pattern)].filter((match) => code[match.index]);
}

function groupByPositions(text: string): string {
  let result = text;
  // Right to left, so earlier offsets stay valid while later text changes.
  const state = scan(text);
  const groups = codeMatches(text, /\bGROUP BY ALL\b/gi, state).reverse();
  for (const group of groups) {
    const at = group.index;
    const level = state.depth[at]!;
    const select = enclosingSelect(text, state, at, level);
    if (select === undefined) throw new Error('GROUP BY ALL without its SELECT');
    const items = selectItems(text, state, select, at, level);
    const keys = items
      .map((item, index) => (AGGREGATE.test(item) ? undefined : index + 1))
      .filter((position) => position !== undefined);
    if (keys.length === 0) throw new Error('GROUP BY ALL over aggregates only');
    result = `${result.slice(0, at)}GROUP BY ${keys.join(', ')}${result.slice(at + group[0].length)}`;
  }
  return result;
}

/** The SELECT keyword opening the query that `GROUP BY` at `at` (depth `level`) belongs to. */
function enclosingSelect(text: string, state: Scan, at: number, level: number): number | undefined {
  for (let index = at - 1; index >= 0; index--) {
    if (state.depth[index]! < level) return undefined;
    if (
      state.depth[index] === level &&
      state.code[index] &&
      /^SELECT\b/i.test(text.slice(index, index + 7)) &&
      (index === 0 || !/\w/.test(text[index - 1]!))
    ) {
      return index;
    }
  }
  return undefined;
}

/** The top-level items of the select list between SELECT at `select` and its FROM. */
function selectItems(
  text: string,
  state: Scan,
  select: number,
  end: number,
  level: number,
): string[] {
  const items: string[] = [];
  let start = select + 'SELECT'.length;
  const distinct = /^\s+DISTINCT\b/i.exec(text.slice(start));
  if (distinct) start += distinct[0].length;
  for (let at = start; at < end; at++) {
    if (state.depth[at] !== level || !state.code[at]) continue;
    if (text[at] === ',') {
      items.push(text.slice(start, at));
      start = at + 1;
    } else if (/^FROM\b/i.test(text.slice(at, at + 5)) && /\W/.test(text[at - 1]!)) {
      items.push(text.slice(start, at));
      return items;
    }
  }
  throw new Error('GROUP BY ALL: no FROM after the select list');
}

function aliasSubqueries(text: string): string {
  const state = scan(text);
  const keywords = ['WHERE', 'GROUP', 'ORDER', 'LIMIT', 'UNION', 'HAVING', 'JOIN', 'ON', 'WINDOW'];
  const closes: number[] = [];
  for (const open of codeMatches(text, /\bFROM\s*\(\s*SELECT\b/gi, state)) {
    const paren = text.indexOf('(', open.index);
    const level = state.depth[paren]!;
    let close = paren + 1;
    while (close < text.length && !(text[close] === ')' && state.depth[close] === level + 1)) {
      close++;
    }
    if (close >= text.length) continue;
    // An alias follows: `AS x` or a bare identifier that is not a clause keyword.
    const next = /^\s*([A-Za-z_]\w*)/.exec(text.slice(close + 1))?.[1]?.toUpperCase();
    if (next === undefined || keywords.includes(next)) closes.push(close);
  }
  // Right to left, so earlier offsets stay valid while later text grows.
  let result = text;
  closes
    .sort((a, b) => b - a)
    .forEach((close, index) => {
      result = `${result.slice(0, close + 1)} AS subquery_${index + 1}${result.slice(close + 1)}`;
    });
  return result;
}
