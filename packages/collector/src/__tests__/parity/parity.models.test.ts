import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { openStore } from '../../store/openStore';
import { createPostgresStore } from '../../store/postgres/postgresStore';
import { type ClickHouseTestServer, startClickHouse } from '../clickhouse/clickhouseServer';
import { type HttpCollector, ingest, startHttpCollector } from '../httpCollector';
import { batches, experimentEvents, modelRequests } from '../modelFixtures';
import { type PostgresServer, startPostgres } from '../postgres/postgresServer';
import { type Answer, call, expectSame } from './parityHelpers';

/**
 * `/v1/models` and `/v1/experiments/:name` on DuckDB, PostgreSQL 15 and ClickHouse 18.16: the
 * same events ingested over HTTP into three collectors must give the same answers, ClickHouse
 * exactly (percentiles, exact sums and p-values included) and PostgreSQL to 1e-9; ClickHouse
 * also holds raw duplicate rows not yet merged. Hostile model and experiment names (quotes,
 * backslashes, NUL, SQL, JSON syntax, non-ASCII) travel through ingest, query parameters and
 * paths and come back as they were sent.
 */

const WRITE_KEY = 'wk_parity_models_12';
const READ_KEY = 'rk_parity_models_12';
const GOAL = 'analysis_completed';

/** Names that break naive SQL literals, JSON readers and path handling. */
const HOSTILE = [
  "it's",
  'back\\slash\\',
  'nul\u0000byte',
  "'; DROP TABLE events; --",
  '"quoted", "model":"other"',
  '{"model":"x"}',
  'ünïcødé ✓ 😀 日本語',
  '$1 ? %s',
  'tab\tnew\nline',
];

const EVENTS = [
  ...modelRequests({ seed: 5, count: 900, days: 15, start: '2024-03-01' }),
  ...experimentEvents({
    seed: 6,
    start: '2024-03-01',
    goal: GOAL,
    windowDays: 7,
    plans: [
      { experiment: 'prompt-v2', rates: { control: 0.1, treatment: 0.16 }, usersPerVariant: 400 },
      ...HOSTILE.map((name) => ({
        experiment: name,
        rates: { [name]: 0.3, control: 0.2 },
        usersPerVariant: 12,
      })),
    ],
  }),
  ...HOSTILE.map((name, index) => ({
    type: 'track',
    event: 'model_request',
    userId: `hostile-${index}`,
    messageId: `hostile-model-${index}`,
    timestamp: `2024-03-0${(index % 9) + 1}T12:00:00.000Z`,
    properties: {
      model: name,
      model_version: name,
      input_tokens: 10 + index,
      output_tokens: 5,
      latency_ms: 100 * (index + 1),
      success: index % 2 === 0,
      cost_usd: 0.0000015 * (index + 1),
      confidence: 0.5,
    },
  })),
];

type StoreName = 'duckdb' | 'postgres' | 'clickhouse';
let postgresServer: PostgresServer;
let clickhouseServer: ClickHouseTestServer;
const collectors = {} as Record<StoreName, HttpCollector>;

async function start(store: HttpCollector['store']): Promise<HttpCollector> {
  const http = await startHttpCollector({
    store,
    writeKeys: [`${WRITE_KEY}=ai`],
    readKeys: [`${READ_KEY}=ai`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
  });
  for (const batch of batches(EVENTS)) await ingest(http.url, WRITE_KEY, batch);
  return http;
}

beforeAll(async () => {
  [postgresServer, clickhouseServer] = await Promise.all([startPostgres(), startClickHouse()]);
  const postgresUrl = await postgresServer.createDatabase('models');
  const [duckdb, postgres, clickhouse] = await Promise.all([
    createDuckDbStore({ path: ':memory:' }).then(start),
    createPostgresStore({ url: postgresUrl }).then(start),
    openStore(clickhouseServer.storeUrl('models')).then(start),
  ]);
  Object.assign(collectors, { duckdb, postgres, clickhouse });
  // Copies of a fifth of the rows, as a second collector inserting the same batch leaves them.
  await clickhouseServer.run(
    'INSERT INTO models.event_rows_v4 SELECT * FROM models.event_rows_v4 WHERE cityHash64(message_id) % 5 = 0',
  );
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(collectors).map((http) => http.close()));
  await Promise.all([postgresServer?.stop(), clickhouseServer?.stop()]);
}, 60_000);

