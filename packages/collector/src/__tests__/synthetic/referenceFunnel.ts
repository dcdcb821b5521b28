import type { PropertyValue } from './catalog';
import { type Dataset, entryOf, type Row } from './referenceRows';
import { checkRange, type Interval, periodStart, periodsApart } from './referenceTime';

/** A funnel step: an event name (track event or page name) and property filters. */
export interface FunnelStep {
  event: string;
  /** `properties.<name>` must equal the value, JSON type included (`"3"` is not `3`). */
  where?: Record<string, string | number | boolean>;
}

/** `POST /v1/funnel`, with dates `YYYY-MM-DD` (inclusive, in `tz`). */
export interface FunnelQuery {
  steps: FunnelStep[];
  windowSeconds: number;
  from: string;
  to: string;
  tz: string;
  /** `utm_source`, `utm_medium`, `utm_campaign`, `referrer_domain`, `browser`, `os`, `device_type` or `properties.<name>`. */
  breakdown?: string;
}

/** The figures of one funnel step. */
export interface StepResult {
  event: string;
  users: number;
  conversionFromStart: number;
  conversionFromPrevious: number;
  medianSecondsFromPrevious: number | null;
}

/** A funnel, and with `breakdown` the same figures per value of the entry event. */
export interface FunnelResult {
  steps: StepResult[];
  breakdown?: Array<{ value: PropertyValue; steps: StepResult[] }>;
}

/** `POST /v1/retention`, with dates `YYYY-MM-DD` (inclusive, in `tz`). */
export interface RetentionQuery {
  interval: Interval;
  periods: number;
  startEvent?: string;
  returnEvent?: string;
  from: string;
  to: string;
  tz: string;
}

/** Cohorts oldest first; only non-empty ones. */
export interface RetentionResult {
  cohorts: Array<{ cohort: string; size: number; retained: number[]; percent: number[] }>;
}

const COLUMNS: Record<string, (row: Row) => string | null> = {
  utm_source: (row) => row.utmSource,
  utm_medium: (row) => row.utmMedium,
  utm_campaign: (row) => row.utmCampaign,
  referrer_domain: (row) => row.referrerDomain,
  browser: (row) => row.browser,
  os: (row) => row.os,
  device_type: (row) => row.deviceType,
};

/** A user's way through the funnel: its entry event and the time of each step reached. */
interface Journey {
  entry: Row;
  times: number[];
}

function matches(row: Row, step: FunnelStep): boolean {
  if (row.name !== step.event) return false;
  return Object.entries(step.where ?? {}).every(([key, value]) => row.properties[key] === value);
}

/**
 * docs/metrics.md, "Funnels": entry = first step-1 event in the range; each later step = the
 * earliest matching event strictly after the previous step and within `windowSeconds` of the
 * entry (in the range or not).
 */
export function funnel(data: Dataset, query: FunnelQuery): FunnelResult {
  checkRange(query);
  const [first] = query.steps;
  if (!first) throw new Error('a funnel needs at least one step');
  const zone = data.zone(query.tz);
  const inRange = (row: Row) => zone.day(row) >= query.from && zone.day(row) <= query.to;
  const journeys: Journey[] = [];
  for (const rows of data.byKey.values()) {
    const entry = rows.find((row) => inRange(row) && matches(row, first));
    if (!entry) continue;
    const deadline = entry.time + query.windowSeconds * 1000;
    const times = [entry.time];
    for (const step of query.steps.slice(1)) {
      const previous = times[times.length - 1]!;
      const next = rows.find(
        (row) => row.time > previous && row.time <= deadline && matches(row, step),
      );
      if (!next) break;
      times.push(next.time);
    }
    journeys.push({ entry, times });
  }
  const result: FunnelResult = { steps: stepResults(query.steps, journeys) };
  if (query.breakdown !== undefined) {
    result.breakdown = breakdown(query.steps, journeys, breakdownValue(query.breakdown));
  }
  return result;
}

