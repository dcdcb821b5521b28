import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector';
import { openApiDocument } from '../openapi';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { wrapStore } from './wrapStore';

/**
 * The OpenAPI document against the real collector: every response we can provoke must be
 * documented for its path and method, and its body must validate against the documented schema.
 */

const WRITE_KEY = 'wk_openapi_12345678';
const ADMIN_KEY = 'rk_admin_12345678';
const TENANT_READ_KEY = 'rk_tenant_12345678';
const BASIC = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
const SCHEMA_BASE = 'https://sightline.test/openapi/schemas/';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface MediaType {
  schema?: Json;
}
interface ResponseSpec {
  description: string;
  headers?: Record<string, { required?: boolean; schema?: Json }>;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseSpec>;
  requestBody?: { content: Record<string, MediaType> };
}

/** The document as plain JSON, with `#/components/schemas/X` refs pointing at registered ids. */
const document = JSON.parse(JSON.stringify(openApiDocument)) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' && item.startsWith('#/components/schemas/')
        ? `${SCHEMA_BASE}${item.slice('#/components/schemas/'.length)}`
        : rewriteRefs(item),
    ]),
  );
}

// strict: unknown keywords or ill-typed schemas in the document fail the tests. Union types
// (`type: ['string', 'number']`) are valid JSON Schema, only opt-in for ajv.
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date-time', {
  type: 'string',
  validate: (value: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) &&
    !Number.isNaN(Date.parse(value)),
});
ajv.addFormat('date', {
  type: 'string',
  validate: (value: string) =>
    /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)),
});
for (const [name, schema] of Object.entries(document.components.schemas)) {
  ajv.addSchema({ ...(rewriteRefs(schema) as Record<string, Json>), $id: `${SCHEMA_BASE}${name}` });
}

function operation(path: string, method: string): Operation {
  const found = document.paths[path]?.[method.toLowerCase()];
  if (!found) throw new Error(`${method} ${path} is not documented`);
  return found;
}

/** Provoked statuses, by `METHOD path`, for the coverage check at the end. */
const provoked = new Map<string, Set<number>>();

/**
 * Checks one real response against the document: the status is documented for the operation, the
 * content type is one of the documented media types, the body validates against its schema, and
 * every required documented header (Retry-After, Allow) is present and valid. Returns the body.
 */
async function expectDocumented(
  method: string,
  path: string,
  response: Response,
): Promise<unknown> {
  const key = `${method} ${path}`;
  provoked.set(key, (provoked.get(key) ?? new Set()).add(response.status));
  const spec = operation(path, method).responses[String(response.status)];
  expect(spec, `${response.status} is documented for ${key}`).toBeDefined();
  const documentedTypes = Object.keys(spec?.content ?? {});
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  expect(documentedTypes, `content type of ${response.status} ${key}`).toContain(mediaType);

  const text = await response.text();
  const body: unknown = mediaType === 'application/json' ? JSON.parse(text) : text;
  const schema = spec?.content?.[mediaType]?.schema;
  expect(schema, `a schema for ${mediaType} on ${response.status} ${key}`).toBeDefined();
  const validate = ajv.compile(rewriteRefs(schema as Json) as object);
  if (!validate(body)) {
    throw new Error(
      `${response.status} ${key} does not match its schema: ${ajv.errorsText(validate.errors)}\n${text}`,
    );
  }

  for (const [name, header] of Object.entries(spec?.headers ?? {})) {
    const value = response.headers.get(name);
    if (header.required)
      expect(value, `${name} header on ${response.status} ${key}`).not.toBeNull();
    if (value !== null && header.schema) {
      const headerSchema = header.schema as { type?: string };
      const parsed = headerSchema.type === 'integer' ? Number(value) : value;
      const validateHeader = ajv.compile(rewriteRefs(header.schema) as object);
      expect(validateHeader(parsed), `${name}: ${value} matches its schema`).toBe(true);
    }
  }
  return body;
}

function ingest(path: string, body: BodyInit, headers: Record<string, string> = {}): Request {
  return new Request(`http://collector.test${path}`, {
    method: 'POST',
    body,
    headers: { authorization: BASIC, 'content-type': 'application/json', ...headers },
  });
}

const trackEvent = (messageId: string, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Plan Upgraded',
  userId: 'u-1',
  messageId,
  timestamp: '2024-05-01T10:00:00.000Z',
  properties: { plan: 'pro', revenue: 49 },
  ...extra,
});

let collector: Collector;
let sequence = 0;
const nextId = () => `openapi-${++sequence}`;

