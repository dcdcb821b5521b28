import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { createAnalytics, defineEventCatalog, type SightlineError } from '../index';
import { createRecordingTransport, silentLogger } from './helpers';

const catalog = defineEventCatalog(
  {
    signup_completed: z.object({ method: z.enum(['email', 'google']) }),
    generation_started: z.object({
      model: z.string(),
      prompt_tokens: z.number().int().nonnegative(),
    }),
    logout: z.object({}),
  },
  { validate: true },
);

describe('typed event catalogs at runtime', () => {
  it('passes valid events and drops invalid ones with reason invalid, naming the property', async () => {
    const recorder = createRecordingTransport();
    const errors: SightlineError[] = [];
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      catalog,
      logger: silentLogger,
      onError: (error) => errors.push(error),
    });
    analytics.track('signup_completed', { method: 'email' });
    analytics.track('generation_started', { model: 'fast', prompt_tokens: -1 });
    analytics.track('logout');
    await analytics.flush();
    expect(recorder.events().map((event) => ('event' in event ? event.event : ''))).toEqual([
      'signup_completed',
      'logout',
    ]);
    expect(analytics.stats().dropped.invalid).toBe(1);
    expect(errors[0]).toMatchObject({ field: 'properties.prompt_tokens' });
    expect(errors[0]!.message).toMatch(
      /`properties\.prompt_tokens`: .*\(event "generation_started"\)/,
    );
  });

  it('skips runtime checks when validate is off (types only)', async () => {
    const recorder = createRecordingTransport();
    const typesOnly = defineEventCatalog({ paid: z.object({ amount: z.number() }) });
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      catalog: typesOnly,
      logger: silentLogger,
    });
    (analytics.track as (name: string, properties: unknown) => void)('paid', { amount: 'lots' });
    await analytics.flush();
    expect(recorder.events()).toHaveLength(1);
  });

  it('drops unknown event names when rejectUnknownEvents is set', async () => {
    const recorder = createRecordingTransport();
    const strict = defineEventCatalog({ known: zm.object({}) }, { rejectUnknownEvents: true });
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      catalog: strict,
      logger: silentLogger,
    });
    analytics.track('known');
    (analytics.track as (name: string) => void)('unknown');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(1);
    expect(analytics.stats().dropped.invalid).toBe(1);
  });

  it('works with zod/mini schemas and applies their output (defaults)', async () => {
    const recorder = createRecordingTransport();
    const mini = defineEventCatalog(
      { viewed: zm.object({ source: zm._default(zm.string(), 'direct') }) },
      { validate: true },
    );
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      catalog: mini,
      logger: silentLogger,
    });
    analytics.track('viewed', {});
    await analytics.flush();
    expect(recorder.events()[0]).toMatchObject({ properties: { source: 'direct' } });
  });
});
