import {
  type AnalyticsEvent,
  ConfigurationError,
  type ConsentCategory,
  type Destination,
  type Properties,
  SightlineError,
} from '@sightline/core';
import type { Callback, Config, Group, Mixpanel } from 'mixpanel-browser';

/** Options of {@link mixpanelDestination}. */
export interface MixpanelDestinationOptions {
  /** The Mixpanel project token. */
  token: string;
  /** Where the SDK sends requests, e.g. `https://api-eu.mixpanel.com` or your proxy. */
  apiHost?: string;
  /** Consent category the destination needs; default `analytics`. */
  category?: ConsentCategory;
  /** More `init` config for the SDK, applied over ours (e.g. `batch_requests: true`). */
  config?: Partial<Config>;
}

const DEFAULT_CONFIG: Partial<Config> = {
  // Sightline forwards its own page views and clicks; Mixpanel must not add its own.
  autocapture: false,
  track_pageview: false,
  // One request per call, so flush() can wait for Mixpanel's answer: the batch queue has no public
  // flush. Ids come with every event, so no cookie is needed either.
  batch_requests: false,
  disable_persistence: true,
  save_referrer: false,
  store_google: false,
  skip_first_touch_marketing: true,
};

/** Segment's reserved traits under the names Mixpanel shows on a profile. */
const PROFILE_TRAITS: Record<string, string> = {
  email: '$email',
  name: '$name',
  firstName: '$first_name',
  lastName: '$last_name',
  phone: '$phone',
  avatar: '$avatar',
  createdAt: '$created',
};

let instances = 0;

/**
 * Forwards Sightline's final events to Mixpanel through the official `mixpanel-browser` SDK,
 * loaded on the first event so apps that never send one never load it. `messageId` travels as
 * `$insert_id`, so Mixpanel drops the copies a retry creates. Each event's ids are mirrored into
 * Mixpanel's identity model first: `anonymousId` is the `$device_id`, `identify` links it to the
 * user id, and an event without `userId` after one with it resets the instance (a logout).
 *
 * @example
 * import { mixpanelDestination } from '@sightline/browser/mixpanel';
 * createAnalytics({ writeKey, host, destinations: [mixpanelDestination({ token: 'MIXPANEL_TOKEN' })] });
 */
export function mixpanelDestination(options: MixpanelDestinationOptions): Destination {
  if (typeof options?.token !== 'string' || options.token === '') {
    throw new ConfigurationError('token', 'pass your Mixpanel project token');
  }
  const answers = new Set<Promise<void>>();
  let loading: Promise<Mixpanel> | undefined;

  // Every send awaits the same promise, so events sent while the SDK loads keep their order.
  const load = () =>
    (loading ??= import('mixpanel-browser').then(
      ({ default: mixpanel }) =>
        // A named instance of our own leaves the app's own `mixpanel` untouched.
        mixpanel.init(
          options.token,
          { ...DEFAULT_CONFIG, api_host: options.apiHost, ...options.config },
          `sightline${++instances}`,
        ),
      (cause: unknown) => {
        loading = undefined;
        throw new SightlineError(
          'missing_dependency',
          'mixpanelDestination needs `mixpanel-browser`: install it next to @sightline/browser',
          { cause },
        );
      },
    ));

  /** Starts a request and remembers it until Mixpanel answers it. */
  const request = (send: (answered: Callback) => unknown) => {
    let answered: () => void = () => undefined;
    const answer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    answers.add(answer);
    void answer.then(() => answers.delete(answer));
    // Without a request (e.g. a before_track hook dropped the event) no callback ever comes.
    if (!send(answered)) answered();
  };

  return {
    name: 'mixpanel',
    category: options.category ?? 'analytics',
    async send(event) {
      forward(await load(), event, request);
    },
    async flush() {
      while (answers.size > 0) await Promise.all(answers);
    },
  };
}

function forward(
  mixpanel: Mixpanel,
  event: AnalyticsEvent,
  request: (send: (answered: Callback) => unknown) => void,
): void {
  syncIdentity(mixpanel, event);
  const page = event.context.page ?? {};
  const track = (name: string, properties: Properties) =>
    request((answered) =>
      mixpanel.track(
        name,
        {
          $current_url: page.url,
          ...properties,
          $insert_id: event.messageId,
          // Mixpanel reads `time` in seconds; the fraction keeps the milliseconds.
          time: Date.parse(event.timestamp) / 1000,
        },
        answered,
      ),
    );

  switch (event.type) {
    case 'track':
      track(event.event, event.properties);
      break;
    case 'page':
    case 'screen':
      // `$mp_web_page_view` is what Mixpanel's own track_pageview() sends, with these properties.
      track(event.type === 'page' ? '$mp_web_page_view' : '[Sightline] Screen Viewed', {
        current_page_title: page.title,
        current_url_path: page.path,
        current_url_search: page.search,
        $referrer: page.referrer,
        ...event.properties,
        name: event.name,
        category: event.category,
      });
      break;
    case 'identify': {
      const traits = Object.fromEntries(
        Object.entries(event.traits).map(([key, value]) => [PROFILE_TRAITS[key] ?? key, value]),
      );
      // Before identify, Mixpanel holds profile updates and sends them once a user id is known.
      request((answered) => mixpanel.people.set(traits, answered));
      break;
    }
    case 'group': {
      const { type, ...traits } = event.traits;
      const key = typeof type === 'string' ? type : 'company';
      request((answered) => mixpanel.set_group(key, event.groupId, answered));
      if (Object.keys(traits).length > 0) {
        // Group#set takes the callback second when given an object; its types only allow a string.
        const group = mixpanel.get_group(key, event.groupId) as unknown as {
          set(traits: Properties, answered: Callback): Group;
        };
        request((answered) => group.set(traits, answered));
      }
      break;
    }
    case 'alias':
      // $create_alias links the ids under Mixpanel's original ID merge; simplified ID merge does
      // not use it, so there it is harmless.
      if (event.userId && event.userId !== event.previousId) {
        mixpanel.alias(event.userId, event.previousId);
      }
      break;
  }
}

/** Mirrors the event's ids into the instance, so Mixpanel's own requests carry them too. */
function syncIdentity(mixpanel: Mixpanel, { userId, anonymousId }: AnalyticsEvent): void {
  if (!userId && mixpanel.get_property('$user_id')) mixpanel.reset();
  if (anonymousId && mixpanel.get_property('$device_id') !== anonymousId) {
    mixpanel.register(
      mixpanel.get_property('$user_id')
        ? { $device_id: anonymousId }
        : { $device_id: anonymousId, distinct_id: `$device:${anonymousId}` },
    );
  }
  if (userId && mixpanel.get_distinct_id() !== userId) mixpanel.identify(userId);
}
