import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '@sightline/core';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isHealthCheck, type SightlineFastifyOptions, sightlineFastify } from '../fastify';
import { createNodeAnalytics, type NodeAnalytics } from '../nodeAnalytics';
import { recordingAnalytics, SLEEP_MS, sleep, slowBody } from './middlewareHarness';

/** The routes of a small app, each tracking an event of its own while it runs. */
async function routes(app: FastifyInstance, analytics: NodeAnalytics): Promise<void> {
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => {
    await sleep(5);
    analytics.track({ event: 'profile_viewed', properties: { profile: request.params.id } });
    return { id: request.params.id };
  });
  app.post<{ Body: { sku: string } }>('/orders', async (request, reply) => {
    analytics.track({ event: 'order_placed', properties: { sku: request.body.sku } });
    return reply.status(201).send({ ok: true });
  });
  app.get('/slow', async () => {
    await sleep(SLEEP_MS);
    return 'done';
  });
  app.get('/boom', async () => {
    throw new Error('boom');
  });
  app.get('/health', async () => 'ok');
  app.get('/internal/jobs', async () => 'jobs');
  // An encapsulated plugin under a prefix with a parameter.
  await app.register(
    async (orgs) => {
      orgs.get<{ Params: { orgId: string; projectId: string } }>(
        '/projects/:projectId',
        async (request) => ({ org: request.params.orgId, project: request.params.projectId }),
      );
    },
    { prefix: '/api/orgs/:orgId' },
  );
}

const apps: FastifyInstance[] = [];
const clients: NodeAnalytics[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const client of clients.splice(0)) await client.close({ timeoutMs: 500 });
});

async function listen(
  app: FastifyInstance,
): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

/** An app with the plugin registered at its root, then {@link routes}, on a loopback port. */
async function start(
  options: Partial<SightlineFastifyOptions> = {},
  setUp: (app: FastifyInstance) => void = () => {},
) {
  const recording = recordingAnalytics();
  clients.push(recording.analytics);
  const app = Fastify({ forceCloseConnections: true });
  await app.register(sightlineFastify, { analytics: recording.analytics, ...options });
  setUp(app);
  await routes(app, recording.analytics);
  const request = await listen(app);
  return { ...recording, request };
}

const fromHeaders = (request: FastifyRequest) => ({
  userId: request.headers['x-user-id'] as string | undefined,
  tenant: request.headers['x-tenant'] as string | undefined,
});

