import { expect } from 'vitest';
import type { HttpCollector } from '../httpCollector';

/** One read endpoint's answer: the status and the JSON body, or the CSV bytes and records. */
export interface Answer {
  status: number;
  body: unknown;
  /** The response text of a CSV answer, byte for byte. */
  csv?: string;
}

/**
 * Calls `path` on a collector with a read key (`Bearer`), JSON `body` when given.
 *
 * @example
 * const answer = await call(http, '/v1/dashboard?from=2024-02-01&to=2024-03-12', { key: READ_KEY });
 */
export async function call(
  http: HttpCollector,
  path: string,
  options: { body?: unknown; method?: string; key: string },
): Promise<Answer> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  const response = await fetch(`${http.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  if (response.headers.get('content-type')?.startsWith('text/csv')) {
    return { status: response.status, body: csvRows(text), csv: text };
  }
  return { status: response.status, body: JSON.parse(text) };
}

/** CSV records as arrays of cells; JSON cells parsed (JSONB orders keys and spaces its text). */
export function csvRows(text: string): unknown[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at]!;
    if (quoted) {
      if (char === '"' && text[at + 1] === '"') {
        cell += '"';
        at++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\r' && text[at + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      at++;
    } else cell += char;
  }
  const header = records[0] ?? [];
  const json = ['properties', 'traits', 'context'].map((name) => header.indexOf(name));
  return records.map((cells, index) =>
    index === 0
      ? cells
      : cells.map((value, column) => (json.includes(column) ? JSON.parse(value) : value)),
  );
}

/**
 * Equal, numbers to 1e-9 relative (sums may add in another order); reports the first difference.
 * One assertion per call: tens of thousands of CSV cells compare in milliseconds.
 *
 * @example
 * expectSame(await call(postgres, path, options), await call(duckdb, path, options));
 */
export function expectSame(actual: unknown, expected: unknown): void {
  const difference = firstDifference(actual, expected, '$');
  expect(difference, difference).toBeUndefined();
}

/** Where `actual` and `expected` first differ, with both values; undefined when they do not. */
function firstDifference(actual: unknown, expected: unknown, path: string): string | undefined {
  const show = (value: unknown) => JSON.stringify(value)?.slice(0, 200);
  if (typeof expected === 'number' && typeof actual === 'number') {
    const scale = Math.max(1, Math.abs(expected));
    return Math.abs(actual - expected) <= 1e-9 * scale
      ? undefined
      : `${path}: ${actual} vs ${expected}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: ${show(actual)} is not an array`;
    if (actual.length !== expected.length) {
      return `${path}.length: ${actual.length} vs ${expected.length}`;
    }
    for (const [index, item] of expected.entries()) {
      const difference = firstDifference(actual[index], item, `${path}[${index}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return `${path}: ${show(actual)}`;
    const keys = Object.keys(expected).sort();
    if (show(Object.keys(actual).sort()) !== show(keys)) {
      return `${path} keys: ${show(Object.keys(actual).sort())} vs ${show(keys)}`;
    }
    for (const key of keys) {
      const difference = firstDifference(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
      if (difference) return difference;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : `${path}: ${show(actual)} vs ${show(expected)}`;
}
