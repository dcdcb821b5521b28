import {
  createPiiFilter,
  type PipelineStep,
  type Properties,
  SightlineError,
  type StepContext,
  type TrackEvent,
  uuidv7,
} from '@sightline/core';
import type { NodeAnalytics, TrackMessage } from './nodeAnalytics';

/** Longest `error_message` sent; the rest of a long message is cut after redaction. */
const MAX_ERROR_MESSAGE_CHARS = 1000;

/** How one operation is tracked: shared by {@link trackOperation} and `@TrackOperation`. */
export interface OperationTracking {
  analytics: NodeAnalytics;
  /** `generation` gives `generation_started`, `generation_completed`, `generation_failed`. */
  operation: string;
  /** Properties of `_started` (no result yet) and `_completed` (the awaited result). */
  properties?: (result: unknown, outcome: 'started' | 'completed') => Properties | undefined;
  /** Who ran it; the request context decides when left out. */
  userId?: string;
  /** Where a failure of the tracking itself goes; it never reaches the operation's caller. */
  onError?: (error: SightlineError) => void;
}

/**
 * Runs `fn` between `<operation>_started` and `<operation>_completed` (with `duration_ms`) or
 * `<operation>_failed` (with `error_class` and a PII-redacted `error_message`), all three joined
 * by one `operation_id`. Returns what `fn` returns and rethrows what it throws, the same value
 * or error object: a sync `fn` stays sync, a promise-like one settles as `fn`'s did. `userId`
 * and `anonymousId` come from the request context (`runWithContext`).
 *
 * @example
 * const reply = await trackOperation(analytics, 'generation', { model: 'fast' }, () =>
 *   llm.generate(prompt),
 * );
 */
export function trackOperation<Result>(
  analytics: NodeAnalytics,
  operation: string,
  properties: Properties | undefined,
  fn: () => Result,
): Result {
  if (typeof fn !== 'function') {
    throw new SightlineError(
      'invalid_argument',
      `trackOperation('${operation}', …) needs the work as its last argument: pass a function, e.g. () => llm.generate(prompt)`,
    );
  }
  return runOperation({ analytics, operation, properties: () => properties }, fn);
}

/**
 * The engine behind {@link trackOperation} and `@TrackOperation`: the three events around one
 * call of `call`, whose outcome passes through untouched.
 *
 * @example
 * runOperation({ analytics, operation: 'generation', userId: 'u-42' }, () => generate(prompt));
 */
export function runOperation<Result>(tracking: OperationTracking, call: () => Result): Result {
  const { analytics, operation, userId, onError } = tracking;
  const report = reporter(onError);
  const operationId = uuidv7();
  const describe = (result: unknown, outcome: 'started' | 'completed'): Properties => {
    try {
      return tracking.properties?.(result, outcome) ?? {};
    } catch (error) {
      // The event still goes out, so `_started` keeps its `_completed` or `_failed` partner.
      report(`the properties callback of "${operation}_${outcome}" threw`, error);
      return {};
    }
  };
  const started = describe(undefined, 'started');
  emit(
    analytics,
    `${operation}_started`,
    { ...started, operation_id: operationId },
    userId,
    report,
  );
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  return observeCall(
    call,
    (result) => {
      const properties = describe(result, 'completed');
      emit(
        analytics,
        `${operation}_completed`,
        { ...properties, operation_id: operationId, duration_ms: elapsed() },
        userId,
        report,
      );
    },
    (error) => {
      emit(
        analytics,
        `${operation}_failed`,
        {
          ...started,
          operation_id: operationId,
          duration_ms: elapsed(),
          ...describeError(error),
        },
        userId,
        report,
      );
    },
  );
}

/**
 * Calls `call` and tells `onSuccess`/`onFailure` how it ended, without changing how it ends: the
 * same value or thrown object, sync results stay sync. A promise-like result (a thenable) is
 * followed once, and a native Promise that settles the same way (after the callbacks) is
 * returned: handing back the original and observing it on the side would mark its rejection as
 * handled and hide an unhandled rejection from the process. The callbacks must not throw.
 *
 * @example
 * return observeCall(() => method.apply(this, args), (result) => track(result), () => {});
 */
