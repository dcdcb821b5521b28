import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExpressMiddleware } from '../adapters/express';
import { fastifyCollector } from '../adapters/fastify';
import { mountOnHono } from '../adapters/hono';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store, StoredEvent } from '../store/store';
import { wrapStore } from './wrapStore';

const WRITE_KEY = 'wk_test_adapters_1';
const BASIC = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;

/** What the collector saw: the mount-relative URL and the connection's client IP. */
interface Seen {
  url: string;
  clientIp: string | undefined;
}

/** A real collector over a real in-memory DuckDB store, with its inputs and writes recorded. */
interface Harness {
  collector: Collector;
  store: Store;
  seen: Seen[];
  /** Rows handed to the DuckDB store, as written. */
  appended: StoredEvent[];
}

async function createHarness(): Promise<Harness> {
  const duckdb = await createDuckDbStore({ path: ':memory:' });
  const appended: StoredEvent[] = [];
  const store = wrapStore(duckdb, {
    append(events) {
      appended.push(...events);
      return duckdb.append(events);
    },
  });
  const real = createCollector({ store, writeKeys: [WRITE_KEY] });
  await real.ready();
  const seen: Seen[] = [];
  const collector: Collector = {
    ...real,
    fetch(request, connection) {
      const url = new URL(request.url);
      seen.push({ url: url.pathname + url.search, clientIp: connection?.clientIp });
      return real.fetch(request, connection);
    },
  };
  return { collector, store, seen, appended };
}

/** An app with the collector mounted at `/analytics` and one route of its own, `GET /hello`. */
interface Mounted {
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
  /** The `host:port` of a real server, for raw connections. */
  address?: { host: string; port: number };
}

async function listen(server: Server): Promise<{ host: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { host: '127.0.0.1', port };
}

