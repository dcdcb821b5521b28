import { HttpError } from '../http/errors';

/** A query's time range, resolved in its time zone. */
export interface TimeRange {
  /** IANA time zone the days are counted in. */
  tz: string;
  /** First and last local day the range touches, `YYYY-MM-DD`. */
  fromDay: string;
  toDay: string;
  /** The range as instants: `startMs` ≤ t < `endMs` (Unix ms). */
  startMs: number;
  endMs: number;
}

export type Interval = 'day' | 'week' | 'month';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    formatterOf(tz);
    return true;
  } catch {
    return false;
  }
}

function formatterOf(tz: string): Intl.DateTimeFormat {
  let formatter = formatters.get(tz);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, formatter);
  }
  return formatter;
}

/** Local wall-clock fields of instant `ms` in `tz`. */
function wallClock(ms: number, tz: string) {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(tz).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
}

/** How far `tz` is ahead of UTC at instant `ms`, in ms. */
function offsetAt(ms: number, tz: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const wall = wallClock(whole, tz);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - whole;
}

/** A stretch of time during which `tz` is `offsetMs` ahead of UTC, up to `untilMs` (excluded). */
export interface OffsetSegment {
  offsetMs: number;
  /** Undefined for the last segment. */
  untilMs: number | undefined;
}

/**
 * The UTC offsets `tz` takes between `startMs` and `endMs`, with the exact instants it changes
 * (daylight saving). Offsets are sampled at every day boundary, and each change is pinned to the
 * millisecond by bisection, so a query can turn instants into local days with integer arithmetic
 * instead of a time-zone conversion per row.
 *
 * @example
 * offsetSegments('Europe/Paris', Date.UTC(2024, 2, 1), Date.UTC(2024, 4, 1));
 * // [{ offsetMs: 3600000, untilMs: Date.UTC(2024, 2, 31, 1) }, { offsetMs: 7200000, untilMs: undefined }]
 */
export function offsetSegments(tz: string, startMs: number, endMs: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let previousMs = startMs;
  let offset = offsetAt(startMs, tz);
  for (let probe = startMs + 6 * 3_600_000; ; probe += 6 * 3_600_000) {
    const at = Math.min(probe, endMs);
    const current = offsetAt(at, tz);
    if (current !== offset) {
      // The change happened in (previousMs, at]: find its first millisecond.
      let low = previousMs;
      let high = at;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (offsetAt(middle, tz) === offset) low = middle;
        else high = middle;
      }
      segments.push({ offsetMs: offset, untilMs: high });
      offset = current;
    }
    previousMs = at;
    if (at >= endMs) break;
  }
  segments.push({ offsetMs: offset, untilMs: undefined });
  return segments;
}

/**
 * The instant local midnight starts `day` in `tz` (the first instant of that local day).
 *
 * @example
 * startOfDay('2024-03-10', 'America/New_York'); // Date.UTC(2024, 2, 10, 5)
 */
export function startOfDay(day: string, tz: string): number {
  const guess = Date.parse(`${day}T00:00:00Z`);
  let ms = guess - offsetAt(guess, tz);
  ms = guess - offsetAt(ms, tz);
  return ms;
}

/** The local day of instant `ms` in `tz`, `YYYY-MM-DD`. */
export function dayOf(ms: number, tz: string): string {
  const wall = wallClock(ms, tz);
  return `${String(wall.year).padStart(4, '0')}-${pad(wall.month)}-${pad(wall.day)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `day` moved by `count` calendar days. */
export function addDays(day: string, count: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + count * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (`to − from`). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** Every day from `from` to `to`, both included. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/** The first day of the period (ISO week from Monday, calendar month) that holds `day`. */
export function periodStart(day: string, interval: Interval): string {
  if (interval === 'day') return day;
  if (interval === 'month') return `${day.slice(0, 8)}01`;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7));
}

/** The first day of the period `count` periods after the one starting on `start`. */
export function addPeriods(start: string, interval: Interval, count: number): string {
  if (interval === 'day') return addDays(start, count);
  if (interval === 'week') return addDays(start, 7 * count);
  const year = Number(start.slice(0, 4));
  const month = Number(start.slice(5, 7)) - 1 + count;
  const date = new Date(Date.UTC(year + Math.floor(month / 12), ((month % 12) + 12) % 12, 1));
  return date.toISOString().slice(0, 10);
}

/**
 * Resolves `from`/`to` of a query: dates `YYYY-MM-DD` (both included, local days in `tz`) or ISO
 * timestamps (`from` ≤ t < `to`). Throws a 400 naming the parameter when a bound is unreadable,
 * reversed, or the range is longer than `maxDays`.
 *
 * @example
 * resolveRange({ from: '2024-01-01', to: '2024-01-31', tz: 'Europe/Paris' }, 400);
 */
export function resolveRange(
  query: { from: string; to: string; tz?: string },
  maxDays: number,
): TimeRange {
  const tz = query.tz ?? 'UTC';
  if (!isTimeZone(tz)) {
    throw badParameter('tz', `"${tz}" is not an IANA time zone: use a name such as Europe/Paris`);
  }
  const startMs = bound(query.from, 'from', tz, 0);
  const endMs = bound(query.to, 'to', tz, 1);
  if (!(startMs < endMs)) throw badParameter('to', 'must be after from');
  const fromDay = dayOf(startMs, tz);
  const toDay = dayOf(endMs - 1, tz);
  const days = daysBetween(fromDay, toDay) + 1;
  if (days > maxDays) {
    throw badParameter('to', `the range spans ${days} days; the limit is ${maxDays}: narrow it`);
  }
  return { tz, fromDay, toDay, startMs, endMs };
}

function bound(value: string, name: 'from' | 'to', tz: string, daysAfter: 0 | 1): number {
  if (DATE.test(value)) {
    const parsed = Date.parse(`${value}T00:00:00Z`);
    if (Number.isNaN(parsed) || new Date(parsed).toISOString().slice(0, 10) !== value) {
      throw badParameter(name, `"${value}" is not a calendar date: use YYYY-MM-DD`);
    }
    // A `to` date includes its whole day: the range ends where the next day starts.
    return startOfDay(addDays(value, daysAfter), tz);
  }
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
    throw badParameter(name, `"${value}" is neither a date YYYY-MM-DD nor an ISO timestamp`);
  }
  return ms;
}

export function badParameter(parameter: string, message: string): HttpError {
  return new HttpError(400, 'invalid_parameter', `${parameter}: ${message}`, {}, { parameter });
}
