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

/**
 * Walks a parsed event looking for what `JSON.parse` accepts but the collector must not store:
 * prototype-pollution keys, nesting deeper than {@link MAX_DEPTH}, and numbers that are not finite
 * (`1e400` parses as Infinity). Returns the first problem, or undefined.
 *
 * @example
 * inspectEvent(JSON.parse('{"properties":{"__proto__":{"admin":true}}}'));
 * // { field: 'properties.__proto__', reason: 'forbidden_key', ... }
 */
export function inspectEvent(value: unknown): FieldProblem | undefined {
  return walk(value, '', 0);
}

/**
 * {@link inspectEvent} for a part of an event that arrives separately: the batch envelope's
 * `context`, which lands at `context` (depth 1) of every event.
 *
 * @example
 * inspectPart(body.context, 'context', 1);
 */
export function inspectPart(value: unknown, path: string, depth: number): FieldProblem | undefined {
  return walk(value, path, depth);
}

function walk(value: unknown, path: string, depth: number): FieldProblem | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? undefined
      : {
          field: path || '(event)',
          reason: 'number_out_of_range',
          message: 'numbers must be finite doubles: send very large values as strings',
        };
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) {
    return {
      field: path || '(event)',
      reason: 'too_deep',
      message: `objects may nest at most ${MAX_DEPTH} levels: flatten the properties`,
    };
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = walk(value[index], `${path}[${index}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) {
      return {
        field,
        reason: 'forbidden_key',
        message: `the key "${key}" is not allowed (prototype pollution): rename it`,
      };
    }
    const problem = walk((value as Record<string, unknown>)[key], field, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}