function overHttp(address: { host: string; port: number }, close: () => Promise<void>): Mounted {
  return {
    address,
    request: (path, init) => fetch(`http://${address.host}:${address.port}${path}`, init),
    close,
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const adapters: Array<{
  name: string;
  overHttp: boolean;
  mount(collector: Collector): Promise<Mounted>;
}> = [
  {
    name: 'node:http (createNodeListener)',
    overHttp: true,
    async mount(collector) {
      const listener = createNodeListener(collector, { basePath: '/analytics' });
      const server = createServer((request, response) => {
        if (request.url === '/hello') response.end('hello from the app');
        else listener(request, response);
      });
      return overHttp(await listen(server), () => closeServer(server));
    },
  },
  {
    name: 'Express (createExpressMiddleware)',
    overHttp: true,
    async mount(collector) {
      const app = express();
      app.get('/hello', (_request, response) => {
        response.type('text/plain').send('hello from the app');
      });
      app.use('/analytics', createExpressMiddleware(collector));
      const server = createServer(app);
      return overHttp(await listen(server), () => closeServer(server));
    },
  },
  {
    name: 'Fastify (fastifyCollector)',
    overHttp: true,
    async mount(collector) {
      // Teardown closes connections still busy (e.g. draining a refused body) instead of waiting.
      const app = Fastify({ forceCloseConnections: true });
      app.get('/hello', async (_request, reply) =>
        reply.type('text/plain').send('hello from the app'),
      );
      app.post('/echo', async (request) => ({ parsed: request.body }));
      await app.register(fastifyCollector(collector), { prefix: '/analytics' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return overHttp({ host: '127.0.0.1', port }, () => app.close());
    },
  },
  {
    name: 'Hono (mountOnHono, in-process)',
    overHttp: false,
    async mount(collector) {
      const app = new Hono();
      app.get('/hello', (c) => c.text('hello from the app'));
      mountOnHono(app, '/analytics', collector);
      // The env @hono/node-server passes to app.fetch: the Node request is `incoming`.
      const env = { incoming: { socket: { remoteAddress: '127.0.0.1' } } };
      return {
        request: async (path, init) => app.request(path, init, env),
        close: async () => {},
      };
    },
  },
];

function trackEvent(messageId: string) {
  return {
    type: 'track',
    event: 'Order Completed',
    userId: 'user-42',
    messageId,
    timestamp: new Date().toISOString(),
    properties: { revenue: 42, currency: 'EUR' },
  };
}

function postBatch(mounted: Mounted, messageIds: string[], init: RequestInit = {}) {
  return mounted.request('/analytics/v1/batch', {
    method: 'POST',
    headers: { authorization: BASIC, 'content-type': 'application/json' },
    body: JSON.stringify({ batch: messageIds.map(trackEvent) }),
    ...init,
  });
}

describe.each(adapters)('$name mounted at /analytics', (adapter) => {
  let harness: Harness;
  let mounted: Mounted;

  beforeEach(async () => {
    harness = await createHarness();
    mounted = await adapter.mount(harness.collector);
  });

  afterEach(async () => {
    await mounted.close();
    await harness.collector.close();
  });

  it('ingests a Basic-auth batch at POST /analytics/v1/batch and stores every event', async () => {
    const ids = [randomUUID(), randomUUID()];

    const response = await postBatch(mounted, ids);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    expect(harness.seen).toEqual([{ url: '/v1/batch', clientIp: expect.any(String) }]);
    expect(await harness.store.countEvents('default')).toBe(2);
    expect(await harness.store.findMessageIds('default', [...ids, randomUUID()])).toEqual(
      new Set(ids),
    );
  });

  it('answers GET /analytics/health from the collector, with the query string passed along', async () => {
    const response = await mounted.request('/analytics/health?probe=1');

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      store: { kind: 'duckdb', ok: true },
    });
    expect(harness.seen.map((seen) => seen.url)).toEqual(['/health?probe=1']);
  });

  it('leaves paths outside /analytics to the app: its own route, and a 404 that never reaches the collector', async () => {
    const own = await mounted.request('/hello');
    const lookalike = await mounted.request('/analyticsx/health');
    const outside = await mounted.request('/v1/batch', {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: [trackEvent(randomUUID())] }),
    });

    expect(own.status).toBe(200);
    expect(await own.text()).toBe('hello from the app');
    expect(lookalike.status).toBe(404);
    expect(outside.status).toBe(404);
    expect(harness.seen).toEqual([]);
    expect(await harness.store.countEvents('default')).toBe(0);
  });

  it('hands the client IP to the collector, which stores it anonymised (127.0.0.1 → 127.0.0.0)', async () => {
    const id = randomUUID();

    const response = await postBatch(mounted, [id]);

    expect(response.status).toBe(200);
    expect(harness.seen.map((seen) => seen.clientIp)).toEqual(['127.0.0.1']);
    expect(harness.appended.map((row) => [row.messageId, row.ip])).toEqual([[id, '127.0.0.0']]);
    expect(await harness.store.findMessageIds('default', [id])).toEqual(new Set([id]));
  });

  it('passes a gzip body through untouched, for the collector to inflate', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const gzipped = gzipSync(JSON.stringify({ batch: ids.map(trackEvent) }));

    const response = await mounted.request('/analytics/v1/batch', {
      method: 'POST',
      headers: {
        authorization: BASIC,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipped,
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    expect(await harness.store.findMessageIds('default', ids)).toEqual(new Set(ids));
  });

  it('passes a text/plain beacon body with the write key inside it', async () => {
    const id = randomUUID();

    const response = await mounted.request('/analytics/v1/track', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ ...trackEvent(id), writeKey: WRITE_KEY }),
    });

    expect(response.status).toBe(200);
    expect(await harness.store.findMessageIds('default', [id])).toEqual(new Set([id]));
  });

  it.runIf(adapter.overHttp)(
    'answers a method Request cannot carry (TRACE) with 405, and keeps serving',
    async () => {
      const { host, port } = mounted.address!;
      const raw = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(port, host, () => {
          socket.write(
            `TRACE /analytics/health HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`,
          );
        });
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.setTimeout(5_000, () => {
          socket.destroy();
          reject(new Error(`no answer; received so far: ${JSON.stringify(text)}`));
        });
      });

      // Node's `Request` throws on TRACE; the adapter must answer instead of crashing the process.
      expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
      expect((await mounted.request('/analytics/health')).status).toBe(200);
    },
  );
});

