/**
 * Base class of every error Sightline throws or reports, so apps can tell ours from theirs.
 *
 * @example
 * try { createAnalytics({} as never); } catch (error) {
 *   if (error instanceof SightlineError) console.error(error.code, error.message);
 * }
 */
export class SightlineError extends Error {
  /** A stable, machine-readable identifier such as `invalid_option` or `delivery_failed`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Misuse at set-up time: a missing or malformed option. Thrown at once, naming the option and the fix.
 *
 * @example
 * throw new ConfigurationError('writeKey', 'pass the write key printed by `sightline-collector start`');
 */
export class ConfigurationError extends SightlineError {
  readonly option: string;

  constructor(option: string, fix: string) {
    super('invalid_option', `Invalid option \`${option}\`: ${fix}.`);
    this.option = option;
  }
}

/**
 * A tracking call with bad input. Never thrown into the host app: it reaches `onError` and the
 * event is dropped with reason `invalid`.
 *
 * @example
 * onError(new ValidationError('properties', 'pass a plain object, e.g. { plan: "pro" }'));
 */
export class ValidationError extends SightlineError {
  readonly field: string;

  constructor(field: string, fix: string) {
    super('invalid_event', `Invalid event field \`${field}\`: ${fix}.`);
    this.field = field;
  }
}

/**
 * Events that could not be delivered: the collector rejected them for good, retries ran out, or
 * they aged out. Reported through `onError`; the events themselves go to `onDeadLetter`.
 *
 * @example
 * onError(new DeliveryError('http_400', 3, 'collector answered 400: missing event name'));
 */
export class DeliveryError extends SightlineError {
  readonly reason: string;
  readonly eventCount: number;

  constructor(reason: string, eventCount: number, detail: string) {
    super('delivery_failed', `${eventCount} event(s) not delivered (${reason}): ${detail}`);
    this.reason = reason;
    this.eventCount = eventCount;
  }
}

/**
 * Wraps any thrown value so hooks always receive a `SightlineError`.
 *
 * @example
 * onError(toSightlineError(caught));
 */
export function toSightlineError(error: unknown, code = 'internal_error'): SightlineError {
  if (error instanceof SightlineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SightlineError(code, message, { cause: error });
}
