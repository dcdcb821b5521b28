import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BrowserAnalytics,
  type BrowserAnalyticsOptions,
  createBrowserAnalytics,
} from '../browserAnalytics';
import { sha256Hex } from '../hash';
import { collectorUrl, type StoredEvent, storedEvents, WRITE_KEY } from './collectorServer';

/**
 * The SDK in happy-dom against our real collector (in-memory DuckDB, real HTTP, started by
 * globalSetup.ts): what arrived is read back through the collector's read API. Each test starts
 * with empty storage, so a fresh anonymous id tells its events apart.
 */
let clients: BrowserAnalytics[] = [];

beforeEach(() => {
  localStorage.clear();
  document.body.innerHTML = '';
  history.replaceState(null, '', '/');
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close({ timeoutMs: 1_000 });
  vi.unstubAllGlobals();
  for (const name of stubbed.splice(0)) Reflect.deleteProperty(navigator, name);
});

const stubbed: string[] = [];
/** Shadows `navigator` properties for one test (the browser's signals, connectivity). */
function stubNavigator(properties: Record<string, () => unknown>) {
  for (const [name, get] of Object.entries(properties)) {
    Object.defineProperty(navigator, name, { get, configurable: true });
    stubbed.push(name);
  }
}

function start(options: Partial<BrowserAnalyticsOptions> = {}): BrowserAnalytics {
  const client = createBrowserAnalytics({
    writeKey: WRITE_KEY,
    host: collectorUrl(),
    flushAt: 1,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
  clients.push(client);
  return client;
}

/** Stored events of `anonymousId`, oldest first. */
async function arrived(anonymousId: string | undefined): Promise<StoredEvent[]> {
  return (await storedEvents()).filter((event) => event.anonymousId === anonymousId);
}

const names = (events: StoredEvent[]) => events.map((event) => event.event ?? event.type);

describe('createBrowserAnalytics against the real collector', () => {
  it('sends the initial page view with page properties, session and campaign context', async () => {
    history.replaceState(null, '', '/landing?utm_source=newsletter&utm_campaign=spring&gclid=g-1');
    const client = start();
    await client.flush();
    const [page, ...rest] = await arrived(client.user().anonymousId);
    expect(rest).toEqual([]);
    expect(page).toMatchObject({
      type: 'page',
      utmSource: 'newsletter',
      utmCampaign: 'spring',
      properties: {
        path: '/landing',
        search: '?utm_source=newsletter&utm_campaign=spring&gclid=g-1',
      },
      context: {
        page: { path: '/landing' },
        campaign: { source: 'newsletter', name: 'spring' },
        clickIds: { gclid: 'g-1' },
        library: { name: '@sightline/browser' },
      },
    });
    expect(Number(page?.sessionId)).toBeGreaterThan(0);
  });

  it('tracks data-attribute clicks and forms, and SPA page views with the previous page as referrer', async () => {
    document.body.innerHTML = `
      <button data-analytics-track="feature_click" data-analytics-feature="generate">Go</button>
      <form data-analytics-form="contact_form"><input name="email"><button type="submit">Send</button></form>`;
    const client = start();
    document.querySelector('button')!.click();
    const email = document.querySelector('input')!;
    email.value = 'jane@example.com';
    email.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true }));
    history.pushState(null, '', '/pricing');
    await client.flush();
    const events = await arrived(client.user().anonymousId);
    expect(names(events)).toEqual([
      'page',
      'feature_click',
      'form_started',
      'form_submitted',
      'page',
    ]);
    expect(events[1]?.properties).toEqual({ feature: 'generate' });
    expect(events[3]?.properties).toEqual({
      form: 'contact_form',
      field_names: ['email'],
      field_count: 1,
    });
    expect(JSON.stringify(events)).not.toContain('jane@example.com');
    expect(events[4]?.properties).toMatchObject({
      path: '/pricing',
      referrer: `${location.origin}/`,
    });
    // One session across them all.
    expect(new Set(events.map((event) => event.sessionId)).size).toBe(1);
  });

  it('gives page views the app tracks itself (pageViews: false, as router bindings do) the previous page as referrer', async () => {
    const client = start({ pageViews: false });
    client.page('Home');
    history.pushState(null, '', '/assets/a-1');
    client.page('Asset');
    client.page('Asset'); // the same URL again: the referrer stays
    history.pushState(null, '', '/checkout');
    client.page('Checkout');
    await client.flush();
    const events = await arrived(client.user().anonymousId);
    expect(events.map((event) => [event.properties.path, event.properties.referrer])).toEqual([
      ['/', document.referrer],
      ['/assets/a-1', `${location.origin}/`],
      ['/assets/a-1', `${location.origin}/`],
      ['/checkout', `${location.origin}/assets/a-1`],
    ]);
  });

  it('keeps the user across reloads and starts a new anonymous id on reset', async () => {
    const first = start({ pageViews: false });
    first.identify('user-42', { plan: 'pro' });
    const anonymousId = first.user().anonymousId;
    await first.close();
    const reloaded = start({ pageViews: false });
    expect(reloaded.user()).toEqual({ anonymousId, userId: 'user-42' });
    reloaded.track('after_reload');
    reloaded.reset();
    expect(reloaded.user().userId).toBeUndefined();
    expect(reloaded.user().anonymousId).not.toBe(anonymousId);
    await reloaded.flush();
    const events = await arrived(anonymousId);
    expect(names(events)).toEqual(['identify', 'after_reload']);
    expect(events.map((event) => event.userId)).toEqual(['user-42', 'user-42']);
  });

  it('optOut() stops collection and is remembered; optIn() resumes it', async () => {
    const client = start({ pageViews: false });
    client.optOut();
    client.track('while_opted_out');
    expect(client.stats().dropped.consent).toBe(1);
    await client.close();
    const reloaded = start({ pageViews: false });
    reloaded.track('still_opted_out');
    expect(reloaded.stats().dropped.consent).toBe(1);
    reloaded.optIn();
    reloaded.track('opted_in');
    await reloaded.flush();
    expect(names(await arrived(reloaded.user().anonymousId))).toEqual(['opted_in']);
  });

  it('honours Global Privacy Control and Do Not Track by default, and says why events were dropped', async () => {
    stubNavigator({ globalPrivacyControl: () => true });
    const gpc = start({ pageViews: false });
    gpc.track('x');
    await gpc.flush();
    expect(gpc.stats().dropped).toEqual({ global_privacy_control: 1 });
    Reflect.deleteProperty(navigator, 'globalPrivacyControl');

    stubNavigator({ doNotTrack: () => '1' });
    const dnt = start({ pageViews: false });
    dnt.track('x');
    await dnt.flush();
    expect(dnt.stats().dropped).toEqual({ do_not_track: 1 });
    const ignoring = start({ pageViews: false, respectDoNotTrack: false });
    ignoring.track('tracked_anyway');
    await ignoring.flush();
    expect(names(await arrived(ignoring.user().anonymousId))).toEqual(['tracked_anyway']);
  });

  it('waits while offline and delivers once the browser is back online', async () => {
    let online = false;
    stubNavigator({ onLine: () => online });
    const client = start({ pageViews: false });
    client.track('made_offline');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.stats()).toMatchObject({ sent: 0, retried: 0 });
    expect(await arrived(client.user().anonymousId)).toEqual([]);
    online = true;
    window.dispatchEvent(new Event('online'));
    await client.flush();
    expect(names(await arrived(client.user().anonymousId))).toEqual(['made_offline']);
  });

  it('keeps undelivered events in localStorage and delivers them exactly once after a reload', async () => {
    const queues = () =>
      Object.keys(localStorage).filter((key) => key.startsWith(`sightline.queue.${WRITE_KEY}.`));
    // A collector that cannot be reached: the port of a closed server.
    const down = start({ pageViews: false, host: 'http://127.0.0.1:9' });
    down.track('queued_1');
    down.track('queued_2');
    const anonymousId = down.user().anonymousId;
    expect(queues()).toHaveLength(1);
    expect(localStorage.getItem(queues()[0]!)).toContain('queued_2');
    // The page goes away: keepalive fetch fails, so the queue goes out by sendBeacon, whose
    // answer nobody sees: the events stay stored. (happy-dom's own sendBeacon leaks a rejection
    // for an unreachable host, so a recording one stands in: real browsers never reject.)
    const beacons: Array<{ url: string; body: Blob }> = [];
    stubNavigator({
      sendBeacon: () => (url: string, body: Blob) => beacons.push({ url, body }) > 0,
    });
    window.dispatchEvent(new Event('pagehide'));
    await vi.waitFor(() => expect(beacons).toHaveLength(1));
    expect(beacons[0]?.url).toBe('http://127.0.0.1:9/v1/batch');
    expect(beacons[0]?.body.type).toBe('text/plain');
    expect(JSON.parse(await beacons[0]!.body.text())).toMatchObject({ writeKey: WRITE_KEY });
    expect(localStorage.getItem(queues()[0]!)).toContain('queued_2');
    // close() stands in for the page's end: it stops the old client's timers, as unloading would.
    Reflect.deleteProperty(navigator, 'sendBeacon');
    clients = clients.filter((client) => client !== down);
    await down.close({ timeoutMs: 0 });
    expect(queues()).toHaveLength(1);

    const reloaded = start({ pageViews: false });
    await reloaded.flush();
    expect(names(await arrived(anonymousId))).toEqual(['queued_1', 'queued_2']);
    // Delivered: the adopted queue is gone and this tab's own queue is empty.
    await vi.waitFor(() => expect(queues().map((key) => localStorage.getItem(key))).toEqual([]));
  });

  it('sends with fetch keepalive as text/plain, write key in the body, once the page is hidden', async () => {
    const requests: RequestInit[] = [];
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(init ?? {});
      return realFetch(input, init);
    });
    const client = start({ pageViews: false, flushAt: 100 });
    client.track('clicked_then_left');
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.waitFor(() => expect(requests.length).toBeGreaterThan(0));
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    expect(requests[0]).toMatchObject({
      keepalive: true,
      headers: { 'content-type': 'text/plain' },
    });
    expect(JSON.parse(String(requests[0]?.body))).toMatchObject({ writeKey: WRITE_KEY });
    await client.flush();
    expect(names(await arrived(client.user().anonymousId))).toEqual(['clicked_then_left']);
  });

  it('starts a new session after inactivity and tracks session_start and session_end when asked', async () => {
    const client = start({ pageViews: false, sessionTimeoutMs: 200, sessionEvents: true });
    client.track('first');
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.track('second');
    await client.flush();
    const events = await arrived(client.user().anonymousId);
    expect(names(events)).toEqual([
      'session_start',
      'first',
      'session_end',
      'session_start',
      'second',
    ]);
    const [start1, first, end1, start2, second] = events;
    expect(first?.sessionId).toBe(start1?.sessionId);
    expect(end1?.sessionId).toBe(start1?.sessionId);
    expect(second?.sessionId).toBe(start2?.sessionId);
    expect(second?.sessionId).not.toBe(first?.sessionId);
  });

  it('redacts PII in page URLs and referrers before anything leaves the page', async () => {
    history.replaceState(null, '', '/reset?email=jane%40example.com&step=2');
    const client = start();
    history.pushState(null, '', '/next');
    await client.flush();
    const events = await arrived(client.user().anonymousId);
    expect(names(events)).toEqual(['page', 'page']);
    const text = JSON.stringify(events);
    expect(text).not.toContain('jane');
    expect(text).toContain('step=2');
    expect(events[1]?.properties.referrer).not.toContain('jane');
  });

  it('goes on in memory when localStorage refuses writes, reports it, and throws nothing', async () => {
    const errors: string[] = [];
    // A localStorage that is full for the queue (the SDK's other keys still fit).
    const setItem = localStorage.setItem.bind(localStorage);
    const full = vi.spyOn(localStorage, 'setItem').mockImplementation((key, value) => {
      if (key.startsWith('sightline.queue.')) throw new DOMException('full', 'QuotaExceededError');
      setItem(key, value);
    });
    try {
      const client = start({ pageViews: false, onError: (error) => errors.push(error.message) });
      expect(() => client.track('despite_full_storage')).not.toThrow();
      await client.flush();
      expect(names(await arrived(client.user().anonymousId))).toEqual(['despite_full_storage']);
      expect(errors.some((message) => message.includes('full'))).toBe(true);
    } finally {
      full.mockRestore();
    }
  });

  it('reads the stored opt-out and ids from a localStorage that is full at load', async () => {
    const earlier = start({ pageViews: false });
    earlier.optOut();
    const { anonymousId } = earlier.user();
    await earlier.close({ timeoutMs: 1_000 });
    const full = vi.spyOn(localStorage, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    try {
      const drops: string[] = [];
      const client = start({ onDrop: ({ reason }) => drops.push(reason) });
      expect(() => client.track('after_opt_out')).not.toThrow();
      await client.flush();
      expect(client.user().anonymousId).toBe(anonymousId);
      expect(client.consent.get('analytics')).toBe('denied');
      expect(drops).toEqual(['consent', 'consent']);
      expect(await arrived(anonymousId)).toEqual([]);
    } finally {
      full.mockRestore();
    }
  });

  it('refuses a bad sessionTimeoutMs, and leaves nothing running after any refused option', () => {
    const tabKeys = () =>
      Object.keys(localStorage).filter((key) => key.startsWith('sightline.tab.'));
    for (const sessionTimeoutMs of [-1, 0, Number.NaN, 1.5]) {
      expect(() => start({ sessionTimeoutMs })).toThrow(/sessionTimeoutMs.*whole number/);
    }
    // Refused by core, after the browser's own parts were made: their heartbeat is gone again.
    expect(() => start({ flushAt: 0 })).toThrow(/flushAt/);
    expect(tabKeys()).toEqual([]);
    vi.useFakeTimers();
    try {
      expect(() => start({ flushAt: 0 })).toThrow(/flushAt/);
      vi.advanceTimersByTime(10_000);
      expect(tabKeys()).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
    const client = start({ pageViews: false });
    expect(tabKeys()).toHaveLength(1);
    expect(client.user().anonymousId).toBeDefined();
  });

  it("gives up a closed tab's queue the collector refuses for good, instead of resending it every heartbeat", async () => {
    const writeKey = 'wk_unknown_to_the_collector';
    const orphanKey = `sightline.queue.${writeKey}.closed-tab`;
    const posts: string[] = [];
    const realFetch = globalThis.fetch;
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      posts.push(String(init?.body));
      return realFetch(input, init);
    });
    const drops: Array<{ reason: string; messageIds: string[] }> = [];
    start({ writeKey, pageViews: false, onDrop: (report) => drops.push(report) });
    // A tab that closed after this one loaded: its queue is found by the heartbeat's sweep.
    const orphan = { type: 'track', event: 'orphaned', messageId: 'orphan-1', anonymousId: 'a-1' };
    localStorage.setItem(
      orphanKey,
      JSON.stringify([{ ...orphan, timestamp: new Date().toISOString() }]),
    );
    await vi.waitFor(
      () =>
        expect(drops).toContainEqual(
          expect.objectContaining({ reason: 'http_401', messageIds: ['orphan-1'] }),
        ),
      { timeout: 5_000 },
    );
    expect(localStorage.getItem(orphanKey)).toBeNull();
    const sent = posts.filter((body) => body.includes('orphan-1')).length;
    expect(sent).toBe(1);
    // The next heartbeat (every 2 s) has nothing left to send.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(posts.filter((body) => body.includes('orphan-1'))).toHaveLength(sent);
  });

  it('refuses a host that is not a URL at once, naming the option', () => {
    expect(() =>
      createBrowserAnalytics({ writeKey: WRITE_KEY, host: 'collector.example' }),
    ).toThrow(/host/);
  });

  it('logs events instead of sending them in sandbox mode, and needs no host there', async () => {
    const logged: unknown[] = [];
    const logger = {
      debug() {},
      info: (_: string, data?: unknown) => logged.push(data),
      warn() {},
      error() {},
    };
    const sandboxed = start({ host: undefined, sandbox: true, logger, pageViews: false });
    sandboxed.track('sandboxed_event', { plan: 'pro' });
    await sandboxed.flush();
    expect(logged).toEqual([
      expect.objectContaining({
        event: 'sandboxed_event',
        properties: { plan: 'pro' },
        context: expect.objectContaining({
          library: expect.objectContaining({ name: '@sightline/browser' }),
        }),
      }),
    ]);
    expect(sandboxed.stats()).toMatchObject({ sent: 1, queued: 0 });
    // The same page without sandbox: its event is stored, the sandboxed one is not.
    const sent = start({ pageViews: false });
    sent.track('not_sandboxed');
    await sent.flush();
    expect(names(await arrived(sent.user().anonymousId))).toEqual(['not_sandboxed']);
    // @ts-expect-error: outside sandbox mode a host is required, by the types and at run time
    expect(() => createBrowserAnalytics({ writeKey: WRITE_KEY })).toThrow(/host/);
  });

  it('hashes PII with sha256Hex from @sightline/browser/hash, and names pii.hash when it is missing', async () => {
    const pii = { detectors: { email: 'hash' }, hashSalt: 'salt-1' } as const;
    expect(() =>
      createBrowserAnalytics({ writeKey: WRITE_KEY, host: collectorUrl(), pii }),
    ).toThrow(/pii\.hash.*@sightline\/browser\/hash/);
    const client = start({ pageViews: false, pii: { ...pii, hash: sha256Hex } });
    client.track('hashed', { note: 'write to ada@example.com' });
    await client.flush();
    const [event] = await arrived(client.user().anonymousId);
    expect(event?.properties.note).toBe(`write to ${sha256Hex('salt-1ada@example.com')}`);
  });
});
