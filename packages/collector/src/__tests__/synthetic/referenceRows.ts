import { campaignFromUrl, referrerDomain } from '../../ingest/enrich';
import { type RawEvent, USER_AGENTS } from './catalog';
import { dayOf } from './referenceTime';

/**
 * A raw event with the fields the collector derives when it stores it (docs/metrics.md names
 * them), plus its user key. Derived here independently of the collector's ingest code, except
 * for the two pure URL parsers of `ingest/enrich`.
 */
export interface Row {
  raw: RawEvent;
  type: RawEvent['type'];
  /** The stored `event` column: track `event`, page `name`; null for identify and alias. */
  name: string | null;
  /** Unix ms: the event's `timestamp` as sent (no `sentAt`, so no clock-skew correction). */
  time: number;
  userId: string | null;
  anonymousId: string | null;
  previousId: string | null;
  sessionId: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
  /** Numeric `properties.revenue` of track events, else null. */
  revenue: number | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  properties: Record<string, unknown>;
  /** docs/metrics.md, "The user key". */
  key: string;
}

/** Rows and the indexes every metric needs. */
export interface Dataset {
  /** Sorted by time (ties keep input order). */
  rows: Row[];
  /** Each user key's rows, sorted by time. */
  byKey: Map<string, Row[]>;
  /** Per-zone view of the rows (memoised). */
  zone(tz: string): Zone;
}

/** The rows seen in one time zone. */
export interface Zone {
  /** The day of a row, in this zone. */
  day(row: Row): string;
  /** Rows on `date`, in time order. */
  rowsOn(date: string): readonly Row[];
  /** User keys with at least one row on `date`. */
  keysOn(date: string): ReadonlySet<string>;
  /** User keys with at least one row from `from` to `to` (dates, inclusive). */
  keysBetween(from: string, to: string): Set<string>;
}

/**
 * Derives rows and user keys from raw events.
 *
 * @example
 * const data = createDataset(events);
 * data.zone('UTC').keysOn('2024-03-01').size; // DAU of March 1st
 */
export function createDataset(events: readonly RawEvent[]): Dataset {
  const rows = events.map(toRow).sort((a, b) => a.time - b.time);
  const links = identityLinks(rows);
  const byKey = new Map<string, Row[]>();
  for (const row of rows) {
    row.key = row.userId ?? links.get(row.anonymousId ?? '') ?? row.anonymousId ?? '';
    if (row.key === '') throw new Error(`event ${row.raw.messageId} has no user id`);
    entryOf(byKey, row.key, () => []).push(row);
  }
  const zones = new Map<string, Zone>();
  return {
    rows,
    byKey,
    zone(tz) {
      return entryOf(zones, tz, () => createZone(rows, tz));
    },
  };
}

/**
 * Anonymous id → user id. Links come from events carrying both ids and from alias events
 * (previousId → userId); the earliest wins, ties broken by the smaller user id.
 */
function identityLinks(rows: readonly Row[]): Map<string, string> {
  const best = new Map<string, { userId: string; time: number }>();
  const offer = (anonymousId: string, userId: string, time: number) => {
    const current = best.get(anonymousId);
    const better =
      !current || time < current.time || (time === current.time && userId < current.userId);
    if (better) best.set(anonymousId, { userId, time });
  };
  for (const row of rows) {
    if (row.anonymousId !== null && row.userId !== null) {
      offer(row.anonymousId, row.userId, row.time);
    }
    if (row.type === 'alias' && row.previousId !== null && row.userId !== null) {
      offer(row.previousId, row.userId, row.time);
    }
  }
  return new Map([...best].map(([anonymousId, link]) => [anonymousId, link.userId]));
}

function createZone(rows: readonly Row[], tz: string): Zone {
  const days = new Map<Row, string>();
  const rowsByDay = new Map<string, Row[]>();
  const keysByDay = new Map<string, Set<string>>();
  for (const row of rows) {
    const date = dayOf(row.time, tz);
    days.set(row, date);
    entryOf(rowsByDay, date, () => []).push(row);
    entryOf(keysByDay, date, () => new Set()).add(row.key);
  }
  const none = new Set<string>();
  return {
    day: (row) => days.get(row) ?? dayOf(row.time, tz),
    rowsOn: (date) => rowsByDay.get(date) ?? [],
    keysOn: (date) => keysByDay.get(date) ?? none,
    keysBetween(from, to) {
      const keys = new Set<string>();
      for (const [date, dayKeys] of keysByDay) {
        if (date >= from && date <= to) for (const key of dayKeys) keys.add(key);
      }
      return keys;
    },
  };
}

/**
 * The value of `key` in `map`, created and stored first when missing.
 *
 * @example
 * entryOf(rowsByDay, '2024-03-01', () => []).push(row);
 */
export function entryOf<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A non-empty string (cut to `max`) or a finite number as text; else null. As the collector. */
function text(value: unknown, max = 512): string | null {
  if (typeof value === 'string' && value !== '') return value.slice(0, max);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A finite number, or a string holding a decimal number (`"19.90"`, `" 5 "`); else null. */
export function numeric(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value.trim())) return null;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function toRow(raw: RawEvent): Row {
  const time = Date.parse(raw.timestamp);
  if (Number.isNaN(time)) throw new Error(`event ${raw.messageId} has no valid timestamp`);
  const context: Record<string, unknown> = isObject(raw.context) ? raw.context : {};
  const page = isObject(context.page) ? context.page : {};
  // `context.campaign` when the SDK sent one, else the UTM parameters of the page URL.
  const campaign = isObject(context.campaign)
    ? context.campaign
    : (campaignFromUrl(page.url ?? page.search).campaign ?? {});
  const properties = isObject(raw.properties) ? raw.properties : {};
  const device = deviceOf(context.userAgent);
  return {
    raw,
    type: raw.type,
    name: raw.type === 'track' ? (raw.event ?? null) : raw.type === 'page' ? text(raw.name) : null,
    time,
    userId: text(raw.userId, 255),
    anonymousId: text(raw.anonymousId, 255),
    previousId: text(raw.previousId, 255),
    sessionId: text(context.sessionId, 128),
    utmSource: text(campaign.source),
    utmMedium: text(campaign.medium),
    utmCampaign: text(campaign.name),
    referrerDomain: referrerDomain(page.referrer),
    revenue: raw.type === 'track' ? numeric(properties.revenue) : null,
    ...device,
    properties,
    key: '',
  };
}

function deviceOf(userAgent: unknown): Pick<Row, 'browser' | 'os' | 'deviceType'> {
  if (typeof userAgent !== 'string' || userAgent.trim() === '') {
    return { browser: null, os: null, deviceType: null };
  }
  const known = USER_AGENTS.find((entry) => entry.userAgent === userAgent);
  if (!known) throw new Error(`the reference knows no device for user agent ${userAgent}`);
  return { browser: known.browser, os: known.os, deviceType: known.deviceType };
}
