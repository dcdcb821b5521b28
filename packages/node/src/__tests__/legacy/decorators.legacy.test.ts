import { ConfigurationError, type TrackEvent } from '@sightline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createDecorators } from '../../decorators';
import { createNodeAnalytics } from '../../nodeAnalytics';
import { runWithContext } from '../../requestContext';

/**
 * The decorators under `experimentalDecorators` (NestJS, TypeORM, class-validator apps). This
 * folder's tsconfig.json turns the flag on, and vitest's transformer takes it from the nearest
 * tsconfig.json, so the classes below are compiled in legacy mode; the first test proves it.
 * (The repository-wide typecheck reads this file without the flag: it must type-check both ways.)
 */

function recordingClient() {
  const events: TrackEvent[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk_test',
    transport: {
      async send(batch) {
        for (const json of batch.events) events.push(JSON.parse(json) as TrackEvent);
        return { status: 200 };
      },
    },
  });
  return {
    analytics,
    async delivered(): Promise<TrackEvent[]> {
      await analytics.flush();
      return events;
    },
  };
}

interface Reply {
  text: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const asUser = <T>(fn: () => T) => runWithContext({ userId: 'u-42' }, fn);

function setUp() {
  const client = recordingClient();
  const { Track, TrackOperation } = createDecorators(client.analytics);
  const decoratorCalls: unknown[][] = [];
  const recordCall = (...args: unknown[]): void => {
    decoratorCalls.push(args);
  };

  class GenerationService {
    readonly model = 'fast';

    @recordCall
    @TrackOperation('generation', {
      properties: ([prompt]: [string, unknown?]) => ({ prompt_length: prompt.length }),
    })
    async generate(prompt: string, failure?: unknown): Promise<Reply> {
      await sleep(20);
      if (failure !== undefined) throw failure;
      return { text: `${this.model}: ${prompt}` };
    }

    @Track('reply_rated', {
      properties: ([replyId, stars]: [string, number]) => ({ reply_id: replyId, stars }),
    })
    rate(_replyId: string, _stars: number): this {
      return this;
    }

    @TrackOperation('summary')
    summarize(failure?: unknown): string {
      if (failure !== undefined) throw failure;
      return `${this.model} summary`;
    }
  }

  return { ...client, service: new GenerationService(), GenerationService, decoratorCalls };
}

describe('legacy experimentalDecorators', () => {
  it('are called by the compiler as (prototype, name, descriptor)', () => {
    const { decoratorCalls, GenerationService } = setUp();
    expect(decoratorCalls).toHaveLength(1);
    const [target, propertyKey, descriptor] = decoratorCalls[0] ?? [];
    expect(decoratorCalls[0]).toHaveLength(3);
    expect(target).toBe(GenerationService.prototype);
    expect(propertyKey).toBe('generate');
    expect(descriptor).toMatchObject({ writable: true, enumerable: false, configurable: true });
    // The descriptor the compiler installs is the one @TrackOperation returned: the wrapper.
    expect((descriptor as PropertyDescriptor).value).toBe(GenerationService.prototype.generate);
    expect(GenerationService.prototype.generate.name).toBe('generate');
  });

  it('@TrackOperation tracks generation_started and generation_completed, keeping `this` and the resolved value', async () => {
    const { service, delivered } = setUp();
    const reply = await asUser(() => service.generate('hello'));
    expect(reply).toEqual({ text: 'fast: hello' });

    const [started, completed] = await delivered();
    expect(started).toMatchObject({ event: 'generation_started', userId: 'u-42' });
    expect(completed).toMatchObject({
      event: 'generation_completed',
      userId: 'u-42',
      properties: { prompt_length: 5, operation_id: started?.properties.operation_id },
    });
    expect(completed?.properties.duration_ms).toBeGreaterThanOrEqual(19);
  });

  it('a failing operation tracks generation_failed and rejects with the same error object', async () => {
    const { service, delivered } = setUp();
    const failure = new TypeError('no reply for jane@example.com');
    await expect(asUser(() => service.generate('hello', failure))).rejects.toBe(failure);
    const [, failed] = await delivered();
    expect(failed).toMatchObject({
      event: 'generation_failed',
      properties: { error_class: 'TypeError', error_message: 'no reply for [redacted:email]' },
    });
  });

  it('sync methods stay sync, returning and throwing exactly what they did', async () => {
    const { service, delivered } = setUp();
    expect(asUser(() => service.rate('r-1', 5))).toBe(service);
    expect(asUser(() => service.summarize())).toBe('fast summary');
    const failure = new Error('nothing to summarize');
    let thrown: unknown;
    try {
      asUser(() => service.summarize(failure));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);
    expect((await delivered()).map((event) => [event.event, event.properties.stars])).toEqual([
      ['reply_rated', 5],
      ['summary_started', undefined],
      ['summary_completed', undefined],
      ['summary_started', undefined],
      ['summary_failed', undefined],
    ]);
  });

  it('on an accessor, the class definition throws a ConfigurationError naming the fix', () => {
    const { Track } = createDecorators(recordingClient().analytics);
    const define = () => {
      class Settings {
        // @ts-expect-error Track decorates methods only.
        @Track('settings_read')
        get theme(): string {
          return 'dark';
        }
      }
      return Settings;
    };
    expect(define).toThrow(ConfigurationError);
    expect(define).toThrow(/put it on a class method, not on an accessor or field \(theme\)/);
  });
});

describe('with NestJS', () => {
  /** The part of `reflect-metadata` NestJS installs, kept as that package keeps it: per object. */
  const store = new WeakMap<object, Map<unknown, unknown>>();
  const reflectMetadata = {
    defineMetadata(key: unknown, value: unknown, target: object) {
      const entries = store.get(target) ?? new Map<unknown, unknown>();
      entries.set(key, value);
      store.set(target, entries);
    },
    getOwnMetadata: (key: unknown, target: object) => store.get(target)?.get(key),
    getOwnMetadataKeys: (target: object) => [...(store.get(target)?.keys() ?? [])],
  };
  afterEach(() => {
    for (const name of Object.keys(reflectMetadata)) Reflect.deleteProperty(Reflect, name);
  });

  it('keeps the metadata route decorators below it stored on the method (or the route would vanish)', () => {
    Object.assign(Reflect, reflectMetadata);
    /**
     * What `@Get('reply')` does: metadata on the method function itself. Typed as rest arguments
     * so the repository-wide typecheck, which reads this file as TC39, accepts it too.
     */
    const Get =
      (path: string) =>
      (...[, , descriptor]: unknown[]): void => {
        reflectMetadata.defineMetadata('path', path, (descriptor as PropertyDescriptor).value);
      };
    const { Track } = createDecorators(recordingClient().analytics);

    class ReplyController {
      @Track('reply_read')
      @Get('reply')
      read(): string {
        return 'reply';
      }
    }

    expect(reflectMetadata.getOwnMetadata('path', ReplyController.prototype.read)).toBe('reply');
  });
});
