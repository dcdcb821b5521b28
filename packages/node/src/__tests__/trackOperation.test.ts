import {
  type DropReport,
  isUuidv7,
  type SightlineError,
  SightlineError as SightlineErrorClass,
  type TrackEvent,
} from '@sightline/core';
import { describe, expect, it } from 'vitest';
import { createNodeAnalytics, type NodeAnalyticsOptions } from '../nodeAnalytics';
import { runWithContext } from '../requestContext';
import { trackOperation } from '../trackOperation';

/** The real Node client over a transport that keeps what the collector would receive. */
function recordingClient(options: Partial<NodeAnalyticsOptions> = {}) {
  const events: TrackEvent[] = [];
  const clientErrors: SightlineError[] = [];
  const drops: DropReport[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk_test',
    transport: {
      async send(batch) {
        for (const json of batch.events) events.push(JSON.parse(json) as TrackEvent);
        return { status: 200 };
      },
    },
    onError: (error) => clientErrors.push(error),
    onDrop: (report) => drops.push(report),
    ...options,
  });
  return {
    analytics,
    clientErrors,
    drops,
    /** Everything tracked so far, as delivered. */
    async delivered(): Promise<TrackEvent[]> {
      await analytics.flush();
      return events;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const asUser = <T>(fn: () => T) => runWithContext({ userId: 'u-42', requestId: 'req-1' }, fn);

describe('trackOperation', () => {
  it('tracks <operation>_started, then <operation>_completed with duration_ms, both with the properties and one operation_id', async () => {
    const { analytics, delivered } = recordingClient();
    const before = performance.now();
    await asUser(() =>
      trackOperation(analytics, 'generation', { model: 'fast' }, async () => {
        await sleep(30);
        return 'reply';
      }),
    );
    const elapsed = performance.now() - before;

    const [started, completed, ...rest] = await delivered();
    expect(rest).toEqual([]);
    expect(started).toMatchObject({
      event: 'generation_started',
      userId: 'u-42',
      context: { requestId: 'req-1' },
      properties: { model: 'fast' },
    });
    expect(completed).toMatchObject({
      event: 'generation_completed',
      userId: 'u-42',
      properties: { model: 'fast', operation_id: started?.properties.operation_id },
    });
    expect(isUuidv7(String(started?.properties.operation_id))).toBe(true);
    const duration = completed?.properties.duration_ms;
    expect(Number.isInteger(duration)).toBe(true);
    // Timers may fire up to 1 ms early by performance.now(); the duration never exceeds the call.
    expect(duration).toBeGreaterThanOrEqual(29);
    expect(duration).toBeLessThanOrEqual(Math.ceil(elapsed));
  });

  it('tracks _started before the work begins', async () => {
    const { analytics, delivered } = recordingClient();
    let seenBeforeWork: string[] = [];
    await asUser(() =>
      trackOperation(analytics, 'import', undefined, async () => {
        seenBeforeWork = (await delivered()).map((event) => event.event);
      }),
    );
    expect(seenBeforeWork).toEqual(['import_started']);
  });

  it('resolves with the very value the function resolved with', async () => {
    const { analytics } = recordingClient();
    const reply = { text: 'hi' };
    await expect(
      asUser(() => trackOperation(analytics, 'generation', {}, async () => reply)),
    ).resolves.toBe(reply);
  });

  it('a sync function stays sync: its own value comes back at once, not a Promise', async () => {
    const { analytics, delivered } = recordingClient();
    const rows = [['a', 1]];
    const result = asUser(() => trackOperation(analytics, 'export', { format: 'csv' }, () => rows));
    expect(result).toBe(rows);
    expect((await delivered()).map((event) => event.event)).toEqual([
      'export_started',
      'export_completed',
    ]);
  });

  it('a failing function: _failed with error_class and a PII-redacted error_message, then the same error object rejects', async () => {
    // The client's own PII filter is off: the redaction seen here is trackOperation's.
    const { analytics, delivered } = recordingClient({ pii: false });
    class ProviderError extends Error {}
    const failure = new ProviderError(
      'rejected prompt from jane@example.com, card 4242 4242 4242 4242',
    );

    const run = asUser(() =>
      trackOperation(analytics, 'generation', { model: 'fast' }, async () => {
        await sleep(5);
        throw failure;
      }),
    );
    await expect(run).rejects.toBe(failure);

    const [started, failed] = await delivered();
    expect(failed).toMatchObject({
      event: 'generation_failed',
      userId: 'u-42',
      properties: {
        model: 'fast',
        operation_id: started?.properties.operation_id,
        error_class: 'ProviderError',
        error_message: 'rejected prompt from [redacted:email], card [redacted:creditCard]',
      },
    });
    expect(failed?.properties.duration_ms).toBeGreaterThanOrEqual(4);
  });

  it('a sync throw is rethrown synchronously, the same object', async () => {
    const { analytics, delivered } = recordingClient();
    const failure = new RangeError('no rows');
    let thrown: unknown;
    try {
      asUser(() =>
        trackOperation(analytics, 'export', {}, () => {
          throw failure;
        }),
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);
    expect((await delivered()).map((event) => event.event)).toEqual([
      'export_started',
      'export_failed',
    ]);
  });

  it('a thrown non-Error is named by its type and passed through untouched', async () => {
    const { analytics, delivered } = recordingClient();
    await expect(
      asUser(() =>
        trackOperation(analytics, 'generation', {}, () => Promise.reject('timeout after 30 s')),
      ),
    ).rejects.toBe('timeout after 30 s');
    const [, failed] = await delivered();
    expect(failed?.properties).toMatchObject({
      error_class: 'string',
      error_message: 'timeout after 30 s',
    });
  });

  it('treats a returned thenable as async: followed once, and a Promise settles with its value', async () => {
    const { analytics, delivered } = recordingClient();
    let finishLookup = (_value: number) => {};
    let thenCalls = 0;
    const lookup = new Promise<number>((resolve) => {
      finishLookup = resolve;
    });
    // A query builder's shape: not a Promise, but awaitable.
    const thenable: PromiseLike<number> = {
      // biome-ignore lint/suspicious/noThenProperty: the thenable under test.
      then(onFulfilled, onRejected) {
        thenCalls++;
        return lookup.then(onFulfilled, onRejected);
      },
    };

    const result = asUser(() => trackOperation(analytics, 'lookup', {}, () => thenable));
    expect(result).toBeInstanceOf(Promise);
    expect((await delivered()).map((event) => event.event)).toEqual(['lookup_started']);

    finishLookup(42);
    await expect(result).resolves.toBe(42);
    expect(thenCalls).toBe(1);
    expect((await delivered()).map((event) => event.event)).toEqual([
      'lookup_started',
      'lookup_completed',
    ]);
  });

  it('with no identity anywhere, the client drops the events itself and the function is unaffected', async () => {
    const { analytics, delivered, clientErrors, drops } = recordingClient();
    expect(trackOperation(analytics, 'export', {}, () => 'done')).toBe('done');
    expect(await delivered()).toEqual([]);
    expect(clientErrors).toMatchObject([
      { code: 'invalid_event', field: 'userId' },
      { code: 'invalid_event', field: 'userId' },
    ]);
    expect(drops.map((drop) => drop.reason)).toEqual(['invalid', 'invalid']);
  });

  it('throws a SightlineError naming the fix when no function is given', () => {
    const { analytics } = recordingClient();
    const misuse = () => trackOperation(analytics, 'export', {}, undefined as never);
    expect(misuse).toThrow(SightlineErrorClass);
    expect(misuse).toThrow(/pass a function, e\.g\. \(\) => llm\.generate\(prompt\)/);
  });
});