beforeAll(async () => {
  collector = createCollector({
    store: 'duckdb::memory:',
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${ADMIN_KEY}=*`, `${TENANT_READ_KEY}=acme`],
  });
  await collector.ready();
});

afterAll(async () => {
  await collector.close();
});

describe('ingest responses match the documented schemas', () => {
  it('200 when every event is stored: { success: true } only', async () => {
    const body = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(
        ingest(
          '/v1/batch',
          JSON.stringify({ batch: [trackEvent(nextId()), trackEvent(nextId())] }),
        ),
      ),
    );
    expect(body).toEqual({ success: true });
  });

  it('200 partial: stored count plus a rejection per refused event', async () => {
    const bad = nextId();
    const body = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(
        ingest(
          '/v1/batch',
          JSON.stringify({
            batch: [trackEvent(nextId()), { type: 'track', messageId: bad, userId: 'u' }],
          }),
        ),
      ),
    );
    expect(body).toMatchObject({
      success: true,
      stored: 1,
      rejected: [{ index: 1, messageId: bad, field: 'event', reason: 'invalid' }],
    });
  });

  it.each([
    ['/v1/track', { event: 'Signed Up', userId: 'u-2' }],
    ['/v1/identify', { userId: 'u-2', traits: { plan: 'pro' } }],
    ['/v1/page', { anonymousId: 'a-2', name: 'Pricing' }],
    ['/v1/screen', { anonymousId: 'a-2', name: 'Home' }],
    ['/v1/group', { userId: 'u-2', groupId: 'g-1' }],
    ['/v1/alias', { userId: 'u-2', previousId: 'a-2' }],
  ])('200 on %s for one event', async (path, event) => {
    const body = await expectDocumented(
      'POST',
      path,
      await collector.fetch(ingest(path, JSON.stringify({ ...event, messageId: nextId() }))),
    );
    expect(body).toEqual({ success: true });
  });

  it.each([
    ['invalid_json', '{"batch":['],
    ['invalid_body', '[]'],
    ['invalid_batch', '{"batch":{}}'],
    ['empty_body', ''],
    ['too_deep', `{"batch":${'['.repeat(100)}${']'.repeat(100)}}`],
  ])('400 %s (malformed body, no rejected list)', async (code, body) => {
    const answer = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(ingest('/v1/batch', body)),
    );
    expect(answer).toMatchObject({ success: false, error: { code } });
    expect(answer).not.toHaveProperty('rejected');
  });

  it('400 invalid_utf8 and invalid_compression', async () => {
    const utf8 = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(ingest('/v1/batch', new Uint8Array([0x7b, 0xff, 0x7d]))),
    );
    expect(utf8).toMatchObject({ error: { code: 'invalid_utf8' } });
    const gzip = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(
        ingest('/v1/batch', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]), {
          'content-encoding': 'gzip',
        }),
      ),
    );
    expect(gzip).toMatchObject({ error: { code: 'invalid_compression' } });
  });

  it('400 invalid_events when every event is refused, naming each one', async () => {
    const body = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(
        ingest(
          '/v1/batch',
          '{"batch":[1,{"type":"track","userId":"u","event":"x","properties":{"__proto__":{}}}]}',
        ),
      ),
    );
    expect(body).toMatchObject({
      success: false,
      error: { code: 'invalid_events' },
      rejected: [
        { index: 0, reason: 'not_an_object' },
        { index: 1, reason: 'forbidden_key', field: 'properties.__proto__' },
      ],
    });
  });

  it('401 without a write key and with an unknown one', async () => {
    const missing = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(
        ingest('/v1/batch', JSON.stringify({ batch: [] }), { authorization: '' }),
      ),
    );
    expect(missing).toMatchObject({ error: { code: 'missing_write_key' } });
    const unknown = await expectDocumented(
      'POST',
      '/v1/track',
      await collector.fetch(
        ingest(
          '/v1/track',
          JSON.stringify({ writeKey: 'wk_not_a_key_1', event: 'x', userId: 'u' }),
          { authorization: '' },
        ),
      ),
    );
    expect(unknown).toMatchObject({ error: { code: 'invalid_write_key' } });
  });

  it('405 with Allow for a GET on an ingest path', async () => {
    const response = await collector.fetch(new Request('http://collector.test/v1/batch'));
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    // The operation documented for the path is its POST; the 405 is listed there.
    expect(await expectDocumented('POST', '/v1/batch', response)).toMatchObject({
      error: { code: 'method_not_allowed' },
    });
  });

  it('413 body_too_large with limitBytes and batch_too_large with limitEvents', async () => {
    const tooBig = JSON.stringify({ batch: [], padding: ' '.repeat(500 * 1024) });
    expect(
      await expectDocumented(
        'POST',
        '/v1/batch',
        await collector.fetch(ingest('/v1/batch', tooBig)),
      ),
    ).toMatchObject({
      error: { code: 'body_too_large', limitBytes: 512_000 },
    });
    const tooMany = JSON.stringify({
      batch: Array.from({ length: 2_501 }, () => ({ type: 'track', event: 'x', userId: 'u' })),
    });
    expect(
      await expectDocumented(
        'POST',
        '/v1/batch',
        await collector.fetch(ingest('/v1/batch', tooMany)),
      ),
    ).toMatchObject({
      error: { code: 'batch_too_large', limitEvents: 2_500 },
    });
  });

  it('415 for a content type and for a content encoding', async () => {
    const type = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(ingest('/v1/batch', '<batch/>', { 'content-type': 'application/xml' })),
    );
    expect(type).toMatchObject({ error: { code: 'unsupported_content_type' } });
    const encoding = await expectDocumented(
      'POST',
      '/v1/batch',
      await collector.fetch(ingest('/v1/batch', gzipSync('{}'), { 'content-encoding': 'br' })),
    );
    expect(encoding).toMatchObject({ error: { code: 'unsupported_encoding' } });
  });
});

describe('responses of a rate-limited, a failing and a closing collector', () => {
  const dirs: string[] = [];
  const collectors: Collector[] = [];

  afterEach(async () => {
    await Promise.all(collectors.splice(0).map((item) => item.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('429 rate_limited with Retry-After', async () => {
    const limited = createCollector({
      store: 'duckdb::memory:',
      writeKeys: [`${WRITE_KEY}=acme`],
      rateLimit: { eventsPerSecond: 1, burst: 2 },
    });
    collectors.push(limited);
    const batch = JSON.stringify({ batch: [trackEvent(nextId()), trackEvent(nextId())] });
    expect((await limited.fetch(ingest('/v1/batch', batch))).status).toBe(200);
    const response = await limited.fetch(ingest('/v1/batch', batch));
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await expectDocumented('POST', '/v1/batch', response)).toMatchObject({
      error: { code: 'rate_limited' },
    });
  });

  it('503 store_unavailable with Retry-After when the DuckDB file cannot be opened; /health 503 too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'not-a-directory'), 'x');
    const broken = createCollector({
      store: `duckdb:${join(dir, 'not-a-directory', 'events.duckdb')}`,
      writeKeys: [`${WRITE_KEY}=acme`],
    });
    collectors.push(broken);
    const response = await broken.fetch(
      ingest('/v1/batch', JSON.stringify({ batch: [trackEvent(nextId())] })),
    );
    expect(response.status).toBe(503);
    expect(await expectDocumented('POST', '/v1/batch', response)).toMatchObject({
      error: { code: 'store_unavailable' },
    });

    const health = await broken.fetch(new Request('http://collector.test/health'));
    expect(health.status).toBe(503);
    expect(await expectDocumented('GET', '/health', health)).toMatchObject({
      status: 'unavailable',
      store: { ok: false },
    });
  });

  it('503 store_unavailable when a real DuckDB store has gone away after opening', async () => {
    const store = await createDuckDbStore({ path: ':memory:' });
    const gone = createCollector({ store, writeKeys: [`${WRITE_KEY}=acme`] });
    collectors.push(gone);
    await gone.ready();
    await store.close();
    const response = await gone.fetch(
      ingest('/v1/identify', JSON.stringify({ userId: 'u-9', messageId: nextId() })),
    );
    expect(response.status).toBe(503);
    expect(await expectDocumented('POST', '/v1/identify', response)).toMatchObject({
      error: { code: 'store_unavailable' },
    });
  });

  it('503 overloaded with Retry-After when the write queue is full', async () => {
    // A store whose first write hangs: the next request waits in the queue, the one after is refused.
    const store = await createDuckDbStore({ path: ':memory:' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = wrapStore(store, {
      append: async (rows) => {
        await gate;
        return store.append(rows);
      },
    });
    const busy = createCollector({
      store: slow,
      writeKeys: [`${WRITE_KEY}=acme`],
      writeQueue: { maxPendingRows: 1 },
    });
    collectors.push(busy);
    await busy.ready();
    const batch = () =>
      ingest('/v1/batch', JSON.stringify({ batch: [trackEvent(nextId()), trackEvent(nextId())] }));
    const writing = busy.fetch(batch());
    const waiting = busy.fetch(batch());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const response = await busy.fetch(batch());
    expect(response.status).toBe(503);
    expect(await expectDocumented('POST', '/v1/batch', response)).toMatchObject({
      error: { code: 'overloaded' },
    });
    release();
    expect((await writing).status).toBe(200);
    expect((await waiting).status).toBe(200);
  });

  it('503 shutting_down with Retry-After on every path once closing', async () => {
    const closing = createCollector({
      store: 'duckdb::memory:',
      writeKeys: [`${WRITE_KEY}=acme`],
      readKeys: [`${ADMIN_KEY}=*`],
    });
    await closing.ready();
    await closing.close();
    const ingestResponse = await closing.fetch(ingest('/v1/batch', JSON.stringify({ batch: [] })));
    expect(await expectDocumented('POST', '/v1/batch', ingestResponse)).toMatchObject({
      error: { code: 'shutting_down' },
    });
    for (const path of ['/health', '/metrics', '/openapi.json']) {
      const response = await closing.fetch(new Request(`http://collector.test${path}`));
      expect(response.status).toBe(503);
      expect(await expectDocumented('GET', path, response)).toMatchObject({
        error: { code: 'shutting_down' },
      });
    }
  });
});

