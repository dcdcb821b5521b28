import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector } from '../collector';
import { openApiDocument } from '../openapi';
import { type HttpCollector, ingest, readApi, startHttpCollector } from './httpCollector';
import { experimentEvents, modelRequests } from './modelFixtures';

/**
 * `/v1/models` and `/v1/experiments/{name}` in the collector's OpenAPI document against the real
 * collector: every response provoked here must be documented for its path, with a body valid
 * against its schema, and every documented status must be provoked.
 */
const WRITE_KEY = 'wk_oas_models_12345';
const READ_KEY = 'rk_oas_models_12345';
const OTHER_KEY = 'rk_oas_models_other';
const ADMIN_KEY = 'rk_oas_models_admin';
const BASE = 'https://sightline.test/openapi/schemas/';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}
const document = JSON.parse(JSON.stringify(openApiDocument)) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

/** `#/components/schemas/X` refs as ids registered with ajv. */
function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string'
        ? item.replace('#/components/schemas/', BASE)
        : rewriteRefs(item),
    ]),
  );
}

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date', (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value));
ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
for (const [name, schema] of Object.entries(document.components.schemas)) {
  ajv.addSchema({ ...(rewriteRefs(schema) as Record<string, Json>), $id: `${BASE}${name}` });
}

const provoked = new Map<string, Set<string>>();

async function expectDocumented(path: string, response: Response): Promise<unknown> {
  provoked.set(path, (provoked.get(path) ?? new Set()).add(String(response.status)));
  const text = await response.text();
  const spec = document.paths[path]?.get?.responses[String(response.status)];
  expect(spec, `${response.status} documented for ${path}: ${text}`).toBeDefined();
  const schema = spec?.content?.['application/json']?.schema;
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const validate = ajv.compile(rewriteRefs(schema ?? null) as object);
  const body: unknown = JSON.parse(text);
  if (!validate(body)) {
    throw new Error(`${response.status} ${path}: ${ajv.errorsText(validate.errors)}\n${text}`);
  }
  return body;
}

let http: HttpCollector;

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`, `${OTHER_KEY}=other`, `${ADMIN_KEY}=*`],
  });
  await ingest(http.url, WRITE_KEY, [
    ...modelRequests({ seed: 3, count: 40, days: 3, start: '2024-03-01' }),
    ...experimentEvents({
      seed: 3,
      start: '2024-03-01',
      goal: 'goal',
      windowDays: 7,
      plans: [{ experiment: 'e', rates: { control: 0.3, b: 0.5 }, usersPerVariant: 20 }],
    }),
  ]);
});

afterAll(async () => {
  await http.close();
});

const MODELS = '/v1/models?from=2024-03-01&to=2024-03-03';
const EXPERIMENT = '/v1/experiments/e?goal=goal&from=2024-03-01&to=2024-03-10';

describe('the model and experiment routes match their OpenAPI description', () => {
  it.each([
    ['/v1/models', MODELS, READ_KEY],
    ['/v1/models', `${MODELS}&interval=week&model=summarizer`, READ_KEY],
    ['/v1/models', `${MODELS}&interval=year`, READ_KEY],
    ['/v1/models', MODELS, undefined],
    ['/v1/models', `${MODELS}&tenant=acme`, OTHER_KEY],
    ['/v1/experiments/{name}', EXPERIMENT, READ_KEY],
    ['/v1/experiments/{name}', `${EXPERIMENT}&control=b&windowDays=1`, READ_KEY],
    [
      '/v1/experiments/{name}',
      '/v1/experiments/nobody?goal=goal&from=2024-03-01&to=2024-03-10',
      READ_KEY,
    ],
    ['/v1/experiments/{name}', '/v1/experiments/e?from=2024-03-01&to=2024-03-10', READ_KEY],
    ['/v1/experiments/{name}', EXPERIMENT, ADMIN_KEY],
    ['/v1/experiments/{name}', EXPERIMENT, WRITE_KEY],
    ['/v1/experiments/{name}', `${EXPERIMENT}&tenant=acme`, OTHER_KEY],
  ])('%s: %s', async (path, request, key) => {
    await expectDocumented(path, await readApi(http.url, request, key));
  });

  it('answers 405 with Allow for another method', async () => {
    for (const [path, request] of [
      ['/v1/models', MODELS],
      ['/v1/experiments/{name}', EXPERIMENT],
    ] as const) {
      const response = await readApi(http.url, request, READ_KEY, 'DELETE');
      expect(response.headers.get('allow')).toBe('GET');
      await expectDocumented(path, response);
    }
  });

  it('answers 503 with Retry-After when the store cannot be opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-models-'));
    writeFileSync(join(dir, 'not-a-directory'), 'x');
    const broken = createCollector({
      store: `duckdb:${join(dir, 'not-a-directory', 'events.duckdb')}`,
      writeKeys: [`${WRITE_KEY}=acme`],
      readKeys: [`${READ_KEY}=acme`],
    });
    try {
      for (const [path, request] of [
        ['/v1/models', MODELS],
        ['/v1/experiments/{name}', EXPERIMENT],
      ] as const) {
        const response = await broken.fetch(
          new Request(`http://collector.test${request}`, {
            headers: { authorization: `Bearer ${READ_KEY}` },
          }),
        );
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).not.toBeNull();
        await expectDocumented(path, response);
      }
    } finally {
      await broken.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every documented status was provoked', () => {
    for (const path of ['/v1/models', '/v1/experiments/{name}']) {
      const documented = Object.keys(document.paths[path]!.get!.responses).sort();
      expect([...(provoked.get(path) ?? [])].sort(), path).toEqual(documented);
    }
  });
});
