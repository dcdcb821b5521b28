import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpCollector, ingest, readJson, startHttpCollector } from './httpCollector';
import { batches, type Event, modelRequests } from './modelFixtures';

/**
 * `GET /v1/models` on a real collector (DuckDB, data ingested over HTTP) against the model
 * statistics computed here in plain JavaScript from the generated events: counts, nearest-rank
 * latency percentiles (sort, take the ⌈p·n⌉-th), token and cost sums, mean confidence.
 */

const WRITE_KEY = 'wk_models_12345678';
const READ_KEY = 'rk_models_12345678';
const START = '2024-03-01';
const EVENTS = modelRequests({ seed: 11, count: 1500, days: 20, start: START });

let http: HttpCollector;

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=models`],
    readKeys: [`${READ_KEY}=models`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
  });
  for (const batch of batches(EVENTS)) await ingest(http.url, WRITE_KEY, batch);
}, 60_000);

afterAll(async () => {
  await http?.close();
});

interface Stats {
  requests: number;
  errors: number;
  errorRate: number | null;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  meanConfidence: number | null;
}
interface ModelUsage {
  model: string;
  version: string | null;
  totals: Stats;
  series: Array<Stats & { date: string }>;
}

/** The ⌈p·n⌉-th smallest value (1-based), null for no values. */
function nearestRank(values: readonly number[], percent: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // p·n as an exact fraction: percent·n / 100, rounded up.
  const rank = Math.max(1, Math.ceil((percent * sorted.length) / 100));
  return sorted[rank - 1]!;
}

/** A sum exact to 1/scale: each value rounded to whole units, added as integers. */
function exactSum(values: readonly number[], scale: number): number {
  let units = 0;
  for (const value of values) units += Math.floor(value * scale + 0.5);
  return units / scale;
}

function statsOf(events: readonly Event[]): Stats {
  const numbers = (name: string) =>
    events
      .map((event) => (event.properties as Record<string, unknown>)[name])
      .filter((value): value is number => typeof value === 'number');
  const latencies = numbers('latency_ms');
  const confidences = numbers('confidence');
  const errors = events.filter(
    (event) => (event.properties as { success?: unknown }).success === false,
  ).length;
  return {
    requests: events.length,
    errors,
    errorRate: events.length === 0 ? null : errors / events.length,
    latencyMs: {
      p50: nearestRank(latencies, 50),
      p95: nearestRank(latencies, 95),
      p99: nearestRank(latencies, 99),
    },
    inputTokens: numbers('input_tokens').reduce((sum, value) => sum + value, 0),
    outputTokens: numbers('output_tokens').reduce((sum, value) => sum + value, 0),
    costUsd: exactSum(numbers('cost_usd'), 1e9),
    meanConfidence:
      confidences.length === 0 ? null : exactSum(confidences, 1e9) / confidences.length,
  };
}

function localDay(iso: string, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(iso));
}

function periodOf(day: string, interval: 'day' | 'week' | 'month'): string {
  if (interval === 'day') return day;
  if (interval === 'month') return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

/** The expected answer: model requests of local days [from, to] in `tz`, grouped by hand. */
function expected(options: {
  from: string;
  to: string;
  tz: string;
  interval: 'day' | 'week' | 'month';
  model?: string;
  version?: string;
}): ModelUsage[] {
  const requests = EVENTS.filter((event) => {
    const properties = event.properties as { model?: unknown; model_version?: unknown };
    const day = localDay(event.timestamp, options.tz);
    return (
      event.type === 'track' &&
      event.event === 'model_request' &&
      day >= options.from &&
      day <= options.to &&
      (options.model === undefined || properties.model === options.model) &&
      (options.version === undefined || properties.model_version === options.version)
    );
  });
  const periods: string[] = [];
  for (let day = options.from; day <= options.to; ) {
    const period = periodOf(day, options.interval);
    if (!periods.includes(period)) periods.push(period);
    const next = new Date(`${day}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    day = next.toISOString().slice(0, 10);
  }
  const groups = new Map<string, Event[]>();
  for (const event of requests) {
    const { model, model_version } = event.properties as { model: string; model_version?: string };
    const key = JSON.stringify([model, model_version ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), event]);
  }
  return [...groups]
    .map(([key, events]) => {
      const [model, version] = JSON.parse(key) as [string, string | null];
      return {
        model,
        version,
        totals: statsOf(events),
        series: periods.map((date) => ({
          date,
          ...statsOf(
            events.filter(
              (event) => periodOf(localDay(event.timestamp, options.tz), options.interval) === date,
            ),
          ),
        })),
      };
    })
    .sort((a, b) =>
      a.model === b.model
        ? (a.version ?? '') < (b.version ?? '')
          ? -1
          : 1
        : a.model < b.model
          ? -1
          : 1,
    );
}

