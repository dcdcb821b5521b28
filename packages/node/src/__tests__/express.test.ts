import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '@sightline/core';
import express, { type Express } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHealthCheck, type SightlineExpressOptions, sightlineExpress } from '../express';
import { createNodeAnalytics, type NodeAnalytics } from '../nodeAnalytics';
import { recordingAnalytics, SLEEP_MS, sleep, slowBody } from './middlewareHarness';

/** The routes of a small app, each tracking an event of its own while it runs. */
function routes(app: Express, analytics: NodeAnalytics): Express {
  app.use(express.json());
  app.get('/users/:id', async (request, response) => {
    await sleep(5);
    analytics.track({ event: 'profile_viewed', properties: { profile: request.params.id } });
    response.json({ id: request.params.id });
  });
  app.post('/orders', (request, response) => {
    analytics.track({ event: 'order_placed', properties: { sku: request.body.sku } });
    response.status(201).json({ ok: true });
  });
  app.get('/slow', async (_request, response) => {
    await sleep(SLEEP_MS);
    response.send('done');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/health', (_request, response) => {
    response.send('ok');
  });
  app.get('/internal/jobs', (_request, response) => {
    response.send('jobs');
  });
  // mergeParams lets the router see :orgId; the middleware in front of its routes is one more
  // layer matched before them.
  const orgs = express.Router({ mergeParams: true });
  orgs.use((_request, _response, next) => next());
  orgs.get(
    '/projects/:projectId',
    (request: express.Request<{ orgId: string; projectId: string }>, response) => {
      response.json({ org: request.params.orgId, project: request.params.projectId });
    },
  );
  orgs.get('/projects/:projectId/export', () => {
    throw new Error('export failed');
  });
  app.use('/api/orgs/:orgId', orgs);
  // Production error pages carry no stack trace, which would differ with the middleware's frames.
  app.set('env', 'production');
  return app;
}

const servers: Server[] = [];
const clients: NodeAnalytics[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const client of clients.splice(0)) await client.close({ timeoutMs: 500 });
});

async function listen(
  app: Express,
): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

/** An app with the middleware in front of {@link routes}, listening on a loopback port. */
async function start(options: Partial<SightlineExpressOptions> = {}) {
  const recording = recordingAnalytics();
  clients.push(recording.analytics);
  const app = express();
  app.use(sightlineExpress({ analytics: recording.analytics, ...options }));
  const request = await listen(routes(app, recording.analytics));
  return { ...recording, request };
}

const fromHeaders = (request: express.Request) => ({
  userId: request.get('x-user-id'),
  tenant: request.get('x-tenant'),
});

describe('sightlineExpress', () => {
  it('tracks api_request with the route template, not the raw path with its ids', async () => {
    const { request, sent } = await start();
    expect((await request('/users/42?tab=posts')).status).toBe(200);
    const [event] = await sent('api_request', 1);
    expect(event?.properties).toMatchObject({ method: 'GET', route: '/users/:id', status: 200 });
  });

  it('includes the mount path of a router, with its parameters as names, also for errors', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { request, sent } = await start();
    expect(await (await request('/api/orgs/7/projects/9')).json()).toEqual({
      org: '7',
      project: '9',
    });
    // The error leaves the router before the response is sent, and Express resets req.baseUrl.
    expect((await request('/api/orgs/7/projects/9/export')).status).toBe(500);
    const events = await sent('api_request', 2);
    expect(events.map((event) => [event.properties.route, event.properties.status])).toEqual(
      expect.arrayContaining([
        ['/api/orgs/:orgId/projects/:projectId', 200],
        ['/api/orgs/:orgId/projects/:projectId/export', 500],
      ]),
    );
  });

  it('reports 404s as (unmatched) and a throwing handler as 500', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
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
    for (let id = 1; id <= 5; id++)
      await none.request(`/users/${id}`, { headers: { 'x-user-id': 'u-7' } });
    const own = await none.sent('profile_viewed', 5);
    expect(own.every((event) => event.userId === 'u-7')).toBe(true);
    expect(none.events.filter((event) => event.event === 'api_request')).toEqual([]);
  });

  it('refuses a sampleRate outside 0..1, naming the option', () => {
    const analytics = createNodeAnalytics({
      writeKey: 'wk_test',
      transport: { send: async () => ({ status: 200 }) },
    });
    clients.push(analytics);
    for (const sampleRate of [-0.1, 1.5, Number.NaN, '0.5' as unknown as number]) {
      expect(() => sightlineExpress({ analytics, sampleRate })).toThrow(ConfigurationError);
      expect(() => sightlineExpress({ analytics, sampleRate })).toThrow(/sampleRate/);
    }
  });

  it("gives the identified user to api_request and to the handler's own events, per request", async () => {
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
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const errors: unknown[] = [];
    const withMiddleware = await start({
      identify: () => {
        throw new Error('session store down');
      },
      onError: (error) => errors.push(error),
    });
    const plain = await listen(routes(express(), recordingAnalytics().analytics));
    for (const path of ['/users/42', '/boom', '/nope']) {
      const [expected, actual] = await Promise.all([plain(path), withMiddleware.request(path)]);
      expect([actual.status, actual.headers.get('content-type'), await actual.text()]).toEqual([
        expected.status,
        expected.headers.get('content-type'),
        await expected.text(),
      ]);
    }
    expect(await withMiddleware.sent('api_request', 3)).toHaveLength(3);
    expect(errors).toEqual([
      new Error('session store down'),
      new Error('session store down'),
      new Error('session store down'),
    ]);
  });
});