describe('sightlineFastify', () => {
  it('tracks api_request with the route template, not the raw path with its ids', async () => {
    const { request, sent } = await start();
    expect((await request('/users/42?tab=posts')).status).toBe(200);
    const [event] = await sent('api_request', 1);
    expect(event?.properties).toMatchObject({ method: 'GET', route: '/users/:id', status: 200 });
  });

  it('applies to routes of encapsulated plugins, with their prefix in the template', async () => {
    const { request, sent } = await start();
    expect(await (await request('/api/orgs/7/projects/9')).json()).toEqual({
      org: '7',
      project: '9',
    });
    const [event] = await sent('api_request', 1);
    expect(event?.properties.route).toBe('/api/orgs/:orgId/projects/:projectId');
  });

  it('reports 404s as (unmatched) and a throwing handler as 500', async () => {
    const { request, sent } = await start();
    expect((await request('/nope/123')).status).toBe(404);
    expect((await request('/boom')).status).toBe(500);
    const events = await sent('api_request', 2);
    expect(events.map((event) => [event.properties.route, event.properties.status])).toEqual(
      expect.arrayContaining([
        ['(unmatched)', 404],
        ['/boom', 500],
      ]),
    );
  });

  it('measures duration_ms from arrival to the finished response', async () => {
    const { request, sent } = await start();
    await (await request('/slow')).text();
    const [event] = await sent('api_request', 1);
    // A timer may fire up to a millisecond before performance.now() says it is due.
    expect(event?.properties.duration_ms).toBeGreaterThanOrEqual(SLEEP_MS - 1);
  });

  it('skips health checks by default, and what a custom skip says', async () => {
    const defaults = await start();
    await defaults.request('/health');
    await defaults.request('/users/1');
    const [tracked] = await defaults.sent('api_request', 1);
    expect(tracked?.properties.route).toBe('/users/:id');

    const custom = await start({
      skip: (path) => isHealthCheck(path) || path.startsWith('/internal/'),
    });
    await custom.request('/internal/jobs');
    await custom.request('/health');
    await custom.request('/users/1');
    expect((await custom.sent('api_request', 1))[0]?.properties.route).toBe('/users/:id');
  });

  it('tracks every request at sampleRate 1 and none at 0, where the context still applies', async () => {
    const all = await start({ sampleRate: 1 });
    for (let id = 1; id <= 5; id++) await all.request(`/users/${id}`);
    expect(await all.sent('api_request', 5)).toHaveLength(5);

    const none = await start({ sampleRate: 0, identify: fromHeaders });
    for (let id = 1; id <= 5; id++) {
      await none.request(`/users/${id}`, { headers: { 'x-user-id': 'u-7' } });
    }
    const own = await none.sent('profile_viewed', 5);
    expect(own.every((event) => event.userId === 'u-7')).toBe(true);
    expect(none.events.filter((event) => event.event === 'api_request')).toEqual([]);
  });

  it('refuses a sampleRate outside 0..1 when registered, naming the option', async () => {
    const analytics = createNodeAnalytics({
      writeKey: 'wk_test',
      transport: { send: async () => ({ status: 200 }) },
    });
    clients.push(analytics);
    for (const sampleRate of [-0.1, 1.5, Number.NaN, '0.5' as unknown as number]) {
      const app = Fastify();
      app.register(sightlineFastify, { analytics, sampleRate });
      const failure = await app.ready().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ConfigurationError);
      expect(failure).toMatchObject({ option: 'sampleRate' });
    }
  });

  it("gives the identified user to api_request and to the handler's own events, per request, across body parsing", async () => {
    const { request, sent } = await start({ identify: fromHeaders });
    await Promise.all([
      request('/users/1', { headers: { 'x-user-id': 'u-1', 'x-tenant': 'acme' } }),
      request('/users/2', { headers: { 'x-user-id': 'u-2', 'x-tenant': 'globex' } }),
      request('/orders', {
        method: 'POST',
        headers: { 'x-user-id': 'u-3', 'x-tenant': 'initech', 'content-type': 'application/json' },
        body: slowBody(JSON.stringify({ sku: 'sku-9' })),
        duplex: 'half',
      } as RequestInit),
    ]);
    const own = [...(await sent('profile_viewed', 2)), ...(await sent('order_placed', 1))];
    expect(
      own.map((event) => [
        event.properties.profile ?? event.properties.sku,
        event.userId,
        event.context.tenant,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['1', 'u-1', 'acme'],
        ['2', 'u-2', 'globex'],
        ['sku-9', 'u-3', 'initech'],
      ]),
    );
    const requests = await sent('api_request', 3);
    expect(
      requests.map((event) => [event.properties.route, event.userId, event.context.tenant]),
    ).toEqual(
      expect.arrayContaining([
        ['/users/:id', 'u-1', 'acme'],
        ['/users/:id', 'u-2', 'globex'],
        ['/orders', 'u-3', 'initech'],
      ]),
    );
  });

  it('restores the context after a hook that resumes from a callback outside it', async () => {
    const { request, sent } = await start({ identify: fromHeaders }, (app) => {
      // A gate shared by all requests (a rate limiter, a pool), opened by a timer started with the
      // app: the callbacks it runs carry no request's context.
      const waiting: Array<() => void> = [];
      const timer = setInterval(() => {
        for (const release of waiting.splice(0)) release();
      }, 5);
      app.addHook('onClose', (_app, done) => {
        clearInterval(timer);
        done();
      });
      app.addHook('preParsing', (_request, _reply, payload, done) => {
        waiting.push(() => done(null, payload));
      });
    });
    await Promise.all([
      request('/users/1', { headers: { 'x-user-id': 'u-1' } }),
      request('/users/2', { headers: { 'x-user-id': 'u-2' } }),
    ]);
    const own = await sent('profile_viewed', 2);
    expect(own.map((event) => [event.properties.profile, event.userId])).toEqual(
      expect.arrayContaining([
        ['1', 'u-1'],
        ['2', 'u-2'],
      ]),
    );
  });

  it('takes the request id from x-request-id, else makes one that also stands for an anonymous visitor', async () => {
    const { request, sent } = await start({ identify: fromHeaders });
    await request('/users/1', { headers: { 'x-request-id': 'req-abc', 'x-user-id': 'u-1' } });
    await request('/users/2');
    const [own] = await sent('profile_viewed', 1);
    expect(own?.context.requestId).toBe('req-abc');
    const requests = await sent('api_request', 2);
    const fromHeader = requests.find((event) => event.properties.request_id === 'req-abc');
    expect(fromHeader?.context.requestId).toBe('req-abc');
    const generated = requests.find((event) => event.properties.request_id !== 'req-abc');
    expect(generated?.properties.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated?.anonymousId).toBe(generated?.properties.request_id);
  });

  it('leaves responses and errors as the app makes them, even when identify throws', async () => {
    const errors: unknown[] = [];
    const withPlugin = await start({
      identify: () => {
        throw new Error('session store down');
      },
      onError: (error) => errors.push(error),
    });
    const app = Fastify({ forceCloseConnections: true });
    await routes(app, recordingAnalytics().analytics);
    const plain = await listen(app);
    for (const path of ['/users/42', '/boom', '/nope']) {
      const [expected, actual] = await Promise.all([plain(path), withPlugin.request(path)]);
      expect([actual.status, actual.headers.get('content-type'), await actual.text()]).toEqual([
        expected.status,
        expected.headers.get('content-type'),
        await expected.text(),
      ]);
    }
    expect(await withPlugin.sent('api_request', 3)).toHaveLength(3);
    expect(errors).toEqual([
      new Error('session store down'),
      new Error('session store down'),
      new Error('session store down'),
    ]);
  });
});
