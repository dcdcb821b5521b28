import type { PoolClient } from 'pg';
import { EVENT_COLUMNS as COLUMNS, type ColumnKind } from '../eventColumns';
import type { AppendResult, StoredEvent } from '../store';

const ARRAY_TYPES: Record<ColumnKind, string> = {
  text: 'TEXT[]',
  // Unix microseconds, converted in SQL: exact, whatever the session's time zone.
  time: 'BIGINT[]',
  number: 'DOUBLE PRECISION[]',
  json: 'JSONB[]',
};

const column = (kind: ColumnKind, index: number) =>
  kind === 'time' ? `TIMESTAMPTZ 'epoch' + c${index} * INTERVAL '1 microsecond'` : `c${index}`;

/**
 * One statement for the whole batch: every column bound as one array and zipped by `unnest`, in
 * batch order (so `seq` follows it); rows whose (tenant, message_id) is stored, or repeated
 * earlier in the batch, are skipped by the primary key.
 */
const INSERT_EVENTS_SQL = `INSERT INTO events (${COLUMNS.map((c) => c.name).join(', ')})
  SELECT ${COLUMNS.map((c, index) => column(c.kind, index)).join(', ')}
  FROM unnest(${COLUMNS.map((c, index) => `CAST($${index + 1} AS ${ARRAY_TYPES[c.kind]})`).join(', ')})
    WITH ORDINALITY AS batch(${COLUMNS.map((_, index) => `c${index}`).join(', ')}, position)
  ORDER BY position
  ON CONFLICT DO NOTHING
  RETURNING tenant, epoch_ms("timestamp") AS ts, type, event`;

/**
 * A link seen again with an earlier event keeps the earliest time (events arrive out of order).
 * Rows go in key order, as do usage and rollup rows: two collectors appending at once then lock
 * the rows they share in the same order, where batch order deadlocked (seen with two stores).
 */
const INSERT_LINKS_SQL = `INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
  SELECT tenant, anonymous_id, user_id, TIMESTAMPTZ 'epoch' + micros * INTERVAL '1 microsecond'
  FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS TEXT[]), CAST($4 AS BIGINT[]))
    AS links(tenant, anonymous_id, user_id, micros)
  ORDER BY tenant, anonymous_id, user_id
  ON CONFLICT (tenant, anonymous_id, user_id)
    DO UPDATE SET first_seen = least(identity_links.first_seen, excluded.first_seen)`;

const INSERT_USAGE_SQL = `INSERT INTO daily_usage (tenant, day, event, count)
  SELECT tenant, DATE '1970-01-01' + day, event, count
  FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS TEXT[]), CAST($4 AS BIGINT[]))
    AS usage(tenant, day, event, count)
  ORDER BY tenant, day, event
  ON CONFLICT (tenant, day, event) DO UPDATE SET count = daily_usage.count + excluded.count`;

const DAY_MS = 86_400_000;

/**
 * PostgreSQL text and JSONB cannot hold U+0000. The store's rule: every U+0000 in a text column
 * and every `\u0000` escape in a JSON column becomes U+FFFD (the replacement character), so the
 * event is kept rather than the whole batch failing; everything else is stored as given.
 *
 * @example
 * withoutNul('a\u0000b'); // 'a\uFFFDb'
 */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** `\u0000` escapes of JSON text (not an escaped backslash followed by `u0000`) as `\ufffd`. */
export function jsonWithoutNul(json: string): string {
  return json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;
}

/**
 * Appends `events` in one transaction on `client` (the caller serialises appends), recording
 * identity links (of duplicates too: a link is a fact about ids) and daily usage of stored rows.
 * Resolves after COMMIT returned.
 *
 * @example
 * await appendEvents(client, rows); // { stored: Map { 'acme' => 2 }, duplicates: Map { 'acme' => 0 } }
 */
