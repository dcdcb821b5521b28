/** The six Segment-spec call types. */
export type EventType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

/** A JSON-compatible property bag. */
export type Properties = Record<string, unknown>;

/** Consent categories Sightline knows about; apps may add their own. */
export type ConsentCategory = 'analytics' | 'marketing' | (string & {});

/** The three states a consent category can be in. */
export type ConsentState = 'granted' | 'denied' | 'pending';

/** Where the event happened, as Segment's `context` object. Unknown keys are kept. */
export interface EventContext {
  library?: { name: string; version: string };
  page?: { path?: string; url?: string; referrer?: string; title?: string; search?: string };
  campaign?: { source?: string; medium?: string; name?: string; term?: string; content?: string };
  clickIds?: Record<string, string>;
  userAgent?: string;
  locale?: string;
  timezone?: string;
  screen?: { width?: number; height?: number; density?: number };
  sessionId?: string | number;
  consent?: Record<string, ConsentState>;
  ip?: string;
  traits?: Properties;
  [key: string]: unknown;
}

interface BaseEvent {
  type: EventType;
  /** UUIDv7 fixed when the event is created and kept across every retry: the dedupe key. */
  messageId: string;
  /** When the event happened (ISO 8601). */
  timestamp: string;
  /** When the batch left the device (ISO 8601); set by the transport. */
  sentAt?: string;
  /** When the collector received it (ISO 8601); set by the collector. */
  receivedAt?: string;
  anonymousId?: string;
  userId?: string;
  context: EventContext;
  integrations?: Record<string, boolean | Properties>;
}

export interface TrackEvent extends BaseEvent {
  type: 'track';
  event: string;
  properties: Properties;
}

export interface IdentifyEvent extends BaseEvent {
  type: 'identify';
  traits: Properties;
}

export interface PageEvent extends BaseEvent {
  type: 'page' | 'screen';
  name?: string;
  category?: string;
  properties: Properties;
}

export interface GroupEvent extends BaseEvent {
  type: 'group';
  groupId: string;
  traits: Properties;
}

export interface AliasEvent extends BaseEvent {
  type: 'alias';
  previousId: string;
}

/**
 * One event as it flows through the pipeline and over the wire (Segment-spec compatible).
 *
 * @example
 * const event: AnalyticsEvent = {
 *   type: 'track', event: 'signup_completed', properties: { method: 'email' },
 *   messageId: uuidv7(), timestamp: new Date().toISOString(), anonymousId: 'a1', context: {},
 * };
 */
export type AnalyticsEvent = TrackEvent | IdentifyEvent | PageEvent | GroupEvent | AliasEvent;

/** Per-call overrides accepted by every tracking method. */
export interface CallOptions {
  /** Keep a caller-chosen id (e.g. from an outbox table) instead of generating a UUIDv7. */
  messageId?: string;
  /** When the event happened; defaults to now. */
  timestamp?: Date | string;
  anonymousId?: string;
  userId?: string;
  /** Merged over the default context. */
  context?: EventContext;
  integrations?: Record<string, boolean | Properties>;
}
