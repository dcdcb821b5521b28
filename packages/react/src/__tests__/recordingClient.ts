import {
  type BrowserAnalytics,
  type BrowserAnalyticsOptions,
  createBrowserAnalytics,
} from '@sightline/browser';
import type { AnalyticsEvent, EventCatalog, Properties, SightlineError } from '@sightline/core';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

/** A final event; `properties` read loosely, as tests compare them with `toEqual`. */
export type RecordedEvent = AnalyticsEvent & { properties?: Properties };

/** What a test client produced: its final events and the errors it reported. */
export interface Recording<Catalog extends EventCatalog | undefined = undefined> {
  client: BrowserAnalytics<Catalog>;
  /** Every event as it leaves the pipeline (after consent, the PII filter and plugins). */
  events: RecordedEvent[];
  errors: SightlineError[];
}

const clients: BrowserAnalytics[] = [];

afterEach(async () => {
  cleanup();
  // Closing removes the client's listeners and its history patch before the next test.
  for (const client of clients.splice(0)) await client.close({ timeoutMs: 0 });
  history.replaceState(null, '', '/');
});

/**
 * A real browser client whose last pipeline step records each final event, then stops it there:
 * the tests read what the bindings made the SDK produce, and nothing goes over the network.
 * Page views of the SDK itself are off unless a test turns them on.
 *
 * @example
 * const { client, events } = recordingClient();
 * render(<AnalyticsProvider client={client}><App /></AnalyticsProvider>);
 */
export function recordingClient<Catalog extends EventCatalog | undefined = undefined>(
  options: Partial<BrowserAnalyticsOptions<Catalog>> = {},
): Recording<Catalog> {
  const events: RecordedEvent[] = [];
  const errors: SightlineError[] = [];
  const client = createBrowserAnalytics<Catalog>({
    writeKey: 'wk_react_test_0001',
    host: 'http://127.0.0.1:9',
    persistence: 'memory',
    pageViews: false,
    autoTrack: false,
    onError: (error) => errors.push(error),
    ...options,
    plugins: [
      (event, context) => {
        events.push(event);
        return context.drop('recorded_by_test');
      },
    ],
  });
  clients.push(client as unknown as BrowserAnalytics);
  return { client, events, errors };
}

/** `track` names and `page` paths, in order: `['page /', 'track cta_clicked']`. */
export function summary(events: readonly RecordedEvent[]): string[] {
  return events.map((event) =>
    event.type === 'track'
      ? `track ${event.event}`
      : event.type === 'page'
        ? `page ${event.properties.path}`
        : event.type,
  );
}
