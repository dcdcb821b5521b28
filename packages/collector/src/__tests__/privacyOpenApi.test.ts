import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollector } from '../collector';
import { openApiDocument } from '../openapi';
import { eventsAndPrivacyPaths } from '../read/privacyOpenApi';
import { type HttpCollector, ingest, readApi, startHttpCollector } from './httpCollector';
import { SHARED_DEVICE } from './privacyFixtures';

/**
 * `eventsAndPrivacyPaths` against the real collector: every response provoked here must be
 * documented for its path and method, with a matching content type, a body valid against the
 * schema, and the required headers; and every documented status must be provoked.
 */
const WRITE_KEY = 'wk_oas_privacy_12345';
const READ_KEY = 'rk_oas_privacy_12345';
const OTHER_KEY = 'rk_oas_other_1234567';
const ADMIN = 'rk_oas_admin_1234567';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface ResponseSpec {
  headers?: Record<string, { required?: boolean; schema?: Json }>;
  content?: Record<string, { schema?: Json }>;
}

const paths = JSON.parse(JSON.stringify(eventsAndPrivacyPaths)) as Record<
  string,
  Record<string, { responses: Record<string, ResponseSpec> }>
>;
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date-time', {
  type: 'string',
  validate: (value: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value),
});
ajv.addSchema(
  JSON.parse(JSON.stringify(openApiDocument.components.schemas.Error)) as object,
  '#/components/schemas/Error',
);
/** Error refs resolve to the collector document's Error schema. */
function resolved(schema: Json): Json {
  return JSON.parse(
    JSON.stringify(schema).replaceAll(
      '"#/components/schemas/Error"',
      '"#/components/schemas/Error#"',
    ),
  ) as Json;
}

const provoked = new Map<string, Set<string>>();

async function expectDocumented(
  method: string,
  path: string,
  response: Response,
): Promise<unknown> {
  const key = `${method} ${path}`;
  provoked.set(key, (provoked.get(key) ?? new Set()).add(String(response.status)));
  const spec = paths[path]?.[method.toLowerCase()]?.responses[String(response.status)];
  const text = await response.text();
  expect(spec, `${response.status} documented for ${key}: ${text}`).toBeDefined();
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(Object.keys(spec?.content ?? {}), `content type of ${key}`).toContain(mediaType);
  const body: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
  const validate = ajv.compile(resolved(spec?.content?.[mediaType]?.schema ?? null) as object);
  if (!validate(body)) {
    throw new Error(`${response.status} ${key}: ${ajv.errorsText(validate.errors)}\n${text}`);
  }
  for (const [name, header] of Object.entries(spec?.headers ?? {})) {
    const value = response.headers.get(name);
    if (header.required) expect(value, `${name} on ${key}`).not.toBeNull();
    if (value !== null && header.schema) {
      const schema = header.schema as { type?: string };
      const checkHeader = ajv.compile(header.schema as object);
      expect(
        checkHeader(schema.type === 'integer' ? Number(value) : value),
        `${name}: ${value}`,
      ).toBe(true);
    }
  }
  return body;
}

