import type { Properties, SightlineError, StandardSchemaV1 } from '@sightline/core';
import type { MessageBase, NodeAnalytics } from './nodeAnalytics';
import { emitMessage, reporter } from './trackOperation';

/**
 * Events with a fixed schema (`model_request`, `experiment_exposure`): each declared once as a
 * table of fields, from which come the helper's input check (errors name the caller's field),
 * the wire properties, and a Standard Schema for typed event catalogs (`defineEventCatalog`).
 */

/** A field's check: undefined when `value` is fine, else the fix, phrased for the caller. */
export type FieldCheck = (value: unknown) => string | undefined;

/** One field: its name in the helper's input, its property name on the wire, its check. */
export interface FieldSpec {
  input: string;
  property: string;
  required: boolean;
  check: FieldCheck;
}

/** Options every fixed-event helper takes: who and when, and where bad input is reported. */
export interface FixedEventOptions
  extends Pick<MessageBase, 'userId' | 'anonymousId' | 'timestamp' | 'messageId' | 'context'> {
  /**
   * Bad input (a `ValidationError` naming the field and the fix) and tracking failures. The call
   * never throws; without this hook the event is dropped unreported.
   */
  onError?: (error: SightlineError) => void;
}

/** A non-empty string of at most `max` characters. */
export function text(max: number, example: string): FieldCheck {
  return (value) =>
    typeof value !== 'string' || value.length === 0 || value.length > max
      ? `use a non-empty string of at most ${max} characters, e.g. '${example}'`
      : undefined;
}

/** A finite number in [min, max]; whole when `integer`. */
export function numberIn(min: number, max: number, example: number, integer = false): FieldCheck {
  return (value) =>
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
      ? `use ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, e.g. ${example}`
      : undefined;
}

export const boolean: FieldCheck = (value) =>
  typeof value === 'boolean' ? undefined : 'use true or false';

/** The first problem of `values` read by `key` (`input` or `property` names), or undefined. */
export function firstIssue(
  fields: readonly FieldSpec[],
  values: Record<string, unknown>,
  key: 'input' | 'property',
): { field: string; fix: string } | undefined {
  for (const field of fields) {
    const value = values[field[key]];
    if (value === undefined) {
      if (field.required) return { field: field[key], fix: field.check(undefined) ?? 'set it' };
      continue;
    }
    const fix = field.check(value);
    if (fix) return { field: field[key], fix };
  }
  return undefined;
}

/**
 * A Standard Schema (zod's interface, which `defineEventCatalog` takes) for the wire properties
 * of a fixed event: unknown properties pass through, declared ones must pass their check.
 *
 * @example
 * const schema = fixedEventSchema<ModelRequestProperties>(MODEL_REQUEST_FIELDS);
 */
export function fixedEventSchema<Output extends Properties>(
  fields: readonly FieldSpec[],
): StandardSchemaV1<Output> {
  return {
    '~standard': {
      version: 1,
      vendor: 'sightline',
      validate(value) {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          return { issues: [{ message: 'pass a properties object' }] };
        }
        const issue = firstIssue(fields, value as Record<string, unknown>, 'property');
        return issue
          ? { issues: [{ message: issue.fix, path: [issue.field] }] }
          : { value: value as Output };
      },
    },
  };
}

/**
 * Tracks `event` with `properties` on `analytics`, never throwing: a throw or a rejected
 * backpressure Promise of the client goes to `onError`.
 *
 * @example
 * sendFixedEvent(analytics, 'model_request', properties, options);
 */
export function sendFixedEvent(
  analytics: NodeAnalytics,
  event: string,
  properties: Properties,
  options: FixedEventOptions,
): void {
  const { onError, ...message } = options;
  emitMessage(analytics, { ...message, event, properties }, reporter(onError));
}

/** Hands `error` to `onError`; a throwing hook has nowhere left to report to. */
export function report(
  onError: ((error: SightlineError) => void) | undefined,
  error: SightlineError,
): void {
  try {
    onError?.(error);
  } catch {
    // Swallowed: the host app's call must not fail because its own hook did.
  }
}
