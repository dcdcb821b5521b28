import type { Row, Store } from '../store/store';
import { funnelRows as clickhouseFunnelRows } from './clickhouse/funnel';
import { dialectOf, type SqlDialect } from './dialect';
import { keyedEvents } from './keyedEvents';
import { joinSql, raw, render, type Sql, sql } from './sql';
import type { TimeRange } from './time';

export interface FunnelStep {
  event: string;
  /** Property equality filters: `properties[key]` must equal the value, JSON type included. */
  where?: Record<string, string | number | boolean>;
}

export interface StepResult {
  event: string;
  users: number;
  conversionFromStart: number;
  conversionFromPrevious: number;
  medianSecondsFromPrevious: number | null;
}

export interface FunnelResult {
  steps: StepResult[];
  breakdown?: Array<{ value: string | number | boolean | null; steps: StepResult[] }>;
}

/** Typed columns a funnel can be broken down by; anything else must be `properties.<name>`. */
export const BREAKDOWN_COLUMNS = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'referrer_domain',
  'browser',
  'os',
  'device_type',
] as const;

function stepCondition(dialect: SqlDialect, step: FunnelStep): Sql {
  const filters = Object.entries(step.where ?? {}).map(([key, value]) =>
    dialect.jsonPropertyEquals(sql`e.properties`, key, value),
  );
  return joinSql([sql`e.event = ${step.event}`, ...filters], ' AND ');
}

function breakdownExpression(dialect: SqlDialect, breakdown: string | undefined): Sql {
  if (breakdown === undefined) return sql`NULL`;
  if ((BREAKDOWN_COLUMNS as readonly string[]).includes(breakdown)) return raw(`e.${breakdown}`);
  // Validated by the route: `properties.<name>`; grouped by the value's JSON text.
  const name = breakdown.slice('properties.'.length);
  return dialect.text(dialect.jsonProperty(sql`e.properties`, name));
}

/**
 * A funnel as docs/metrics.md defines it: each user's entry is its first step-1 event in the
 * range; step k is the earliest matching event strictly after step k−1 and within the window of
 * the entry. One query: a CTE per step joins the previous step's users to their next matching
 * events (on ClickHouse, arrays of each user's step times: `clickhouse/funnel.ts`).
 *
 * @example
 * await computeFunnel(store, 'acme', { steps: [{ event: 'signup_started' }, { event: 'signup_completed' }], windowSeconds: 86400, range });
 */
export async function computeFunnel(
  store: Store,
  tenant: string,
  query: {
    steps: readonly FunnelStep[];
    windowSeconds: number;
    range: TimeRange;
    breakdown?: string;
  },
): Promise<FunnelResult> {
  const overall = summarise(query.steps, await funnelRows(store, tenant, query, undefined));
  const result: FunnelResult = { steps: overall.get(NO_GROUP) ?? emptySteps(query.steps) };
  if (query.breakdown !== undefined) {
    const groups = summarise(query.steps, await funnelRows(store, tenant, query, query.breakdown));
    result.breakdown = [...groups]
      .map(([value, steps]) => ({ value: groupValue(value, query.breakdown!), steps }))
      .sort(
        (a, b) =>
          b.steps[0]!.users - a.steps[0]!.users ||
          (a.value === null
            ? 1
            : b.value === null
              ? -1
              : compare(String(a.value), String(b.value))),
      );
  }
  return result;
}

const NO_GROUP = '\u0000none';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A breakdown group's value: typed columns as text; properties as their JSON value. */
function groupValue(key: string, breakdown: string): string | number | boolean | null {
  if (key === NO_GROUP) return null;
  if (!breakdown.startsWith('properties.')) return key;
  const value: unknown = JSON.parse(key);
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : JSON.stringify(value);
}

