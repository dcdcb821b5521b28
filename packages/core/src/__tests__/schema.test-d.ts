import { describe, expectTypeOf, it } from 'vitest';
import type { input } from 'zod/mini';
import type { AnalyticsEvent } from '../index';
import type { eventSchema, ValidatedEvent } from '../schema';

/** The schema's named fields, without the index signature that `looseObject` adds. */
type KnownFields<T> = T extends unknown
  ? { [K in keyof T as string extends K ? never : K]: T[K] }
  : never;

describe('the zod schema and the TypeScript event model agree', () => {
  it('accepts every event the client model can produce', () => {
    const fromClient = {} as AnalyticsEvent;
    const accepted: KnownFields<input<typeof eventSchema>> = fromClient;
    expectTypeOf(accepted).not.toBeNever();
    // A field the schema types differently is caught:
    // @ts-expect-error `event` must be a string in the schema
    const mistyped: KnownFields<input<typeof eventSchema>> = { type: 'track', event: 42 };
    expectTypeOf(mistyped).not.toBeNever();
  });

  it('narrows by type like the model', () => {
    expectTypeOf<Extract<ValidatedEvent, { type: 'track' }>['event']>().toEqualTypeOf<string>();
    expectTypeOf<
      Extract<ValidatedEvent, { type: 'alias' }>['previousId']
    >().toEqualTypeOf<string>();
  });
});
