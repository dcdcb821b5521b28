import {
  type AnalyticsEvent,
  ConfigurationError,
  createAnalytics,
  type Destination,
  type TrackEvent,
} from '@sightline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AmplitudeDestinationOptions, amplitudeDestination } from '../amplitude';
import { amplitudeAccepts, interceptVendor } from './vendorServer';

// The real @amplitude/analytics-browser runs in happy-dom as is (fetch, cookies, localStorage and
// crypto.getRandomValues are all there); only its HTTP requests are answered, by msw.
const requests = interceptVendor(
  { url: 'https://api2.amplitude.com/2/httpapi', respond: amplitudeAccepts },
  { url: 'https://proxy.example.com/amplitude', respond: amplitudeAccepts },
);

interface SentEvent {
  event_type: string;
  insert_id: string;
  user_id?: string;
  device_id?: string;
  time: number;
  session_id?: number;
  event_properties?: Record<string, unknown>;
  user_properties?: Record<string, unknown>;
  group_properties?: Record<string, unknown>;
  groups?: Record<string, unknown>;
}

/** Every event the SDK posted, in the order it posted them. */
const sent = () =>
  requests.flatMap((request) => (request.body as { events: SentEvent[] }).events ?? []);
const sentTypes = () => sent().map((event) => event.event_type);

// The SDK keys its cookie and its store of unsent events by the API key's first 10 characters,
// so each test gets a key of its own.
let keys = 0;
function destination(options: Partial<AmplitudeDestinationOptions> = {}): Destination {
  keys += 1;
  return amplitudeDestination({ apiKey: `${String(keys).padStart(4, '0')}-amp-key`, ...options });
}

afterEach(() => {
  localStorage.clear();
});

const timestamp = '2026-01-02T03:04:05.678Z';
const base = { timestamp, anonymousId: 'anon-0001', context: {} };

/** A track event as the pipeline hands it to destinations. */
const trackEvent = (event: string, fields: Partial<TrackEvent> = {}): TrackEvent => ({
  ...base,
  type: 'track',
  event,
  properties: {},
  messageId: `msg-${event}`,
  ...fields,
});