export function observeCall<Result>(
  call: () => Result,
  onSuccess: (result: unknown) => void,
  onFailure: (error: unknown) => void,
): Result {
  let result: Result;
  try {
    result = call();
  } catch (error) {
    onFailure(error);
    throw error;
  }
  if (!isPromiseLike(result)) {
    onSuccess(result);
    return result;
  }
  return Promise.resolve(result).then(
    (value) => {
      onSuccess(value);
      return value;
    },
    (error: unknown) => {
      onFailure(error);
      throw error;
    },
  ) as Result;
}

/**
 * Sends one track call; the client never throws, but a failure here must not reach the host
 * method even if it did, nor may a backpressure Promise (overflow `block`) reject unobserved.
 *
 * @example
 * emit(analytics, 'report_exported', { format: 'csv' }, undefined, report);
 */
export function emit(
  analytics: NodeAnalytics,
  event: string,
  properties: Properties,
  userId: string | undefined,
  report: Reporter,
): void {
  emitMessage(
    analytics,
    userId === undefined ? { event, properties } : { userId, event, properties },
    report,
  );
}

/**
 * {@link emit} for a whole track message (ids, timestamp, context of the caller's choosing).
 *
 * @example
 * emitMessage(analytics, { userId: 'u-42', event: 'model_request', properties }, report);
 */
export function emitMessage(
  analytics: NodeAnalytics,
  message: TrackMessage,
  report: Reporter,
): void {
  try {
    const sent = analytics.track(message);
    if (isPromiseLike(sent)) {
      sent.then(undefined, (error) => report(`tracking "${message.event}"`, error));
    }
  } catch (error) {
    report(`tracking "${message.event}"`, error);
  }
}

/** Reports a tracking failure: what was being done, and what was thrown. */
export type Reporter = (what: string, error: unknown) => void;

/**
 * Turns failures into `SightlineError`s (code `tracking_failed`) for `onError`; with no hook they
 * are dropped, as the client drops its own when no one listens.
 *
 * @example
 * const report = reporter(options.onError);
 * report('the userId callback of @Track("x") threw', error);
 */
export function reporter(onError: ((error: SightlineError) => void) | undefined): Reporter {
  return (what, error) => {
    if (!onError) return;
    try {
      const detail = error instanceof Error ? error.message : String(error);
      onError(new SightlineError('tracking_failed', `${what}: ${detail}`, { cause: error }));
    } catch {
      // A throwing hook has nowhere left to report to.
    }
  };
}

/**
 * `error_class` (the constructor's name, or the `typeof` of a thrown primitive) and
 * `error_message` with emails, card numbers, phone numbers, IPs and SSNs redacted: error messages
 * often quote the input that failed.
 *
 * @example
 * describeError(new TypeError('bad email jane@example.com'));
 * // { error_class: 'TypeError', error_message: 'bad email [redacted:email]' }
 */
export function describeError(error: unknown): { error_class: string; error_message: string } {
  let errorClass = 'unknown';
  let message = '';
  try {
    errorClass =
      error !== null && typeof error === 'object'
        ? String((error as { constructor?: { name?: unknown } }).constructor?.name || 'Object')
        : error === null
          ? 'null'
          : typeof error;
    message = error instanceof Error ? error.message : String(error);
  } catch {
    // A Proxy or an object without `toString` (Object.create(null)): the class name must do.
  }
  return { error_class: errorClass, error_message: redact(message) };
}

/** Built on first use: most processes never fail an operation. */
let piiFilter: PipelineStep | undefined;

/** `createPiiFilter` runs on events, so the text travels as the one property of a probe event. */
const probeContext: StepContext = {
  drop: () => null,
  hold: () => null,
  consent: () => 'granted',
};

function redact(text: string): string {
  piiFilter ??= createPiiFilter();
  const probe: TrackEvent = {
    type: 'track',
    event: 'error',
    messageId: '',
    timestamp: '',
    context: {},
    properties: { error_message: text },
  };
  const filtered = piiFilter(probe, probeContext);
  const redacted =
    filtered !== null && !isPromiseLike(filtered) && 'properties' in filtered
      ? filtered.properties.error_message
      : undefined;
  // The default filter is synchronous and keeps the key; anything else is not worth the risk.
  if (typeof redacted !== 'string') return '[redacted]';
  return redacted.length > MAX_ERROR_MESSAGE_CHARS
    ? `${redacted.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`
    : redacted;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
