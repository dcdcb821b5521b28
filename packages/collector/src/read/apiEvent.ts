import type { SqlDialect } from '../query/dialect';
import { joinSql, raw, type Sql, sql } from '../query/sql';
import type { Row } from '../store/store';

/**
 * One stored event as the read API returns it (`GET /v1/events`, `GET /v1/users/:id/export`):
 * times as ISO 8601 strings (UTC, millisecond precision), `properties`/`traits`/`context` as
 * parsed objects, absent values as `null`.
 */
export interface ApiEvent {
  messageId: string;
  type: string;
  event: string | null;
  timestamp: string;
  receivedAt: string;
  sentAt: string | null;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  groupId: string | null;
  previousId: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  referrerDomain: string | null;
  revenue: number | null;
  currency: string | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  ip: string | null;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
}

/** API field → the `events` column it comes from (identifiers only, never input). */
const TEXT_COLUMNS = {
  messageId: 'message_id',
  type: 'type',
  event: 'event',
  userId: 'user_id',
  anonymousId: 'anonymous_id',
  sessionId: 'session_id',
  groupId: 'group_id',
  previousId: 'previous_id',
  utmSource: 'utm_source',
  utmMedium: 'utm_medium',
  utmCampaign: 'utm_campaign',
  utmTerm: 'utm_term',
  utmContent: 'utm_content',
  referrerDomain: 'referrer_domain',
  currency: 'currency',
  browser: 'browser',
  os: 'os',
  deviceType: 'device_type',
  ip: 'ip',
} as const;
const TIME_COLUMNS = {
  timestamp: '"timestamp"',
  receivedAt: 'received_at',
  sentAt: 'sent_at',
} as const;
const JSON_COLUMNS = ['properties', 'traits', 'context'] as const;

/**
 * The select list every event read uses: `seq` (for cursors), the text columns, times as Unix ms
 * and JSON columns as text, each aliased with its API field name.
 *
 * @example
 * sql`SELECT ${eventSelect(dialect)} FROM events WHERE … ORDER BY events.seq DESC LIMIT ${limit}`;
 */
export function eventSelect(dialect: SqlDialect): Sql {
  return joinSql(
    [
      raw('events.seq AS seq'),
      ...Object.entries(TEXT_COLUMNS).map(([field, column]) =>
        raw(`events.${column} AS "${field}"`),
      ),
      ...Object.entries(TIME_COLUMNS).map(
        ([field, column]) =>
          sql`${dialect.epochMs(raw(`events.${column}`))} AS ${raw(`"${field}"`)}`,
      ),
      raw('events.revenue AS revenue'),
      ...JSON_COLUMNS.map(
        (column) => sql`${dialect.text(raw(`events.${column}`))} AS ${raw(`"${column}"`)}`,
      ),
    ],
    ', ',
  );
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function iso(value: unknown): string | null {
  return value === null || value === undefined ? null : new Date(Number(value)).toISOString();
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string') return {};
  const parsed: unknown = JSON.parse(value);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/**
 * A row selected with {@link eventSelect} as the API's event.
 *
 * @example
 * const events = (await store.query(render(statement))).map(toApiEvent);
 */
export function toApiEvent(row: Row): ApiEvent {
  return {
    messageId: String(row.messageId),
    type: String(row.type),
    event: text(row.event),
    timestamp: iso(row.timestamp) ?? '',
    receivedAt: iso(row.receivedAt) ?? '',
    sentAt: iso(row.sentAt),
    userId: text(row.userId),
    anonymousId: text(row.anonymousId),
    sessionId: text(row.sessionId),
    groupId: text(row.groupId),
    previousId: text(row.previousId),
    utmSource: text(row.utmSource),
    utmMedium: text(row.utmMedium),
    utmCampaign: text(row.utmCampaign),
    utmTerm: text(row.utmTerm),
    utmContent: text(row.utmContent),
    referrerDomain: text(row.referrerDomain),
    revenue: row.revenue === null || row.revenue === undefined ? null : Number(row.revenue),
    currency: text(row.currency),
    browser: text(row.browser),
    os: text(row.os),
    deviceType: text(row.deviceType),
    ip: text(row.ip),
    properties: object(row.properties),
    traits: object(row.traits),
    context: object(row.context),
  };
}

/** The API fields in the order CSV exports list them. */
export const API_EVENT_FIELDS: ReadonlyArray<keyof ApiEvent> = [
  'messageId',
  'type',
  'event',
  'timestamp',
  'receivedAt',
  'sentAt',
  'userId',
  'anonymousId',
  'sessionId',
  'groupId',
  'previousId',
  'utmSource',
  'utmMedium',
  'utmCampaign',
  'utmTerm',
  'utmContent',
  'referrerDomain',
  'revenue',
  'currency',
  'browser',
  'os',
  'deviceType',
  'ip',
  'properties',
  'traits',
  'context',
];

/**
 * The select list of CSV exports, one column per API field in {@link API_EVENT_FIELDS} order
 * (named `<field>Cell`),
 * each already the cell's text: times as ISO 8601, revenue as JavaScript writes numbers, JSON
 * columns as their stored text, and every text cell spreadsheet-safe (`dialect.csvText`). The
 * store's CSV writer then quotes per RFC 4180.
 *
 * @example
 * await store.writeCsv(render(sql`SELECT ${eventCsvSelect(dialect)} FROM events WHERE …`), path);
 */
export function eventCsvSelect(dialect: SqlDialect): Sql {
  const column = (name: string) => raw(`events.${name}`);
  const cell = (field: keyof ApiEvent): Sql => {
    if (field in TEXT_COLUMNS) {
      return dialect.csvText(column(TEXT_COLUMNS[field as keyof typeof TEXT_COLUMNS]));
    }
    if (field in TIME_COLUMNS) {
      return dialect.isoTime(column(TIME_COLUMNS[field as keyof typeof TIME_COLUMNS]));
    }
    if (field === 'revenue') return dialect.numberText(column('revenue'));
    return dialect.csvText(dialect.text(column(field)));
  };
  // Cells are named apart from the columns: ClickHouse would read an alias such as `event` in
  // place of the column of that name in the statement's WHERE.
  return joinSql(
    API_EVENT_FIELDS.map((field) => sql`${cell(field)} AS ${raw(`"${field}Cell"`)}`),
    ', ',
  );
}

/** The header record of CSV exports: the API field names (plain identifiers: nothing to quote). */
export const EVENT_CSV_HEADER = `${API_EVENT_FIELDS.join(',')}\r\n`;
