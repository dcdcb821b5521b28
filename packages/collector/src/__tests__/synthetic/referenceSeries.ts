import { type Dataset, entryOf } from './referenceRows';
import { addDays, checkRange, datesBetween, type Interval, periodStart } from './referenceTime';

/** A series of `GET /v1/metrics`. */
export type SeriesName = 'dau' | 'wau' | 'mau' | 'stickiness' | 'new_users' | 'events' | 'revenue';

/** Query of a series: dates `YYYY-MM-DD`, both inclusive, in `tz`. */
export interface SeriesQuery {
  from: string;
  to: string;
  interval: Interval;
  tz: string;
  /** For `events`: only track events and pages with this name. */
  event?: string;
}

/** One point of a series, dated by its period's first day. */
export interface SeriesPoint {
  date: string;
  value: number;
}

/** Series summed over a period; the others are averaged over the period's days. */
const SUMMED: ReadonlySet<SeriesName> = new Set(['events', 'revenue', 'new_users']);

/**
 * docs/metrics.md, "Series": daily values, then per week or month the sum (events, revenue,
 * new users) or the mean (the others) of the period's days inside the range.
 */
export function series(data: Dataset, name: SeriesName, query: SeriesQuery): SeriesPoint[] {
  checkRange(query);
  const periods = new Map<string, number[]>();
  for (const date of datesBetween(query.from, query.to)) {
    const start = periodStart(date, query.interval);
    entryOf(periods, start, () => []).push(dailyValue(data, name, date, query));
  }
  return [...periods].map(([date, values]) => {
    const sum = values.reduce((total, value) => total + value, 0);
    return { date, value: SUMMED.has(name) ? sum : sum / values.length };
  });
}

/**
 * The value of a series on one day. Exported for the dashboard, which reads the same figures on
 * the range's last day.
 */
export function dailyValue(
  data: Dataset,
  name: SeriesName,
  date: string,
  query: { tz: string; event?: string },
): number {
  const zone = data.zone(query.tz);
  switch (name) {
    case 'dau':
      return zone.keysOn(date).size;
    case 'wau':
      return zone.keysBetween(addDays(date, -6), date).size;
    case 'mau':
      return zone.keysBetween(addDays(date, -29), date).size;
    case 'stickiness': {
      const mau = zone.keysBetween(addDays(date, -29), date).size;
      return mau === 0 ? 0 : zone.keysOn(date).size / mau;
    }
    case 'new_users': {
      let count = 0;
      for (const rows of data.byKey.values()) if (zone.day(rows[0]!) === date) count++;
      return count;
    }
    case 'events':
      return zone
        .rowsOn(date)
        .filter((row) => query.event === undefined || row.name === query.event).length;
    case 'revenue':
      return zone.rowsOn(date).reduce((total, row) => total + (row.revenue ?? 0), 0);
  }
}
