import { type AnalyticsEvent, ConfigurationError, type Properties } from '@sightline/core';
import type { BatchLimits, DeliveryAnswer, QueuedItem } from './batcher';
import {
  createForwardingDestination,
  type ForwardingDestination,
  type Mapping,
} from './forwardingDestination';
import { type ForwardingOptions, resolveForwardingOptions } from './forwardingOptions';
import { type PostAnswer, parseJsonBody, postJson } from './postJson';

/**
 * A Mixpanel service account, the authentication Mixpanel recommends for `/import`.
 *
 * @example
 * const serviceAccount: MixpanelServiceAccount = { username: 'sa.user', secret: 'SA_SECRET', projectId: 12345 };
 */
export interface MixpanelServiceAccount {
  username: string;
  secret: string;
  /** The project the account imports into (sent as `project_id`, which Mixpanel requires). */
  projectId: string | number;
}

/**
 * Options of {@link mixpanelDestination}. Pass `serviceAccount` or `apiSecret`.
 *
 * @example
 * const options: MixpanelDestinationOptions = { projectToken: 'TOKEN', apiSecret: 'SECRET', region: 'in' };
 */
export interface MixpanelDestinationOptions extends ForwardingOptions {
  /** The project token: identifies the project in profile updates (`$token`). */
  projectToken: string;
  /** Service account credentials for `/import` (recommended). */
  serviceAccount?: MixpanelServiceAccount;
  /** The project's API secret for `/import` (deprecated by Mixpanel in favour of service accounts). */
  apiSecret?: string;
  /** Data residency: `us` (default, api.mixpanel.com), `eu` (api-eu) or `in` (api-in). */
  region?: 'us' | 'eu' | 'in';
}

type Queue = 'events' | 'profiles' | 'groups';

const HOSTS = {
  us: 'https://api.mixpanel.com',
  eu: 'https://api-eu.mixpanel.com',
  in: 'https://api-in.mixpanel.com',
};

/**
 * `/import`: up to 2,000 events and 10 MB uncompressed per request, 1 MB per event; gzip allowed
 * but the limits apply before it. https://docs.mixpanel.com/reference/import-events,
 * https://docs.mixpanel.com/troubleshooting/errors/413-payload-too-large
 */
const IMPORT_LIMITS: BatchLimits = {
  maxItems: 2000,
  maxBytes: 10_000_000,
  maxItemBytes: 1_000_000,
  envelopeBytes: 2,
};

/**
 * `/engage` and `/groups`: up to 2,000 updates per request, 1 MB each
 * (https://docs.mixpanel.com/reference/user-profile-limits). No request cap is documented for
 * them, so the 2 MB Mixpanel long applied to all ingestion requests is kept.
 */
