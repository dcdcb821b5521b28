/** Keys that could reach `Object.prototype` through a later merge: refused outright. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest object/array nesting accepted inside one event. */
export const MAX_DEPTH = 32;

/** A problem with one field, as the ingest response names it. */
export interface FieldProblem {
  field: string;
  reason: string;
  message: string;
}

/** What {@link inspectEvent} found. */
export interface Inspection {
  /** The first problem, or undefined when the value may be stored. */
  problem: FieldProblem | undefined;
  /**
   * An upper bound of the UTF-8 size of `JSON.stringify(value)`, in bytes (meaningful only without
   * a problem). Each UTF-16 unit of a string or key counts 6 bytes, the most JSON can spend on one
   * (`\u001f`); numbers 24, the longest a double prints. The collector serialises an event to
   * measure it exactly only when this bound is over the per-event limit, which real events never
   * come near.
   */
  maxBytes: number;
}

/**
 * Walks a parsed event looking for what `JSON.parse` accepts but the collector must not store:
 * prototype-pollution keys, nesting deeper than {@link MAX_DEPTH}, and numbers that are not finite
 * (`1e400` parses as Infinity). Returns the first problem, if any, and a bound of the event's
 * JSON size.
 *
 * @example
 * inspectEvent(JSON.parse('{"properties":{"__proto__":{"admin":true}}}')).problem;
 * // { field: 'properties.__proto__', reason: 'forbidden_key', ... }
 */
export function inspectEvent(value: unknown): Inspection {
  return inspectPart(value, '', 0);
}

/**
 * {@link inspectEvent} for a part of an event that arrives separately: the batch envelope's
 * `context`, which lands at `context` (depth 1) of every event.
 *
 * @example
 * inspectPart(body.context, 'context', 1).problem;
 */
export function inspectPart(value: unknown, path: string, depth: number): Inspection {
  const size = { bytes: 0 };
  const found = walk(value, depth, size);
  if (!found) return { problem: undefined, maxBytes: size.bytes };
  // Segments were collected innermost first, as the walk unwound.
  let field = path;
  for (let index = found.segments.length - 1; index >= 0; index--) {
    const segment = found.segments[index]!;
    field =
      typeof segment === 'number'
        ? `${field}[${segment}]`
        : field
          ? `${field}.${segment}`
          : segment;
  }
  return {
    problem: { field: field || '(event)', reason: found.reason, message: found.message },
    maxBytes: size.bytes,
  };
}

const MAX_NUMBER_BYTES = 24;
const MAX_BYTES_PER_UNIT = 6;

/** A problem found by {@link walk}; the path to it is built only then, not for every key. */
interface Found {
  reason: string;
  message: string;
  /** Keys and array indexes from the problem up to the walk's root. */
  segments: Array<string | number>;
}

function walk(value: unknown, depth: number, size: { bytes: number }): Found | undefined {
  if (typeof value === 'string') {
    size.bytes += value.length * MAX_BYTES_PER_UNIT + 2;
    return undefined;
  }
  if (typeof value === 'number') {
    size.bytes += MAX_NUMBER_BYTES;
    return Number.isFinite(value)
      ? undefined
      : {
          reason: 'number_out_of_range',
          message: 'numbers must be finite doubles: send very large values as strings',
          segments: [],
        };
  }
  if (value === null || typeof value !== 'object') {
    size.bytes += 5; // true, false, null
    return undefined;
  }
  if (depth >= MAX_DEPTH) {
    return {
      reason: 'too_deep',
      message: `objects may nest at most ${MAX_DEPTH} levels: flatten the properties`,
      segments: [],
    };
  }
  if (Array.isArray(value)) {
    size.bytes += 2 + value.length; // brackets and commas
    for (let index = 0; index < value.length; index++) {
      const found = walk(value[index], depth + 1, size);
      if (found) {
        found.segments.push(index);
        return found;
      }
    }
    return undefined;
  }
  size.bytes += 2; // braces
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      return {
        reason: 'forbidden_key',
        message: `the key "${key}" is not allowed (prototype pollution): rename it`,
        segments: [key],
      };
    }
    size.bytes += key.length * MAX_BYTES_PER_UNIT + 4; // quotes, colon, comma
    const found = walk((value as Record<string, unknown>)[key], depth + 1, size);
    if (found) {
      found.segments.push(key);
      return found;
    }
  }
  return undefined;
}
