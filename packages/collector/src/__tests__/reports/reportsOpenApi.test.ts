import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../../collector';
import { openApiDocument } from '../../openapi';

/**
 * The report routes against their OpenAPI entries: every response provoked here must be
 * documented for its path, with the documented content type, and validate against its schema.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const SCHEMA_BASE = 'https://sightline.test/openapi/schemas/';
const document = JSON.parse(JSON.stringify(openApiDocument)) as {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema?: Json }> }> }>
  >;
  components: { schemas: Record<string, Json> };
};

function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string'
        ? `${SCHEMA_BASE}${item.slice('#/components/schemas/'.length)}`
        : rewriteRefs(item),
    ]),
  );
}

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date-time', {
  type: 'string',
  validate: (value: string) => !Number.isNaN(Date.parse(value)),
});
ajv.addFormat('date', {
  type: 'string',
  validate: (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value),
});
for (const [name, schema] of Object.entries(document.components.schemas)) {
  ajv.addSchema({ ...(rewriteRefs(schema) as Record<string, Json>), $id: `${SCHEMA_BASE}${name}` });
}

async function expectDocumented(path: string, response: Response): Promise<unknown> {
  const spec = document.paths[path]?.get?.responses[String(response.status)];
  expect(spec, `${response.status} documented for GET ${path}`).toBeDefined();
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(Object.keys(spec?.content ?? {}), `content type of ${response.status} ${path}`).toContain(
    mediaType,
  );
  const text = await response.text();
  const body: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
  const validate = ajv.compile(rewriteRefs(spec!.content![mediaType]!.schema!) as object);
  if (!validate(body))
    throw new Error(
      `${response.status} ${path}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`,
    );
  return body;
}

const TENANT_KEY = 'rk_reports_openapi_1234';
const ADMIN_KEY = 'rk_reports_admin_12345';
let collector: Collector;

beforeAll(async () => {
  collector = createCollector({
    store: 'duckdb::memory:',
    writeKeys: ['wk_reports_openapi_123=acme'],
    readKeys: [`${TENANT_KEY}=acme`, `${ADMIN_KEY}=*`],
    now: () => Date.parse('2024-05-15T10:00:00Z'),
    reports: {
      runSchedules: false,
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, timeoutMs: 1000 },
      schedules: [
        {
          id: 'refused',
          tenant: 'acme',
          template: 'daily',
          cron: '0 9 * * *',
          destination: {
            type: 'webhook',
            url: 'http://127.0.0.1:9/nothing-listens',
            secret: 'a-secret-of-16-chars',
          },
        },
      ],
    },
  });
  await collector.ready();
  const batch = Array.from({ length: 20 }, (_, index) => ({
    type: 'track',
    event: 'opened_app',
    userId: `u-${index % 4}`,
    timestamp: new Date(Date.parse('2024-04-20T12:00:00Z') + index * 86_400_000).toISOString(),
  }));
  const stored = await collector.fetch(
    new Request('http://collector.test/v1/batch', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('wk_reports_openapi_123:').toString('base64')}`,
      },
      body: JSON.stringify({ batch }),
    }),
  );
  expect(stored.status).toBe(200);
  await collector.reports.runSchedule('refused');
});

afterAll(() => collector.close());

const get = (path: string, key?: string, method = 'GET') =>
  collector.fetch(
    new Request(`http://collector.test${path}`, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    }),
  );

describe('report routes match their OpenAPI entries', () => {
  const routes: Array<[string, string, string]> = [
    ['/v1/reports/generate', '?template=weekly', '?template=yearly'],
    ['/v1/reports/runs', '', '?status=unknown'],
    [
      '/v1/forecast',
      '?name=dau&from=2024-04-20&to=2024-05-09&horizon=7',
      '?name=dau&from=2024-05-09&to=2024-05-09',
    ],
  ];

  for (const [path, query, bad] of routes) {
    it(`GET ${path}: 200, 400, 401, 403 and 405`, async () => {
      expect(typeof (await expectDocumented(path, await get(`${path}${query}`, TENANT_KEY)))).toBe(
        'object',
      );
      expect(await expectDocumented(path, await get(`${path}${bad}`, TENANT_KEY))).toMatchObject({
        error: { code: 'invalid_parameter' },
      });
      expect(await expectDocumented(path, await get(`${path}${query}`))).toMatchObject({
        error: { code: 'missing_read_key' },
      });
      expect(await expectDocumented(path, await get(`${path}${query}`, ADMIN_KEY))).toMatchObject({
        error: { code: 'tenant_required' },
      });
      const separator = query ? '&' : '?';
      expect(
        await expectDocumented(
          path,
          await get(`${path}${query}${separator}tenant=other`, TENANT_KEY),
        ),
      ).toMatchObject({
        error: { code: 'forbidden_tenant' },
      });
      expect(
        await expectDocumented(path, await get(`${path}${query}`, TENANT_KEY, 'DELETE')),
      ).toMatchObject({
        error: { code: 'method_not_allowed' },
      });
    });
  }

  it('documents the CSV and HTML renderings and the failed run', async () => {
    for (const format of ['csv', 'html']) {
      const body = await expectDocumented(
        '/v1/reports/generate',
        await get(`/v1/reports/generate?template=daily&format=${format}`, TENANT_KEY),
      );
      expect(typeof body).toBe('string');
    }
    const runs = (await expectDocumented(
      '/v1/reports/runs',
      await get('/v1/reports/runs', TENANT_KEY),
    )) as {
      runs: Array<{ status: string; error?: string }>;
    };
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({ status: 'failed' });
    expect(runs.runs[0]!.error).toMatch(/failed/);
  });

  it('the forecast answers 400 naming the parameter for a bad horizon or series', async () => {
    for (const [query, parameter] of [
      ['?name=dau&from=2024-04-20&to=2024-05-09&horizon=365', 'horizon'],
      ['?name=sessions&from=2024-04-20&to=2024-05-09', 'name'],
    ]) {
      const body = (await expectDocumented(
        '/v1/forecast',
        await get(`/v1/forecast${query}`, TENANT_KEY),
      )) as {
        error: { parameter: string };
      };
      expect(body.error.parameter).toBe(parameter);
    }
  });
});
