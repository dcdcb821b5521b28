import { withoutNul } from '../store/postgres/postgresWriter';
import type { Row, Store } from '../store/store';
import { scaledSum as clickhouseScaledSum, nearestRank } from './clickhouse/models';
import { dialectOf, type SqlDialect } from './dialect';
import { raw, render, type Sql, sql } from './sql';
import { daysOf, type Interval, periodStart, type TimeRange } from './time';

/** The event every model request is tracked as (`trackModelRequest` in @sightline/node). */
export const MODEL_REQUEST_EVENT = 'model_request';

/** Latency percentiles reported, as fractions (nearest rank: docs/metrics.md). */
const PERCENTILES = { p50: 0.5, p95: 0.95, p99: 0.99 } as const;

/** Requests, errors, latency, tokens, cost and confidence of one model version over a span. */
export interface ModelStats {
  requests: number;
  /** Requests with `success: false`. */
  errors: number;
  /** errors / requests; null without requests. */
  errorRate: number | null;
  /** Nearest-rank percentiles of `latency_ms`; null without latencies. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  inputTokens: number;
  outputTokens: number;
  /** Sum of `cost_usd`, exact to the billionth of a dollar. */
  costUsd: number;
  /** Mean of `confidence` over the requests that carry one; null when none does. */
  meanConfidence: number | null;
}

/** One model version: its totals over the range and one point per period, oldest first. */
export interface ModelUsage {
  model: string;
  /** `model_version`; null for requests without one. */
  version: string | null;
  totals: ModelStats;
  series: Array<{ date: string } & ModelStats>;
}

export interface ModelQuery {
  range: TimeRange;
  interval: Interval;
  /** Only this model / this version (exact match). */
  model?: string;
  version?: string;
}

/**
 * Usage and performance of each model version over `range` (docs/metrics.md, "AI model
 * requests"): one aggregate query per period grouping and one for the totals, both over the
 * tenant's `model_request` track events; periods without requests are filled with zeros.
 *
 * @example
 * await computeModels(store, 'acme', { range, interval: 'week', model: 'legal-analysis' });
 */
export async function computeModels(
  store: Store,
  tenant: string,
  query: ModelQuery,
): Promise<ModelUsage[]> {
  const dialect = dialectOf(store.kind);
  const period = dialect.text(
    dialect.periodStart(
      query.interval,
      dialect.localDay(sql`"timestamp"`, query.range.tz, query.range),
    ),
  );
  const [periodRows, totalRows] = await Promise.all([
    store.query(render(modelStatement(store.kind, dialect, tenant, query, period))),
    store.query(render(modelStatement(store.kind, dialect, tenant, query, undefined))),
  ]);
  const periods = [
    ...new Set(
      daysOf(query.range.fromDay, query.range.toDay).map((day) => periodStart(day, query.interval)),
    ),
  ];
  const usage = new Map<string, ModelUsage>();
  for (const row of totalRows) {
    const names = modelNames(row);
    if (!names) continue;
    usage.set(JSON.stringify(names), {
      ...names,
      totals: statsOf(row),
      series: periods.map((date) => ({ date, ...statsOf(undefined) })),
    });
  }
  for (const row of periodRows) {
    const names = modelNames(row);
    const found = names && usage.get(JSON.stringify(names));
    const point = found?.series.find((point) => point.date === String(row.m_period));
    if (point) Object.assign(point, statsOf(row));
  }
  return [...usage.values()].sort(
    (a, b) => compare(a.model, b.model) || compare(a.version ?? '', b.version ?? ''),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The model and version of a row (JSON text in the store); undefined when the model is no string. */
function modelNames(row: Row): { model: string; version: string | null } | undefined {
  const model = parseJson(row.m_model);
  const version = parseJson(row.m_version);
  if (typeof model !== 'string') return undefined;
  if (version !== undefined && typeof version !== 'string') return undefined;
  return { model, version: version ?? null };
}

function parseJson(text: unknown): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(String(text));
  } catch {
    return undefined;
  }
}

const number = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** A row's aggregates as stats; zeros for a period without requests. */
function statsOf(row: Row | undefined): ModelStats {
  const requests = number(row?.requests);
  const errors = number(row?.errors);
  const confidences = number(row?.confidence_count);
  return {
    requests,
    errors,
    errorRate: requests === 0 ? null : errors / requests,
    latencyMs: { p50: nullable(row?.p50), p95: nullable(row?.p95), p99: nullable(row?.p99) },
    inputTokens: number(row?.input_tokens),
    outputTokens: number(row?.output_tokens),
    costUsd: number(row?.cost_usd),
    meanConfidence: confidences === 0 ? null : number(row?.confidence_sum) / confidences,
  };
}

