import {
  type AnalyticsEvent,
  ConfigurationError,
  createAnalytics,
  type Destination,
  type TrackEvent,
} from '@sightline/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type MixpanelDestinationOptions, mixpanelDestination } from '../mixpanel';
import { interceptVendor, mixpanelAccepts, type VendorRequest } from './vendorServer';

// The real mixpanel-browser runs in happy-dom with one polyfill: happy-dom declares the
// XMLHttpRequest readyState constants as statics only, while browsers also have them on
// instances. msw's XHR interceptor reads `request.DONE`, so without them the readyState of a
// mocked response never reaches 4 and Mixpanel's request callbacks never run.
const READY_STATES = { UNSENT: 0, OPENED: 1, HEADERS_RECEIVED: 2, LOADING: 3, DONE: 4 };
for (const [name, value] of Object.entries(READY_STATES)) {
  if (!(name in XMLHttpRequest.prototype)) {
    Object.defineProperty(XMLHttpRequest.prototype, name, { value });
  }
}

const requests = interceptVendor(
  ...['track', 'engage', 'groups'].map((endpoint) => ({
    url: `https://api-js.mixpanel.com/${endpoint}/`,
    respond: mixpanelAccepts,
  })),
  { url: 'https://proxy.example.com/mixpanel/track/', respond: mixpanelAccepts },
);

interface TrackPayload {
  event: string;
  properties: Record<string, unknown>;
}

/** The requests Mixpanel made to one endpoint (`track`, `engage`, `groups`), bodies decoded. */
const sentTo = (endpoint: string) =>
  requests
    .filter((request: VendorRequest) => request.url.pathname === `/${endpoint}/`)
    .map((request) => request.body);
const tracked = () => sentTo('track') as TrackPayload[];
const trackedNamed = (name: string) => tracked().filter((payload) => payload.event === name);

