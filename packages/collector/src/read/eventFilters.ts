import * as z from 'zod';
import { HttpError } from '../http/errors';
import type { SqlDialect } from '../query/dialect';
import { type Sql, sql } from '../query/sql';

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An ISO 8601 instant with an explicit zone: local times would depend on the server. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const TIME_HINT =
  'use a date YYYY-MM-DD (a UTC day) or an ISO timestamp with a zone, e.g. 2024-05-01T12:00:00Z';

/** The event types of the Segment spec, for the `type` filter. */
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

/** A UTC day `YYYY-MM-DD` as its first instant (Unix ms), or undefined when not a real date. */
function dayStart(value: string): number | undefined {
  const match = DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  const real =
    back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day;
  return real ? ms : undefined;
}

function isTime(value: string): boolean {
  return dayStart(value) !== undefined || (INSTANT.test(value) && !Number.isNaN(Date.parse(value)));
}

const time = z.string().refine(isTime, { message: TIME_HINT });

/**
 * The filters `GET /v1/events` and `GET /v1/export.csv` share, as zod shape: `from`/`to`
 * (inclusive UTC days or ISO instants, `from` ≤ timestamp < `to`), `type`, `event` and `userId`
 * (the stitched user key of docs/metrics.md).
 */
export const eventFilterShape = {
  from: time.optional(),
  to: time.optional(),
  type: z.enum(EVENT_TYPES).optional(),
  event: z.string().min(1).max(256).optional(),
  userId: z.string().min(1).max(1024).optional(),
};

/** Parsed filters. */
export interface EventFilters {
  from?: string;
  to?: string;
  type?: (typeof EVENT_TYPES)[number];
  event?: string;
  userId?: string;
}

/**
 * The instants of `from`/`to` (Unix ms, `startMs` ≤ t < `endMs`): a date is its UTC day, both
 * ends inclusive. With both bounds the range must be positive and at most `maxRangeDays` long,
 * else a 400 naming `to`. An open end is allowed: lists are paginated and exports row-capped.
 *
 * @example
 * eventRange({ from: '2024-05-01', to: '2024-05-31' }, 400); // May 2024, whole days
 */
export function eventRange(
  filters: Pick<EventFilters, 'from' | 'to'>,
  maxRangeDays: number,
): { startMs?: number; endMs?: number } {
  const startMs =
    filters.from === undefined ? undefined : (dayStart(filters.from) ?? Date.parse(filters.from));
  const toDay = filters.to === undefined ? undefined : dayStart(filters.to);
  const endMs =
    filters.to === undefined
      ? undefined
      : toDay !== undefined
        ? toDay + DAY_MS
        : Date.parse(filters.to);
  if (startMs !== undefined && endMs !== undefined) {
    if (endMs <= startMs) {
      throw invalid('to', 'to: must not be before from (dates are inclusive days)');
    }
    if (endMs - startMs > maxRangeDays * DAY_MS) {
      throw invalid(
        'to',
        `to: the range spans more than ${maxRangeDays} days: narrow from–to (or page with cursor)`,
      );
    }
  }
  return { startMs, endMs };
}

/**
 * A query parameter holding a whole number from `min` to `max`; `hint` ends the error message.
 *
 * @example
 * z.object({ limit: wholeNumberParam(1, 1000).optional() });
 */
