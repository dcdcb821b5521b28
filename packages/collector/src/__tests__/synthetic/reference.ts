import type { PropertyValue, RawEvent } from './catalog';
import {
  type AttributionQuery,
  type AttributionResult,
  attribution,
  type DashboardQuery,
  type DashboardResult,
  dashboard,
} from './referenceBusiness';
import {
  type FunnelQuery,
  type FunnelResult,
  funnel,
  type RetentionQuery,
  type RetentionResult,
  retention,
} from './referenceFunnel';
import { createDataset, type Dataset } from './referenceRows';
import { type SeriesName, type SeriesPoint, type SeriesQuery, series } from './referenceSeries';
import { checkRange, datesBetween } from './referenceTime';

export type { StepResult } from './referenceFunnel';
export type {
  AttributionQuery,
  AttributionResult,
  DashboardQuery,
  DashboardResult,
  FunnelQuery,
  FunnelResult,
  PropertyValue,
  RetentionQuery,
  RetentionResult,
  SeriesName,
  SeriesPoint,
  SeriesQuery,
};

/** One row of `GET /v1/usage`. */
export interface UsageRow {
  date: string;
  event: string;
  count: number;
}

/** docs/metrics.md computed in plain TypeScript over raw events. */
export interface Reference {
  series(name: SeriesName, query: SeriesQuery): SeriesPoint[];
  funnel(query: FunnelQuery): FunnelResult;
  retention(query: RetentionQuery): RetentionResult;
  dashboard(query: DashboardQuery): DashboardResult;
  attribution(query: AttributionQuery): AttributionResult;
  /** Stored events per UTC day and event name, from `from` to `to` (dates, inclusive). */
  usage(query: { from: string; to: string }): UsageRow[];
  /** Every event whose user key is `userId`, in time order (GDPR export and erasure). */
  userEvents(userId: string): RawEvent[];
}

/**
 * The reference implementation of every metric of docs/metrics.md, written for readability, not
 * speed, and sharing no code with the collector's SQL. Tests compare the collector's answers to
 * it over generated events.
 *
 * @example
 * const reference = createReference(generateEvents({ seed: 1, users: 300, days: 60, start: '2024-03-01' }));
 * reference.series('dau', { from: '2024-03-01', to: '2024-03-31', interval: 'week', tz: 'Asia/Kolkata' });
 */
export function createReference(events: readonly RawEvent[]): Reference {
  const data = createDataset(events);
  return {
    series: (name, query) => series(data, name, query),
    funnel: (query) => funnel(data, query),
    retention: (query) => retention(data, query),
    dashboard: (query) => dashboard(data, query),
    attribution: (query) => attribution(data, query),
    usage: (query) => usage(data, query),
    userEvents: (userId) => (data.byKey.get(userId) ?? []).map((row) => row.raw),
  };
}

function usage(data: Dataset, query: { from: string; to: string }): UsageRow[] {
  checkRange(query);
  const utc = data.zone('UTC');
  const counts = new Map<string, UsageRow>();
  for (const date of datesBetween(query.from, query.to)) {
    for (const row of utc.rowsOn(date)) {
      // Identify and alias events count under their type.
      const event = row.name ?? row.type;
      const id = `${date} ${event}`;
      const entry = counts.get(id);
      if (entry) entry.count++;
      else counts.set(id, { date, event, count: 1 });
    }
  }
  return [...counts.values()].sort((a, b) =>
    a.date !== b.date
      ? a.date < b.date
        ? -1
        : 1
      : a.event < b.event
        ? -1
        : a.event > b.event
          ? 1
          : 0,
  );
}
