import { type AnalyticsEvent, ConfigurationError, utf8ByteLength } from '@sightline/core';
import type { BatchLimits, DeliveryAnswer, QueuedItem } from './batcher';
import {
  createForwardingDestination,
  type ForwardingDestination,
  type Mapping,
} from './forwardingDestination';
import { type ForwardingOptions, resolveForwardingOptions } from './forwardingOptions';
import { type PostAnswer, parseJsonBody, postJson } from './postJson';

/**
 * Options of {@link amplitudeDestination}.
 *
 * @example
 * const options: AmplitudeDestinationOptions = { apiKey: 'AMPLITUDE_KEY', endpoint: 'eu', minIdLength: 1 };
 */
export interface AmplitudeDestinationOptions extends ForwardingOptions {
  /** The Amplitude project's API key (sent in the body as `api_key`, as the API requires). */
  apiKey: string;
  /**
   * `'us'` (default: `https://api2.amplitude.com/2/httpapi`), `'eu'` for EU data residency
   * (`https://api.eu.amplitude.com/2/httpapi`), or the full URL of a proxy speaking HTTP V2.
   */
  endpoint?: 'us' | 'eu' | (string & {});
  /**
   * Shortest `user_id`/`device_id` Amplitude accepts; it refuses shorter ids (default 5 there).
   * Sent as `options.min_id_length` when set.
   */
  minIdLength?: number;
}

const ENDPOINTS = {
  us: 'https://api2.amplitude.com/2/httpapi',
  eu: 'https://api.eu.amplitude.com/2/httpapi',
};

/**
 * HTTP V2 limits: up to 2,000 events and under 1 MB per request (a 413 beyond either).
 * https://amplitude.com/docs/apis/analytics/http-v2#upload-limit
 */
const LIMITS = { maxItems: 2000, maxBytes: 1_000_000 };

/**
 * Amplitude asks throttled senders (429) to pause about 30 s before retrying when it gives no
 * `Retry-After`: https://community.amplitude.com/data-instrumentation-57/common-api-error-codes-215
 */
const THROTTLED_RETRY_MS = 30_000;

/** Library events are bracketed like Amplitude's own `[Amplitude] Page Viewed`. */
const VIEW_EVENTS = { page: '[Sightline] Page Viewed', screen: '[Sightline] Screen Viewed' };

/**
 * Forwards events server-side to Amplitude's HTTP V2 API
 * (https://amplitude.com/docs/apis/analytics/http-v2): `POST /2/httpapi` with
 * `{ api_key, events, options? }`, up to 2,000 events and 1 MB per request, `messageId` as
 * `insert_id` so Amplitude drops the copies a retry creates (it deduplicates for 7 days). 429s
 * wait for `Retry-After` (else 30 s), 5xx and network errors back off; when a 400 names the
 * invalid events they are dropped (reported) and the rest resent, as Amplitude's batching guide
 * says (https://amplitude.com/docs/apis/analytics/http-api-batching-retries).
 *
 * Every event carries `user_id` (userId), `device_id` (anonymousId), `time` (ms), `insert_id`,
 * `session_id` (when `context.sessionId` is a number: Amplitude's are start times in ms) and
 * `ip` (from `context.ip`: Amplitude locates users by it, and without it has no location).
 * - track → `event_type` = event name, `event_properties` = properties
 * - page / screen → `[Sightline] Page Viewed` / `[Sightline] Screen Viewed` with the page context,
 *   properties, `name` and `category` as `event_properties`
 * - identify → `$identify` with `user_properties: { $set: traits }` (what Amplitude's SDKs send)
 * - group → `$identify` with `groups: { [type]: groupId }` and the same `$set` (Amplitude's
 *   `setGroup`); with more traits, also `$groupidentify` with `group_properties: { $set }` and
 *   `insert_id` = `${messageId}-group`. The group type is `traits.type`, default `company`.
 * - alias → skipped: HTTP V2 has no alias; Amplitude links a device's events to the user id
 *   that identify and later events carry.
 *
 * @example
 * import { amplitudeDestination } from '@sightline/node/destinations';
 * const analytics = createNodeAnalytics({
 *   writeKey, host,
 *   destinations: [amplitudeDestination({ apiKey: process.env.AMPLITUDE_API_KEY!, endpoint: 'eu' })],
 * });
 */
