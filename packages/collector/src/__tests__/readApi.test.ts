import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import type { CollectorOptions } from '../options';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';
import { wrapStore } from './wrapStore';

/** Read API: auth and tenant scoping on every route, parameter errors, caching, quotas, stitching. */

const KEYS = {
  writeA: 'wk_tenant_a_1234',
  writeB: 'wk_tenant_b_1234',
  readA: 'rk_tenant_a_1234',
  readB: 'rk_tenant_b_1234',
  admin: 'rk_admin_12345678',
};

interface Running {
  base: string;
  collector: Collector;
  server: Server;
  store: Store;
  queries: { count: number };
}
const running: Running[] = [];

afterEach(async () => {
  for (const { server, collector } of running.splice(0)) {
    await new Promise((resolve) => server.close(resolve));
    await collector.close();
  }
});

async function start(options: Partial<CollectorOptions> = {}): Promise<Running> {
  const inner = await createDuckDbStore({ path: ':memory:' });
  const queries = { count: 0 };
  const store = wrapStore(inner, {});
  const counted: Store = {
    ...store,
    query: (statement) => {
      queries.count++;
      return inner.query(statement);
    },
  };
  const collector = createCollector({
    store: counted,
    writeKeys: [`${KEYS.writeA}=a`, `${KEYS.writeB}=b`],
    readKeys: [`${KEYS.readA}=a`, `${KEYS.readB}=b`, `${KEYS.admin}=*`],
    rateLimit: false,
    ...options,
  });
  await collector.ready();
  const server = createServer(createNodeListener(collector));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result = { base, collector, server, store: counted, queries };
  running.push(result);
  return result;
}