async function models(query: Record<string, string>): Promise<ModelUsage[]> {
  const body = await readJson<{ models: ModelUsage[] }>(
    http.url,
    `/v1/models?${new URLSearchParams(query)}`,
    READ_KEY,
  );
  return body.models;
}

describe('GET /v1/models', () => {
  it('reports every model version per day and over the range, as computed by hand', async () => {
    const answer = await models({ from: '2024-03-01', to: '2024-03-20' });
    expect(answer.map(({ model, version }) => [model, version])).toEqual([
      ['legal-analysis', '1.0.0'],
      ['legal-analysis', '2.0.0'],
      ['summarizer', null],
      ['summarizer', '0.9'],
    ]);
    expect(answer).toEqual(
      expected({ from: '2024-03-01', to: '2024-03-20', tz: 'UTC', interval: 'day' }),
    );
    const total = answer.reduce((sum, usage) => sum + usage.totals.requests, 0);
    expect(total).toBe(1500);
  });

  it('counts weeks in a time zone across a daylight-saving change', async () => {
    const query = { from: '2024-03-04', to: '2024-03-17', tz: 'America/New_York' };
    const answer = await models({ ...query, interval: 'week' });
    expect(answer).toEqual(expected({ ...query, interval: 'week' }));
    expect(answer[0]!.series.map((point) => point.date)).toEqual(['2024-03-04', '2024-03-11']);
  });

  it('filters by model and by version', async () => {
    const query = { from: '2024-03-01', to: '2024-03-31', interval: 'month' as const };
    const legal = await models({ ...query, model: 'legal-analysis' });
    expect(legal).toEqual(expected({ ...query, tz: 'UTC', model: 'legal-analysis' }));
    expect(legal).toHaveLength(2);
    const one = await models({ ...query, model: 'legal-analysis', version: '2.0.0' });
    expect(one).toEqual(
      expected({ ...query, tz: 'UTC', model: 'legal-analysis', version: '2.0.0' }),
    );
    expect(one).toHaveLength(1);
    expect(await models({ ...query, model: 'nobody' })).toEqual([]);
  });

  it('keeps costs exact where a plain float sum drifts', async () => {
    const [usage] = await models({ from: '2024-03-01', to: '2024-03-20', model: 'summarizer' });
    const costs = EVENTS.filter(
      (event) =>
        event.event === 'model_request' &&
        event.type === 'track' &&
        (event.properties as { model?: string; model_version?: string }).model === 'summarizer' &&
        (event.properties as { model_version?: string }).model_version === undefined,
    ).map((event) => (event.properties as { cost_usd: number }).cost_usd);
    const plain = costs.reduce((sum, value) => sum + value, 0);
    expect(usage!.totals.costUsd).toBeCloseTo(plain, 9);
    expect(usage!.totals.costUsd).toBe(exactSum(costs, 1e9));
  });

  it('fills periods without requests with zeros and null percentiles', async () => {
    const [usage] = await models({ from: '2024-02-28', to: '2024-03-01' });
    expect(usage!.series[0]).toEqual({
      date: '2024-02-28',
      requests: 0,
      errors: 0,
      errorRate: null,
      latencyMs: { p50: null, p95: null, p99: null },
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      meanConfidence: null,
    });
  });

  it.each([
    ['interval=hour', 'interval'],
    ['model=', 'model'],
    ['tz=Mars%2FOlympus', 'tz'],
  ])('answers 400 naming the parameter for %s', async (extra, parameter) => {
    const body = await readJson<{ error: { parameter: string; message: string } }>(
      http.url,
      `/v1/models?from=2024-03-01&to=2024-03-02&${extra}`,
      READ_KEY,
      { status: 400 },
    );
    expect(body.error.parameter).toBe(parameter);
    expect(body.error.message).toMatch(new RegExp(`^${parameter}: use|^${parameter}: "`));
  });

  it('answers 400 for a missing range', async () => {
    const body = await readJson<{ error: { parameter: string } }>(
      http.url,
      '/v1/models?to=2024-03-02',
      READ_KEY,
      { status: 400 },
    );
    expect(body.error.parameter).toBe('from');
  });
});