export function amplitudeDestination(options: AmplitudeDestinationOptions): ForwardingDestination {
  if (typeof options?.apiKey !== 'string' || options.apiKey === '') {
    throw new ConfigurationError('apiKey', 'pass your Amplitude project API key');
  }
  const endpoint = options.endpoint ?? 'us';
  const url =
    endpoint === 'us' || endpoint === 'eu' ? ENDPOINTS[endpoint as 'us' | 'eu'] : endpoint;
  if (!/^https?:\/\//.test(url)) {
    throw new ConfigurationError(
      'endpoint',
      "use 'us', 'eu' or a full URL such as https://…/2/httpapi",
    );
  }
  const { minIdLength } = options;
  if (minIdLength !== undefined && !(Number.isInteger(minIdLength) && minIdLength >= 1)) {
    throw new ConfigurationError('minIdLength', 'use a whole number ≥ 1');
  }
  const settings = resolveForwardingOptions(options);

  // The envelope is written around the already-serialized events, so each is stringified once.
  const head = `{"api_key":${JSON.stringify(options.apiKey)},"events":[`;
  const tail = minIdLength === undefined ? ']}' : `],"options":{"min_id_length":${minIdLength}}}`;
  const limits: BatchLimits = {
    ...LIMITS,
    maxItemBytes: LIMITS.maxBytes,
    envelopeBytes: utf8ByteLength(head + tail),
  };

  async function send(items: readonly QueuedItem[]): Promise<DeliveryAnswer> {
    const body = `${head}${items.map((item) => item.json).join(',')}${tail}`;
    const answer = await postJson(url, body, {
      timeoutMs: settings.requestTimeoutMs,
      fetch: settings.fetch,
    });
    return understand(answer);
  }

  return createForwardingDestination({
    name: 'amplitude',
    settings,
    endpoints: { events: { limits, send } },
    map: toAmplitude,
  });
}

/** Amplitude's answer in the batcher's terms. */
function understand(answer: PostAnswer): DeliveryAnswer {
  const body = parseJsonBody(answer.text) as Record<string, unknown> | undefined;
  const detail = typeof body?.error === 'string' ? body.error : answer.text.slice(0, 300);
  if (answer.status === 429) {
    return { status: 429, retryAfterMs: answer.retryAfterMs ?? THROTTLED_RETRY_MS, detail };
  }
  if (answer.status === 400 && body) {
    const indexes = invalidEventIndexes(body);
    if (indexes.length > 0) {
      return { status: 400, detail, refused: { indexes, others: 'resend' } };
    }
  }
  return { status: answer.status, retryAfterMs: answer.retryAfterMs, detail };
}

/**
 * Positions of the events a 400 names: `events_with_invalid_fields`, `events_with_missing_fields`
 * and `events_with_invalid_id_lengths` map a field to positions; `silenced_events` lists them.
 */
function invalidEventIndexes(body: Record<string, unknown>): number[] {
  const found = new Set<number>();
  const add = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const index of list) if (Number.isInteger(index)) found.add(index as number);
  };
  for (const key of [
    'events_with_invalid_fields',
    'events_with_missing_fields',
    'events_with_invalid_id_lengths',
  ]) {
    const byField = body[key];
    if (byField && typeof byField === 'object') Object.values(byField).forEach(add);
  }
  add(body.silenced_events);
  return [...found];
}

function toAmplitude(event: AnalyticsEvent): Mapping<'events'> {
  if (!event.userId && !event.anonymousId) {
    return { refuse: 'Amplitude needs a user_id or device_id: pass userId or anonymousId' };
  }
  const { sessionId, ip, page } = event.context;
  const base = {
    user_id: event.userId,
    device_id: event.anonymousId,
    time: Date.parse(event.timestamp),
    insert_id: event.messageId,
    session_id: typeof sessionId === 'number' ? sessionId : undefined,
    ip,
  };
  const one = (payload: object): Mapping<'events'> => ({ send: [{ queue: 'events', payload }] });

  switch (event.type) {
    case 'track':
      return one({ ...base, event_type: event.event, event_properties: event.properties });
    case 'page':
    case 'screen':
      return one({
        ...base,
        event_type: VIEW_EVENTS[event.type],
        event_properties: {
          ...page,
          ...event.properties,
          name: event.name,
          category: event.category,
        },
      });
    case 'identify':
      return one({ ...base, event_type: '$identify', user_properties: { $set: event.traits } });
    case 'group': {
      const { type, ...traits } = event.traits;
      const groups = { [typeof type === 'string' ? type : 'company']: event.groupId };
      const membership = {
        ...base,
        event_type: '$identify',
        groups,
        user_properties: { $set: groups },
      };
      if (Object.keys(traits).length === 0) return one(membership);
      return {
        send: [
          { queue: 'events', payload: membership },
          {
            queue: 'events',
            payload: {
              ...base,
              // A second event needs its own insert_id; derived, so a retry still deduplicates.
              insert_id: `${event.messageId}-group`,
              event_type: '$groupidentify',
              groups,
              group_properties: { $set: traits },
            },
          },
        ],
      };
    }
    case 'alias':
      return { skip: 'alias_unsupported' };
  }
}