/**
 * DuckDB's answer as PostgreSQL gives it: names read from the store with U+0000 as U+FFFD (the
 * PostgreSQL store's rule, docs/stores/postgres.md); the experiment's name is echoed as asked.
 */
function asPostgresStores(answer: Answer): Answer {
  const body = JSON.parse(JSON.stringify(answer.body).replaceAll('\\u0000', '\\ufffd'));
  const asked = answer.body as { experiment?: unknown };
  if (typeof asked.experiment === 'string') body.experiment = asked.experiment;
  return { ...answer, body };
}

/** The three answers to `path`; ClickHouse must equal DuckDB exactly, PostgreSQL to 1e-9. */
async function expectParity(path: string): Promise<Answer> {
  const [duckdb, postgres, clickhouse] = await Promise.all(
    (['duckdb', 'postgres', 'clickhouse'] as const).map((name) =>
      call(collectors[name], path, { key: READ_KEY }),
    ),
  );
  expect(duckdb!.status, JSON.stringify(duckdb!.body)).toBe(200);
  expect(clickhouse!.body).toEqual(duckdb!.body);
  expectSame(postgres, asPostgresStores(duckdb!));
  return duckdb!;
}

const models = (query: Record<string, string>) =>
  `/v1/models?${new URLSearchParams({ from: '2024-03-01', to: '2024-03-15', ...query })}`;
const experiment = (name: string, query: Record<string, string> = {}) =>
  `/v1/experiments/${encodeURIComponent(name)}?${new URLSearchParams({
    goal: GOAL,
    from: '2024-03-01',
    to: '2024-03-10',
    ...query,
  })}`;

describe('model and experiment endpoints answer alike on DuckDB, PostgreSQL and ClickHouse', () => {
  it.each([
    ['per day', {}],
    ['per week in New York', { interval: 'week', tz: 'America/New_York' }],
    ['per month for one model', { interval: 'month', model: 'legal-analysis' }],
    ['for one version', { model: 'legal-analysis', version: '1.0.0' }],
    ['over part of a day', { from: '2024-03-03T06:30:00Z', to: '2024-03-04T01:00:00Z' }],
  ])('GET /v1/models %s', async (_name, query) => {
    const answer = await expectParity(models(query));
    expect((answer.body as { models: unknown[] }).models.length).toBeGreaterThan(0);
  });

  it.each([
    ['with its default window', 'prompt-v2', {}],
    ['with a 1-day window', 'prompt-v2', { windowDays: '1' }],
    ['against a chosen control', 'prompt-v2', { control: 'treatment' }],
    ['nobody saw', 'never-run', {}],
  ])('GET /v1/experiments/:name %s', async (_name, name, query) => {
    await expectParity(experiment(name, query));
  });

  it('reads hostile model names back as sent, and filters by them', async () => {
    const all = (await expectParity(models({}))).body as {
      models: Array<{ model: string; version: string | null; totals: { requests: number } }>;
    };
    for (const name of HOSTILE) {
      const found = all.models.find((usage) => usage.model === name);
      expect(found, JSON.stringify(name)).toMatchObject({ version: name, totals: { requests: 1 } });
      const filtered = (await expectParity(models({ model: name, version: name }))).body as {
        models: Array<{ model: string }>;
      };
      expect(filtered.models.map((usage) => usage.model)).toEqual([name]);
    }
  });

  it('reads hostile experiment and variant names back as sent', async () => {
    for (const name of HOSTILE) {
      const answer = (await expectParity(experiment(name))).body as {
        experiment: string;
        control: string;
        variants: Array<{ variant: string; exposedUsers: number }>;
      };
      expect(answer.experiment).toBe(name);
      expect(answer.control).toBe('control');
      expect(answer.variants.map((variant) => variant.variant)).toEqual(['control', name]);
      expect(answer.variants.every((variant) => variant.exposedUsers > 0)).toBe(true);
    }
  });

  it('still holds every event after the hostile names (no statement ran as SQL)', async () => {
    for (const name of ['duckdb', 'postgres', 'clickhouse'] as const) {
      expect(await collectors[name].store.countEvents('ai'), name).toBe(EVENTS.length);
    }
  });
});
