import { readFile } from 'node:fs/promises';
import {
  ConfigurationError,
  isUuidv7,
  type SightlineError,
  type TrackEvent,
} from '@sightline/core';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDecorators, type Decorators } from '../decorators';
import { createNodeAnalytics, type NodeAnalyticsOptions } from '../nodeAnalytics';
import { runWithContext } from '../requestContext';
import type * as Fixture from './fixtures/tc39Services';

/**
 * The decorators as TC39 standard decorators. Vitest's transformer leaves standard decorators to
 * the runtime (Node 20 has none), so the decorated classes live in fixtures/tc39Services.ts and
 * are compiled here by TypeScript 5, exactly as `tsc` compiles an app without
 * `experimentalDecorators`. The legacy mode has its own folder: legacy/.
 */
let fixture: typeof Fixture;
beforeAll(async () => {
  const source = await readFile(new URL('./fixtures/tc39Services.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  fixture = await import(`data:text/javascript,${encodeURIComponent(outputText)}`);
});

/** The real Node client over a transport that keeps what the collector would receive. */
function recordingClient(options: Partial<NodeAnalyticsOptions> = {}) {
  const events: TrackEvent[] = [];
  const clientErrors: SightlineError[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk_test',
    transport: {
      async send(batch) {
        for (const json of batch.events) events.push(JSON.parse(json) as TrackEvent);
        return { status: 200 };
      },
    },
    onError: (error) => clientErrors.push(error),
    ...options,
  });
  return {
    analytics,
    clientErrors,
    /** Everything tracked so far, as delivered. */
    async delivered(): Promise<TrackEvent[]> {
      await analytics.flush();
      return events;
    },
  };
}

function setUp(options: Partial<NodeAnalyticsOptions> = {}) {
  const client = recordingClient(options);
  const trackingErrors: SightlineError[] = [];
  const decorators: Decorators = createDecorators(client.analytics, {
    onError: (error) => trackingErrors.push(error),
  });
  const { GenerationService, decoratorCalls } = fixture.defineServices(decorators);
  return {
    ...client,
    decorators,
    trackingErrors,
    service: new GenerationService(),
    decoratorCalls,
  };
}

const asUser = <T>(fn: () => T) => runWithContext({ userId: 'u-42' }, fn);

describe('TC39 standard decorators', () => {
  it('are called by the compiler as (method, context) with kind "method"', () => {
    const { decoratorCalls } = setUp();
    expect(decoratorCalls).toEqual([{ arguments: 2, kind: 'method' }]);
  });

  it('@TrackOperation tracks generation_started, then generation_completed with duration_ms, sharing one operation_id', async () => {
    const { service, delivered } = setUp();
    const before = performance.now();
    await asUser(() => service.generate('hello', { delayMs: 30 }));
    const elapsed = performance.now() - before;

    const [started, completed, ...rest] = await delivered();
    expect(rest).toEqual([]);
    expect(started).toMatchObject({
      event: 'generation_started',
      userId: 'u-42',
      properties: { prompt_length: 5 },
    });
    expect(completed).toMatchObject({
      event: 'generation_completed',
      userId: 'u-42',
      properties: { prompt_length: 5, reply_length: 11 },
    });
    expect(isUuidv7(String(started?.properties.operation_id))).toBe(true);
    expect(completed?.properties.operation_id).toBe(started?.properties.operation_id);
    const duration = completed?.properties.duration_ms;
    expect(Number.isInteger(duration)).toBe(true);
    // Timers may fire up to 1 ms early by performance.now(); the duration never exceeds the call.
    expect(duration).toBeGreaterThanOrEqual(29);
    expect(duration).toBeLessThanOrEqual(Math.ceil(elapsed));
  });

  it('keeps `this`, and resolves with exactly what the method resolved with', async () => {
    const { service } = setUp();
    const reply = await asUser(() => service.generate('hi'));
    expect(reply).toEqual({ text: 'fast: hi' });
    expect(asUser(() => service.rate('r-1', 5))).toBe(service);
    const value = { nested: [1, 2] };
    expect(asUser(() => service.copy(value))).toBe(value);
  });

  it('a failing operation tracks generation_failed with error_class and a PII-redacted error_message, then rejects with the same error object', async () => {
    // The client's own PII filter is off: the redaction seen here is the decorator's.
    const { service, delivered } = setUp({ pii: false });
    class QuotaExceeded extends Error {}
    const failure = new QuotaExceeded(
      'quota exceeded for jane@example.com (card 4242 4242 4242 4242)',
    );

    const call = asUser(() => service.generate('too long', { delayMs: 5, fail: failure }));
    await expect(call).rejects.toBe(failure);

    const [started, failed] = await delivered();
    expect(failed).toMatchObject({
      event: 'generation_failed',
      userId: 'u-42',
      properties: {
        prompt_length: 8,
        operation_id: started?.properties.operation_id,
        error_class: 'QuotaExceeded',
        error_message: 'quota exceeded for [redacted:email] (card [redacted:creditCard])',
      },
    });
    expect(failed?.properties.duration_ms).toBeGreaterThanOrEqual(4);
    expect(failed?.properties).not.toHaveProperty('reply_length');
  });

  it('a sync method stays sync: its value comes back at once, its error is thrown at once', async () => {
    const { service, delivered } = setUp();
    const summary = asUser(() => service.summarize('a long article'));
    expect(summary).toBe('fast: a long art');

    const failure = new RangeError('empty text');
    let thrown: unknown;
    try {
      asUser(() => service.summarize('', { fail: failure }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);

    expect((await delivered()).map((event) => event.event)).toEqual([
      'summary_started',
      'summary_completed',
      'summary_started',
      'summary_failed',
    ]);
  });

  it('@Track tracks when the method returns, with properties from its arguments', async () => {
    const { service, delivered } = setUp();
    asUser(() => service.rate('r-1', 4));
    expect(await delivered()).toMatchObject([
      { event: 'reply_rated', userId: 'u-42', properties: { reply_id: 'r-1', stars: 4 } },
    ]);
  });

  it('@Track on an async method tracks once it resolves, with properties from the result and userId from the option', async () => {
    const { service, delivered } = setUp();
    const receipt = await service.share('slack', 'u-7');
    expect(receipt).toEqual({ id: 'fast-slack' });
    expect(await delivered()).toMatchObject([
      {
        event: 'reply_shared',
        userId: 'u-7',
        properties: { channel: 'slack', receipt_id: 'fast-slack' },
      },
    ]);
  });

  it('takes userId and anonymousId from the request context when the option gives none', async () => {
    const { service, delivered } = setUp();
    await runWithContext({ anonymousId: 'anon-1', requestId: 'req-9' }, () =>
      service.share('email'),
    );
    const [shared] = await delivered();
    expect(shared).toMatchObject({ anonymousId: 'anon-1', context: { requestId: 'req-9' } });
    expect(shared).not.toHaveProperty('userId');
  });

  it('with no identity anywhere, the client drops the event itself and the method is unaffected', async () => {
    const { service, delivered, clientErrors } = setUp();
    expect(service.rate('r-1', 3)).toBe(service);
    expect(await delivered()).toEqual([]);
    expect(clientErrors).toMatchObject([{ code: 'invalid_event', field: 'userId' }]);
  });

  it('@Track on a rejecting method tracks nothing and rejects with the same error object', async () => {
    const { service, delivered } = setUp();
    const failure = new Error('not found');
    await expect(asUser(() => service.remove(failure))).rejects.toBe(failure);
    expect(await delivered()).toEqual([]);
  });

  it('a throwing properties callback leaves the method alone: the event goes out without properties and the failure reaches onError', async () => {
    const { service, delivered, trackingErrors } = setUp();
    const value = { id: 1 };
    expect(asUser(() => service.copy(value))).toBe(value);
    expect(await delivered()).toMatchObject([{ event: 'reply_copied', properties: {} }]);
    expect(trackingErrors).toHaveLength(1);
    expect(trackingErrors[0]).toMatchObject({
      code: 'tracking_failed',
      message: expect.stringContaining(
        "the properties callback of @Track('reply_copied') threw: bug in the properties callback",
      ),
    });
  });

  it('on anything but a method, the class definition throws a ConfigurationError naming the fix', () => {
    const { decorators } = setUp();
    expect(() => fixture.defineTrackedGetter(decorators)).toThrow(ConfigurationError);
    expect(() => fixture.defineTrackedGetter(decorators)).toThrow(
      /@Track\('settings_read'\).*put it on a class method, not on a getter \(theme\)/,
    );
  });
});

describe('createDecorators', () => {
  it('throws a ConfigurationError naming the fix when no client is given', () => {
    expect(() => createDecorators(undefined as never)).toThrow(
      /pass the client returned by createNodeAnalytics/,
    );
  });

  it('throws when a decorator is given no event name', () => {
    const { decorators } = setUp();
    expect(() => decorators.Track('')).toThrow(/name the event as the first argument/);
    expect(() => decorators.TrackOperation(undefined as never)).toThrow(ConfigurationError);
  });
});
