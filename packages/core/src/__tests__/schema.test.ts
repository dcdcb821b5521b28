import { describe, expect, it } from 'vitest';
import { createAnalytics } from '../index';
import { batchSchema, createSchemaValidator, eventSchema, validateEvent } from '../schema';
import { createRecordingTransport, silentLogger } from './helpers';

const base = {
  messageId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  timestamp: '2026-11-23T10:00:00.000Z',
  anonymousId: 'anon-1',
};

describe('event schemas (shared with the collector)', () => {
  it.each([
    { type: 'track', event: 'signup_completed', properties: { method: 'email' } },
    { type: 'identify', traits: { plan: 'pro' }, userId: 'u1' },
    { type: 'page', name: 'Pricing', properties: { path: '/pricing' } },
    { type: 'screen', name: 'Home' },
    { type: 'group', groupId: 'org_1', traits: { seats: 3 } },
    { type: 'alias', previousId: 'anon-1', userId: 'u1' },
  ])('accepts a Segment $type call', (event) => {
    expect(validateEvent({ ...base, ...event }).success).toBe(true);
  });

  it('accepts what Segment clients send: numeric ids, no messageId or timestamp, extra fields', () => {
    const result = validateEvent({ type: 'track', event: 'x', userId: 42, custom: true });
    expect(result).toMatchObject({ success: true, event: { userId: '42', custom: true } });
  });

  it.each([
    [{ ...base, type: 'track' }, 'event'],
    [{ ...base, type: 'track', event: '' }, 'event'],
    [{ ...base, type: 'track', event: 'x', properties: [1] }, 'properties'],
    [{ ...base, type: 'track', event: 'x', timestamp: 'yesterday' }, 'timestamp'],
    [{ type: 'track', event: 'x' }, 'userId'],
    [{ ...base, type: 'group' }, 'groupId'],
    [{ ...base, type: 'alias' }, 'previousId'],
    [{ ...base, type: 'launch' }, 'type'],
    [
      { ...base, type: 'track', event: 'x', context: { consent: { analytics: 'maybe' } } },
      'context.consent.analytics',
    ],
  ])('names the bad field of %j', (event, field) => {
    const result = validateEvent(event);
    expect(result.success).toBe(false);
    if (!result.success) expect(result.issues.map((issue) => issue.field)).toContain(field);
  });

  it.each([
    [{ type: 'track', anonymousId: 'a' }, 'event', /non-empty string/],
    [
      { type: 'launch', anonymousId: 'a' },
      'type',
      /one of track, identify, page, screen, group, alias/,
    ],
    [
      { type: 'track', event: 'x', anonymousId: 'a', timestamp: 'yesterday' },
      'timestamp',
      /ISO-8601/,
    ],
    [{ type: 'group', anonymousId: 'a' }, 'groupId', /string .* or a number/],
    [
      { type: 'track', event: 'x', anonymousId: 'a', properties: 'plan=pro' },
      'properties',
      /JSON object/,
    ],
  ])('phrases the problem with %j as its fix', (event, field, message) => {
    const result = validateEvent(event);
    expect(result.success === false && result.issues[0]).toMatchObject({
      field,
      message: expect.stringMatching(message),
    });
  });

  it('says how to fix a missing identity', () => {
    const result = validateEvent({ type: 'track', event: 'x' });
    expect(result.success === false && result.issues[0]!.message).toMatch(
      /set userId or anonymousId/,
    );
  });

  it('caps a batch at 2,500 events', () => {
    expect(batchSchema.safeParse({ batch: new Array(2500).fill({}) }).success).toBe(true);
    const result = batchSchema.safeParse({ batch: new Array(2501).fill({}) });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/2,500/);
  });

  it('validates every event the core client emits', async () => {
    const recorder = createRecordingTransport();
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      logger: silentLogger,
    });
    analytics.identify('u1', { plan: 'pro' });
    analytics.track('a', { n: 1 });
    analytics.page('Home');
    analytics.screen('Main');
    analytics.group('g1');
    analytics.alias('u2');
    await analytics.flush();
    for (const event of recorder.events())
      expect(eventSchema.safeParse(event).error).toBeUndefined();
  });

  it('drops invalid events in development through createSchemaValidator', async () => {
    const recorder = createRecordingTransport();
    const analytics = createAnalytics({
      writeKey: 'wk',
      transport: recorder.transport,
      logger: silentLogger,
      plugins: [
        (event) =>
          ({ ...event, context: { ...event.context, consent: { analytics: 'sure' } } }) as never,
        createSchemaValidator(),
      ],
    });
    analytics.track('x');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(analytics.stats().dropped.invalid).toBe(1);
  });
});
