import type { StoredEvent } from './store';

/** How a `StoredEvent` field is written: each store maps a kind to its own type. */
export type ColumnKind = 'text' | 'time' | 'number' | 'json';

interface Column {
  readonly name: string;
  readonly field: keyof StoredEvent;
  readonly kind: ColumnKind;
}

/**
 * The `events` columns every SQL store writes, in table order, `seq` excepted (each store assigns
 * it); identifiers only, never values.
 */
export const EVENT_COLUMNS = [
  { name: 'tenant', field: 'tenant', kind: 'text' },
  { name: 'message_id', field: 'messageId', kind: 'text' },
  { name: 'type', field: 'type', kind: 'text' },
  { name: 'event', field: 'event', kind: 'text' },
  { name: '"timestamp"', field: 'timestamp', kind: 'time' },
  { name: 'received_at', field: 'receivedAt', kind: 'time' },
  { name: 'sent_at', field: 'sentAt', kind: 'time' },
  { name: 'user_id', field: 'userId', kind: 'text' },
  { name: 'anonymous_id', field: 'anonymousId', kind: 'text' },
  { name: 'session_id', field: 'sessionId', kind: 'text' },
  { name: 'group_id', field: 'groupId', kind: 'text' },
  { name: 'previous_id', field: 'previousId', kind: 'text' },
  { name: 'utm_source', field: 'utmSource', kind: 'text' },
  { name: 'utm_medium', field: 'utmMedium', kind: 'text' },
  { name: 'utm_campaign', field: 'utmCampaign', kind: 'text' },
  { name: 'utm_term', field: 'utmTerm', kind: 'text' },
  { name: 'utm_content', field: 'utmContent', kind: 'text' },
  { name: 'referrer_domain', field: 'referrerDomain', kind: 'text' },
  { name: 'revenue', field: 'revenue', kind: 'number' },
  { name: 'currency', field: 'currency', kind: 'text' },
  { name: 'browser', field: 'browser', kind: 'text' },
  { name: 'os', field: 'os', kind: 'text' },
  { name: 'device_type', field: 'deviceType', kind: 'text' },
  { name: 'ip', field: 'ip', kind: 'text' },
  { name: 'properties', field: 'properties', kind: 'json' },
  { name: 'traits', field: 'traits', kind: 'json' },
  { name: 'context', field: 'context', kind: 'json' },
] as const satisfies readonly Column[];

// Compile-time check that every StoredEvent field has a column.
type UnmappedField = Exclude<keyof StoredEvent, (typeof EVENT_COLUMNS)[number]['field']>;
const allFieldsMapped: UnmappedField extends never ? true : UnmappedField = true;
void allFieldsMapped;
