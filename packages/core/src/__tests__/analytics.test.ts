import { describe, expect, it, vi } from 'vitest';
import {
  type AnalyticsEvent,
  ConfigurationError,
  createAnalytics,
  createMemoryStorage,
  createPlatformAnalytics,
  isUuidv7,
  type PipelineStep,
  type SightlineError,
  type StoragePort,
  sha256Hex,
  type ValidationError,
} from '../index';
import { createRecordingTransport, silentLogger } from './helpers';

function setup(overrides: Partial<Parameters<typeof createAnalytics>[0]> = {}) {
  const recorder = createRecordingTransport();
  const errors: SightlineError[] = [];
  const analytics = createAnalytics({
    writeKey: 'wk_test',
    transport: recorder.transport,
    logger: silentLogger,
    onError: (error) => errors.push(error),
    ...overrides,
  });
  return { analytics, recorder, errors };
}

/** An asynchronous storage over `values` whose reads wait until `release()` (IndexedDB-like). */
function gatedStorage(values: Map<string, string>) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const storage: StoragePort = {
    async getItem(key) {
      await gate;
      return values.get(key) ?? null;
    },
    setItem: async (key, value) => void values.set(key, value),
    removeItem: async (key) => void values.delete(key),
  };
  return { storage, release };
}

describe('createAnalytics', () => {
  it('rejects misuse at once, naming the option and the fix', () => {
    expect(() => createAnalytics({ writeKey: '' })).toThrow(ConfigurationError);
    expect(() => createAnalytics({ writeKey: '' })).toThrow(/writeKey/);
    expect(() => createAnalytics({ writeKey: 'k' })).toThrow(/host.*collector URL/);
    expect(() => createAnalytics({ writeKey: 'k', host: 'ftp://x' })).toThrow(/host/);
    expect(() => createAnalytics({ writeKey: 'k', sandbox: true, flushAt: 0 })).toThrow(
      /flushAt.*1 to 2500/,
    );
    expect(() => createAnalytics({ writeKey: 'k', sandbox: true, maxInFlight: 1.5 })).toThrow(
      /maxInFlight/,
    );
  });

  it('builds Segment-spec events with a UUIDv7 messageId, timestamp, ids and library context', async () => {
    const { analytics, recorder } = setup();
    analytics.track('signup_completed', { method: 'email' });
    await analytics.flush();
    const [event] = recorder.events();
    expect(event).toMatchObject({
      type: 'track',
      event: 'signup_completed',
      properties: { method: 'email' },
      anonymousId: analytics.user().anonymousId,
      context: { library: { name: '@sightline/core', version: '0.0.0-test' } },
    });
    expect(isUuidv7(event!.messageId)).toBe(true);
    expect(Date.parse(event!.timestamp)).toBeGreaterThan(Date.now() - 5000);
  });

  it('emits every call type with its Segment fields', async () => {
    const { analytics, recorder } = setup();
    analytics.identify('user_1', { plan: 'pro' });
    analytics.page('Pricing', { path: '/pricing' }, { category: 'marketing' });
    analytics.screen('Home');
    analytics.group('org_1', { seats: 5 });
    analytics.alias('user_2');
    await analytics.flush();
    const events = recorder.events();
    expect(events.map((event) => event.type)).toEqual([
      'identify',
      'page',
      'screen',
      'group',
      'alias',
    ]);
    expect(events[0]).toMatchObject({ userId: 'user_1', traits: { plan: 'pro' } });
    expect(events[1]).toMatchObject({ name: 'Pricing', category: 'marketing', userId: 'user_1' });
    expect(events[3]).toMatchObject({ groupId: 'org_1', traits: { seats: 5 } });
    expect(events[4]).toMatchObject({ userId: 'user_2', previousId: 'user_1' });
  });

  it('keeps a caller-chosen messageId and timestamp', async () => {
    const { analytics, recorder } = setup();
    const anHourAgo = new Date(Date.now() - 3_600_000);
    analytics.track('x', {}, { messageId: 'outbox-17', timestamp: anHourAgo });
    await analytics.flush();
    expect(recorder.events()[0]).toMatchObject({
      messageId: 'outbox-17',
      timestamp: anHourAgo.toISOString(),
    });
  });

  it('never throws on bad input: it reports a ValidationError naming the field and drops with reason invalid', async () => {
    const { analytics, recorder, errors } = setup();
    const track = analytics.track as unknown as (...args: unknown[]) => void;
    expect(() => track('')).not.toThrow();
    expect(() => track('ok', 'not-an-object')).not.toThrow();
    expect(() => track('ok', {}, { timestamp: 'yesterday-ish' })).not.toThrow();
    expect(() => track('ok', [1, 2])).not.toThrow();
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(errors.map((error) => (error as ValidationError).field)).toEqual([
      'event',
      'properties',
      'timestamp',
      'properties',
    ]);
    expect(errors[0]!.message).toMatch(/non-empty string/);
    expect(analytics.stats().dropped.invalid).toBe(4);
  });

  it('drops circular and oversized events with a reason instead of throwing', async () => {
    const { analytics, errors } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    analytics.track('circular', circular);
    analytics.track('huge', { blob: 'x'.repeat(40_000) });
    await analytics.flush();
    expect(analytics.stats().dropped).toMatchObject({ invalid: 1, event_too_large: 1 });
    expect(errors[1]!.message).toMatch(/32 KB/);
  });

  it('runs enrich → consent → PII filter → before-send plugins in that order, and destinations get the final event', async () => {
    const seen: string[] = [];
    const destination: AnalyticsEvent[] = [];
    const plugin: PipelineStep = (event) => {
      seen.push(
        `plugin saw email=${(event as { properties: { email?: string } }).properties.email} consent=${event.context.consent?.analytics}`,
      );
      return {
        ...event,
        properties: { ...('properties' in event ? event.properties : {}), plugin: true },
      } as AnalyticsEvent;
    };
    const { analytics, recorder } = setup({
      plugins: [plugin],
      destinations: [{ name: 'spy', send: (event) => void destination.push(event) }],
    });
    analytics.track('x', { email: 'ada@example.com' });
    await analytics.flush();
    expect(seen).toEqual(['plugin saw email=[redacted] consent=granted']);
    expect(recorder.events()[0]).toMatchObject({
      properties: { email: '[redacted]', plugin: true },
    });
    // Destinations get the same final event; the collector adds the batch-level library.
    const library = { name: '@sightline/core', version: '0.0.0-test' };
    expect(recorder.events()[0]).toEqual({
      ...destination[0]!,
      context: { ...destination[0]!.context, library },
    });
  });

  it('gives every drop a reason: a plugin returning null, context.drop, or a throwing plugin', async () => {
    const { analytics, errors } = setup({
      plugins: [
        function dropBots(event, context) {
          return 'event' in event && event.event === 'bot' ? context.drop('bot_traffic') : event;
        },
        function silently(event) {
          return 'event' in event && event.event === 'quiet' ? null : event;
        },
        function explodes(event) {
          if ('event' in event && event.event === 'boom') throw new Error('kaput');
          return event;
        },
      ],
    });
    analytics.track('bot');
    analytics.track('quiet');
    analytics.track('boom');
    analytics.track('kept');
    await analytics.flush();
    expect(analytics.stats()).toMatchObject({
      sent: 1,
      dropped: { bot_traffic: 1, 'plugin:silently': 1, plugin_error: 1 },
    });
    expect(errors[0]!.message).toMatch(/explodes.*kaput/);
  });

  it('waits for async plugins before flush resolves', async () => {
    const { analytics, recorder } = setup({
      plugins: [
        async (event) =>
          new Promise<AnalyticsEvent>((resolve) => setTimeout(() => resolve(event), 20)),
      ],
    });
    analytics.track('slow');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(1);
  });

  it('reports drops to onDrop and to the debug logger', async () => {
    const onDrop = vi.fn();
    const debug = vi.fn();
    const { analytics } = setup({
      onDrop,
      logger: { ...silentLogger, debug },
      plugins: [(_, context) => context.drop('nope', 'because')],
    });
    analytics.track('x');
    await analytics.flush();
    expect(onDrop).toHaveBeenCalledWith(
      expect.objectContaining({
        reason: 'nope',
        detail: 'because',
        messageIds: [expect.any(String)],
      }),
    );
    expect(debug).toHaveBeenCalledWith('dropped 1 event(s): nope', expect.anything());
  });

  it('keeps hooks that throw away from the host app', async () => {
    const { analytics } = setup({
      onDrop: () => {
        throw new Error('hook bug');
      },
      plugins: [(_, context) => context.drop('x')],
    });
    expect(() => analytics.track('x')).not.toThrow();
    await analytics.flush();
  });

  it('persists identity in storage and starts a new anonymous id on reset', async () => {
    const storage = createMemoryStorage();
    const first = setup({ storage }).analytics;
    first.identify('user_9');
    const anonymousId = first.user().anonymousId;
    const second = setup({ storage }).analytics;
    expect(second.user()).toEqual({ anonymousId, userId: 'user_9' });
    second.reset();
    expect(second.user().userId).toBeUndefined();
    expect(second.user().anonymousId).not.toBe(anonymousId);
    expect(storage.getItem('sightline.userId')).toBeNull();
  });

  it('takes ids from each call in per-call identity mode and drops calls without one', async () => {
    const { analytics, recorder, errors } = setup({ identity: 'per-call' });
    analytics.track('server_event', {}, { userId: 'u1' });
    analytics.track('no_ids');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(1);
    expect(recorder.events()[0]).not.toHaveProperty('anonymousId');
    expect(errors[0]).toMatchObject({ field: 'userId' });
    expect(errors[0]!.message).toMatch(/pass `userId` or `anonymousId`/);
    expect(analytics.stats().dropped).toEqual({ invalid: 1 });
  });

  it('buffers calls until async storage is read, keeping their call-time timestamps', async () => {
    const values = new Map<string, string>([['sightline.anonymousId', 'anon-from-idb']]);
    const { storage, release } = gatedStorage(values);
    const { analytics, recorder } = setup({ storage });
    analytics.track('early', {}, {});
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    await analytics.ready();
    await analytics.flush();
    const [event] = recorder.events();
    expect(event).toMatchObject({ event: 'early', anonymousId: 'anon-from-idb' });
    expect(Date.parse(event!.timestamp)).toBeLessThanOrEqual(before);
  });

  it('keeps a consent choice made before async storage is read over the stored one', async () => {
    const values = new Map<string, string>([
      ['sightline.consent', JSON.stringify({ analytics: 'granted', marketing: 'denied' })],
    ]);
    const { storage, release } = gatedStorage(values);
    const drops: string[] = [];
    const { analytics, recorder } = setup({ storage, onDrop: ({ reason }) => drops.push(reason) });
    analytics.consent.set({ analytics: 'denied' });
    release();
    await analytics.ready();
    analytics.track('after_opt_out');
    await analytics.flush();
    expect(analytics.consent.get('analytics')).toBe('denied');
    // The category the app did not touch is restored from storage.
    expect(analytics.consent.get('marketing')).toBe('denied');
    expect(JSON.parse(values.get('sightline.consent')!)).toMatchObject({ analytics: 'denied' });
    expect(drops).toEqual(['consent']);
    expect(recorder.events()).toEqual([]);
  });

  it('keeps a consent choice made before async storage is read even when it changed nothing', async () => {
    const values = new Map<string, string>([
      [
        'sightline.consent',
        JSON.stringify({ analytics: 'granted', marketing: 'denied', ads: 'denied' }),
      ],
    ]);
    const { storage, release } = gatedStorage(values);
    const drops: string[] = [];
    const { analytics, recorder } = setup({
      storage,
      consent: { initial: { analytics: 'denied' } },
      onDrop: ({ reason }) => drops.push(reason),
    });
    analytics.consent.set({ analytics: 'denied' }); // optOut() when already denied: no change
    analytics.consent.set({ marketing: 'denied' });
    analytics.consent.set({ marketing: 'granted' }); // back to the starting value
    release();
    await analytics.ready();
    analytics.track('after_opt_out');
    await analytics.flush();
    expect(analytics.consent.getAll()).toMatchObject({
      analytics: 'denied',
      marketing: 'granted',
      ads: 'denied', // untouched: restored from storage
    });
    expect(JSON.parse(values.get('sightline.consent')!)).toEqual(analytics.consent.getAll());
    expect(drops).toEqual(['consent']);
    expect(recorder.events()).toEqual([]);
  });

  it('survives a restart with persistQueue: undelivered events are restored with their messageIds', async () => {
    const storage = createMemoryStorage();
    const down = createRecordingTransport(() => ({ status: 503 }));
    const first = createAnalytics({
      writeKey: 'wk',
      storage,
      persistQueue: true,
      transport: down.transport,
      logger: silentLogger,
      retry: { maxAttempts: 100 },
    });
    first.track('a');
    first.track('b');
    await first.close({ timeoutMs: 10 });
    const ids = down.events().map((event) => event.messageId);
    expect(new Set(ids).size).toBe(2);

    const up = createRecordingTransport();
    const second = createAnalytics({
      writeKey: 'wk',
      storage,
      persistQueue: true,
      transport: up.transport,
      logger: silentLogger,
    });
    await second.flush();
    expect(up.events().map((event) => event.messageId)).toEqual([...new Set(ids)]);
    await second.close();
    expect(storage.getItem('sightline.queue.wk')).toBeNull();
  });

  it('with persistDelayMs: 0, stores each event as it is enqueued and forgets it once acknowledged', async () => {
    const storage = createMemoryStorage();
    let answer!: (status: number) => void;
    const transport = {
      send: () =>
        new Promise<{ status: number }>((resolve) => (answer = (status) => resolve({ status }))),
    };
    const analytics = createAnalytics({
      writeKey: 'wk',
      storage,
      persistQueue: true,
      persistDelayMs: 0,
      transport,
      logger: silentLogger,
    });
    analytics.track('saved_at_once');
    // No timer has run: the event is in storage the moment track() returns.
    expect(JSON.parse(String(storage.getItem('sightline.queue.wk')))).toMatchObject([
      { event: 'saved_at_once' },
    ]);
    const flushed = analytics.flush();
    await vi.waitFor(() => expect(answer).toBeTypeOf('function'));
    answer(200);
    await flushed;
    expect(storage.getItem('sightline.queue.wk')).toBeNull();
    expect(() => createAnalytics({ writeKey: 'wk', transport, persistDelayMs: -1 })).toThrow(
      /persistDelayMs/,
    );
    await analytics.close();
  });

  it('closes once even when close() is called twice, and refuses calls made while closing', async () => {
    const recorder = createRecordingTransport(() => ({ status: 503 }));
    const errors: SightlineError[] = [];
    const analytics = createAnalytics({
      writeKey: 'k',
      transport: recorder.transport,
      logger: silentLogger,
      onError: (error) => errors.push(error),
      retry: { maxAttempts: 100 },
    });
    analytics.track('a');
    const first = analytics.close({ timeoutMs: 20 });
    const second = analytics.close({ timeoutMs: 20 });
    analytics.track('during_close');
    await Promise.all([first, second]);
    expect(first).toBe(second);
    expect(analytics.stats().dropped).toEqual({ close_timeout: 1, closed: 1 });
    expect(errors.filter((error) => error.message.includes('close_timeout'))).toHaveLength(1);
  });

  it('survives a logger that throws', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const { analytics } = setup({
      logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
      plugins: [(_, context) => context.drop('x')],
    });
    expect(() => analytics.track('x')).not.toThrow();
    await analytics.flush();
    expect(analytics.stats().dropped.x).toBe(1);
  });

  it('drops calls after close with reason closed', async () => {
    const { analytics, recorder } = setup();
    await analytics.close();
    analytics.track('late');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(analytics.stats().dropped.closed).toBe(1);
  });

  it('logs events instead of sending them in sandbox mode, and skips destinations', async () => {
    const info = vi.fn();
    const send = vi.fn();
    const analytics = createAnalytics({
      writeKey: 'wk',
      sandbox: true,
      logger: { ...silentLogger, info },
      destinations: [{ name: 'amp', send }],
    });
    analytics.track('sandboxed', { a: 1 });
    await analytics.flush();
    expect(info).toHaveBeenCalledWith(
      'sandbox event',
      expect.objectContaining({ event: 'sandboxed', properties: { a: 1 } }),
    );
    expect(send).not.toHaveBeenCalled();
    expect(analytics.stats().sent).toBe(1);
  });

  it('reports a failing destination through onError without affecting delivery', async () => {
    const { analytics, recorder, errors } = setup({
      destinations: [
        { name: 'broken', send: async () => Promise.reject(new Error('401 from vendor')) },
      ],
    });
    analytics.track('x');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/broken.*401 from vendor/);
  });

  it('turns the PII filter off with pii: false', async () => {
    const { analytics, recorder } = setup({ pii: false });
    analytics.track('x', { email: 'ada@example.com' });
    await analytics.flush();
    expect(recorder.events()[0]).toMatchObject({ properties: { email: 'ada@example.com' } });
  });

  it('hashes with SHA-256 by default; the platform client, which leaves it out, asks for pii.hash', async () => {
    const pii = { keyAction: 'hash', hashSalt: 'salt-1' } as const;
    const { analytics, recorder } = setup({ pii });
    analytics.track('x', { email: 'ada@example.com' });
    await analytics.flush();
    expect(recorder.events()[0]).toMatchObject({
      properties: { email: sha256Hex('salt-1ada@example.com') },
    });

    const transport = { send: async () => ({ status: 200 }) };
    expect(() => createPlatformAnalytics({ writeKey: 'k', transport, pii })).toThrow(
      ConfigurationError,
    );
    expect(() => createPlatformAnalytics({ writeKey: 'k', transport, pii })).toThrow(
      /pii\.hash.*sha256Hex/,
    );
    const recorder2 = createRecordingTransport();
    const platform = createPlatformAnalytics({
      writeKey: 'k',
      transport: recorder2.transport,
      pii: { ...pii, hash: (text) => `h(${text})` },
    });
    platform.track('x', { email: 'ada@example.com' });
    await platform.flush();
    expect(recorder2.events()[0]).toMatchObject({
      properties: { email: 'h(salt-1ada@example.com)' },
    });
  });
});
