import type { BrowserAnalytics, BrowserAnalyticsOptions } from '@sightline/browser';
import { enableAutoUnmount } from '@vue/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type StoredEvent, startCollector, type TestCollector, WRITE_KEY } from './collector';

export type { StoredEvent };

/**
 * Per test file: our real collector in its own process, an empty localStorage per test (so a
 * fresh anonymous id tells each test's events apart), components unmounted and clients closed
 * after each test.
 *
 * @example
 * const collector = useCollector();
 * const plugin = createSightline(collector.options());
 * const events = await collector.arrived(plugin.client);
 */
export function useCollector() {
  let collector: TestCollector;
  const clients: BrowserAnalytics[] = [];
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(() => collector.stop());
  beforeEach(() => {
    localStorage.clear();
    document.body.innerHTML = '';
    history.replaceState(null, '', '/');
  });
  enableAutoUnmount(afterEach);
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close({ timeoutMs: 1_000 });
  });
  return {
    /** Browser options sending each event at once to the test collector. */
    options(extra: Partial<BrowserAnalyticsOptions> = {}): BrowserAnalyticsOptions {
      return {
        writeKey: WRITE_KEY,
        host: collector.url,
        flushAt: 1,
        retry: { baseDelayMs: 20, maxDelayMs: 100 },
        ...extra,
      };
    },
    /** Closes `client` after the test. */
    own<Client extends BrowserAnalytics>(client: Client): Client {
      clients.push(client as BrowserAnalytics);
      return client;
    },
    /** Everything `client` tracked so far, as stored by the collector, oldest first. */
    async arrived(client: BrowserAnalytics): Promise<StoredEvent[]> {
      await client.flush();
      return collector.events(client.user().anonymousId);
    },
  };
}

/** Track events as `{ event, properties }`, in order. */
export const tracks = (events: StoredEvent[]) =>
  events
    .filter((event) => event.type === 'track')
    .map(({ event, properties }) => ({ event, properties }));

/** Page events as `{ name, route, path }`, in order (the collector stores a page's name as `event`). */
export const pages = (events: StoredEvent[]) =>
  events
    .filter((event) => event.type === 'page')
    .map(({ event, properties }) => ({
      name: event,
      route: properties.route,
      path: properties.path,
    }));