const PROFILE_LIMITS: BatchLimits = {
  maxItems: 2000,
  maxBytes: 2_000_000,
  maxItemBytes: 1_000_000,
  envelopeBytes: 2,
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

/**
 * Forwards events server-side to Mixpanel. Events go to the Import API
 * (https://docs.mixpanel.com/reference/import-events): `POST /import?strict=1` with HTTP Basic
 * auth (service account `username:secret` plus `project_id`, or the API secret as username), a
 * JSON array gzipped when 1 KB or more, up to 2,000 events and 10 MB per request. `messageId`
 * travels as `$insert_id`, so Mixpanel drops the copies a retry creates; `time` is in
 * milliseconds (Mixpanel takes seconds or milliseconds). A 400 names the refused events in
 * `failed_records` while the others are ingested, so only those are dropped (and reported).
 * Profile updates go to the Engage API (https://docs.mixpanel.com/reference/profile-set),
 * `POST /engage?verbose=1`, identified by the project token; it answers 200 even when it refuses
 * an update, so the verbose body's `status` decides.
 *
 * Every event carries `distinct_id` (userId, else anonymousId), `$device_id` (anonymousId) and
 * `$user_id` (userId): with Simplified ID Merge, an event carrying both links the anonymous
 * history to the user (https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-simplified).
 * `ip` comes from `context.ip` and `$current_url` from the page context.
 * - track → an event named after it, with its properties
 * - page → `$mp_web_page_view` (what Mixpanel's own page tracking sends) with the page context;
 *   screen → `[Sightline] Screen Viewed`
 * - identify → an Engage `$set` of the traits (`email` → `$email`, `name` → `$name`, …) with
 *   `$ip` from `context.ip`, else `"0"` so the profile is not placed at your server
 * - group → an Engage `$union` adding the group id to the user's `[type]` list (what
 *   `set_group` does) and, with more traits, a Groups API `$set`
 *   (https://docs.mixpanel.com/reference/group-batch-update); type default `company`
 * - alias → skipped: Simplified ID Merge (the default for new projects) has no alias; the
 *   `$device_id` + `$user_id` pair links identities instead.
 *
 * @example
 * import { mixpanelDestination } from '@sightline/node/destinations';
 * const mixpanel = mixpanelDestination({
 *   projectToken: process.env.MIXPANEL_TOKEN!,
 *   serviceAccount: { username: 'sa.user', secret: process.env.MIXPANEL_SA_SECRET!, projectId: 12345 },
 *   region: 'eu',
 * });
 */
export function mixpanelDestination(options: MixpanelDestinationOptions): ForwardingDestination {
  if (typeof options?.projectToken !== 'string' || options.projectToken === '') {
    throw new ConfigurationError('projectToken', 'pass your Mixpanel project token');
  }
  const account = options.serviceAccount;
  if ((account === undefined) === (options.apiSecret === undefined)) {
    throw new ConfigurationError(
      'serviceAccount',
      'pass either serviceAccount ({ username, secret, projectId }) or apiSecret, not both',
    );
  }
  if (account && !(account.username && account.secret && account.projectId !== undefined)) {
    throw new ConfigurationError('serviceAccount', 'give username, secret and projectId');
  }
  if (options.apiSecret === '') throw new ConfigurationError('apiSecret', 'pass the API secret');
  const region = options.region ?? 'us';
  const host = HOSTS[region];
  if (!host) throw new ConfigurationError('region', "use 'us', 'eu' or 'in'");
  const settings = resolveForwardingOptions(options);

  const credentials = account ? `${account.username}:${account.secret}` : `${options.apiSecret}:`;
  const importUrl = account
    ? `${host}/import?strict=1&project_id=${encodeURIComponent(String(account.projectId))}`
    : `${host}/import?strict=1`;
  const post = (url: string, items: readonly QueuedItem[], extra: object) =>
    postJson(url, `[${items.map((item) => item.json).join(',')}]`, {
      timeoutMs: settings.requestTimeoutMs,
      fetch: settings.fetch,
      ...extra,
    });

  return createForwardingDestination<Queue>({
    name: 'mixpanel',
    settings,
    endpoints: {
      events: {
        limits: IMPORT_LIMITS,
        send: async (items) =>
          understandImport(
            await post(importUrl, items, {
              headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
              gzip: true,
            }),
          ),
      },
      // Engage and Groups do not accept gzip, and authenticate by the token in each update.
      profiles: {
        limits: PROFILE_LIMITS,
        send: async (items) => understandUpdate(await post(`${host}/engage?verbose=1`, items, {})),
      },
      groups: {
        limits: PROFILE_LIMITS,
        send: async (items) => understandUpdate(await post(`${host}/groups?verbose=1`, items, {})),
      },
    },
    map: (event) => toMixpanel(event, options.projectToken),
  });
}

/** `/import`: a 400 lists the refused events in `failed_records`; the rest were ingested. */
function understandImport(answer: PostAnswer): DeliveryAnswer {
  const body = parseJsonBody(answer.text) as
    | { error?: unknown; failed_records?: Array<{ index?: unknown; message?: unknown }> }
    | undefined;
  const detail = typeof body?.error === 'string' ? body.error : answer.text.slice(0, 300);
  const failed = Array.isArray(body?.failed_records) ? body.failed_records : [];
  if (answer.status === 400 && failed.length > 0) {
    const reasons = failed.slice(0, 3).map((record) => String(record.message ?? 'invalid'));
    return {
      status: 400,
      detail: `${detail} (${reasons.join('; ')})`,
      refused: {
        indexes: failed.map((record) => record.index).filter(Number.isInteger) as number[],
        others: 'delivered',
      },
    };
  }
  return { status: answer.status, retryAfterMs: answer.retryAfterMs, detail };
}

/** `/engage` and `/groups` answer 200 either way; with `verbose=1` the body says `status: 0|1`. */
function understandUpdate(answer: PostAnswer): DeliveryAnswer {
  const parsed = parseJsonBody(answer.text);
  const body = typeof parsed === 'object' ? (parsed as { status?: unknown; error?: unknown }) : {};
  const detail = typeof body?.error === 'string' ? body.error : answer.text.slice(0, 300);
  // Without verbose the body is a bare `0` or `1`.
  if (answer.status === 200 && (parsed === 0 || body?.status === 0)) {
    return { status: 200, verdict: 'reject', detail };
  }
  return { status: answer.status, retryAfterMs: answer.retryAfterMs, detail };
}

function toMixpanel(event: AnalyticsEvent, token: string): Mapping<Queue> {
  const distinctId = event.userId ?? event.anonymousId;
  const { ip, page } = event.context;
  const track = (name: string, properties: Properties): Mapping<Queue> => ({
    send: [
      {
        queue: 'events',
        payload: {
          event: name,
          properties: {
            $current_url: page?.url,
            ip,
            ...properties,
            // After the app's properties, so none of them can replace the ids or the time.
            time: Date.parse(event.timestamp),
            // Mixpanel's documented value for an event tied to no user.
            distinct_id: distinctId ?? '',
            $device_id: event.anonymousId,
            $user_id: event.userId,
            $insert_id: event.messageId,
          },
        },
      },
    ],
  });

  switch (event.type) {
    case 'track':
      return track(event.event, event.properties);
    case 'page':
    case 'screen':
      return track(event.type === 'page' ? '$mp_web_page_view' : '[Sightline] Screen Viewed', {
        current_page_title: page?.title,
        current_url_path: page?.path,
        current_url_search: page?.search,
        $referrer: page?.referrer,
        ...event.properties,
        name: event.name,
        category: event.category,
      });
    case 'identify':
    case 'group': {
      if (distinctId === undefined) {
        return { refuse: 'a Mixpanel profile update needs a userId or anonymousId' };
      }
      const profile = { $token: token, $distinct_id: distinctId, $ip: ip ?? '0' };
      if (event.type === 'identify') {
        return {
          send: [{ queue: 'profiles', payload: { ...profile, $set: profileTraits(event.traits) } }],
        };
      }
      const { type, ...traits } = event.traits;
      const groupKey = typeof type === 'string' ? type : 'company';
      const updates: Array<{ queue: Queue; payload: object }> = [
        { queue: 'profiles', payload: { ...profile, $union: { [groupKey]: [event.groupId] } } },
      ];
      if (Object.keys(traits).length > 0) {
        updates.push({
          queue: 'groups',
          payload: { $token: token, $group_key: groupKey, $group_id: event.groupId, $set: traits },
        });
      }
      return { send: updates };
    }
    case 'alias':
      return { skip: 'alias_unsupported' };
  }
}

function profileTraits(traits: Properties): Properties {
  return Object.fromEntries(
    Object.entries(traits).map(([key, value]) => [PROFILE_TRAITS[key] ?? key, value]),
  );
}