function stepResults(steps: readonly FunnelStep[], journeys: readonly Journey[]): StepResult[] {
  const users = steps.map((_, k) => journeys.filter((journey) => journey.times.length > k).length);
  return steps.map((step, k) => {
    const reached = users[k]!;
    const start = users[0]!;
    const previous = k === 0 ? start : users[k - 1]!;
    const seconds =
      k === 0
        ? []
        : journeys
            .filter((journey) => journey.times.length > k)
            .map((journey) => (journey.times[k]! - journey.times[k - 1]!) / 1000);
    return {
      event: step.event,
      users: reached,
      conversionFromStart: start === 0 ? 0 : reached / start,
      conversionFromPrevious: previous === 0 ? 0 : reached / previous,
      medianSecondsFromPrevious: median(seconds),
    };
  });
}

/** The median; the mean of the two middle values for an even count; null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Reads the breakdown field of an entry event. Objects and arrays read as their JSON text. */
function breakdownValue(field: string): (row: Row) => PropertyValue {
  const column = COLUMNS[field];
  if (column) return column;
  if (!field.startsWith('properties.') || field.length === 'properties.'.length) {
    throw new Error(`unknown breakdown ${field}`);
  }
  const name = field.slice('properties.'.length);
  return (row) => {
    const value = Object.hasOwn(row.properties, name) ? row.properties[name] : undefined;
    if (value === undefined || value === null) return null;
    if (typeof value === 'object') return JSON.stringify(value);
    return value as PropertyValue;
  };
}

/** Groups by value (`"2"` and `2` apart); users of step 1 desc, then String(value), null last. */
function breakdown(
  steps: readonly FunnelStep[],
  journeys: readonly Journey[],
  readValue: (row: Row) => PropertyValue,
): NonNullable<FunnelResult['breakdown']> {
  const groups = new Map<string, { value: PropertyValue; journeys: Journey[] }>();
  for (const journey of journeys) {
    const value = readValue(journey.entry);
    const id = value === null ? 'null' : `${typeof value}:${String(value)}`;
    entryOf(groups, id, () => ({ value, journeys: [] })).journeys.push(journey);
  }
  const order = (value: PropertyValue) => (value === null ? '' : String(value));
  return [...groups.values()]
    .sort(
      (a, b) =>
        b.journeys.length - a.journeys.length ||
        Number(a.value === null) - Number(b.value === null) ||
        compare(order(a.value), order(b.value)) ||
        compare(typeof a.value, typeof b.value),
    )
    .map((group) => ({ value: group.value, steps: stepResults(steps, group.journeys) }));
}

/** Code-unit order (byte order for ASCII), as SQL's binary collation. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * docs/metrics.md, "Retention": cohort = period of the first event ever (or first `startEvent`),
 * reported when that period starts inside the range; retained[k] = cohort users with a return
 * event in the k-th period after the cohort's (events after the range count too).
 */
export function retention(data: Dataset, query: RetentionQuery): RetentionResult {
  checkRange(query);
  if (!(query.periods >= 1)) throw new Error('periods must be at least 1');
  const zone = data.zone(query.tz);
  const periodOf = (row: Row) => periodStart(zone.day(row), query.interval);
  const cohorts = new Map<string, { size: number; returned: Array<Set<string>> }>();
  for (const [key, rows] of data.byKey) {
    const start =
      query.startEvent === undefined ? rows[0] : rows.find((row) => row.name === query.startEvent);
    if (!start) continue;
    const cohort = periodOf(start);
    if (cohort < query.from || cohort > query.to) continue;
    let entry = cohorts.get(cohort);
    if (!entry) {
      entry = { size: 0, returned: Array.from({ length: query.periods }, () => new Set<string>()) };
      cohorts.set(cohort, entry);
    }
    entry.size++;
    for (const row of rows) {
      if (query.returnEvent !== undefined && row.name !== query.returnEvent) continue;
      const k = periodsApart(cohort, periodOf(row), query.interval);
      if (k >= 1 && k < query.periods) entry.returned[k]!.add(key);
    }
  }
  return {
    cohorts: [...cohorts]
      .sort(([a], [b]) => compare(a, b))
      .map(([cohort, { size, returned }]) => {
        const retained = returned.map((keys, k) => (k === 0 ? size : keys.size));
        return {
          cohort,
          size,
          retained,
          percent: retained.map((count) => (count / size) * 100),
        };
      }),
  };
}
