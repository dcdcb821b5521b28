import {
  ConfigurationError,
  type ConsentCategory,
  DEFAULT_RETRY,
  type RetryOptions,
  type Scheduler,
  type SightlineError,
} from '@sightline/core';
import crossFetch from 'cross-fetch';

/**
 * Options every forwarding destination takes (Amplitude, Mixpanel, Segment-compatible).
 *
 * @example
 * const shared: ForwardingOptions = { flushIntervalMs: 5_000, retry: { maxAttempts: 5 }, onError: report };
 * amplitudeDestination({ apiKey, ...shared });
 */
export interface ForwardingOptions {
  /** Consent category the destination needs; default `analytics`. */
  category?: ConsentCategory;
  /**
   * Where failures go: events the provider refused, retries that ran out, queue overflow, close
   * timeouts. Each is a `ForwardingError` naming the destination and the message ids. Never thrown.
   */
  onError?: (error: SightlineError) => void;
  /** Longest an event waits for a fuller request. Default 10,000 ms. */
  flushIntervalMs?: number;
  /** Send at once when this many are queued. Default: a full request (the provider's limit). */
  flushAt?: number;
  /** Most events queued per endpoint; the oldest is dropped to make room. Default 10,000. */
  maxQueuedEvents?: number;
  /** Retry policy for 429, 408, 5xx and network errors. Default core's `DEFAULT_RETRY`. */
  retry?: RetryOptions;
  /** Abort a request after this long (it is then retried). Default 10,000 ms. */
  requestTimeoutMs?: number;
  /** How long `close()` keeps delivering before dropping what is left. Default 10,000 ms. */
  closeTimeoutMs?: number;
  /** A fetch implementation; default the global one, looked up at each request. */
  fetch?: typeof fetch;
  /** Timers; default Node's, `unref()`ed so a queue never keeps the process alive. */
  scheduler?: Scheduler;
}

/** {@link ForwardingOptions} with every default filled in. */
export interface ResolvedForwardingOptions {
  category: ConsentCategory;
  onError: (error: SightlineError) => void;
  flushIntervalMs: number;
  flushAt: number | undefined;
  maxQueuedEvents: number;
  retry: Required<RetryOptions>;
  requestTimeoutMs: number;
  closeTimeoutMs: number;
  fetch: typeof fetch;
  scheduler: Scheduler;
}

/** Node timers that never keep the process alive. */
const unrefScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

function wholeNumber(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(
      name,
      `use a whole number ≥ ${min} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/**
 * Merges the defaults into a destination's options once, throwing a `ConfigurationError` that
 * names the option for anything malformed.
 *
 * @example
 * const settings = resolveForwardingOptions({ flushIntervalMs: 5_000 });
 * settings.retry.maxAttempts; // 10
 */
export function resolveForwardingOptions(options: ForwardingOptions): ResolvedForwardingOptions {
  const retry = { ...DEFAULT_RETRY };
  for (const key of Object.keys(DEFAULT_RETRY) as Array<keyof RetryOptions>) {
    retry[key] = wholeNumber(`retry.${key}`, options.retry?.[key], DEFAULT_RETRY[key], 0);
  }
  if (retry.maxAttempts < 1) {
    throw new ConfigurationError('retry.maxAttempts', 'use at least 1 (the first send counts)');
  }
  return {
    category: options.category ?? 'analytics',
    onError: options.onError ?? (() => undefined),
    flushIntervalMs: wholeNumber('flushIntervalMs', options.flushIntervalMs, 10_000, 0),
    flushAt: options.flushAt === undefined ? undefined : wholeNumber('flushAt', options.flushAt, 1),
    maxQueuedEvents: wholeNumber('maxQueuedEvents', options.maxQueuedEvents, 10_000),
    retry,
    requestTimeoutMs: wholeNumber('requestTimeoutMs', options.requestTimeoutMs, 10_000),
    closeTimeoutMs: wholeNumber('closeTimeoutMs', options.closeTimeoutMs, 10_000, 0),
    // Looked up per request, so a fetch patched later (msw, undici's MockAgent) is the one used.
    // cross-fetch where the runtime has no fetch (Node started with --no-experimental-fetch).
    fetch: options.fetch ?? ((input, init) => (globalThis.fetch ?? crossFetch)(input, init)),
    scheduler: options.scheduler ?? unrefScheduler,
  };
}