async function ingest(app: Running, writeKey: string, batch: unknown[]) {
  const response = await fetch(`${app.base}/v1/batch`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ batch }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function call(
  app: Running,
  method: string,
  path: string,
  options: { key?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  const response = await fetch(`${app.base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body };
}

let sequence = 0;
function track(event: string, timestamp: string, ids: { userId?: string; anonymousId?: string }) {
  return { type: 'track', event, messageId: `m-${++sequence}`, timestamp, ...ids };
}

const DAY = '2024-05-10';
const ROUTES: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: `/v1/metrics?names=dau,events&from=${DAY}&to=${DAY}` },
  { method: 'GET', path: `/v1/dashboard?from=${DAY}&to=${DAY}` },
  {
    method: 'POST',
    path: '/v1/funnel',
    body: { steps: [{ event: 'a' }, { event: 'b' }], windowSeconds: 3600, from: DAY, to: DAY },
  },
  {
    method: 'POST',
    path: '/v1/retention',
    body: { interval: 'day', periods: 3, from: DAY, to: DAY },
  },
  { method: 'GET', path: `/v1/attribution?from=${DAY}&to=${DAY}` },
  { method: 'GET', path: `/v1/usage?from=${DAY}&to=${DAY}` },
  { method: 'GET', path: '/v1/quotas' },
];

function withTenant(path: string, tenant: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}tenant=${tenant}`;
}

describe('auth and tenant scoping, on every metrics route', () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path.split('?')[0]}`, async () => {
      const app = await start();
      await ingest(app, KEYS.writeA, [
        track('a', `${DAY}T10:00:00.000Z`, { userId: 'alice' }),
        track('b', `${DAY}T10:05:00.000Z`, { userId: 'alice' }),
        track('a', `${DAY}T11:00:00.000Z`, { userId: 'anna' }),
      ]);
      await ingest(app, KEYS.writeB, [track('a', `${DAY}T12:00:00.000Z`, { userId: 'bob' })]);
      const { method, path, body } = route;

      expect((await call(app, method, path, { body })).body.error.code).toBe('missing_read_key');
      const writeKey = await call(app, method, path, { key: KEYS.writeA, body });
      expect([writeKey.status, writeKey.body.error.code]).toEqual([401, 'invalid_read_key']);
      const other = await call(app, method, withTenant(path, 'a'), { key: KEYS.readB, body });
      expect([other.status, other.body.error.code]).toEqual([403, 'forbidden_tenant']);
      const adminWithout = await call(app, method, path, { key: KEYS.admin, body });
      expect([adminWithout.status, adminWithout.body.error.code]).toEqual([400, 'tenant_required']);

      const a = await call(app, method, path, { key: KEYS.readA, body });
      const b = await call(app, method, path, { key: KEYS.readB, body });
      const adminA = await call(app, method, withTenant(path, 'a'), { key: KEYS.admin, body });
      expect(a.status).toBe(200);
      expect(adminA.body).toEqual(a.body);
      if (route.path.startsWith('/v1/quotas')) return; // no quotas configured: both empty
      expect(b.body).not.toEqual(a.body);
    });
  }

  it('a tenant sees only its own numbers', async () => {
    const app = await start();
    await ingest(app, KEYS.writeA, [
      track('a', `${DAY}T10:00:00.000Z`, { userId: 'alice' }),
      track('a', `${DAY}T10:01:00.000Z`, { userId: 'anna' }),
    ]);
    await ingest(app, KEYS.writeB, [track('a', `${DAY}T12:00:00.000Z`, { userId: 'bob' })]);
    const path = `/v1/metrics?names=dau,events&from=${DAY}&to=${DAY}`;
    const a = await call(app, 'GET', path, { key: KEYS.readA });
    const b = await call(app, 'GET', path, { key: KEYS.readB });
    expect(a.body.series).toEqual({
      dau: [{ date: DAY, value: 2 }],
      events: [{ date: DAY, value: 2 }],
    });
    expect(b.body.series.dau).toEqual([{ date: DAY, value: 1 }]);
  });
});

describe('parameters', () => {
  const cases: Array<[string, string, string, unknown?]> = [
    ['unknown series name', 'GET', `/v1/metrics?names=dau,foo&from=${DAY}&to=${DAY}`],
    ['missing from', 'GET', `/v1/metrics?names=dau&to=${DAY}`],
    ['bad time zone', 'GET', `/v1/metrics?names=dau&from=${DAY}&to=${DAY}&tz=Mars/Base`],
    ['reversed range', 'GET', `/v1/metrics?names=dau&from=2024-05-11&to=2024-05-01`],
    ['impossible date', 'GET', `/v1/metrics?names=dau&from=2024-02-30&to=2024-03-01`],
    ['range over the cap', 'GET', `/v1/metrics?names=dau&from=2024-01-01&to=2024-12-31`],
    ['bad interval', 'GET', `/v1/metrics?names=dau&from=${DAY}&to=${DAY}&interval=year`],
    [
      'one-step funnel',
      'POST',
      '/v1/funnel',
      { steps: [{ event: 'a' }], windowSeconds: 60, from: DAY, to: DAY },
    ],
    [
      'funnel breakdown on an unknown column',
      'POST',
      '/v1/funnel',
      {
        steps: [{ event: 'a' }, { event: 'b' }],
        windowSeconds: 60,
        from: DAY,
        to: DAY,
        breakdown: 'password',
      },
    ],
    [
      'retention without periods',
      'POST',
      '/v1/retention',
      { interval: 'week', from: DAY, to: DAY },
    ],
    ['bad attribution model', 'GET', `/v1/attribution?from=${DAY}&to=${DAY}&model=linear`],
    ['unknown dashboard comparison', 'GET', `/v1/dashboard?from=${DAY}&to=${DAY}&compare=next`],
    ['usage with an ISO timestamp', 'GET', '/v1/usage?from=2024-05-01T00:00:00Z&to=2024-05-02'],
  ];
  for (const [name, method, path, body] of cases) {
    it(`${name} → 400 naming the parameter`, async () => {
      const app = await start({ read: { maxRangeDays: 90 } });
      const response = await call(app, method, path, { key: KEYS.readA, body });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_parameter');
      expect(response.body.error.parameter).toBeTruthy();
      expect(response.body.error.message).toContain(response.body.error.parameter);
    });
  }

  it('a body that is not JSON → 400 invalid_json', async () => {
    const app = await start();
    const response = await fetch(`${app.base}/v1/funnel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.readA}` },
      body: '{"steps": [',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe('invalid_json');
  });

  it('hostile strings in parameters are data, not SQL', async () => {
    const app = await start();
    await ingest(app, KEYS.writeA, [
      track("x'); DROP TABLE events; --", `${DAY}T10:00:00.000Z`, { userId: 'u' }),
    ]);
    const hostile = encodeURIComponent("x'); DROP TABLE events; --");
    const response = await call(
      app,
      'GET',
      `/v1/metrics?names=events&from=${DAY}&to=${DAY}&event=${hostile}`,
      {
        key: KEYS.readA,
      },
    );
    expect(response.body.series.events).toEqual([{ date: DAY, value: 1 }]);
    const funnel = await call(app, 'POST', '/v1/funnel', {
      key: KEYS.readA,
      body: {
        steps: [
          { event: "a' OR 1=1 --", where: { "p') OR 1=1 --": "'; DROP TABLE events" } },
          { event: 'b' },
        ],
        windowSeconds: 60,
        from: DAY,
        to: DAY,
        breakdown: "properties.x') --",
      },
    });
    expect(funnel.status).toBe(200);
    expect(funnel.body.steps[0].users).toBe(0);
    expect(await app.store.countEvents('a')).toBe(1);
  });
});

describe('result cache', () => {
  it('answers a repeated query without the store, and drops it when the tenant writes', async () => {
    const app = await start({ read: { cacheTtlMs: 60_000 } });
    const path = `/v1/metrics?names=events&from=${DAY}&to=${DAY}`;
    await ingest(app, KEYS.writeA, [track('a', `${DAY}T10:00:00.000Z`, { userId: 'u' })]);
    expect((await call(app, 'GET', path, { key: KEYS.readA })).body.series.events[0].value).toBe(1);
    const before = app.queries.count;
    expect((await call(app, 'GET', path, { key: KEYS.readA })).body.series.events[0].value).toBe(1);
    expect(app.queries.count).toBe(before);

    // Another tenant's write leaves tenant a's cache alone; a write of tenant a drops it.
    await ingest(app, KEYS.writeB, [track('a', `${DAY}T10:00:00.000Z`, { userId: 'v' })]);
    await call(app, 'GET', path, { key: KEYS.readA });
    expect(app.queries.count).toBe(before);
    await ingest(app, KEYS.writeA, [track('a', `${DAY}T11:00:00.000Z`, { userId: 'u' })]);
    expect((await call(app, 'GET', path, { key: KEYS.readA })).body.series.events[0].value).toBe(2);
    expect(app.queries.count).toBeGreaterThan(before);
  });
});

describe('identity stitching', () => {
  it('a visitor who browses anonymously and then signs up is one user for DAU, new users, funnels and retention', async () => {
    const app = await start();
    const anon = { anonymousId: 'visitor-1' };
    await ingest(app, KEYS.writeA, [
      track('page_viewed', '2024-05-01T09:00:00.000Z', anon),
      track('signup_started', '2024-05-01T09:05:00.000Z', anon),
      track('signup_completed', '2024-05-02T10:00:00.000Z', { ...anon, userId: 'user-1' }),
      track('payment_completed', '2024-05-03T10:00:00.000Z', { userId: 'user-1' }),
      track('page_viewed', '2024-05-03T11:00:00.000Z', anon),
    ]);
    const key = KEYS.readA;
    const metrics = await call(
      app,
      'GET',
      '/v1/metrics?names=dau,new_users,wau&from=2024-05-01&to=2024-05-03',
      { key },
    );
    expect(metrics.body.series.dau.map((point: { value: number }) => point.value)).toEqual([
      1, 1, 1,
    ]);
    expect(metrics.body.series.new_users.map((point: { value: number }) => point.value)).toEqual([
      1, 0, 0,
    ]);
    expect(metrics.body.series.wau.map((point: { value: number }) => point.value)).toEqual([
      1, 1, 1,
    ]);

    const funnel = await call(app, 'POST', '/v1/funnel', {
      key,
      body: {
        steps: [
          { event: 'signup_started' },
          { event: 'signup_completed' },
          { event: 'payment_completed' },
        ],
        windowSeconds: 7 * 86_400,
        from: '2024-05-01',
        to: '2024-05-03',
      },
    });
    expect(funnel.body.steps.map((step: { users: number }) => step.users)).toEqual([1, 1, 1]);

    const retention = await call(app, 'POST', '/v1/retention', {
      key,
      body: { interval: 'day', periods: 3, from: '2024-05-01', to: '2024-05-03' },
    });
    expect(retention.body.cohorts).toEqual([
      { cohort: '2024-05-01', size: 1, retained: [1, 1, 1], percent: [100, 100, 100] },
    ]);
  });
});

describe('erasure, seen through the metrics', () => {
  it('after DELETE /v1/users/:id the user no longer counts anywhere, cached answers included', async () => {
    const app = await start({ read: { cacheTtlMs: 600_000 } });
    const alice = { anonymousId: 'anon-alice' };
    await ingest(app, KEYS.writeA, [
      track('page_viewed', '2024-05-01T09:00:00.000Z', alice),
      track('signup_started', '2024-05-01T09:05:00.000Z', alice),
      track('signup_completed', '2024-05-01T09:10:00.000Z', { ...alice, userId: 'alice' }),
      {
        ...track('payment_completed', '2024-05-02T10:00:00.000Z', { userId: 'alice' }),
        properties: { revenue: 40 },
      },
      track('page_viewed', '2024-05-01T12:00:00.000Z', { anonymousId: 'anon-bob' }),
      track('signup_started', '2024-05-01T12:05:00.000Z', { anonymousId: 'anon-bob' }),
      track('signup_completed', '2024-05-02T12:10:00.000Z', {
        anonymousId: 'anon-bob',
        userId: 'bob',
      }),
      {
        ...track('payment_completed', '2024-05-02T13:00:00.000Z', { userId: 'bob' }),
        properties: { revenue: 10 },
      },
    ]);
    const key = KEYS.readA;
    const metricsPath =
      '/v1/metrics?names=dau,new_users,events,revenue&from=2024-05-01&to=2024-05-02';
    const funnelBody = {
      steps: [
        { event: 'signup_started' },
        { event: 'signup_completed' },
        { event: 'payment_completed' },
      ],
      windowSeconds: 7 * 86_400,
      from: '2024-05-01',
      to: '2024-05-02',
    };
    const retentionBody = { interval: 'day', periods: 2, from: '2024-05-01', to: '2024-05-02' };
    const snapshot = async () => ({
      metrics: (await call(app, 'GET', metricsPath, { key })).body.series,
      funnel: (await call(app, 'POST', '/v1/funnel', { key, body: funnelBody })).body.steps.map(
        (step: { users: number }) => step.users,
      ),
      retention: (await call(app, 'POST', '/v1/retention', { key, body: retentionBody })).body
        .cohorts,
      dashboard: (await call(app, 'GET', '/v1/dashboard?from=2024-05-01&to=2024-05-02', { key }))
        .body,
    });

    const before = await snapshot();
    expect(before.metrics.dau.map((point: { value: number }) => point.value)).toEqual([2, 2]);
    expect(before.metrics.revenue.map((point: { value: number }) => point.value)).toEqual([0, 50]);
    expect(before.funnel).toEqual([2, 2, 2]);
    expect(before.retention[0]).toMatchObject({ cohort: '2024-05-01', size: 2, retained: [2, 2] });
    expect(before.dashboard).toMatchObject({ signups: 2, newPayingUsers: 2 });

    const erased = await call(app, 'DELETE', '/v1/users/alice', { key });
    expect(erased.status).toBe(200);
    expect(erased.body.erased.events).toBe(4);

    const after = await snapshot();
    expect(after.metrics.dau.map((point: { value: number }) => point.value)).toEqual([1, 1]);
    expect(after.metrics.new_users.map((point: { value: number }) => point.value)).toEqual([1, 0]);
    expect(after.metrics.events.map((point: { value: number }) => point.value)).toEqual([2, 2]);
    expect(after.metrics.revenue.map((point: { value: number }) => point.value)).toEqual([0, 10]);
    expect(after.funnel).toEqual([1, 1, 1]);
    expect(after.retention[0]).toMatchObject({ cohort: '2024-05-01', size: 1, retained: [1, 1] });
    expect(after.dashboard).toMatchObject({ signups: 1, newPayingUsers: 1, revenue: 10 });
    const exported = await call(app, 'GET', '/v1/users/alice/export', { key });
    expect(exported.body.events).toEqual([]);
  });
});

describe('quotas', () => {
  const today = () => new Date().toISOString();

  it('soft mode stores everything and reports the quota as exceeded', async () => {
    const app = await start({ quotas: { limits: { a: { api_call: 2 } } }, publicMetrics: true });
    const batch = [1, 2, 3].map(() => track('api_call', today(), { userId: 'u' }));
    expect((await ingest(app, KEYS.writeA, batch)).body).toEqual({ success: true });
    const quotas = await call(app, 'GET', '/v1/quotas', { key: KEYS.readA });
    expect(quotas.body.quotas).toEqual([
      { event: 'api_call', limit: 2, current: 3, exceeded: true },
    ]);
    expect(await app.store.countEvents('a')).toBe(3);
    const metrics = await (await fetch(`${app.base}/metrics`)).text();
    expect(metrics).toMatch(
      /sightline_quota_exceeded_total\{tenant="a",event="api_call",mode="soft"\} 1/,
    );
  });

  it('hard mode refuses events over the quota: named in the answer, then 429 with Retry-After', async () => {
    const app = await start({ quotas: { mode: 'hard', limits: { a: { api_call: 2 } } } });
    const first = await ingest(app, KEYS.writeA, [
      track('api_call', today(), { userId: 'u' }),
      track('other', today(), { userId: 'u' }),
      track('api_call', today(), { userId: 'u' }),
      track('api_call', today(), { userId: 'u' }),
    ]);
    expect(first.status).toBe(200);
    expect(first.body.stored).toBe(3);
    expect(first.body.rejected).toMatchObject([{ index: 3, reason: 'quota_exceeded' }]);

    const second = await ingest(app, KEYS.writeA, [track('api_call', today(), { userId: 'u' })]);
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('quota_exceeded');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other tenants and other events are not limited.
    expect(
      (await ingest(app, KEYS.writeB, [track('api_call', today(), { userId: 'v' })])).status,
    ).toBe(200);
    expect(
      (await ingest(app, KEYS.writeA, [track('other', today(), { userId: 'u' })])).status,
    ).toBe(200);
    expect(await app.store.countEvents('a')).toBe(4);
  });
});