/**
 * The aggregates per (model, version[, period]): one shape for every store, with the
 * percentile and exact-sum aggregates in the engine's own words.
 */
function modelStatement(
  kind: string,
  dialect: SqlDialect,
  tenant: string,
  query: ModelQuery,
  period: Sql | undefined,
): Sql {
  const property = (name: string) => dialect.jsonNumber(sql`properties`, name);
  const failed = dialect.jsonPropertyEquals(sql`properties`, 'success', false);
  const filters = [
    query.model === undefined
      ? sql``
      : sql` AND ${dialect.jsonPropertyEquals(sql`properties`, 'model', query.model)}`,
    query.version === undefined
      ? sql``
      : sql` AND ${dialect.jsonPropertyEquals(sql`properties`, 'model_version', query.version)}`,
  ];
  const { range } = query;
  const rows = sql`SELECT ${dialect.text(dialect.jsonProperty(sql`properties`, 'model'))} AS m_model,
      ${dialect.text(dialect.jsonProperty(sql`properties`, 'model_version'))} AS m_version,
      ${period ?? sql`''`} AS m_period,
      ${kind === 'clickhouse' ? sql`toInt64(${failed})` : sql`CASE WHEN ${failed} THEN 1 ELSE 0 END`} AS m_failed,
      ${property('latency_ms')} AS m_latency, ${property('input_tokens')} AS m_input,
      ${property('output_tokens')} AS m_output, ${property('cost_usd')} AS m_cost,
      ${property('confidence')} AS m_confidence
    FROM events
    WHERE tenant = ${tenant} AND type = 'track' AND event = ${MODEL_REQUEST_EVENT}
      AND "timestamp" >= ${dialect.instant(range.startMs)}
      AND "timestamp" < ${dialect.instant(range.endMs)}${filters[0]!}${filters[1]!}`;
  const sum = (value: Sql, scale: number, limit: number) =>
    kind === 'clickhouse'
      ? clickhouseScaledSum(value, scale, limit)
      : standardScaledSum(value, scale, limit, kind === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE');
  const percentile = (fraction: number) =>
    kind === 'clickhouse'
      ? nearestRank(sql`m_latency`, fraction)
      : kind === 'postgres'
        ? sql`percentile_disc(${raw(String(fraction))}) WITHIN GROUP (ORDER BY m_latency)`
        : sql`quantile_disc(m_latency, ${raw(String(fraction))})`;
  return sql`SELECT m_model, m_version, m_period,
      ${dialect.double(sql`count(*)`)} AS requests,
      ${dialect.double(sql`sum(m_failed)`)} AS errors,
      ${dialect.double(percentile(PERCENTILES.p50))} AS p50,
      ${dialect.double(percentile(PERCENTILES.p95))} AS p95,
      ${dialect.double(percentile(PERCENTILES.p99))} AS p99,
      ${sum(sql`m_input`, 1, 1e15)} AS input_tokens,
      ${sum(sql`m_output`, 1, 1e15)} AS output_tokens,
      ${sum(sql`m_cost`, 1e9, 1e6)} AS cost_usd,
      ${sum(sql`m_confidence`, 1e9, 1e6)} AS confidence_sum,
      ${dialect.double(sql`count(m_confidence)`)} AS confidence_count
    FROM (${rows}) AS r
    GROUP BY m_model, m_version, m_period`;
}

/**
 * `text` as the store holds it in JSON: PostgreSQL keeps U+0000 as U+FFFD (docs/stores/postgres.md),
 * so a property compared with `text` there must be compared with that.
 *
 * @example
 * storedText('postgres', 'a\u0000b'); // 'a\uFFFDb'
 */
export function storedText(kind: string, text: string): string {
  return kind === 'postgres' ? withoutNul(text) : text;
}

/**
 * {@link clickhouseScaledSum} in standard SQL (DuckDB, PostgreSQL), as `standardSumAmounts` adds
 * revenue but with the scale chosen per quantity: whole tokens, billionths of a dollar.
 */
function standardScaledSum(
  value: Sql,
  scale: number,
  limit: number,
  double: 'DOUBLE' | 'DOUBLE PRECISION',
): Sql {
  const factor = raw(String(scale));
  const bound = raw(String(limit));
  return sql`CASE WHEN count(${value}) = 0 THEN NULL ELSE
    CAST(coalesce(sum(CASE WHEN abs(${value}) < ${bound}
      THEN CAST(floor(${value} * ${factor} + 0.5) AS BIGINT) END), 0) AS ${raw(double)}) / ${factor}
    + coalesce(sum(CASE WHEN abs(${value}) >= ${bound} THEN ${value} END), 0) END`;
}
