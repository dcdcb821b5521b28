/** Calendar days as `YYYY-MM-DD` strings, the form the read API takes. */

const DAY_MS = 86_400_000;

/** Today's date in `tz`. */
export function today(tz: string, now = Date.now()): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(now);
  const part = (type: string) => parts.find((each) => each.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** `day` moved by `days` (calendar arithmetic, no time zone involved). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whether `value` is a real `YYYY-MM-DD` date. */
export function isDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && addDays(value, 0) === value;
}

export interface DayRange {
  from: string;
  to: string;
}

/** The last `days` days up to today in `tz`, today included. */
export function lastDays(days: number, tz: string, now = Date.now()): DayRange {
  const to = today(tz, now);
  return { from: addDays(to, -(days - 1)), to };
}

/** Unix seconds of a `YYYY-MM-DD` day at 00:00 UTC (chart x values; labels are drawn in UTC). */
export const daySeconds = (day: string): number => Date.parse(`${day}T00:00:00Z`) / 1000;