async function funnelRows(
  store: Store,
  tenant: string,
  query: { steps: readonly FunnelStep[]; windowSeconds: number; range: TimeRange },
  breakdown: string | undefined,
): Promise<Row[]> {
  const { steps, windowSeconds, range } = query;
  const dialect = dialectOf(store.kind);
  const conditions = steps.map((step) => stepCondition(dialect, step));
  if (store.kind === 'clickhouse') {
    return clickhouseFunnelRows(store, tenant, {
      conditions,
      breakdown: breakdownExpression(dialect, breakdown),
      events: [...new Set(steps.map((step) => step.event))],
      windowSeconds,
      range,
    });
  }
  const ctes: Sql[] = [
    keyedEvents(dialect, tenant, {
      since: range.startMs,
      until: range.endMs + windowSeconds * 1000 + 1,
      where: joinSql(
        conditions.map((condition) => sql`(${condition})`),
        ' OR ',
      ),
      select: joinSql(
        [
          sql`${breakdownExpression(dialect, breakdown)} AS bd`,
          ...conditions.map((condition, index) => sql`(${condition}) AS ${raw(`s${index + 1}`)}`),
        ],
        ', ',
      ),
    }),
  ];
  ctes.push(sql`f1 AS (
    SELECT user_key, min(ts) AS t1, ${dialect.valueAtMin(sql`bd`, sql`ts`)} AS bd FROM ev
    WHERE s1 AND ts < ${dialect.instant(range.endMs)} GROUP BY user_key
  )`);
  for (let k = 2; k <= steps.length; k++) {
    const previous = raw(`f${k - 1}`);
    const carried = raw(Array.from({ length: k - 1 }, (_, i) => `, f.t${i + 1}`).join(''));
    ctes.push(sql`${raw(`f${k}`)} AS (
      SELECT f.user_key, f.bd${carried}, min(s.ts) AS ${raw(`t${k}`)}
      FROM ${previous} f JOIN ev s ON s.user_key = f.user_key AND s.${raw(`s${k}`)}
        AND s.ts > f.${raw(`t${k - 1}`)} AND s.ts <= ${dialect.plusSeconds(sql`f.t1`, windowSeconds)}
      GROUP BY f.user_key, f.bd${carried}
    )`);
  }
  const selects = steps.map((_, index) => {
    const k = index + 1;
    const median =
      k === 1
        ? dialect.double(sql`NULL`)
        : dialect.median(
            sql`(${dialect.epochMs(raw(`t${k}`))} - ${dialect.epochMs(raw(`t${k - 1}`))}) / 1000.0`,
          );
    return sql`SELECT ${raw(String(k))} AS step, ${dialect.text(sql`bd`)} AS bd, count(*) AS users,
      ${median} AS median FROM ${raw(`f${k}`)} GROUP BY bd`;
  });
  return store.query(render(sql`WITH ${joinSql(ctes, ',\n')} ${joinSql(selects, ' UNION ALL ')}`));
}

/** Rows (step, group, users, median) as per-group step results. */
function summarise(steps: readonly FunnelStep[], rows: readonly Row[]): Map<string, StepResult[]> {
  const groups = new Map<string, StepResult[]>();
  for (const row of rows) {
    const key = row.bd === null || row.bd === undefined ? NO_GROUP : String(row.bd);
    let results = groups.get(key);
    if (!results) {
      results = emptySteps(steps);
      groups.set(key, results);
    }
    const step = results[Number(row.step) - 1]!;
    step.users = Number(row.users);
    step.medianSecondsFromPrevious = row.median === null ? null : Number(row.median);
  }
  for (const results of groups.values()) {
    results.forEach((step, index) => {
      const first = results[0]!.users;
      const previous = index === 0 ? first : results[index - 1]!.users;
      step.conversionFromStart = first === 0 ? 0 : step.users / first;
      step.conversionFromPrevious = previous === 0 ? 0 : step.users / previous;
    });
  }
  return groups;
}

function emptySteps(steps: readonly FunnelStep[]): StepResult[] {
  return steps.map((step) => ({
    event: step.event,
    users: 0,
    conversionFromStart: 0,
    conversionFromPrevious: 0,
    medianSecondsFromPrevious: null,
  }));
}