function destination(options: Partial<MixpanelDestinationOptions> = {}): Destination {
  return mixpanelDestination({ token: 'mixpanel-token', ...options });
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

describe('mixpanelDestination', () => {
  it('rejects a missing token at once, naming the fix', () => {
    expect(() => mixpanelDestination({ token: '' })).toThrow(ConfigurationError);
    expect(() => mixpanelDestination({} as MixpanelDestinationOptions)).toThrow(
      /token.*Mixpanel project token/,
    );
  });

  it('declares the consent category it needs: analytics by default, or the one given', () => {
    expect(destination().category).toBe('analytics');
    expect(destination({ category: 'marketing' }).category).toBe('marketing');
    expect(destination().name).toBe('mixpanel');
  });

  it('sends track with messageId as $insert_id, time in seconds and anonymousId as $device_id', async () => {
    const mixpanel = destination();
    await mixpanel.send(
      trackEvent('signup_completed', {
        properties: { method: 'email' },
        messageId: 'msg-track-1',
        context: { page: { url: 'https://example.com/signup' } },
      }),
    );
    await mixpanel.flush?.();

    expect(requests.map((request) => request.url.origin + request.url.pathname)).toEqual([
      'https://api-js.mixpanel.com/track/',
    ]);
    const [payload] = tracked();
    expect(payload).toMatchObject({
      event: 'signup_completed',
      properties: {
        method: 'email',
        $insert_id: 'msg-track-1',
        time: Date.parse(timestamp) / 1000,
        distinct_id: '$device:anon-0001',
        $device_id: 'anon-0001',
        $current_url: 'https://example.com/signup',
        token: 'mixpanel-token',
      },
    });
    expect(payload!.properties).not.toHaveProperty('$user_id');
  });

  it('tracks nothing by itself and keeps no cookie or localStorage state', async () => {
    window.history.replaceState(null, '', '/pricing?utm_source=newsletter');
    const mixpanel = destination();
    await mixpanel.send(trackEvent('only_this'));
    await mixpanel.flush?.();
    window.history.replaceState(null, '', '/');

    // Any request besides the routes above would fail the test in vendorServer.
    expect(requests.map((request) => (request.body as TrackPayload).event)).toEqual(['only_this']);
    expect(document.cookie).not.toContain('mp_');
    expect(Object.keys(localStorage).filter((key) => key.includes('mp'))).toEqual([]);
  });

  it('keeps the order of events sent while the SDK is still loading', async () => {
    const mixpanel = destination();
    const names = ['first', 'second', 'third', 'fourth'];
    await Promise.all(names.map((name) => mixpanel.send(trackEvent(name))));
    await mixpanel.flush?.();
    // One request per event (batch_requests off): the order they were made in is the order sent.
    expect(tracked().map((payload) => payload.event)).toEqual(names);
    expect(tracked().map((payload) => payload.properties.$insert_id)).toEqual(
      names.map((name) => `msg-${name}`),
    );
  });

  it('loads and initialises the SDK only on the first event', async () => {
    // Mixpanel announces every initialised instance with this window event.
    const initialised = vi.fn();
    window.addEventListener('$mp_sdk_to_extension_event', initialised);
    const mixpanel = destination();
    await mixpanel.flush?.();
    expect(initialised).not.toHaveBeenCalled();

    await mixpanel.send(trackEvent('first'));
    expect(initialised).toHaveBeenCalledOnce();
    window.removeEventListener('$mp_sdk_to_extension_event', initialised);
    await mixpanel.flush?.();
  });

  it('sends identify as identify(userId) linking the device, then people.set with the traits', async () => {
    const mixpanel = destination();
    await mixpanel.send({
      ...base,
      type: 'identify',
      userId: 'user-0042',
      traits: { email: 'ada@example.com', name: 'Ada', firstName: 'Ada', plan: 'pro' },
      messageId: 'msg-identify-1',
    });
    await mixpanel.flush?.();

    expect(sentTo('engage')).toEqual([
      expect.objectContaining({
        // Segment's reserved traits become Mixpanel's reserved profile properties.
        $set: expect.objectContaining({
          $email: 'ada@example.com',
          $name: 'Ada',
          $first_name: 'Ada',
          plan: 'pro',
        }),
        $distinct_id: 'user-0042',
        $device_id: 'anon-0001',
        $user_id: 'user-0042',
      }),
    ]);
    // Mixpanel's own $identify event ties the anonymous device to the user (ID merge).
    await vi.waitFor(() =>
      expect(trackedNamed('$identify')).toEqual([
        expect.objectContaining({
          properties: expect.objectContaining({
            distinct_id: 'user-0042',
            $anon_distinct_id: '$device:anon-0001',
            $device_id: 'anon-0001',
            $user_id: 'user-0042',
          }),
        }),
      ]),
    );
  });

  it('holds the traits of an identify without userId until a user id is known', async () => {
    const mixpanel = destination();
    await mixpanel.send({ ...base, type: 'identify', traits: { plan: 'free' }, messageId: 'm1' });
    await mixpanel.flush?.();
    expect(sentTo('engage')).toEqual([]);

    await mixpanel.send(trackEvent('logged_in', { userId: 'user-0042' }));
    await mixpanel.flush?.();
    await vi.waitFor(() =>
      expect(sentTo('engage')).toEqual([
        expect.objectContaining({
          $set: expect.objectContaining({ plan: 'free' }),
          $distinct_id: 'user-0042',
        }),
      ]),
    );
  });

  it('carries the user id once identified, and drops it when an event comes without one (a logout)', async () => {
    const mixpanel = destination();
    await mixpanel.send(trackEvent('signed_in', { userId: 'user-0042' }));
    await mixpanel.send(trackEvent('signed_out', { anonymousId: 'anon-0002' }));
    await mixpanel.flush?.();

    expect(trackedNamed('signed_in')[0]!.properties).toMatchObject({
      distinct_id: 'user-0042',
      $user_id: 'user-0042',
      $device_id: 'anon-0001',
    });
    const signedOut = trackedNamed('signed_out')[0]!.properties;
    expect(signedOut).toMatchObject({ distinct_id: '$device:anon-0002', $device_id: 'anon-0002' });
    expect(signedOut).not.toHaveProperty('$user_id');
  });

  it("sends page as Mixpanel's $mp_web_page_view with the page context, and screen as its own event", async () => {
    const mixpanel = destination();
    await mixpanel.send({
      ...base,
      type: 'page',
      name: 'Pricing',
      category: 'Docs',
      properties: { plan: 'pro' },
      messageId: 'msg-page-1',
      context: {
        page: {
          url: 'https://example.com/pricing?ref=nav',
          path: '/pricing',
          search: '?ref=nav',
          title: 'Pricing',
          referrer: 'https://example.com/',
        },
      },
    });
    await mixpanel.send({
      ...base,
      type: 'screen',
      name: 'Settings',
      properties: {},
      messageId: 'msg-screen-1',
    });
    await mixpanel.flush?.();

    expect(tracked()).toEqual([
      {
        event: '$mp_web_page_view',
        properties: expect.objectContaining({
          $current_url: 'https://example.com/pricing?ref=nav',
          current_url_path: '/pricing',
          current_url_search: '?ref=nav',
          current_page_title: 'Pricing',
          $referrer: 'https://example.com/',
          plan: 'pro',
          name: 'Pricing',
          category: 'Docs',
          $insert_id: 'msg-page-1',
        }),
      },
      {
        event: '[Sightline] Screen Viewed',
        properties: expect.objectContaining({ name: 'Settings', $insert_id: 'msg-screen-1' }),
      },
    ]);
  });

  it('sends group as set_group under traits.type (default "company") and the group profile', async () => {
    const mixpanel = destination();
    await mixpanel.send({
      ...base,
      type: 'group',
      groupId: 'acme',
      traits: { name: 'Acme Inc', employees: 120 },
      userId: 'user-0042',
      messageId: 'msg-group-1',
    });
    await mixpanel.send({
      ...base,
      type: 'group',
      groupId: 'north',
      traits: { type: 'team' },
      userId: 'user-0042',
      messageId: 'msg-group-2',
    });
    await mixpanel.send(trackEvent('in_groups', { userId: 'user-0042' }));
    await mixpanel.flush?.();

    expect(sentTo('engage')).toEqual([
      expect.objectContaining({
        $set: expect.objectContaining({ company: ['acme'] }),
        $distinct_id: 'user-0042',
      }),
      expect.objectContaining({ $set: expect.objectContaining({ team: ['north'] }) }),
    ]);
    expect(sentTo('groups')).toEqual([
      expect.objectContaining({
        $set: { name: 'Acme Inc', employees: 120 },
        $group_key: 'company',
        $group_id: 'acme',
        $token: 'mixpanel-token',
      }),
    ]);
    // Later events carry the groups, as Mixpanel's group analytics expects.
    expect(trackedNamed('in_groups')[0]!.properties).toMatchObject({
      company: ['acme'],
      team: ['north'],
    });
  });

  it("sends alias as Mixpanel's $create_alias from previousId to the user id", async () => {
    const mixpanel = destination();
    await mixpanel.send({
      ...base,
      type: 'alias',
      userId: 'user-0042',
      previousId: 'legacy-7',
      messageId: 'msg-alias-1',
    });
    await mixpanel.flush?.();
    // alias() takes no callback of ours, so flush() cannot wait for this one request.
    await vi.waitFor(() =>
      expect(trackedNamed('$create_alias')).toEqual([
        expect.objectContaining({
          properties: expect.objectContaining({ alias: 'user-0042', distinct_id: 'legacy-7' }),
        }),
      ]),
    );
  });

  it('sends to apiHost when one is given (a first-party proxy)', async () => {
    const mixpanel = destination({ apiHost: 'https://proxy.example.com/mixpanel' });
    await mixpanel.send(trackEvent('proxied'));
    await mixpanel.flush?.();
    expect(requests.map((request) => request.url.origin + request.url.pathname)).toEqual([
      'https://proxy.example.com/mixpanel/track/',
    ]);
    expect(requests[0]!.body).toMatchObject({
      event: 'proxied',
      properties: { $insert_id: 'msg-proxied' },
    });
  });

  describe('behind createAnalytics', () => {
    function setup(mixpanel: Destination, consent?: Record<string, 'granted' | 'denied'>) {
      const collected: AnalyticsEvent[] = [];
      const analytics = createAnalytics({
        writeKey: 'wk_test',
        transport: {
          async send(batch) {
            collected.push(...batch.events.map((json) => JSON.parse(json) as AnalyticsEvent));
            return { status: 200 };
          },
        },
        destinations: [mixpanel],
        consent: consent && { initial: consent },
      });
      return { analytics, collected };
    }

    it("delivers a track() call to Mixpanel with the collector's messageId as $insert_id", async () => {
      const { analytics, collected } = setup(destination());
      analytics.track('signup_completed', { method: 'email' });
      await analytics.flush();

      const [track] = collected;
      expect(tracked()).toEqual([
        {
          event: 'signup_completed',
          properties: expect.objectContaining({
            method: 'email',
            $insert_id: track!.messageId,
            $device_id: track!.anonymousId,
            time: Date.parse(track!.timestamp) / 1000,
          }),
        },
      ]);
    });

    it('sends nothing to Mixpanel while its consent category is denied', async () => {
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
      expect(tracked().map((payload) => payload.event)).toEqual(['after_grant']);
    });
  });
});
