import { DEFAULT_RETRY } from '@sightline/core';
import { describe, expect, it } from 'vitest';
import {
  type BatcherOptions,
  createBatcher,
  type DeliveryAnswer,
  type QueuedItem,
} from '../../destinations/batcher';
import type { ForwardingError } from '../../destinations/forwardingError';
import { createTestClock, until } from './testClock';

/** An item of `bytes` bytes. */
const item = (messageId: string, bytes = 10): QueuedItem => ({
  messageId,
  json: 'x'.repeat(bytes),
  bytes,
});

/**
 * A batcher in front of a fake endpoint (the engine's own boundary: no HTTP here) that answers
 * with `answers` in order, then 200s. With `random` at 0.5 the backoff is half its ceiling.
 */
function setup(overrides: Partial<BatcherOptions> = {}, answers: DeliveryAnswer[] = []) {
  const clock = createTestClock();
  const requests: string[][] = [];
  const errors: ForwardingError[] = [];
  const batcher = createBatcher({
    destination: 'test',
    limits: { maxItems: 3, maxBytes: 100, maxItemBytes: 40, envelopeBytes: 2 },
    async send(items) {
      requests.push(items.map((queued) => queued.messageId));
      return answers.shift() ?? { status: 200 };
    },
    report: (error) => errors.push(error),
    flushIntervalMs: 1000,
    flushAt: 3,
    maxQueued: 10,
    retry: { ...DEFAULT_RETRY },
    closeTimeoutMs: 5000,
    scheduler: clock.scheduler,
    random: () => 0.5,
    ...overrides,
  });
  return { batcher, clock, requests, errors };
}