describe('node:http adapter', () => {
  let harness: Harness;
  let server: Server;
  let address: { host: string; port: number };

  beforeEach(async () => {
    harness = await createHarness();
    server = createServer(createNodeListener(harness.collector, { basePath: '/analytics' }));
    address = await listen(server);
  });

  afterEach(async () => {
    await closeServer(server);
    await harness.collector.close();
  });

  function rawExchange(head: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = connect(address.port, address.host, () => socket.write(head));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => {
        socket.destroy();
        reject(new Error(`no answer; received so far: ${JSON.stringify(text)}`));
      });
    });
  }

  it('answers TRACE with 405 and a Host that makes no URL with 400, instead of crashing', async () => {
    const trace = await rawExchange(
      'TRACE /analytics/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    const badHost = await rawExchange(
      'GET /analytics/health HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n',
    );

    expect(trace.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(trace).toContain('"code":"method_not_allowed"');
    expect(badHost.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(badHost).toContain('"code":"invalid_host"');
    const health = await fetch(`http://${address.host}:${address.port}/analytics/health`);
    expect(health.status).toBe(200);
  });

  it('drains a body the collector refused unread (415), so the keep-alive connection serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        const request = httpRequest(
          { host: address.host, port: address.port, method, path, headers, agent },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              text += chunk;
            });
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: text, socket: request.socket }),
            );
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    try {
      // 8 MB: more than loopback socket buffers hold, so an unread body would stall the connection.
      const big = Buffer.alloc(8 * 1024 * 1024, 'a');
      const refused = await send(
        'POST',
        '/analytics/v1/batch',
        { 'content-type': 'application/xml', authorization: BASIC },
        big,
      );
      const next = await Promise.race([
        send('GET', '/analytics/health', {}),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error('the next request on the connection got no answer')),
            5_000,
          ),
        ),
      ]);

      expect(refused.status).toBe(415);
      expect(next.status).toBe(200);
      expect(next.socket).toBe(refused.socket);
      expect(JSON.parse(next.body)).toMatchObject({ status: 'ok' });
    } finally {
      agent.destroy();
    }
  });

  it('answers 404 outside its base path without calling the collector', async () => {
    const response = await fetch(`http://${address.host}:${address.port}/elsewhere/health`);

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      success: false,
      error: { code: 'not_found', message: 'mounted at /analytics' },
    });
    expect(harness.seen).toEqual([]);
  });
});

describe('Express adapter', () => {
  let harness: Harness;
  let server: Server | undefined;
  let origin: string;

  beforeEach(async () => {
    harness = await createHarness();
    server = undefined;
  });

  afterEach(async () => {
    if (server) await closeServer(server);
    await harness.collector.close();
  });

  it('forwards the body when express.json() mounted before it has already parsed it (gzip included)', async () => {
    const app = express();
    app.use(express.json());
    app.use('/analytics', createExpressMiddleware(harness.collector));
    server = createServer(app);
    const { host, port } = await listen(server);
    origin = `http://${host}:${port}`;
    const ids = [randomUUID(), randomUUID()];

    const plain = await fetch(`${origin}/analytics/v1/batch`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: [trackEvent(ids[0]!)] }),
    });
    const gzipped = await fetch(`${origin}/analytics/v1/batch`, {
      method: 'POST',
      headers: {
        authorization: BASIC,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(JSON.stringify({ batch: [trackEvent(ids[1]!)] })),
    });

    expect([plain.status, gzipped.status]).toEqual([200, 200]);
    expect(await harness.store.findMessageIds('default', ids)).toEqual(new Set(ids));
  });

  it('keeps the collector’s own 404 for unknown paths under the mount', async () => {
    const app = express();
    app.use('/analytics', createExpressMiddleware(harness.collector));
    server = createServer(app);
    const { host, port } = await listen(server);

    const response = await fetch(`http://${host}:${port}/analytics/nope`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ success: false, error: { code: 'not_found' } });
    expect(harness.seen.map((seen) => seen.url)).toEqual(['/nope']);
  });
});