describe('amplitudeDestination', () => {
  it('rejects a missing apiKey at once, naming the fix', () => {
    expect(() => amplitudeDestination({ apiKey: '' })).toThrow(ConfigurationError);
    expect(() => amplitudeDestination({} as AmplitudeDestinationOptions)).toThrow(
      /apiKey.*Amplitude project API key/,
    );
  });

  it('declares the consent category it needs: analytics by default, or the one given', () => {
    expect(destination().category).toBe('analytics');
    expect(destination({ category: 'marketing' }).category).toBe('marketing');
    expect(destination().name).toBe('amplitude');
  });

  it('sends track to the HTTP API with messageId as insert_id, the ids and the event time', async () => {
    const amplitude = destination();
    await amplitude.send(
      trackEvent('signup_completed', {
        properties: { method: 'email' },
        messageId: 'msg-track-1',
        userId: 'user-0042',
        context: { sessionId: 1767323000000 },
      }),
    );
    await amplitude.flush?.();

    expect(requests.map((request) => request.url.href)).toEqual([
      'https://api2.amplitude.com/2/httpapi',
    ]);
    expect(sent()).toEqual([
      expect.objectContaining({
        event_type: 'signup_completed',
        event_properties: { method: 'email' },
        insert_id: 'msg-track-1',
        user_id: 'user-0042',
        device_id: 'anon-0001',
        time: Date.parse(timestamp),
        // A numeric Sightline session id is a start time in ms, as Amplitude's are.
        session_id: 1767323000000,
      }),
    ]);
  });

  it('tracks nothing by itself: no page views, sessions, attribution or remote config', async () => {
    window.history.replaceState(null, '', '/pricing?utm_source=newsletter');
    const amplitude = destination();
    await amplitude.send(trackEvent('only_this'));
    await amplitude.flush?.();
    window.history.replaceState(null, '', '/');

    // Any request besides the HTTP API (e.g. remote config) would fail the test in vendorServer.
    expect(sentTypes()).toEqual(['only_this']);
  });

  it('keeps the order of events sent while the SDK is still loading', async () => {
    const amplitude = destination();
    const names = ['first', 'second', 'third', 'fourth'];
    await Promise.all(names.map((name) => amplitude.send(trackEvent(name))));
    await amplitude.flush?.();
    expect(sentTypes()).toEqual(names);
    expect(sent().map((event) => event.insert_id)).toEqual(names.map((name) => `msg-${name}`));
  });

  it('loads the SDK only on the first event: creating the destination leaves no trace', async () => {
    // The SDK's identity cookie is named after the key's first 10 characters.
    const amplitude = amplitudeDestination({ apiKey: 'lazy-load-amp-key' });
    await amplitude.flush?.();
    expect(document.cookie).not.toContain('AMP_lazy-load-');

    await amplitude.send(trackEvent('first'));
    expect(document.cookie).toContain('AMP_lazy-load-');
    await amplitude.flush?.();
  });

  it('sends identify as an $identify event that $sets the traits for the user id', async () => {
    const amplitude = destination();
    await amplitude.send({
      ...base,
      type: 'identify',
      userId: 'user-0042',
      traits: { plan: 'pro', seats: 5 },
      messageId: 'msg-identify-1',
    });
    await amplitude.flush?.();
    expect(sent()).toEqual([
      expect.objectContaining({
        event_type: '$identify',
        user_properties: { $set: { plan: 'pro', seats: 5 } },
        insert_id: 'msg-identify-1',
        user_id: 'user-0042',
        device_id: 'anon-0001',
      }),
    ]);
  });

  it('leaves user_id out of events without a userId, even after an identify (a logout)', async () => {
    const amplitude = destination();
    await amplitude.send({
      ...base,
      type: 'identify',
      userId: 'user-0042',
      traits: {},
      messageId: 'm1',
    });
    await amplitude.send(trackEvent('after_logout', { anonymousId: 'anon-0002' }));
    await amplitude.flush?.();

    const [, afterLogout] = sent();
    expect(afterLogout).toMatchObject({ event_type: 'after_logout', device_id: 'anon-0002' });
    expect(afterLogout).not.toHaveProperty('user_id');
  });

  it('sends page as "[Sightline] Page Viewed" with the page context, name and category', async () => {
    const amplitude = destination();
    await amplitude.send({
      ...base,
      type: 'page',
      name: 'Pricing',
      category: 'Docs',
      properties: { plan: 'pro' },
      messageId: 'msg-page-1',
      context: { page: { path: '/pricing', url: 'https://example.com/pricing', title: 'Pricing' } },
    });
    await amplitude.send({
      ...base,
      type: 'screen',
      name: 'Settings',
      properties: {},
      messageId: 'msg-screen-1',
    });
    await amplitude.flush?.();

    expect(sent()).toEqual([
      expect.objectContaining({
        event_type: '[Sightline] Page Viewed',
        insert_id: 'msg-page-1',
        event_properties: {
          path: '/pricing',
          url: 'https://example.com/pricing',
          title: 'Pricing',
          plan: 'pro',
          name: 'Pricing',
          category: 'Docs',
        },
      }),
      expect.objectContaining({
        event_type: '[Sightline] Screen Viewed',
        insert_id: 'msg-screen-1',
        event_properties: { name: 'Settings' },
      }),
    ]);
  });

  it('sends group as setGroup under traits.type (default "company"), then the group traits', async () => {
    const amplitude = destination();
    await amplitude.send({
      ...base,
      type: 'group',
      groupId: 'acme',
      traits: { name: 'Acme Inc', employees: 120 },
      userId: 'user-0042',
      messageId: 'msg-group-1',
    });
    await amplitude.send({
      ...base,
      type: 'group',
      groupId: 'north',
      traits: { type: 'team' },
      messageId: 'msg-group-2',
    });
    await amplitude.flush?.();

    expect(sent()).toEqual([
      expect.objectContaining({
        event_type: '$identify',
        groups: { company: 'acme' },
        user_properties: { $set: { company: 'acme' } },
        insert_id: 'msg-group-1',
        user_id: 'user-0042',
      }),
      // A second event of the same call: its own insert_id, derived so that retries still dedupe.
      expect.objectContaining({
        event_type: '$groupidentify',
        groups: { company: 'acme' },
        group_properties: { $set: { name: 'Acme Inc', employees: 120 } },
        insert_id: 'msg-group-1-group',
      }),
      expect.objectContaining({
        event_type: '$identify',
        groups: { team: 'north' },
        insert_id: 'msg-group-2',
      }),
    ]);
  });

  it('skips alias: Amplitude links the anonymous device to the user id by itself', async () => {
    const amplitude = destination();
    await amplitude.send({
      ...base,
      type: 'alias',
      userId: 'user-0042',
      previousId: 'anon-0001',
      messageId: 'msg-alias-1',
    });
    await amplitude.send(trackEvent('after_alias'));
    await amplitude.flush?.();
    expect(sentTypes()).toEqual(['after_alias']);
  });

  it('posts to serverUrl when one is given (a first-party proxy)', async () => {
    const amplitude = destination({ serverUrl: 'https://proxy.example.com/amplitude' });
    await amplitude.send(trackEvent('proxied'));
    await amplitude.flush?.();
    expect(requests.map((request) => request.url.href)).toEqual([
      'https://proxy.example.com/amplitude',
    ]);
    expect(sentTypes()).toEqual(['proxied']);
  });

  describe('behind createAnalytics', () => {
    function setup(amplitude: Destination, consent?: Record<string, 'granted' | 'denied'>) {
      const collected: AnalyticsEvent[] = [];
      const analytics = createAnalytics({
        writeKey: 'wk_test',
        transport: {
          async send(batch) {
            collected.push(...batch.events.map((json) => JSON.parse(json) as AnalyticsEvent));
            return { status: 200 };
          },
        },
        destinations: [amplitude],
        consent: consent && { initial: consent },
      });
      return { analytics, collected };
    }

    it("delivers a track() call to Amplitude with the collector's messageId as insert_id", async () => {
      const { analytics, collected } = setup(destination());
      analytics.identify('user-0042', { plan: 'pro' });
      analytics.track('signup_completed', { method: 'email' });
      await analytics.flush();

      const track = collected.find((event) => event.type === 'track')!;
      expect(sent()).toEqual([
        expect.objectContaining({ event_type: '$identify', user_id: 'user-0042' }),
        expect.objectContaining({
          event_type: 'signup_completed',
          event_properties: { method: 'email' },
          insert_id: track.messageId,
          user_id: 'user-0042',
          device_id: track.anonymousId,
          time: Date.parse(track.timestamp),
        }),
      ]);
    });

    it('sends nothing to Amplitude while its consent category is denied', async () => {
      const { analytics, collected } = setup(destination({ category: 'marketing' }), {
        analytics: 'granted',
        marketing: 'denied',
      });
      analytics.track('while_denied');
      await analytics.flush();
      analytics.consent.set({ marketing: 'granted' });
      analytics.track('after_grant');
      await analytics.flush();

      expect(collected).toHaveLength(2);
      expect(sentTypes()).toEqual(['after_grant']);
    });
  });
});
