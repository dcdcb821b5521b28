import { ConfigurationError, DEFAULT_RETRY } from '@sightline/core';
import { describe, expect, it } from 'vitest';
import { resolveForwardingOptions } from '../../destinations/forwardingOptions';

describe('resolveForwardingOptions', () => {
  it('fills in the defaults once: 10 s interval, 10,000 queued, core retry policy, analytics consent', () => {
    const settings = resolveForwardingOptions({});
    expect(settings).toMatchObject({
      category: 'analytics',
      flushIntervalMs: 10_000,
      flushAt: undefined,
      maxQueuedEvents: 10_000,
      retry: DEFAULT_RETRY,
      requestTimeoutMs: 10_000,
      closeTimeoutMs: 10_000,
    });
  });

  it('uses timers that never keep the process alive', () => {
    const { scheduler } = resolveForwardingOptions({});
    const handle = scheduler.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    scheduler.clearTimeout(handle);
  });

  it('throws a ConfigurationError naming the option for a malformed number', () => {
    expect(() => resolveForwardingOptions({ maxQueuedEvents: 0 })).toThrow(ConfigurationError);
    expect(() => resolveForwardingOptions({ retry: { maxAttempts: 0 } })).toThrow(
      /`retry.maxAttempts`/,
    );
    expect(() => resolveForwardingOptions({ requestTimeoutMs: 1.5 })).toThrow(/`requestTimeoutMs`/);
  });
});
