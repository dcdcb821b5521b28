import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface SinkOptions {
  /**
   * Share of requests answered 500 after their events were counted (0 = never): one request in
   * `round(1 / failureRate)`, from the second on, so every SDK meets the same sequence of answers
   * and even an SDK that sends ten requests meets a failure.
   */
  failureRate: number;
}

/** What the sink saw since the last `reset()`. */
export interface SinkCounts {
  requests: number;
  /** Requests answered 500 on purpose (their events are counted as received). */
  failedRequests: number;
  /** Requests that say they repeat an earlier one (Segment's `x-retry-count` header). */
  announcedRetries: number;
  /** Requests to a path no SDK under test uses, answered 404. */
  unknownRequests: number;
  /** Every event received, repeats included. */
  received: number;
  /** Distinct event ids received. */
  distinct: number;
  /** Distinct event ids in requests answered 200. */
  acknowledged: number;
  /** Events without a `messageId` or `uuid`. */
  withoutId: number;
  /** Request body bytes as sent (gzipped when the SDK gzips). */
  bodyBytes: number;
  gzippedRequests: number;
  paths: Record<string, number>;
}

export interface CountingSink {
  url: string;
  counts(): SinkCounts;
  reset(): void;
  close(): Promise<void>;
}

/** The batch endpoints of the SDKs under test: Sightline and Segment, then PostHog's legacy one. */
const BATCH_PATHS = new Set(['/v1/batch', '/batch/', '/batch']);

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The id an SDK gives each event: `messageId` (Sightline, Segment) or `uuid` (PostHog). */
function eventId(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const { messageId, uuid } = event as { messageId?: unknown; uuid?: unknown };
  if (typeof messageId === 'string') return messageId;
  return typeof uuid === 'string' ? uuid : undefined;
}

/**
 * A loopback HTTP server that accepts each SDK's batch request, counts its events by id and
 * answers at once: 200, or 500 for a fixed share of requests (after counting them, as a server
 * that stored a batch and then failed would). Runs in the bench's parent process; the SDK under
 * test runs in a child, so the sink's work never shows in the SDK's time or memory.
 *
 * @example
 * const sink = await startCountingSink({ failureRate: 0 });
 * // … run an SDK against sink.url …
 * console.log(sink.counts().distinct);
 */
export async function startCountingSink(options: SinkOptions): Promise<CountingSink> {
  const failEvery = options.failureRate > 0 ? Math.round(1 / options.failureRate) : 0;
  let batchRequests = 0;
  let seen = new Map<string, number>();
  let acknowledged = new Set<string>();
  let counts = emptyCounts();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request);
    const path = (request.url ?? '').split('?')[0] ?? '';
    counts.requests++;
    counts.paths[path] = (counts.paths[path] ?? 0) + 1;
    if (request.method !== 'POST' || !BATCH_PATHS.has(path)) {
      counts.unknownRequests++;
      response.writeHead(404).end();
      return;
    }
    counts.bodyBytes += body.length;
    if (request.headers['x-retry-count'] !== undefined) counts.announcedRetries++;
    const gzipped = request.headers['content-encoding'] === 'gzip';
    if (gzipped) counts.gzippedRequests++;
    const payload = JSON.parse((gzipped ? gunzipSync(body) : body).toString('utf8')) as {
      batch?: unknown[];
    };
    const events = Array.isArray(payload.batch) ? payload.batch : [];
    const fails = failEvery > 0 && batchRequests++ % failEvery === 1;
    for (const event of events) {
      counts.received++;
      const id = eventId(event);
      if (id === undefined) {
        counts.withoutId++;
        continue;
      }
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (!fails) acknowledged.add(id);
    }
    if (fails) {
      counts.failedRequests++;
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"flaky"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Ok"}');
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(400).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts, distinct: seen.size, acknowledged: acknowledged.size }),
    reset() {
      batchRequests = 0;
      seen = new Map();
      acknowledged = new Set();
      counts = emptyCounts();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function emptyCounts(): SinkCounts {
  return {
    requests: 0,
    failedRequests: 0,
    announcedRetries: 0,
    unknownRequests: 0,
    received: 0,
    distinct: 0,
    acknowledged: 0,
    withoutId: 0,
    bodyBytes: 0,
    gzippedRequests: 0,
    paths: {},
  };
}
