import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '@sightline/core';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHealthCheck, type SightlineHonoOptions, sightlineHono } from '../hono';
import { createNodeAnalytics, type NodeAnalytics } from '../nodeAnalytics';
import { recordingAnalytics, SLEEP_MS, sleep, slowBody } from './middlewareHarness';

/** The routes of a small app, each tracking an event of its own while it runs. */
function routes(app: Hono, analytics: NodeAnalytics): Hono {
  app.get('/users/:id', async (c) => {
    await sleep(5);
    analytics.track({ event: 'profile_viewed', properties: { profile: c.req.param('id') } });
    return c.json({ id: c.req.param('id') });
  });
  app.post('/orders', async (c) => {
    const { sku } = await c.req.json<{ sku: string }>();
    analytics.track({ event: 'order_placed', properties: { sku } });
    return c.json({ ok: true }, 201);
  });
  app.get('/slow', async (c) => {
    await sleep(SLEEP_MS);
    return c.text('done');
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.get('/teapot', () => {
    throw new HTTPException(418, { message: 'short and stout' });
  });
  app.get('/health', (c) => c.text('ok'));
  app.get('/internal/jobs', (c) => c.text('jobs'));
  const orgs = new Hono();
  orgs.get('/projects/:projectId', (c) =>
    c.json({ org: c.req.param('orgId'), project: c.req.param('projectId') }),
  );
  app.route('/api/orgs/:orgId', orgs);
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

/**
 * Serves `app.fetch` over node:http, as @hono/node-server does (not installed here): the request
 * body is streamed to Hono, so it reads it from socket events during the request.
 */
function nodeListener(app: Hono) {
  return async (incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const hasBody = incoming.method !== 'GET' && incoming.method !== 'HEAD';
    const request = new Request(`http://${incoming.headers.host}${incoming.url}`, {
      method: incoming.method,
      headers,
      body: hasBody ? (bodyStream(incoming) as BodyInit) : undefined,
      duplex: 'half',
    } as RequestInit);
    const response = await app.fetch(request);
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  };
}

function bodyStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      incoming.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      incoming.on('end', () => controller.close());
      incoming.on('error', (error) => controller.error(error));
    },
  });
}

async function listen(app: Hono): Promise<(path: string, init?: RequestInit) => Promise<Response>> {
  const server = createServer(nodeListener(app));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

/** An app with the middleware in front of {@link routes}, listening on a loopback port. */
async function start(options: Partial<SightlineHonoOptions> = {}) {
  const recording = recordingAnalytics();
  clients.push(recording.analytics);
  const app = new Hono();
  app.use(sightlineHono({ analytics: recording.analytics, ...options }));
  const request = await listen(routes(app, recording.analytics));
  return { ...recording, request };
}

const fromHeaders = (c: Context) => ({
  userId: c.req.header('x-user-id'),
  tenant: c.req.header('x-tenant'),
});

describe('sightlineHono', () => {
  it('tracks api_request with the route template, not the raw path with its ids', async () => {
    const { request, sent } = await start();
    expect((await request('/users/42?tab=posts')).status).toBe(200);
    const [event] = await sent('api_request', 1);
    expect(event?.properties).toMatchObject({ method: 'GET', route: '/users/:id', status: 200 });
  });

  it('includes the path a sub-app is mounted at', async () => {
    const { request, sent } = await start();
    expect(await (await request('/api/orgs/7/projects/9')).json()).toEqual({
      org: '7',
      project: '9',
    });
    const [event] = await sent('api_request', 1);
    expect(event?.properties.route).toBe('/api/orgs/:orgId/projects/:projectId');
  });

  it("reports 404s as (unmatched), a throwing handler as 500 and an HTTPException's status", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { request, sent } = await start();
    expect((await request('/nope/123')).status).toBe(404);
    expect((await request('/boom')).status).toBe(500);
    expect((await request('/teapot')).status).toBe(418);
    const events = await sent('api_request', 3);
    expect(events.map((event) => [event.properties.route, event.properties.status])).toEqual(
      expect.arrayContaining([
        ['(unmatched)', 404],
        ['/boom', 500],
        ['/teapot', 418],
      ]),
    );
  });

  it('measures duration_ms from arrival to the response', async () => {
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

  it('refuses a sampleRate outside 0..1, naming the option', () => {
    const analytics = createNodeAnalytics({
      writeKey: 'wk_test',
      transport: { send: async () => ({ status: 200 }) },
    });
    clients.push(analytics);
    for (const sampleRate of [-0.1, 1.5, Number.NaN, '0.5' as unknown as number]) {
      expect(() => sightlineHono({ analytics, sampleRate })).toThrow(ConfigurationError);
      expect(() => sightlineHono({ analytics, sampleRate })).toThrow(/sampleRate/);
    }
  });

  it("gives the identified user to api_request and to the handler's own events, per request, across body reading", async () => {
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
    const plain = await listen(routes(new Hono(), recordingAnalytics().analytics));
    for (const path of ['/users/42', '/boom', '/teapot', '/nope']) {
      const [expected, actual] = await Promise.all([plain(path), withMiddleware.request(path)]);
      expect([actual.status, actual.headers.get('content-type'), await actual.text()]).toEqual([
        expected.status,
        expected.headers.get('content-type'),
        await expected.text(),
      ]);
    }
    expect(await withMiddleware.sent('api_request', 4)).toHaveLength(4);
    expect(errors).toEqual(Array.from({ length: 4 }, () => new Error('session store down')));
  });
});
