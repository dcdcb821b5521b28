import { ValidationError } from './errors';
import type { Properties } from './event';

/** Whether `value` is an object literal (or `Object.create(null)`), not an array, Date or class. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks one argument of a tracking call without zod (kept out of browser bundles), throwing a
 * `ValidationError` that names the field and the fix. Callers catch it and report it.
 */
export function requireString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, `pass a non-empty string (got ${describe(value)})`);
  }
}

/**
 * An id argument (`userId`, `groupId`): a number is accepted and becomes a string; a missing or
 * empty one throws like {@link requireString}.
 */
export function requireId(field: string, value: unknown): string {
  const id = value === undefined || value === null ? value : String(value);
  requireString(field, id);
  return id;
}

/** Like {@link requireString}, for an optional plain-object argument; returns it, `{}` if missing. */
export function requireObject(field: string, value: unknown): Properties {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ValidationError(
      field,
      `pass a plain object such as { plan: 'pro' } (got ${describe(value)})`,
    );
  }
  return value as Properties;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'an empty string' : typeof value;
}

/** An ISO-8601 string from a Date or a parseable string; throws a `ValidationError` otherwise. */
export function toIsoTimestamp(value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError(
      'timestamp',
      'pass a Date or an ISO-8601 string such as "2026-01-31T12:00:00Z"',
    );
  }
  return date.toISOString();
}
