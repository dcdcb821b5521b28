/**
 * Calendar arithmetic for the reference metrics. Dates are `YYYY-MM-DD` strings, which sort
 * chronologically as strings. Only `dayOf` depends on a time zone; the rest is plain calendar
 * math, done on UTC dates so that no local zone or DST rule can interfere.
 */

/** `day`, `week` (ISO: Monday to Sunday) or `month`. */
export type Interval = 'day' | 'week' | 'month';

const QUARTER_HOUR = 15 * 60 * 1000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const dayCache = new Map<string, Map<number, string>>();

/**
 * The calendar day (`YYYY-MM-DD`) that contains instant `ms` in time zone `tz`, read with
 * `Intl.DateTimeFormat`. Memoised per quarter hour: every UTC offset in use is a multiple of
 * 15 minutes, so local midnights fall on quarter-hour instants and a quarter hour never spans
 * two local days.
 *
 * @example
 * dayOf(Date.parse('2024-03-01T23:30:00Z'), 'Asia/Kolkata'); // '2024-03-02'
 */
export function dayOf(ms: number, tz: string): string {
  let cache = dayCache.get(tz);
  if (!cache) {
    cache = new Map();
    dayCache.set(tz, cache);
  }
  const quarter = Math.floor(ms / QUARTER_HOUR);
  let day = cache.get(quarter);
  if (day === undefined) {
    day = formatDay(quarter * QUARTER_HOUR, tz);
    cache.set(quarter, day);
  }
  return day;
}

function formatDay(ms: number, tz: string): string {
  let formatter = formatters.get(tz);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(tz, formatter);
  }
  const parts = formatter.formatToParts(new Date(ms));
  const part = (type: string) => parts.find((entry) => entry.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

/** Whether `text` is a valid `YYYY-MM-DD` date. */
export function isDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && toUtc(text).toISOString().slice(0, 10) === text;
}

/** Throws unless `from` and `to` are dates with `from` ≤ `to` (ISO instants are not modelled). */
export function checkRange(query: { from: string; to: string }): void {
  if (!isDate(query.from) || !isDate(query.to) || query.from > query.to) {
    throw new Error(`the reference takes dates YYYY-MM-DD, from ≤ to: ${query.from}..${query.to}`);
  }
}

function toUtc(date: string): Date {
  return new Date(`${date}T00:00:00.000Z`);
}

function fromUtc(value: Date): string {
  return value.toISOString().slice(0, 10);
}

/**
 * The date `n` days after `date` (before, for negative `n`).
 *
 * @example
 * addDays('2024-02-28', 2); // '2024-03-01'
 */
export function addDays(date: string, n: number): string {
  const value = toUtc(date);
  value.setUTCDate(value.getUTCDate() + n);
  return fromUtc(value);
}

/**
 * Every date from `from` to `to`, both inclusive, oldest first.
 *
 * @example
 * datesBetween('2024-01-30', '2024-02-01'); // ['2024-01-30', '2024-01-31', '2024-02-01']
 */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) dates.push(date);
  return dates;
}

/**
 * The first day of the period (day, Monday-based week, month) that contains `date`.
 *
 * @example
 * periodStart('2024-03-07', 'week'); // '2024-03-04' (a Monday)
 */
export function periodStart(date: string, interval: Interval): string {
  if (interval === 'day') return date;
  if (interval === 'month') return `${date.slice(0, 7)}-01`;
  const weekday = toUtc(date).getUTCDay(); // 0 = Sunday
  return addDays(date, -((weekday + 6) % 7));
}

/**
 * The first day of the period `n` periods after the one starting on `start`.
 *
 * @example
 * addPeriods('2024-12-01', 'month', 2); // '2025-02-01'
 */
export function addPeriods(start: string, interval: Interval, n: number): string {
  if (interval === 'day') return addDays(start, n);
  if (interval === 'week') return addDays(start, 7 * n);
  const value = toUtc(`${start.slice(0, 7)}-01`);
  value.setUTCMonth(value.getUTCMonth() + n);
  return fromUtc(value);
}

/**
 * How many periods lie from the period starting on `a` to the one starting on `b` (negative when
 * `b` is earlier).
 *
 * @example
 * periodsApart('2024-11-01', '2025-01-01', 'month'); // 2
 */
export function periodsApart(a: string, b: string, interval: Interval): number {
  const days = Math.round((toUtc(b).getTime() - toUtc(a).getTime()) / 86_400_000);
  if (interval === 'day') return days;
  if (interval === 'week') return Math.round(days / 7);
  const months = (date: string) => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7));
  return months(b) - months(a);
}