describe('health, metrics and the document itself', () => {
  it('GET /health 200 with the store kind', async () => {
    const body = await expectDocumented(
      'GET',
      '/health',
      await collector.fetch(new Request('http://collector.test/health')),
    );
    expect(body).toMatchObject({ status: 'ok', store: { kind: 'duckdb', ok: true } });
  });

  it('GET /metrics: 401 without a key and with a tenant read key, 200 text with an admin key', async () => {
    const none = await collector.fetch(new Request('http://collector.test/metrics'));
    expect(await expectDocumented('GET', '/metrics', none)).toMatchObject({
      error: { code: 'admin_key_required' },
    });
    const tenant = await collector.fetch(
      new Request('http://collector.test/metrics', {
        headers: { authorization: `Bearer ${TENANT_READ_KEY}` },
      }),
    );
    expect(tenant.status).toBe(401);
    await expectDocumented('GET', '/metrics', tenant);
    const admin = await collector.fetch(
      new Request('http://collector.test/metrics', {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      }),
    );
    expect(admin.status).toBe(200);
    expect(await expectDocumented('GET', '/metrics', admin)).toMatch(/^# HELP /m);
  });

  it('405 with Allow: GET for a POST to a GET route', async () => {
    for (const path of ['/health', '/metrics', '/openapi.json']) {
      const response = await collector.fetch(
        new Request(`http://collector.test${path}`, { method: 'POST', body: '{}' }),
      );
      expect(response.headers.get('allow')).toBe('GET');
      // The operation documented for the path is its GET; the 405 is listed there.
      expect(await expectDocumented('GET', path, response)).toMatchObject({
        error: { code: 'method_not_allowed' },
      });
    }
  });

  it('GET /openapi.json serves this document, OpenAPI 3.1.0', async () => {
    const response = await collector.fetch(new Request('http://collector.test/openapi.json'));
    const body = await expectDocumented('GET', '/openapi.json', response);
    expect(body).toEqual(document);
    expect((body as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('every documented path is served (no 404) and every operationId is unique', async () => {
    const ids: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, spec] of Object.entries(methods)) {
        ids.push(spec.operationId);
        const response = await collector.fetch(
          new Request(`http://collector.test${path}`, {
            method: method.toUpperCase(),
            body: method === 'get' ? null : '{}',
          }),
        );
        expect(response.status, `${method} ${path}`).not.toBe(404);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every $ref points at a registered component schema', () => {
    const refs = JSON.stringify(openApiDocument).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(ref.startsWith('"$ref":"#/components/schemas/'), ref).toBe(true);
      expect(ajv.getSchema(`${SCHEMA_BASE}${name}`), ref).toBeDefined();
    }
  });
});

describe('documented request bodies accept what Segment clients send', () => {
  it('a Segment-style batch validates against the /v1/batch request schema and is stored', async () => {
    const batch = {
      batch: [
        trackEvent(nextId(), {
          anonymousId: 'a-1',
          context: { library: { name: 'analytics-node', version: '3.1.0' } },
        }),
        { type: 'identify', userId: 42, messageId: nextId(), traits: { email: 'x@example.com' } },
        {
          type: 'page',
          anonymousId: 'a-1',
          name: 'Home',
          messageId: nextId(),
          properties: { path: '/' },
        },
      ],
      sentAt: '2024-05-01T10:00:01.000Z',
      writeKey: WRITE_KEY,
    };
    const schema = operation('/v1/batch', 'POST').requestBody?.content['application/json']?.schema;
    const validate = ajv.compile(rewriteRefs(schema as Json) as object);
    expect(validate(batch), ajv.errorsText(validate.errors)).toBe(true);
    const invalid = { batch: [{ type: 'purchase' }] };
    expect(validate(invalid)).toBe(false);
    const response = await collector.fetch(
      ingest('/v1/batch', JSON.stringify(batch), { authorization: '' }),
    );
    expect(await expectDocumented('POST', '/v1/batch', response)).toEqual({ success: true });
  });
});

describe('read responses match the documented schemas', () => {
  const DAY = '2024-05-01';
  const read = (method: string, path: string, key: string | undefined, body?: unknown) =>
    collector.fetch(
      new Request(`http://collector.test${path}`, {
        method,
        headers: key ? { authorization: `Bearer ${key}` } : {},
        body: body === undefined ? null : JSON.stringify(body),
      }),
    );
  const routes: Array<[string, string, string, unknown?]> = [
    [
      'GET',
      '/v1/metrics',
      `?names=dau,wau,mau,stickiness,new_users,events,revenue&from=${DAY}&to=${DAY}&interval=week`,
    ],
    ['GET', '/v1/dashboard', `?from=${DAY}&to=${DAY}`],
    [
      'POST',
      '/v1/funnel',
      '',
      {
        steps: [{ event: 'Plan Upgraded' }, { event: 'Plan Upgraded', where: { plan: 'pro' } }],
        windowSeconds: 86_400,
        from: DAY,
        to: DAY,
        breakdown: 'properties.plan',
      },
    ],
    ['POST', '/v1/retention', '', { interval: 'day', periods: 3, from: DAY, to: DAY }],
    ['GET', '/v1/attribution', `?from=${DAY}&to=${DAY}&model=last_touch`],
    ['GET', '/v1/usage', `?from=${DAY}&to=${DAY}`],
    ['GET', '/v1/quotas', ''],
  ];

  for (const [method, path, query, body] of routes) {
    it(`${method} ${path}: 200, 400, 401, 403 and 405`, async () => {
      await collector.fetch(ingest('/v1/batch', JSON.stringify({ batch: [trackEvent(nextId())] })));
      const ok = await expectDocumented(
        method,
        path,
        await read(method, `${path}${query}`, TENANT_READ_KEY, body),
      );
      expect(ok).toBeTypeOf('object');
      await expectDocumented(method, path, await read(method, `${path}${query}`, undefined, body));
      await expectDocumented(method, path, await read(method, `${path}${query}`, ADMIN_KEY, body));
      const separator = query ? '&' : '?';
      await expectDocumented(
        method,
        path,
        await read(method, `${path}${query}${separator}tenant=other`, TENANT_READ_KEY, body),
      );
      await expectDocumented(
        method,
        path,
        await read(method === 'GET' ? 'DELETE' : 'GET', `${path}${query}`, TENANT_READ_KEY),
      );
      if (path !== '/v1/quotas') {
        const broken = method === 'GET' ? `${path}?from=nope&to=${DAY}` : path;
        await expectDocumented(
          method,
          path,
          await read(
            method,
            broken,
            TENANT_READ_KEY,
            method === 'GET' ? undefined : { from: 'nope' },
          ),
        );
      }
    });
  }
});

describe('coverage', () => {
  it('the provoked statuses cover what the ingest, health and metrics operations document', () => {
    const statuses = (key: string) => [...(provoked.get(key) ?? [])].sort((a, b) => a - b);
    expect(statuses('POST /v1/batch')).toEqual([200, 400, 401, 405, 413, 415, 429, 503]);
    expect(statuses('GET /health')).toEqual([200, 405, 503]);
    expect(statuses('GET /metrics')).toEqual([200, 401, 405, 503]);
    expect(statuses('GET /openapi.json')).toEqual([200, 405, 503]);
    const documented = (path: string, method: string) =>
      Object.keys(operation(path, method).responses)
        .map(Number)
        .sort((a, b) => a - b);
    expect(documented('/v1/batch', 'POST')).toEqual(statuses('POST /v1/batch'));
    expect(documented('/health', 'GET')).toEqual(statuses('GET /health'));
    expect(documented('/metrics', 'GET')).toEqual(statuses('GET /metrics'));
    expect(documented('/openapi.json', 'GET')).toEqual(statuses('GET /openapi.json'));
  });
});
