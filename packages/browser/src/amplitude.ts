import type { Identify, Types } from '@amplitude/analytics-browser';
import {
  type AnalyticsEvent,
  ConfigurationError,
  type ConsentCategory,
  type Destination,
  type Properties,
  SightlineError,
} from '@sightline/core';

/** Options of {@link amplitudeDestination}. */
export interface AmplitudeDestinationOptions {
  /** The Amplitude project's API key. */
  apiKey: string;
  /** Where the SDK posts events, e.g. your proxy; default Amplitude's US HTTP API. */
  serverUrl?: string;
  /** Consent category the destination needs; default `analytics`. */
  category?: ConsentCategory;
  /** More options for the SDK's `init`, applied over ours (e.g. `serverZone: 'EU'`). */
  init?: Types.BrowserOptions;
}

interface Vendor {
  client: Types.BrowserClient;
  Identify: typeof Identify;
}

const DEFAULT_INIT: Types.BrowserOptions = {
  // Its own instance name keeps our client's identity apart from the app's own Amplitude.
  instanceName: 'sightline',
  // Sightline forwards its own page views, sessions and clicks; Amplitude must not add its own,
  // nor let its remote configuration switch them back on.
  autocapture: false,
  remoteConfig: { fetchRemoteConfig: false },
  enableDiagnostics: false,
};

/**
 * Forwards Sightline's final events to Amplitude through the official
 * `@amplitude/analytics-browser` SDK, loaded on the first event so apps that never send one never
 * load it. `messageId` travels as `insert_id`, so Amplitude drops the copies a retry creates.
 * `alias` is skipped: the browser SDK has no alias, and Amplitude already links a device's
 * anonymous events to the user id that identify and later events carry.
 *
 * @example
 * import { amplitudeDestination } from '@sightline/browser/amplitude';
 * createAnalytics({ writeKey, host, destinations: [amplitudeDestination({ apiKey: 'AMPLITUDE_KEY' })] });
 */
export function amplitudeDestination(options: AmplitudeDestinationOptions): Destination {
  if (typeof options?.apiKey !== 'string' || options.apiKey === '') {
    throw new ConfigurationError('apiKey', 'pass your Amplitude project API key');
  }
  let loading: Promise<Vendor> | undefined;

  // Every send awaits the same promise, so events sent while the SDK loads keep their order.
  const load = () =>
    (loading ??= import('@amplitude/analytics-browser').then(
      async ({ createInstance, Identify }) => {
        const client = createInstance();
        const init = { ...DEFAULT_INIT, serverUrl: options.serverUrl, ...options.init };
        await client.init(options.apiKey, init).promise;
        return { client, Identify };
      },
      (cause: unknown) => {
        loading = undefined;
        throw new SightlineError(
          'missing_dependency',
          'amplitudeDestination needs `@amplitude/analytics-browser`: install it next to @sightline/browser',
          { cause },
        );
      },
    ));

  return {
    name: 'amplitude',
    category: options.category ?? 'analytics',
    async send(event) {
      forward(await load(), event);
    },
    async flush() {
      const vendor = await loading?.catch(() => undefined);
      await vendor?.client.flush().promise;
    },
  };
}

function forward({ client, Identify }: Vendor, event: AnalyticsEvent): void {
  const options: Types.EventOptions = {
    insert_id: event.messageId,
    // An event without userId is anonymous (e.g. after a reset), so the SDK's remembered user
    // id must not fill it in.
    user_id: event.userId,
    device_id: event.anonymousId ?? client.getDeviceId(),
    time: Date.parse(event.timestamp),
  };
  // Amplitude session ids are start times in ms; other ids leave the SDK's own session in place.
  if (typeof event.context.sessionId === 'number') options.session_id = event.context.sessionId;
  const toIdentify = (traits: Properties) => {
    const operations = new Identify();
    for (const [key, value] of Object.entries(traits)) {
      operations.set(key, value as Types.ValidPropertyType);
    }
    return operations;
  };

  switch (event.type) {
    case 'track':
      client.track(event.event, event.properties, options);
      break;
    case 'page':
    case 'screen':
      client.track(
        // Bracketed like Amplitude's own `[Amplitude] Page Viewed`: made by a library, not app code.
        event.type === 'page' ? '[Sightline] Page Viewed' : '[Sightline] Screen Viewed',
        { ...event.context.page, ...event.properties, name: event.name, category: event.category },
        options,
      );
      break;
    case 'identify':
      client.identify(toIdentify(event.traits), options);
      break;
    case 'group': {
      const { type, ...traits } = event.traits;
      const groupType = typeof type === 'string' ? type : 'company';
      client.setGroup(groupType, event.groupId, options);
      // A second event needs its own insert_id; derived, so a retry still deduplicates.
      if (Object.keys(traits).length > 0) {
        client.groupIdentify(groupType, event.groupId, toIdentify(traits), {
          ...options,
          insert_id: `${event.messageId}-group`,
        });
      }
      break;
    }
  }
}