describe('createBatcher', () => {
  it('waits flushIntervalMs for a fuller request, then sends what it has', async () => {
    const { batcher, clock, requests } = setup();
    batcher.add(item('a'));
    batcher.add(item('b'));
    clock.advance(999);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(requests).toEqual([]);
    clock.advance(1);
    await until(() => requests.length === 1);
    expect(requests).toEqual([['a', 'b']]);
  });

  it('sends at once when flushAt items are queued', async () => {
    const { batcher, requests } = setup();
    for (const id of ['a', 'b', 'c']) batcher.add(item(id));
    await until(() => requests.length === 1);
    expect(requests).toEqual([['a', 'b', 'c']]);
  });

  it('never puts more than maxItems, or more than maxBytes with envelope and commas, in one request', async () => {
    const counted = setup({ flushAt: 100 });
    for (const id of 'abcdefg') counted.batcher.add(item(id, 30)); // 2 + 30 + 1 + 30 + 1 + 30 = 94 bytes
    await counted.batcher.flush();
    expect(counted.requests).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);

    const sized = setup({ flushAt: 100 });
    for (const id of 'abcde') sized.batcher.add(item(id, 40)); // a third 40-byte item makes 124 > 100
    await sized.batcher.flush();
    expect(sized.requests).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('drops an item larger than maxItemBytes, reporting it by message id', () => {
    const { batcher, errors } = setup();
    batcher.add(item('huge', 41));
    expect(errors.map((error) => [error.reason, error.messageIds, error.destination])).toEqual([
      ['event_too_large', ['huge'], 'test'],
    ]);
    expect(batcher.stats()).toMatchObject({ queued: 0, dropped: { event_too_large: 1 } });
  });

  it('drops the oldest when the queue is full, counting each and reporting them in one error', async () => {
    const { batcher, requests, errors } = setup({ maxQueued: 3, flushAt: 10 });
    for (const id of 'abcde') batcher.add(item(id));
    expect(batcher.stats()).toMatchObject({ queued: 3, dropped: { queue_overflow: 2 } });
    await batcher.flush();
    expect(requests).toEqual([['c', 'd', 'e']]);
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['queue_overflow', ['a', 'b']],
    ]);
  });

  it('retries 5xx and network errors with jittered backoff and delivers the batch once', async () => {
    const { batcher, clock, requests } = setup({}, [{ status: 503 }, { status: undefined }]);
    batcher.add(item('a'));
    let flushed = false;
    const flushing = batcher.flush().then(() => {
      flushed = true;
    });
    await until(() => clock.pending().length === 1, 'the first backoff');
    expect(clock.pending()).toEqual([500]); // half of the 1 s ceiling
    clock.advance(500);
    await until(() => requests.length === 2 && clock.pending().length === 1, 'the second backoff');
    expect(clock.pending()).toEqual([1000]); // the ceiling doubled
    expect(flushed).toBe(false);
    clock.advance(1000);
    await flushing;
    expect(requests).toEqual([['a'], ['a'], ['a']]);
    expect(batcher.stats()).toMatchObject({ delivered: 1, retried: 2, queued: 0, inFlight: 0 });
  });

  it('treats a send that throws as a network error and retries it', async () => {
    const clock = createTestClock();
    let calls = 0;
    const batcher = setup({
      scheduler: clock.scheduler,
      send: async () => {
        calls++;
        if (calls === 1) throw new TypeError('fetch failed');
        return { status: 200 };
      },
    }).batcher;
    batcher.add(item('a'));
    const flushing = batcher.flush();
    await until(() => clock.pending().length === 1);
    clock.advance(500);
    await flushing;
    expect(calls).toBe(2);
    expect(batcher.stats().delivered).toBe(1);
  });

  it('waits as long as Retry-After says, capped at maxRetryAfterMs', async () => {
    const { batcher, clock } = setup({ retry: { ...DEFAULT_RETRY, maxRetryAfterMs: 600_000 } }, [
      { status: 429, retryAfterMs: 1_200_000 },
    ]);
    batcher.add(item('a'));
    const flushing = batcher.flush();
    await until(() => clock.pending().length === 1);
    expect(clock.pending()).toEqual([600_000]);
    clock.advance(600_000);
    await flushing;
  });

  it('gives up after maxAttempts sends, reporting retries_exhausted', async () => {
    const { batcher, clock, requests, errors } = setup(
      { retry: { ...DEFAULT_RETRY, maxAttempts: 2 } },
      [
        { status: 500, detail: 'upstream down' },
        { status: 500, detail: 'upstream down' },
      ],
    );
    batcher.add(item('a'));
    const flushing = batcher.flush();
    await until(() => clock.pending().length === 1);
    clock.advance(500);
    await flushing;
    expect(requests).toHaveLength(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.reason).toBe('retries_exhausted');
    expect(errors[0]?.message).toBe(
      '1 event(s) not delivered (retries_exhausted): destination "test": answered 500 2 time(s): upstream down',
    );
  });

  it('drops a batch the provider rejects (a 4xx other than 408/413/429) without retrying', async () => {
    const { batcher, clock, requests, errors } = setup({}, [{ status: 400, detail: 'bad field' }]);
    batcher.add(item('a'));
    batcher.add(item('b'));
    await batcher.flush();
    expect(requests).toEqual([['a', 'b']]);
    expect(clock.pending()).toEqual([]);
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['http_400', ['a', 'b']],
    ]);
  });

  it('splits a batch answered 413 and drops a single event still too large', async () => {
    const { batcher, requests, errors } = setup({}, [
      { status: 413 },
      { status: 200 },
      { status: 413 },
    ]);
    for (const id of 'abc') batcher.add(item(id));
    await batcher.flush();
    expect(requests).toEqual([['a', 'b', 'c'], ['a', 'b'], ['c']]);
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['event_too_large', ['c']],
    ]);
    expect(batcher.stats().delivered).toBe(2);
  });

  it('resends the others at once when the provider refused some and ingested none', async () => {
    const { batcher, requests, errors } = setup({}, [
      { status: 400, refused: { indexes: [1], others: 'resend' } },
    ]);
    for (const id of 'abc') batcher.add(item(id));
    await batcher.flush();
    expect(requests).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
    expect(errors.map((error) => error.messageIds)).toEqual([['b']]);
    expect(batcher.stats().delivered).toBe(2);
  });

  it('counts the others delivered when the provider ingested them', async () => {
    const { batcher, requests, errors } = setup({}, [
      { status: 400, refused: { indexes: [0, 2], others: 'delivered' } },
    ]);
    for (const id of 'abc') batcher.add(item(id));
    await batcher.flush();
    expect(requests).toEqual([['a', 'b', 'c']]);
    expect(errors.map((error) => error.messageIds)).toEqual([['a', 'c']]);
    expect(batcher.stats()).toMatchObject({ delivered: 1, dropped: { http_400: 2 } });
  });

  it('close flushes what is queued, then refuses new items', async () => {
    const { batcher, requests, errors } = setup();
    batcher.add(item('a'));
    await batcher.close();
    expect(requests).toEqual([['a']]);
    batcher.add(item('late'));
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([['closed', ['late']]]);
  });

  it('close stops after closeTimeoutMs, reporting the in-flight and queued items', async () => {
    const failing = Array.from({ length: 10 }, () => ({ status: 503 }));
    const { batcher, clock, errors } = setup(
      { retry: { ...DEFAULT_RETRY, baseDelayMs: 60_000 }, flushAt: 10 },
      failing,
    );
    for (const id of 'abcd') batcher.add(item(id));
    const closing = batcher.close();
    await until(() => clock.pending().length === 2, 'the retry and the close timeout');
    expect(clock.pending()).toEqual([5000, 30_000]);
    clock.advance(5000);
    await closing;
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['close_timeout', ['d']],
      ['close_timeout', ['a', 'b', 'c']],
    ]);
    expect(batcher.stats()).toMatchObject({
      queued: 0,
      inFlight: 0,
      dropped: { close_timeout: 4 },
    });
  });

  it('close does not start another wait for a request that fails after the close timeout', async () => {
    let answer: (value: DeliveryAnswer) => void = () => undefined;
    const { batcher, clock, errors } = setup({
      send: () =>
        new Promise<DeliveryAnswer>((resolve) => {
          answer = resolve;
        }),
    });
    batcher.add(item('a'));
    const closing = batcher.close();
    await until(() => clock.pending().length === 1, 'the close timeout');
    clock.advance(5000);
    answer({ status: 503 });
    await closing;
    expect(clock.pending()).toEqual([]);
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['close_timeout', ['a']],
    ]);
  });

  it('keeps a throwing onError inside', () => {
    const { batcher } = setup({
      report: () => {
        throw new Error('broken hook');
      },
    });
    expect(() => batcher.add(item('huge', 41))).not.toThrow();
  });
});
