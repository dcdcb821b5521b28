import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { serializeBatch } from '@sightline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeTransport } from '../nodeTransport';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  socket: number;
}

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A loopback server that records each request (decoded) and answers with `answer`. */
async function server(answer: (response: ServerResponse, index: number) => void) {
  const received: Received[] = [];
  const sockets = new WeakMap<object, number>();
  let socketCount = 0;
  const http = createServer((request, response) => {
    if (!sockets.has(request.socket)) sockets.set(request.socket, socketCount++);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({
        headers: request.headers,
        body: (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString(),
        socket: sockets.get(request.socket)!,
      });
      answer(response, received.length - 1);
    });
  });
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { host: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, received };
}

const sentAt = '2026-11-23T10:00:00.000Z';
const EVENTS = [
  JSON.stringify({ type: 'track', event: 'ünïcode €', properties: { emoji: '😀', n: 1 } }),
  JSON.stringify({ type: 'track', event: 'plain', properties: { text: 'x'.repeat(3_000) } }),
];

describe('createNodeTransport', () => {
  it('builds the body from the queue’s UTF-8 bytes exactly as serializeBatch builds it from text', async () => {
    const { host, received } = await server((response) => response.end('{"success":true}'));
    const transport = createNodeTransport({ host, writeKey: 'wk_bytes' });
    const context = { library: { name: '@sightline/node', version: '1.0.0' } };
    const fromBytes = {
      get events(): string[] {
        throw new Error('the byte path must not decode events');
      },
      utf8: EVENTS.map((json) => new Uint8Array(Buffer.from(json))),
      sentAt,
      context,
    };
    expect(await transport.send(fromBytes)).toMatchObject({ status: 200 });
    await transport.send({ events: EVENTS, sentAt, context });

    const expected = serializeBatch({ events: EVENTS, sentAt, context });
    expect(received.map((request) => request.body)).toEqual([expected, expected]);
    expect(received[0]?.headers['content-encoding']).toBe('gzip');
    expect(received[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('wk_bytes:').toString('base64')}`,
    );
  });

  it('reads the status, Retry-After and the error body, and reuses keep-alive sockets', async () => {
    const { host, received } = await server((response, index) => {
      if (index === 0) response.writeHead(503, { 'retry-after': '7' }).end('busy, try later');
      else if (index === 1) response.writeHead(400).end('{"error":"bad event: userId"}');
      else response.writeHead(200).end('{"success":true}');
    });
    const transport = createNodeTransport({ host, writeKey: 'wk' });
    const batch = { events: ['{"type":"track","event":"e"}'], sentAt };
    expect(await transport.send(batch)).toEqual({
      status: 503,
      retryAfter: '7',
      body: 'busy, try later',
    });
    expect(await transport.send(batch)).toMatchObject({
      status: 400,
      body: '{"error":"bad event: userId"}',
    });
    for (let index = 0; index < 20; index++) {
      expect(await transport.send(batch)).toMatchObject({ status: 200, retryAfter: null });
    }
    expect(received).toHaveLength(22);
    // Bodies are drained and sockets pooled: 22 sequential requests open at most two
    // connections (a socket returns to the pool when its response ends, which can be just after
    // the next request starts).
    expect(new Set(received.map((request) => request.socket)).size).toBeLessThanOrEqual(2);
  });

  it('aborts a request that gets no answer within timeoutMs', async () => {
    const { host } = await server(() => {
      // Never answers.
    });
    const transport = createNodeTransport({ host, writeKey: 'wk', timeoutMs: 100 });
    const started = Date.now();
    await expect(transport.send({ events: ['{}'], sentAt })).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rejects when nothing listens, so delivery retries', async () => {
    const { host } = await server((response) => response.end());
    for (const http of servers.splice(0)) {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    const transport = createNodeTransport({ host, writeKey: 'wk' });
    await expect(transport.send({ events: ['{}'], sentAt })).rejects.toThrow(/ECONNREFUSED/);
  });
});