describe('Fastify adapter', () => {
  let harness: Harness;
  let mounted: Mounted;

  beforeEach(async () => {
    harness = await createHarness();
    mounted = await adapters[2]!.mount(harness.collector);
  });

  afterEach(async () => {
    await mounted.close();
    await harness.collector.close();
  });

  it('leaves JSON body parsing on for the app’s routes outside the prefix', async () => {
    const response = await mounted.request('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ parsed: { hello: 'world' } });
  });

  it('serves the prefix itself and HEAD requests', async () => {
    const root = await mounted.request('/analytics');
    const head = await mounted.request('/analytics/health', { method: 'HEAD' });

    expect(root.status).toBe(404);
    expect(await root.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(head.status).toBe(200);
    expect(harness.seen.map((seen) => seen.url)).toEqual(['/', '/health']);
  });

  it('refuses a body over 500 KB with the collector’s 413, not Fastify’s 1 MB default', async () => {
    const big = JSON.stringify({
      batch: [trackEvent(randomUUID())],
      padding: 'x'.repeat(600 * 1024),
    });

    const response = await mounted.request('/analytics/v1/batch', {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: big,
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });
});

describe('Hono adapter', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await createHarness();
  });

  afterEach(async () => {
    await harness.collector.close();
  });

  it('reads the client IP from Deno’s env (remoteAddr.hostname)', async () => {
    const app = new Hono();
    mountOnHono(app, '/analytics', harness.collector);
    const id = randomUUID();

    const response = await app.request(
      '/analytics/v1/batch',
      {
        method: 'POST',
        headers: { authorization: BASIC, 'content-type': 'application/json' },
        body: JSON.stringify({ batch: [trackEvent(id)] }),
      },
      { remoteAddr: { transport: 'tcp', hostname: '203.0.113.77', port: 51234 } },
    );

    expect(response.status).toBe(200);
    expect(harness.seen.map((seen) => seen.clientIp)).toEqual(['203.0.113.77']);
    expect(harness.appended.map((row) => row.ip)).toEqual(['203.0.113.0']);
  });

  it('takes the client IP from the clientIp option when given (e.g. cf-connecting-ip on Workers)', async () => {
    const app = new Hono();
    mountOnHono(app, '/analytics', harness.collector, {
      clientIp: (c) => c.req.header('cf-connecting-ip'),
    });

    const response = await app.request('/analytics/v1/batch', {
      method: 'POST',
      headers: {
        authorization: BASIC,
        'content-type': 'application/json',
        'cf-connecting-ip': '198.51.100.9',
      },
      body: JSON.stringify({ batch: [trackEvent(randomUUID())] }),
    });

    expect(response.status).toBe(200);
    expect(harness.appended.map((row) => row.ip)).toEqual(['198.51.100.0']);
  });

  it('leaves the client IP unset when the runtime exposes none, and still ingests', async () => {
    const app = new Hono();
    mountOnHono(app, '/analytics', harness.collector);

    const response = await app.request('/analytics/v1/batch', {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json' },
      body: JSON.stringify({ batch: [trackEvent(randomUUID())] }),
    });

    expect(response.status).toBe(200);
    expect(harness.seen.map((seen) => seen.clientIp)).toEqual([undefined]);
    expect(harness.appended.map((row) => row.ip)).toEqual([null]);
  });
});
