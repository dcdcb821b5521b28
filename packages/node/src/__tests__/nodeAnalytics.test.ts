import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { DropReport, OutgoingBatch } from '@sightline/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createNodeAnalytics, type NodeAnalytics } from '../nodeAnalytics';
import { runWithContext } from '../requestContext';
import { type RealCollector, startRealCollector, WRITE_KEY } from './realCollector';

/** An event as the transport sent it. */
interface SentEvent {
  type: string;
  event?: string;
  name?: string;
  category?: string;
  userId?: string;
  anonymousId?: string;
  context?: Record<string, unknown>;
}

const clients: NodeAnalytics[] = [];
let collector: RealCollector | undefined;
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close({ timeoutMs: 500 });
  await collector?.close();
  collector = undefined;
});

/** A client whose transport records each batch and answers `status` (our own boundary). */
function recording(options: Parameters<typeof createNodeAnalytics>[0] | object = {}, status = 200) {
  const batches: OutgoingBatch[] = [];
  const client = createNodeAnalytics({
    writeKey: 'wk_unit',
    transport: {
      send: async (batch) => {
        batches.push(batch);
        return { status };
      },
    },
    ...options,
  });
  clients.push(client);
  const events = () =>
    batches.flatMap((batch) => batch.events.map((json) => JSON.parse(json) as SentEvent));
  return { client, events, batches };
}