let http: HttpCollector;

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`, `${OTHER_KEY}=other`, `${ADMIN}=*`],
  });
  await ingest(http.url, WRITE_KEY, SHARED_DEVICE.events);
});

afterAll(async () => {
  await http.close();
});

const cases: Array<[string, string, string, string | undefined]> = [
  // method, documented path, request path, key
  ['GET', '/v1/events', '/v1/events?limit=2', READ_KEY],
  ['GET', '/v1/events', '/v1/events?limit=0', READ_KEY],
  ['GET', '/v1/events', '/v1/events', undefined],
  ['GET', '/v1/events', '/v1/events?tenant=acme', OTHER_KEY],
  ['GET', '/v1/export.csv', '/v1/export.csv', READ_KEY],
  ['GET', '/v1/export.csv', '/v1/export.csv?limit=0', READ_KEY],
  ['GET', '/v1/export.csv', '/v1/export.csv', 'rk_nobody_12345678'],
  ['GET', '/v1/export.csv', '/v1/export.csv?tenant=acme', OTHER_KEY],
  ['GET', '/v1/users/{id}/export', '/v1/users/u-1/export', READ_KEY],
  ['GET', '/v1/users/{id}/export', '/v1/users/u-1/export', ADMIN], // tenant_required
  ['GET', '/v1/users/{id}/export', '/v1/users/u-1/export', WRITE_KEY],
  ['GET', '/v1/users/{id}/export', '/v1/users/u-1/export?tenant=acme', OTHER_KEY],
  ['DELETE', '/v1/users/{id}', '/v1/users/u-2?limit=1', READ_KEY],
  ['DELETE', '/v1/users/{id}', '/v1/users/u-2', undefined],
  ['DELETE', '/v1/users/{id}', '/v1/users/u-2?tenant=acme', OTHER_KEY],
  ['DELETE', '/v1/users/{id}', '/v1/users/u-9', READ_KEY],
  ['GET', '/v1/audit/erasures', '/v1/audit/erasures', ADMIN],
  ['GET', '/v1/audit/erasures', '/v1/audit/erasures?limit=x', ADMIN],
  ['GET', '/v1/audit/erasures', '/v1/audit/erasures', undefined],
  ['GET', '/v1/audit/erasures', '/v1/audit/erasures', READ_KEY],
];

describe('eventsAndPrivacyPaths', () => {
  it.each(cases)('%s %s documents the answer to %s', async (method, path, request, key) => {
    await expectDocumented(method, path, await readApi(http.url, request, key, method));
  });

  it('documents the 503 of every endpoint while the store is unavailable', async () => {
    const down = createCollector({
      store: 'unavailable:',
      writeKeys: [WRITE_KEY],
      readKeys: [`${READ_KEY}=acme`, `${ADMIN}=*`],
    });
    try {
      for (const [method, path, request] of [
        ['GET', '/v1/events', '/v1/events'],
        ['GET', '/v1/export.csv', '/v1/export.csv'],
        ['GET', '/v1/users/{id}/export', '/v1/users/u-1/export'],
        ['DELETE', '/v1/users/{id}', '/v1/users/u-1'],
        ['GET', '/v1/audit/erasures', '/v1/audit/erasures'],
      ] as const) {
        const key = path === '/v1/audit/erasures' ? ADMIN : READ_KEY;
        const response = await down.fetch(
          new Request(`http://collector.test${request}`, {
            method,
            headers: { authorization: `Bearer ${key}` },
          }),
        );
        expect(response.status).toBe(503);
        await expectDocumented(method, path, response);
      }
    } finally {
      await down.close();
    }
  });

  it('has schemas that refuse what the endpoints must not answer', () => {
    const schemaOf = (path: string, method: string, status: string) =>
      ajv.compile(
        resolved(
          paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema ?? null,
        ) as object,
      );
    const list = schemaOf('/v1/events', 'get', '200');
    expect(list({ events: [], nextCursor: null })).toBe(true);
    expect(list({ events: [], nextCursor: 5 })).toBe(false);
    expect(list({ events: [{ messageId: 'm' }], nextCursor: null })).toBe(false);
    const erased = schemaOf('/v1/users/{id}', 'delete', '200');
    expect(erased({ erased: { events: 1, identityLinks: 0 } })).toBe(true);
    expect(erased({ erased: { events: 1 } })).toBe(false);
    const error = schemaOf('/v1/events', 'get', '400');
    expect(error({ success: false, error: { code: 'x', message: 'y' } })).toBe(true);
    expect(error({ error: { code: 'x' } })).toBe(false);
  });

  it('has every documented status provoked above', () => {
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const key = `${method.toUpperCase()} ${path}`;
        expect([...(provoked.get(key) ?? [])].sort(), key).toEqual(
          Object.keys(operation.responses).sort(),
        );
      }
    }
  });
});
