import type {
  AliasEvent,
  GroupEvent,
  IdentifyEvent,
  PageEvent,
  Properties,
  TrackEvent,
} from '@sightline/core';

/** When every sample event happened, and the same in ms since the epoch. */
export const TIMESTAMP = '2026-01-02T03:04:05.678Z';
export const TIME_MS = 1767323045678;

let sequence = 0;
/** A UUID-shaped message id, unique per call (Mixpanel caps `$insert_id` at 36 characters). */
export const nextMessageId = () =>
  `0194a1b2-c3d4-7e5f-8a6b-${String(++sequence).padStart(12, '0')}`;

const identity = { anonymousId: 'anon-0001', userId: 'user-0042' };

/** A final track event as core's router hands it to destinations. */
export const trackEvent = (
  event: string,
  properties: Properties = {},
  fields: Partial<TrackEvent> = {},
): TrackEvent => ({
  type: 'track',
  event,
  properties,
  messageId: nextMessageId(),
  timestamp: TIMESTAMP,
  context: {},
  ...identity,
  ...fields,
});

export const identifyEvent = (
  traits: Properties,
  fields: Partial<IdentifyEvent> = {},
): IdentifyEvent => ({
  type: 'identify',
  traits,
  messageId: nextMessageId(),
  timestamp: TIMESTAMP,
  context: {},
  ...identity,
  ...fields,
});

export const pageEvent = (fields: Partial<PageEvent> = {}): PageEvent => ({
  type: 'page',
  name: 'Pricing',
  category: 'marketing',
  properties: { plan: 'pro' },
  messageId: nextMessageId(),
  timestamp: TIMESTAMP,
  context: {
    page: {
      url: 'https://example.com/pricing?ref=nav',
      path: '/pricing',
      search: '?ref=nav',
      title: 'Pricing',
      referrer: 'https://google.com/',
    },
  },
  ...identity,
  ...fields,
});

export const groupEvent = (
  groupId: string,
  traits: Properties,
  fields: Partial<GroupEvent> = {},
): GroupEvent => ({
  type: 'group',
  groupId,
  traits,
  messageId: nextMessageId(),
  timestamp: TIMESTAMP,
  context: {},
  ...identity,
  ...fields,
});

export const aliasEvent = (fields: Partial<AliasEvent> = {}): AliasEvent => ({
  type: 'alias',
  previousId: 'anon-0001',
  messageId: nextMessageId(),
  timestamp: TIMESTAMP,
  context: {},
  userId: 'user-0042',
  ...fields,
});
