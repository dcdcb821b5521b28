import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { type Analytics, createAnalytics, defineEventCatalog } from '../index';

const catalog = defineEventCatalog({
  signup_completed: z.object({ method: z.enum(['email', 'google']) }),
  generation_started: z.object({ model: z.string(), prompt_tokens: z.number() }),
  logout: z.object({}),
  page_scrolled: z.object({ depth: z.number().optional() }),
});

declare const analytics: Analytics<typeof catalog>;

describe('typed event catalogs in TypeScript', () => {
  it('accepts declared events with their properties', () => {
    analytics.track('signup_completed', { method: 'google' });
    analytics.track('generation_started', { model: 'fast', prompt_tokens: 12 }, { userId: 'u1' });
    analytics.track('logout');
    analytics.track('page_scrolled');
  });

  it('rejects unknown names, missing, misspelled and mistyped properties', () => {
    // @ts-expect-error unknown event name
    analytics.track('signup_complete', { method: 'email' });
    // @ts-expect-error properties are required for this event
    analytics.track('signup_completed');
    // @ts-expect-error value outside the enum
    analytics.track('signup_completed', { method: 'github' });
    // @ts-expect-error prompt_tokens must be a number
    analytics.track('generation_started', { model: 'fast', prompt_tokens: '12' });
    // @ts-expect-error model is missing
    analytics.track('generation_started', { prompt_tokens: 1 });
  });

  it('infers the catalog from createAnalytics options', () => {
    const client = createAnalytics({ writeKey: 'k', sandbox: true, catalog });
    expectTypeOf(client.track)
      .parameter(0)
      .toEqualTypeOf<'signup_completed' | 'generation_started' | 'logout' | 'page_scrolled'>();
    // @ts-expect-error unknown event name on an inferred client
    client.track('nope');
  });

  it('keeps the open Segment signature without a catalog', () => {
    const open = createAnalytics({ writeKey: 'k', sandbox: true });
    open.track('anything', { at: 'all' });
    expectTypeOf(open.track).parameter(0).toEqualTypeOf<string>();
  });
});