describe('createNodeAnalytics', () => {
  it("takes Segment's server message shape, per-call ids, and the request context as default", async () => {
    const { client, events } = recording();
    client.track({ userId: 'u-1', event: 'signed_up', properties: { plan: 'pro' } });
    runWithContext({ userId: 'u-ctx', tenant: 'acme', requestId: 'req-9' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      client.track({ event: 'inside_request' });
      client.identify({ traits: { plan: 'team' } });
      client.group({ groupId: 'g-1', traits: { name: 'Acme' } });
      client.page({ anonymousId: 'a-2', name: 'Pricing', category: 'docs' });
    });
    client.alias({ userId: 'u-2', previousId: 'a-2' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await client.flush();
    expect(
      events().map((event) => [
        event.type,
        event.event ?? event.name ?? null,
        event.userId ?? null,
        event.anonymousId ?? null,
      ]),
    ).toEqual([
      ['track', 'signed_up', 'u-1', null],
      ['alias', null, 'u-2', null],
      ['track', 'inside_request', 'u-ctx', null],
      ['identify', null, 'u-ctx', null],
      ['group', null, 'u-ctx', null],
      ['page', 'Pricing', 'u-ctx', 'a-2'],
    ]);
    expect(events()[2]?.context).toMatchObject({ tenant: 'acme', requestId: 'req-9' });
    expect(events()[5]?.category).toBe('docs');
  });

  it('drops, counted and reported, an event with neither userId nor anonymousId, and never throws', async () => {
    const drops: DropReport[] = [];
    const { client } = recording({ onDrop: (report: DropReport) => drops.push(report) });
    expect(() => client.track({ event: 'nobody' })).not.toThrow();
    expect(() => client.track(undefined as never)).not.toThrow();
    await client.flush();
    expect(client.stats().dropped.invalid).toBe(2);
    expect(drops.map((drop) => drop.reason)).toEqual(['invalid', 'invalid']);
  });

  it('drop-oldest: a full queue drops its oldest events, counted and reported', async () => {
    const drops: DropReport[] = [];
    const client = createNodeAnalytics({
      writeKey: 'wk_full',
      maxQueueEvents: 10,
      maxBatchEvents: 10,
      flushAt: 10,
      maxInFlight: 1,
      onDrop: (report) => drops.push(report),
      // The collector never answers: one batch in flight, the queue fills behind it.
      transport: { send: () => new Promise(() => {}) },
    });
    clients.push(client);
    for (let index = 0; index < 25; index++) client.track({ userId: 'u', event: `e${index}` });
    expect(client.stats()).toMatchObject({
      inFlight: 10,
      queued: 10,
      dropped: { queue_overflow: 5 },
    });
    expect(
      drops.flatMap((drop) => (drop.reason === 'queue_overflow' ? drop.messageIds : [])),
    ).toHaveLength(5);
  });

  it('block: a call waits for room up to its timeout, then drops (queue_full)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sent: string[] = [];
    const drops: string[] = [];
    const client = createNodeAnalytics({
      writeKey: 'wk_block',
      maxQueueEvents: 2,
      flushAt: 2,
      overflow: { block: { timeoutMs: 50 } },
      onDrop: (report) => drops.push(report.reason),
      transport: {
        send: async (batch) => {
          await gate;
          sent.push(...batch.events.map((json) => JSON.parse(json).event));
          return { status: 200 };
        },
      },
    });
    clients.push(client);
    await client.track({ userId: 'u', event: 'a' });
    await client.track({ userId: 'u', event: 'b' });
    const started = Date.now();
    await client.track({ userId: 'u', event: 'c' }); // no room within 50 ms: dropped
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(drops).toEqual(['queue_full']);
    const waiting = client.track({ userId: 'u', event: 'd' });
    release();
    await waiting; // room came when the batch was delivered
    await client.flush();
    expect(sent).toEqual(['a', 'b', 'd']);
    expect(client.stats().dropped.queue_full).toBe(1);
    expect(() =>
      createNodeAnalytics({ writeKey: 'k', sandbox: true, overflow: { block: { timeoutMs: -1 } } }),
    ).toThrow(/overflow/);
  });

  it('trackImmediate resolves once the event is delivered', async () => {
    const { client, events } = recording({ flushAt: 100, flushIntervalMs: 60_000 });
    await client.trackImmediate({ userId: 'u', event: 'now' });
    expect(events().map((event) => event.event)).toEqual(['now']);
  });

  it('hands a flush to waitUntil once per turn of the event loop', async () => {
    const handed: Array<Promise<unknown>> = [];
    const { client, events } = recording({
      flushAt: 100,
      flushIntervalMs: 60_000,
      waitUntil: (promise: Promise<unknown>) => handed.push(promise),
    });
    client.track({ userId: 'u', event: 'one' });
    client.track({ userId: 'u', event: 'two' });
    expect(handed).toHaveLength(1);
    await Promise.all(handed);
    expect(events().map((event) => event.event)).toEqual(['one', 'two']);
  });

  it('gzips request bodies of 1 KB or more, with Basic auth, to /v1/batch', async () => {
    const seen: Array<{ url?: string; encoding?: string; authorization?: string; body: string }> =
      [];
    const server = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = request.headers['content-encoding'];
        seen.push({
          url: request.url,
          encoding,
          authorization: request.headers.authorization,
          body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString(),
        });
        response.writeHead(200).end('{"success":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = createNodeAnalytics({ writeKey: 'wk_gzip', host, flushAt: 1 });
      clients.push(client);
      await client.trackImmediate({ userId: 'u', event: 'small' });
      await client.trackImmediate({
        userId: 'u',
        event: 'large',
        properties: { text: 'x'.repeat(4_000) },
      });
      expect(seen.map((request) => [request.url, request.encoding])).toEqual([
        ['/v1/batch', undefined],
        ['/v1/batch', 'gzip'],
      ]);
      expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('wk_gzip:').toString('base64')}`);
      expect(JSON.parse(seen[1]!.body).batch[0].properties.text).toHaveLength(4_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('sandbox mode logs events instead of sending them', async () => {
    const logged: unknown[] = [];
    const client = createNodeAnalytics({
      writeKey: 'wk',
      sandbox: true,
      logger: { debug() {}, info: (_message, event) => logged.push(event), warn() {}, error() {} },
    });
    clients.push(client);
    client.track({ userId: 'u', event: 'sandboxed' });
    await client.flush();
    expect(logged).toMatchObject([{ event: 'sandboxed' }]);
  });
});

const CHILD = fileURLToPath(new URL('./processExit.child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

/** Runs the child script with `mode` against `url`; resolves with how it ended and how long it took. */
function runChild(mode: string, url: string, signalAfterMs?: number) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>(
    (resolve) => {
      const started = Date.now();
      // Node itself (tsx as a loader, not its wrapper process), so signals reach the script.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, url, WRITE_KEY], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (chunk: Buffer) => {
        if (signalAfterMs !== undefined && chunk.toString().includes('tracked')) {
          setTimeout(() => child.kill('SIGTERM'), signalAfterMs);
        }
      });
      child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started }));
    },
  );
}

describe('the Node process around the client', () => {
  it('never keeps the process alive: a script that tracks and forgets to close exits at once', async () => {
    collector = await startRealCollector();
    const { code, ms } = await runChild('forget', collector.url);
    expect(code).toBe(0);
    // Far below the 10 s flush interval the client's timers would otherwise hold it for.
    expect(ms).toBeLessThan(8_000);
  });

  it('with handleSignals, flushes on SIGTERM and then ends by the signal', async () => {
    collector = await startRealCollector();
    const { signal } = await runChild('signals', collector.url, 100);
    expect(signal).toBe('SIGTERM');
    const stored = await collector.storedSeqs();
    expect(stored.size).toBe(500);
  });

  it('with handleSignals, flushes at beforeExit when the program just ends', async () => {
    collector = await startRealCollector();
    const { code } = await runChild('beforeExit', collector.url);
    expect(code).toBe(0);
    expect((await collector.storedSeqs()).size).toBe(500);
  });

  it('close() keeps the process alive until a retried batch is delivered (its timers alone would not)', async () => {
    let first = true;
    collector = await startRealCollector(() => {
      if (!first) return undefined;
      first = false;
      return 'before';
    });
    const { code } = await runChild('close', collector.url);
    expect(code).toBe(0);
    expect((await collector.storedSeqs()).size).toBe(500);
  });
});