export function wholeNumberParam(min: number, max: number, hint = '') {
  const message = `use a whole number from ${min} to ${max}${hint}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, { error: message })
    .transform(Number)
    .pipe(z.number().min(min, { error: message }).max(max, { error: message }));
}

/** A 400 `invalid_parameter` naming `parameter`, as `parseParams` answers. */
export function invalid(parameter: string, message: string): HttpError {
  return new HttpError(400, 'invalid_parameter', message, {}, { parameter });
}

/**
 * Refuses query parameters a route does not know (a typo such as `userid=` would otherwise
 * silently widen the result), naming the first one. `tenant` is always allowed (admin keys).
 *
 * @example
 * rejectUnknownParameters(url, ['from', 'to', 'limit']);
 */
export function rejectUnknownParameters(url: URL, known: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (name !== 'tenant' && !known.includes(name)) {
      const takes = known.length > 0 ? `takes ${known.join(', ')}` : 'takes no parameters';
      throw invalid(name, `${name}: unknown parameter; this endpoint ${takes}`);
    }
  }
}

/**
 * The SQL predicate over `events` of one tenant's events matching `filters`, in the store's
 * `dialect`. `userId` matches the **user key** of docs/metrics.md: the event's userId; else the
 * userId its anonymousId is linked to (the earliest link, ties by the smaller userId); else its
 * anonymousId.
 *
 * @example
 * sql`SELECT count(*) FROM events WHERE ${eventFilter(dialect, 'acme', { startMs, userId: 'u-1' })}`;
 */
export function eventFilter(
  dialect: SqlDialect,
  tenant: string,
  filters: Omit<EventFilters, 'from' | 'to'> & { startMs?: number; endMs?: number },
): Sql {
  const parts: Sql[] = [sql`events.tenant = ${tenant}`];
  if (filters.startMs !== undefined)
    parts.push(sql` AND events."timestamp" >= ${dialect.instant(filters.startMs)}`);
  if (filters.endMs !== undefined)
    parts.push(sql` AND events."timestamp" < ${dialect.instant(filters.endMs)}`);
  if (filters.type !== undefined) parts.push(sql` AND events.type = ${filters.type}`);
  if (filters.event !== undefined) parts.push(sql` AND events.event = ${filters.event}`);
  if (filters.userId !== undefined) {
    parts.push(sql` AND ${userKeyIs(dialect, tenant, filters.userId)}`);
  }
  return parts.reduce((all, part) => sql`${all}${part}`);
}

/** No correlated subqueries and no `EXISTS`: ClickHouse has neither. */
function userKeyIs(dialect: SqlDialect, tenant: string, userKey: string): Sql {
  return sql`(events.user_id = ${userKey} OR (events.user_id IS NULL AND (
    events.anonymous_id IN (
      SELECT anonymous_id FROM identity_links
      WHERE tenant = ${tenant} AND anonymous_id IN (
        SELECT anonymous_id FROM identity_links WHERE tenant = ${tenant} AND user_id = ${userKey})
      GROUP BY anonymous_id
      HAVING ${dialect.firstOrdered(sql`user_id`, sql`first_seen, user_id`)} = ${userKey})
    OR (events.anonymous_id = ${userKey} AND ${userKey} NOT IN (
      SELECT anonymous_id FROM identity_links WHERE tenant = ${tenant})))))`;
}

/** Where a page of events ends: the (seq, messageId) of its last event, newest first. */
export interface PagePosition {
  seq: number;
  /** Undefined for cursors of the first format (`v1`), whose `seq` alone was unique. */
  messageId?: string;
}

/** Longest cursor accepted: `v2:`, a 64-bit seq and a 255-character message id, in base64url. */
const MAX_CURSOR_LENGTH = 1_500;

/**
 * An opaque page cursor: base64url of `v2:<seq>:<messageId>`, the position of the last event
 * returned in the order `seq DESC, message_id DESC` (arrival order; `seq` may repeat across
 * collector processes writing one store, the message id breaks ties). The next page holds the
 * events after it in that order, so pages neither repeat nor skip events while new ones keep
 * arriving (they sort before the first page).
 *
 * @example
 * decodeCursor(encodeCursor({ seq: 42, messageId: 'm-1' })); // { seq: 42, messageId: 'm-1' }
 */
export function encodeCursor(position: { seq: number; messageId: string }): string {
  return Buffer.from(`v2:${position.seq}:${position.messageId}`, 'utf8').toString('base64url');
}

/**
 * The position of a cursor from {@link encodeCursor} (or of the earlier `v1:<seq>` format), or a
 * 400 naming `cursor`. Only the exact text this API writes is accepted: canonical base64url of
 * well-formed UTF-8, a seq without leading zeros that is a safe integer, a non-empty message id.
 */
export function decodeCursor(cursor: string): PagePosition {
  const text =
    cursor.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(cursor)
      ? Buffer.from(cursor, 'base64url').toString('utf8')
      : '';
  const canonical = text !== '' && Buffer.from(text, 'utf8').toString('base64url') === cursor;
  const match = canonical
    ? /^v1:([1-9]\d{0,15})$|^v2:(0|[1-9]\d{0,15}):([\s\S]+)$/.exec(text)
    : null;
  const seq = match ? Number(match[1] ?? match[2]) : Number.NaN;
  if (!match || !Number.isSafeInteger(seq)) {
    throw invalid(
      'cursor',
      'cursor: not a cursor from this API: pass nextCursor as it was returned',
    );
  }
  return match[3] === undefined ? { seq } : { seq, messageId: match[3] };
}

/**
 * The events after `position` in the order `seq DESC, message_id DESC` (the keyset condition,
 * written so every engine runs it: no row-value comparison).
 *
 * @example
 * sql`SELECT … FROM events WHERE ${where} AND ${after(decodeCursor(cursor))} ORDER BY events.seq DESC, events.message_id DESC`
 */
export function after(position: PagePosition): Sql {
  if (position.messageId === undefined) return sql`events.seq < ${position.seq}`;
  return sql`(events.seq < ${position.seq}
    OR (events.seq = ${position.seq} AND events.message_id < ${position.messageId}))`;
}