export async function appendEvents(
  client: PoolClient,
  events: readonly StoredEvent[],
): Promise<AppendResult> {
  const result: AppendResult = { stored: new Map(), duplicates: new Map() };
  if (events.length === 0) return result;
  const values = COLUMNS.map(({ field, kind }) => events.map((event) => bind(kind, event[field])));
  await client.query('BEGIN');
  try {
    const inserted = await client.query<{
      tenant: string;
      ts: number;
      type: string;
      event: string | null;
    }>(INSERT_EVENTS_SQL, values);
    const links = identityLinks(events);
    if (links.length > 0) {
      await client.query(INSERT_LINKS_SQL, [
        links.map((link) => withoutNul(link.tenant)),
        links.map((link) => withoutNul(link.anonymousId)),
        links.map((link) => withoutNul(link.userId)),
        links.map((link) => String(micros(link.firstSeen))),
      ]);
    }
    const usage = dailyUsage(inserted.rows);
    if (usage.length > 0) {
      await client.query(INSERT_USAGE_SQL, [
        usage.map((entry) => entry.tenant),
        usage.map((entry) => entry.day),
        usage.map((entry) => entry.event),
        usage.map((entry) => entry.count),
      ]);
    }
    await client.query('COMMIT');
    for (const row of inserted.rows) {
      result.stored.set(row.tenant, (result.stored.get(row.tenant) ?? 0) + 1);
    }
  } catch (error) {
    // Fails harmlessly when a failed COMMIT already rolled back.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  const received = new Map<string, number>();
  for (const event of events) {
    const tenant = withoutNul(event.tenant);
    received.set(tenant, (received.get(tenant) ?? 0) + 1);
  }
  for (const [tenant, count] of received) {
    const stored = result.stored.get(tenant) ?? 0;
    result.stored.set(tenant, stored);
    result.duplicates.set(tenant, count - stored);
  }
  return result;
}

function bind(kind: ColumnKind, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'text':
      if (typeof value !== 'string') throw new TypeError(`Expected a string, got ${typeof value}.`);
      return withoutNul(value);
    case 'json':
      if (typeof value !== 'string')
        throw new TypeError(`Expected JSON text, got ${typeof value}.`);
      return jsonWithoutNul(value);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TypeError(`Expected a finite number, got ${String(value)}.`);
      }
      return value;
    case 'time':
      return String(micros(value));
  }
}

/** Unix milliseconds (sub-millisecond fractions kept) to whole microseconds. */
function micros(value: unknown): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`Invalid timestamp: ${String(value)}.`);
  }
  return BigInt(Math.round(value * 1000));
}

interface Link {
  tenant: string;
  anonymousId: string;
  userId: string;
  firstSeen: number;
}

/** anonymousId → userId, and previousId → userId of aliases, once each with the earliest time. */
function identityLinks(events: readonly StoredEvent[]): Link[] {
  const links = new Map<string, Link>();
  const add = (event: StoredEvent, anonymousId: string, userId: string) => {
    const key = `${withoutNul(event.tenant)}\u0000${withoutNul(anonymousId)}\u0000${withoutNul(userId)}`;
    const known = links.get(key);
    if (known) known.firstSeen = Math.min(known.firstSeen, event.timestamp);
    else links.set(key, { tenant: event.tenant, anonymousId, userId, firstSeen: event.timestamp });
  };
  for (const event of events) {
    if (event.userId === null) continue;
    if (event.anonymousId !== null) add(event, event.anonymousId, event.userId);
    if (event.type === 'alias' && event.previousId !== null)
      add(event, event.previousId, event.userId);
  }
  return [...links.values()];
}

/** Stored rows counted per tenant, UTC day of their timestamp and name (event, else type). */
function dailyUsage(
  rows: ReadonlyArray<{ tenant: string; ts: number; type: string; event: string | null }>,
): Array<{ tenant: string; day: number; event: string; count: number }> {
  const counts = new Map<string, { tenant: string; day: number; event: string; count: number }>();
  for (const row of rows) {
    const day = Math.floor(Number(row.ts) / DAY_MS);
    const event = row.event ?? row.type;
    const key = `${row.tenant}\u0000${day}\u0000${event}`;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { tenant: row.tenant, day, event, count: 1 });
  }
  return [...counts.values()];
}
