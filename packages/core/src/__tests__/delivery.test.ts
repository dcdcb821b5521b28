import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Analytics,
  type AnalyticsEvent,
  type AnalyticsOptions,
  createAnalytics,
  createDelivery,
  createFetchTransport,
  DEFAULT_RETRY,
  type DeadLetterReport,
  DeliveryError,
  type DeliveryOptions,
  type DropReport,
  defaultScheduler,
  EventQueue,
  type OutgoingBatch,
  type PipelineStep,
  type QueuedEvent,
  type SightlineError,
  type TrackEvent,
  type TransportResponse,
} from '../index';

const HOST = 'http://collector.test';
const BATCH_URL = `${HOST}/v1/batch`;
const WRITE_KEY = 'wk_test';
const KB = 1024;

interface SentEvent {
  messageId: string;
  event?: string;
  timestamp: string;
  properties?: { i?: number; blob?: string };
}

interface ReceivedRequest {
  raw: string;
  body: {
    batch: SentEvent[];
    sentAt: string;
    context?: Record<string, unknown>;
    writeKey?: string;
  };
  headers: Headers;
  /** `Date.now()` when the request reached the collector (fake time under fake timers). */
  at: number;
}

type Respond = (request: ReceivedRequest, index: number) => Response | Promise<Response>;

const server = setupServer();
const clients: Analytics[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));

afterEach(async () => {
  // Real timers first, so `close()`'s own timeout can fire; pending fake timers are discarded.
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const analytics of clients.splice(0)) await analytics.close({ timeoutMs: 0 });
  server.resetHandlers();
});

afterAll(() => server.close());

/** Installs the collector and returns the list every request is recorded in, in arrival order. */
function collector(respond: Respond = () => HttpResponse.json({ ok: true })): ReceivedRequest[] {
  const requests: ReceivedRequest[] = [];
  server.use(
    http.post(BATCH_URL, async ({ request }) => {
      const raw = await request.text();
      const received: ReceivedRequest = {
        raw,
        body: JSON.parse(raw) as ReceivedRequest['body'],
        headers: request.headers,
        at: Date.now(),
      };
      requests.push(received);
      return respond(received, requests.length - 1);
    }),
  );
  return requests;
}

/** Answers each request with the next response of the list, then 200 forever. */
function sequence(...responses: Array<() => Response>): Respond {
  return (_request, index) => responses[index]?.() ?? HttpResponse.json({ ok: true });
}

function client(options: Partial<AnalyticsOptions> = {}): Analytics {
  const analytics = createAnalytics({
    writeKey: WRITE_KEY,
    host: HOST,
    pii: false,
    flushAt: 100,
    flushIntervalMs: 600_000,
    ...options,
  });
  clients.push(analytics);
  return analytics;
}

function trackMany(
  analytics: Analytics,
  count: number,
  from = 0,
  extra: Record<string, string> = {},
): void {
  for (let i = from; i < from + count; i++) analytics.track('item_viewed', { i, ...extra });
}

const indexes = (request: ReceivedRequest) =>
  request.body.batch.map((event) => event.properties?.i);
const ids = (request: ReceivedRequest) => request.body.batch.map((event) => event.messageId);
const sizes = (requests: ReceivedRequest[]) => requests.map((request) => request.body.batch.length);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');
const propertiesOf = (event: AnalyticsEvent) => (event as TrackEvent).properties;

/** The bytes the events of a request take in its `batch` array (events plus separators). */
function batchPayloadBytes(request: ReceivedRequest): number {
  return request.body.batch.reduce((sum, event) => sum + byteLength(JSON.stringify(event)) + 1, 0);
}

/** Starts `flush()` and exposes whether it has resolved yet. */
function watchFlush(analytics: Analytics) {
  const state = { done: false, promise: Promise.resolve() };
  state.promise = analytics.flush().then(() => {
    state.done = true;
  });
  return state;
}

const retryAfter = (status: number, seconds: string) => () =>
  new HttpResponse('slow down', { status, headers: { 'Retry-After': seconds } });
const status =
  (code: number, body = '') =>
  () =>
    new HttpResponse(body, { status: code });

describe('batching', () => {
  it('sends {"batch":[…],"sentAt":"…","context":{"library":…}} with Basic auth of base64(writeKey + ":")', async () => {
    const requests = collector();
    const analytics = client();
    trackMany(analytics, 3);
    await analytics.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests as [ReceivedRequest];
    expect(Object.keys(request.body)).toEqual(['batch', 'sentAt', 'context']);
    expect(request.raw.startsWith('{"batch":[{')).toBe(true);
    expect(request.raw).toMatch(/\],"sentAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","context":/);
    // The library travels once per request, not once per event.
    expect(request.body.context).toEqual({
      library: { name: '@sightline/core', version: '0.0.0-test' },
    });
    expect(request.raw.match(/"library"/g)).toHaveLength(1);
    expect(new Date(request.body.sentAt).toISOString()).toBe(request.body.sentAt);
    expect(indexes(request)).toEqual([0, 1, 2]);
    expect(request.body.batch.map((event) => event.event)).toEqual(Array(3).fill('item_viewed'));
    expect(request.headers.get('authorization')).toBe('Basic d2tfdGVzdDo=');
    expect(request.headers.get('authorization')).toBe(
      `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
    );
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(analytics.stats()).toMatchObject({ enqueued: 3, sent: 3, queued: 0, inFlight: 0 });
  });

  it('with writeKeyIn "body", puts the writeKey in the JSON, sends text/plain, and no Authorization', async () => {
    const requests = collector();
    const analytics = client({ writeKeyIn: 'body' });
    trackMany(analytics, 2);
    await analytics.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests as [ReceivedRequest];
    expect(Object.keys(request.body)).toEqual(['batch', 'sentAt', 'context', 'writeKey']);
    expect(request.body.writeKey).toBe(WRITE_KEY);
    expect(request.headers.get('authorization')).toBeNull();
    expect(request.headers.get('content-type')).toBe('text/plain');
    expect(indexes(request)).toEqual([0, 1]);
  });

  it('encodes a non-ASCII writeKey as UTF-8 in the Basic auth header', async () => {
    const requests = collector();
    const analytics = client({ writeKey: 'clé_ü' });
    trackMany(analytics, 1);
    await analytics.flush();

    expect(requests[0]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('clé_ü:', 'utf8').toString('base64')}`,
    );
    expect(analytics.stats().sent).toBe(1);
  });

  it('sends nothing below flushAt until the interval, and sends as soon as flushAt events are queued', async () => {
    vi.useFakeTimers();
    const requests = collector();
    const analytics = client({ flushAt: 5, flushIntervalMs: 10_000 });
    trackMany(analytics, 4);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(requests).toHaveLength(0);
    expect(analytics.stats().queued).toBe(4);

    trackMany(analytics, 1, 4);
    await vi.advanceTimersByTimeAsync(0);
    expect(sizes(requests)).toEqual([5]);
    expect(indexes(requests[0]!)).toEqual([0, 1, 2, 3, 4]);
  });

  it('sends what is queued when flushIntervalMs elapses', async () => {
    vi.useFakeTimers();
    const requests = collector();
    const analytics = client({ flushAt: 50, flushIntervalMs: 10_000 });
    trackMany(analytics, 3);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sizes(requests)).toEqual([3]);
    expect(analytics.stats().sent).toBe(3);
  });

  it('splits batches by count (maxBatchEvents), keeping order', async () => {
    const requests = collector();
    const analytics = client({ maxBatchEvents: 5 });
    trackMany(analytics, 12);
    await analytics.flush();

    expect(sizes(requests)).toEqual([5, 5, 2]);
    expect(requests.flatMap(indexes)).toEqual(range(0, 12));
    expect(analytics.stats()).toMatchObject({ sent: 12, dropped: {} });
  });

  it('splits batches by bytes: maxBatchBytes bounds the whole request body, envelope included', async () => {
    const requests = collector();
    const analytics = client({ maxBatchBytes: 5000 });
    trackMany(analytics, 12, 10, { blob: 'x'.repeat(900) }); // two-digit i: equal event sizes
    await analytics.flush();

    const eventBytes = byteLength(JSON.stringify(requests[0]!.body.batch[0])) + 1;
    // 1 KB of the budget is kept for the envelope ({"batch":[…],"sentAt":"…"} and a body writeKey).
    expect(Math.floor((5000 - KB) / eventBytes)).toBe(3); // ~1.1 KB per event
    expect(sizes(requests)).toEqual([3, 3, 3, 3]);
    for (const request of requests) {
      expect(byteLength(request.raw)).toBeLessThanOrEqual(5000);
      expect(batchPayloadBytes(request)).toBeLessThanOrEqual(5000 - KB);
    }
    expect(requests.flatMap(indexes)).toEqual(range(10, 22));
  });

  it('never sends more than 2,500 events in one request', async () => {
    const requests = collector();
    // Slim events (~130 bytes), so 2,500 of them stay under 500 KB and the count limit decides.
    const slim: PipelineStep = (event) =>
      ({
        type: event.type,
        messageId: event.messageId,
        timestamp: event.timestamp,
        properties: propertiesOf(event),
      }) as unknown as AnalyticsEvent;
    const analytics = client({ flushAt: 2500, plugins: [slim] });
    trackMany(analytics, 6000);
    await analytics.flush();

    expect(sizes(requests)).toEqual([2500, 2500, 1000]);
    for (const request of requests) expect(byteLength(request.raw)).toBeLessThanOrEqual(500 * KB);
    expect(requests.flatMap(indexes)).toEqual(range(0, 6000));
    expect(analytics.stats()).toMatchObject({ enqueued: 6000, sent: 6000, dropped: {} });
  });

  it('never sends a request body over 500 KB', async () => {
    const requests = collector();
    const analytics = client();
    trackMany(analytics, 60, 10, { blob: 'y'.repeat(20_000) });
    await analytics.flush();

    const eventBytes = byteLength(JSON.stringify(requests[0]!.body.batch[0])) + 1;
    const perBatch = Math.floor((500 * KB - KB) / eventBytes); // 1 KB is kept for the envelope
    expect(perBatch).toBe(25);
    expect(sizes(requests)).toEqual([25, 25, 10]);
    for (const request of requests) expect(byteLength(request.raw)).toBeLessThanOrEqual(500 * KB);
    expect(requests.flatMap(indexes)).toEqual(range(10, 70));
  });
});

describe('concurrency', () => {
  it.each([1, 3])('has at most maxInFlight = %i requests open at once', async (maxInFlight) => {
    const gates: Array<() => void> = [];
    let open = 0;
    let peak = 0;
    const requests = collector(async () => {
      open++;
      peak = Math.max(peak, open);
      await new Promise<void>((resolve) => gates.push(resolve));
      open--;
      return HttpResponse.json({ ok: true });
    });
    const analytics = client({ maxInFlight, flushAt: 1, maxBatchEvents: 1 });
    trackMany(analytics, 10);
    const flushed = watchFlush(analytics);

    await vi.waitFor(() => expect(gates).toHaveLength(maxInFlight));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(requests).toHaveLength(maxInFlight); // nobody else got in while the slots are busy
    expect(analytics.stats()).toMatchObject({ inFlight: maxInFlight, queued: 10 - maxInFlight });

    for (let released = 0; released < 10; released++) {
      await vi.waitFor(() => expect(gates.length).toBeGreaterThan(0));
      gates.shift()!();
    }
    await flushed.promise;
    expect(peak).toBe(maxInFlight);
    expect(requests).toHaveLength(10);
    expect(requests.flatMap(indexes).sort((a, b) => a! - b!)).toEqual(range(0, 10));
    expect(analytics.stats().sent).toBe(10);
  });
});

describe('createFetchTransport compress', () => {
  it('sends the encoded body with content-encoding, and a body encode declines as it is', async () => {
    const sent: Array<{ encoding: string | null; body: unknown }> = [];
    const transport = createFetchTransport({
      host: HOST,
      writeKey: WRITE_KEY,
      fetch: async (_url, init) => {
        sent.push({
          encoding: new Headers(init?.headers).get('content-encoding'),
          body: init?.body,
        });
        return new Response('{}', { status: 200 });
      },
      compress: {
        encoding: 'x-reversed',
        encode: async (body) =>
          body.length < 100 ? undefined : new TextEncoder().encode([...body].reverse().join('')),
      },
    });
    const sentAt = new Date(0).toISOString();
    await transport.send({ events: ['{"n":1}'], sentAt });
    await transport.send({ events: [`{"text":"${'x'.repeat(200)}"}`], sentAt });
    expect(sent[0]).toEqual({ encoding: null, body: expect.stringContaining('"batch"') });
    expect(sent[1]?.encoding).toBe('x-reversed');
    const decoded = [...new TextDecoder().decode(sent[1]!.body as Uint8Array)].reverse().join('');
    expect(JSON.parse(decoded).batch[0].text).toHaveLength(200);
  });
});

describe('retries', () => {
  it('aborts a request after the transport timeout, then succeeds on retry', async () => {
    vi.useFakeTimers();
    const requests = collector(async (_request, index) => {
      if (index === 0) await delay('infinite');
      return HttpResponse.json({ ok: true });
    });
    const analytics = client({
      transport: createFetchTransport({ host: HOST, writeKey: WRITE_KEY, timeoutMs: 50 }),
      retry: { baseDelayMs: 100, maxDelayMs: 100 },
    });
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(49);
    expect(requests).toHaveLength(1);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1 + 100); // abort at 50 ms, then a backoff below 100 ms
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(true);
    expect(ids(requests[1]!)).toEqual(ids(requests[0]!));
    expect(analytics.stats()).toMatchObject({ sent: 2, retried: 2, dropped: {} });
  });

  it('waits for Retry-After on 429: nothing before 2 s, the retry right at 2 s', async () => {
    vi.useFakeTimers();
    const requests = collector(sequence(retryAfter(429, '2')));
    const analytics = client({ retry: { baseDelayMs: 10, maxDelayMs: 10 } });
    trackMany(analytics, 1);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(1999);
    expect(requests).toHaveLength(1);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.at - requests[0]!.at).toBe(2000);
    expect(flushed.done).toBe(true);
    expect(analytics.stats()).toMatchObject({ sent: 1, retried: 1 });
  });

  it('waits for Retry-After on 503 too, given as an HTTP date', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 0, 1, 0, 0, 0));
    const requests = collector(
      sequence(() => {
        const at = new Date(Date.now() + 3000).toUTCString();
        return new HttpResponse('maintenance', { status: 503, headers: { 'Retry-After': at } });
      }),
    );
    const analytics = client({ retry: { baseDelayMs: 10, maxDelayMs: 10 } });
    trackMany(analytics, 1);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(2999);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.at - requests[0]!.at).toBe(3000);
    expect(flushed.done).toBe(true);
  });

  it('caps Retry-After at retry.maxRetryAfterMs', async () => {
    vi.useFakeTimers();
    const requests = collector(sequence(retryAfter(503, '3600')));
    const analytics = client({ retry: { maxRetryAfterMs: 5000 } });
    trackMany(analytics, 1);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(4999);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(true);
  });

  it('holds every request during a Retry-After pause, including other in-flight batches retrying', async () => {
    vi.useFakeTimers();
    const requests = collector(async (_request, index) => {
      if (index === 0) return retryAfter(429, '2')();
      if (index === 1) {
        await delay(5); // answered after the 429 started the pause
        return status(500)();
      }
      return HttpResponse.json({ ok: true });
    });
    const analytics = client({
      maxInFlight: 2,
      flushAt: 1,
      retry: { baseDelayMs: 10, maxDelayMs: 10 },
    });
    trackMany(analytics, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(2);
    trackMany(analytics, 1, 2); // a new event during the pause waits too
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(1999);
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed.done).toBe(true);
    expect(requests).toHaveLength(5); // both retries, then the new event
    for (const request of requests.slice(2)) expect(request.at - requests[0]!.at).toBe(2000);
    expect(analytics.stats()).toMatchObject({ sent: 3, dropped: {} });
  });

  it('500 then 200: delivered once, counted in retried, with the same messageIds on both attempts', async () => {
    vi.useFakeTimers();
    const requests = collector(sequence(status(500, 'boom')));
    const analytics = client({ retry: { baseDelayMs: 100, maxDelayMs: 400 } });
    trackMany(analytics, 3);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(0);
    expect(analytics.stats()).toMatchObject({ retried: 3 }); // the backoff itself may be 0 ms
    await vi.advanceTimersByTimeAsync(100); // the first backoff is below baseDelayMs
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(true);
    expect(ids(requests[1]!)).toEqual(ids(requests[0]!));
    expect(new Set(ids(requests[0]!)).size).toBe(3);
    expect(requests[1]!.body.sentAt).toBe(new Date(requests[1]!.at).toISOString());
    expect(analytics.stats()).toMatchObject({ sent: 3, retried: 3, inFlight: 0, dropped: {} });

    await vi.advanceTimersByTimeAsync(60_000);
    expect(requests).toHaveLength(2);
  });

  it('retries after a connection reset', async () => {
    vi.useFakeTimers();
    const requests = collector(sequence(() => HttpResponse.error()));
    const analytics = client({ retry: { baseDelayMs: 50, maxDelayMs: 50 } });
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(50); // the first backoff is below baseDelayMs
    expect(requests).toHaveLength(2);
    expect(ids(requests[1]!)).toEqual(ids(requests[0]!));
    expect(flushed.done).toBe(true);
    expect(analytics.stats()).toMatchObject({ sent: 2, retried: 2, dropped: {} });
  });

  it('drops a batch with reason retries_exhausted after retry.maxAttempts sends', async () => {
    vi.useFakeTimers();
    const drops: DropReport[] = [];
    const errors: SightlineError[] = [];
    const requests = collector(() => status(500, 'down')());
    const analytics = client({
      retry: { baseDelayMs: 100, maxDelayMs: 100, maxAttempts: 3 },
      onDrop: (report) => drops.push(report),
      onError: (error) => errors.push(error),
    });
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(requests).toHaveLength(3);
    expect(flushed.done).toBe(true);
    expect(drops).toEqual([
      { reason: 'retries_exhausted', detail: 'last status 500', messageIds: ids(requests[0]!) },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DeliveryError);
    expect(errors[0]).toMatchObject({ reason: 'retries_exhausted', eventCount: 2 });
    expect(analytics.stats()).toMatchObject({
      sent: 0,
      retried: 4,
      inFlight: 0,
      queued: 0,
      dropped: { retries_exhausted: 2 },
    });

    await vi.advanceTimersByTimeAsync(600_000);
    expect(requests).toHaveLength(3);
  });
});

describe('413 Payload Too Large', () => {
  it('splits the batch in halves until the collector accepts, delivering every event once', async () => {
    const requests = collector((request) =>
      request.body.batch.length > 2 ? status(413)() : HttpResponse.json({ ok: true }),
    );
    const analytics = client();
    trackMany(analytics, 8);
    await analytics.flush();

    expect(sizes(requests)).toEqual([8, 4, 2, 2, 2, 2]);
    const accepted = requests.filter((request) => request.body.batch.length <= 2);
    expect(accepted.flatMap(indexes)).toEqual(range(0, 8));
    expect(new Set(accepted.flatMap(ids)).size).toBe(8);
    expect(analytics.stats()).toMatchObject({ sent: 8, deadLettered: 0, dropped: {} });
  });

  it('sends the halves at once, without waiting for flushAt or the flush interval', async () => {
    vi.useFakeTimers();
    const requests = collector((request) =>
      request.body.batch.length > 2 ? status(413)() : HttpResponse.json({ ok: true }),
    );
    const analytics = client({ flushAt: 8, flushIntervalMs: 60_000 });
    trackMany(analytics, 8);
    await vi.advanceTimersByTimeAsync(100);

    expect(sizes(requests)).toEqual([8, 4, 2, 2, 2, 2]);
    expect(analytics.stats()).toMatchObject({ sent: 8, queued: 0, inFlight: 0 });
  });

  it('dead-letters a single event answered 413 with reason payload_too_large', async () => {
    const letters: DeadLetterReport[] = [];
    const errors: SightlineError[] = [];
    const requests = collector(() => status(413, 'too big')());
    const analytics = client({
      onDeadLetter: (report) => letters.push(report),
      onError: (error) => errors.push(error),
    });
    analytics.track('huge_event', { i: 7 });
    await analytics.flush();

    expect(requests).toHaveLength(1);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toBe('payload_too_large');
    expect(letters[0]!.detail).toBe('too big');
    expect(letters[0]!.events.map((event) => event.messageId)).toEqual(ids(requests[0]!));
    expect(letters[0]!.events[0]).toMatchObject({
      type: 'track',
      event: 'huge_event',
      properties: { i: 7 },
    });
    expect(errors[0]).toBeInstanceOf(DeliveryError);
    expect(errors[0]).toMatchObject({ reason: 'payload_too_large', eventCount: 1 });
    expect(analytics.stats()).toMatchObject({
      sent: 0,
      deadLettered: 1,
      dropped: { payload_too_large: 1 },
    });
  });

  it('dead-letters only the event the collector refuses and delivers its neighbours', async () => {
    const letters: DeadLetterReport[] = [];
    const requests = collector((request) =>
      indexes(request).includes(1) ? status(413)() : HttpResponse.json({ ok: true }),
    );
    const analytics = client({ onDeadLetter: (report) => letters.push(report) });
    trackMany(analytics, 4);
    await analytics.flush();

    expect(requests.map(indexes)).toEqual([[0, 1, 2, 3], [0, 1], [0], [1], [2], [3]]);
    expect(letters.map((letter) => letter.events.map(propertiesOf))).toEqual([[{ i: 1 }]]);
    expect(analytics.stats()).toMatchObject({
      sent: 3,
      deadLettered: 1,
      dropped: { payload_too_large: 1 },
    });
  });
});

describe('rejections and drops', () => {
  it('400: dead-letters with reason http_400, never retries, and reports a DeliveryError', async () => {
    vi.useFakeTimers();
    const letters: DeadLetterReport[] = [];
    const errors: SightlineError[] = [];
    const requests = collector(() => status(400, 'missing event name')());
    const analytics = client({
      onDeadLetter: (report) => letters.push(report),
      onError: (error) => errors.push(error),
    });
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed.done).toBe(true);

    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toBe('http_400');
    expect(letters[0]!.detail).toBe('missing event name');
    expect(letters[0]!.events.map((event) => event.messageId)).toEqual(ids(requests[0]!));
    expect(letters[0]!.events.map(propertiesOf)).toEqual([{ i: 0 }, { i: 1 }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DeliveryError);
    expect(errors[0]).toMatchObject({ code: 'delivery_failed', reason: 'http_400', eventCount: 2 });
    expect(analytics.stats()).toMatchObject({
      sent: 0,
      retried: 0,
      deadLettered: 2,
      inFlight: 0,
      dropped: { http_400: 2 },
    });

    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(requests).toHaveLength(1);
  });

  it('drops events older than maxEventAgeMs with reason max_age before sending', async () => {
    const drops: DropReport[] = [];
    const requests = collector();
    const analytics = client({ maxEventAgeMs: 60_000, onDrop: (report) => drops.push(report) });
    analytics.track('stale', { i: 0 }, { timestamp: new Date(Date.now() - 120_000) });
    analytics.track('fresh', { i: 1 });
    analytics.track('stale', { i: 2 }, { timestamp: new Date(Date.now() - 61_000) });
    await analytics.flush();

    expect(requests.map(indexes)).toEqual([[1]]);
    expect(drops).toHaveLength(1);
    expect(drops[0]!.reason).toBe('max_age');
    expect(drops[0]!.messageIds).toHaveLength(2);
    expect(drops[0]!.messageIds).not.toContain(ids(requests[0]!)[0]);
    expect(analytics.stats()).toMatchObject({ enqueued: 3, sent: 1, dropped: { max_age: 2 } });
  });

  it('drops events that age out while waiting to retry, without sending them again', async () => {
    vi.useFakeTimers();
    const drops: DropReport[] = [];
    const requests = collector(() => retryAfter(503, '5')());
    const analytics = client({ maxEventAgeMs: 3000, onDrop: (report) => drops.push(report) });
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(5000);
    expect(requests).toHaveLength(1);
    expect(flushed.done).toBe(true);
    expect(drops).toEqual([
      { reason: 'max_age', detail: undefined, messageIds: ids(requests[0]!) },
    ]);
    expect(analytics.stats()).toMatchObject({ sent: 0, inFlight: 0, dropped: { max_age: 2 } });
  });

  it('on queue overflow drops the oldest (counted in dropped.queue_overflow) and delivers the newest', async () => {
    const drops: DropReport[] = [];
    const requests = collector();
    const analytics = client({
      flushAt: 5,
      maxQueueEvents: 5,
      onDrop: (report) => drops.push(report),
    });
    // Events 0–4 fill a batch that goes in flight; 5–12 queue behind it, so 5–7 are evicted.
    trackMany(analytics, 13);
    expect(analytics.stats()).toMatchObject({
      enqueued: 13,
      queued: 5,
      inFlight: 5,
      dropped: { queue_overflow: 3 },
    });
    await analytics.flush();

    expect(requests.flatMap(indexes)).toEqual([0, 1, 2, 3, 4, 8, 9, 10, 11, 12]);
    expect(drops.map((drop) => drop.reason)).toEqual([
      'queue_overflow',
      'queue_overflow',
      'queue_overflow',
    ]);
    expect(drops.flatMap((drop) => drop.messageIds)).toHaveLength(3);
    expect(analytics.stats()).toMatchObject({ sent: 10, dropped: { queue_overflow: 3 } });
  });

  it('bounds the queue by bytes too (maxQueueBytes), dropping the oldest', async () => {
    const requests = collector();
    const analytics = client({ maxQueueBytes: 5000 });
    trackMany(analytics, 6, 10, { blob: 'z'.repeat(2000) }); // ~2.2 KB each: 2 fit in 5,000 bytes
    expect(analytics.stats()).toMatchObject({ queued: 2, dropped: { queue_overflow: 4 } });
    await analytics.flush();

    const eventBytes = byteLength(JSON.stringify(requests[0]!.body.batch[0]));
    expect(eventBytes).toBeGreaterThan(5000 / 3);
    expect(eventBytes).toBeLessThanOrEqual(2500);
    expect(requests.flatMap(indexes)).toEqual([14, 15]);
    expect(analytics.stats()).toMatchObject({ sent: 2, dropped: { queue_overflow: 4 } });
  });
});

describe('flush()', () => {
  it('resolves only after retries settle (500, 500, 200)', async () => {
    vi.useFakeTimers();
    const requests = collector(sequence(retryAfter(500, '1'), retryAfter(500, '1')));
    const analytics = client();
    trackMany(analytics, 2);
    const flushed = watchFlush(analytics);

    await vi.advanceTimersByTimeAsync(999);
    expect(requests).toHaveLength(1);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(requests).toHaveLength(2);
    expect(flushed.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(3);
    expect(flushed.done).toBe(true);
    expect(analytics.stats()).toMatchObject({ sent: 2, retried: 4, dropped: {} });
  });

  it('does not send events tracked after it one by one while it waits', async () => {
    vi.useFakeTimers();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const requests = collector(async (_request, index) => {
      if (index === 0) await gate;
      return HttpResponse.json({ ok: true });
    });
    const analytics = client({ maxInFlight: 2, flushAt: 5, flushIntervalMs: 1000 });
    trackMany(analytics, 1);
    const flushed = watchFlush(analytics); // waits for event 0, whose request hangs
    await vi.advanceTimersByTimeAsync(1000); // the interval passes with nothing queued
    expect(requests).toHaveLength(1);

    trackMany(analytics, 4, 1); // below flushAt: stays queued although a slot is free
    await vi.advanceTimersByTimeAsync(0);
    expect(requests).toHaveLength(1);
    expect(analytics.stats()).toMatchObject({ queued: 4, inFlight: 1 });
    trackMany(analytics, 1, 5); // flushAt reached: one batch
    await vi.advanceTimersByTimeAsync(0);
    expect(requests.map(indexes)).toEqual([[0], [1, 2, 3, 4, 5]]);
    expect(flushed.done).toBe(false);

    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed.done).toBe(true);
    expect(analytics.stats()).toMatchObject({ sent: 6, dropped: {} });
  });

  it('resolves at once when nothing is pending', async () => {
    const requests = collector();
    const analytics = client();
    await analytics.flush();
    expect(requests).toHaveLength(0);
  });
});

describe('a flaky collector', () => {
  /** mulberry32: a tiny seeded PRNG, so every run sees the same failures. */
  function prng(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('delivers 1,000 events exactly once through 500s, 503s and resets (maxInFlight 4)', async () => {
    const acknowledged = new Map<string, number>();
    const attemptsByBatch = new Map<number, number>();
    const outcomes = { ok: 0, 500: 0, 503: 0, reset: 0 };
    let open = 0;
    let peak = 0;
    const requests = collector(async (request) => {
      open++;
      peak = Math.max(peak, open);
      try {
        // Decide from (first event, attempt number), not arrival order, so runs are reproducible.
        const first = request.body.batch[0]!.properties!.i!;
        const attempt = (attemptsByBatch.get(first) ?? 0) + 1;
        attemptsByBatch.set(first, attempt);
        const roll = prng(first * 7919 + attempt)();
        await delay(Math.floor(roll * 5));
        if (roll < 0.2) {
          outcomes[500]++;
          return status(500)();
        }
        if (roll < 0.35) {
          outcomes[503]++;
          return status(503)();
        }
        if (roll < 0.5) {
          outcomes.reset++;
          return HttpResponse.error();
        }
        outcomes.ok++;
        for (const messageId of ids(request)) {
          acknowledged.set(messageId, (acknowledged.get(messageId) ?? 0) + 1);
        }
        return HttpResponse.json({ ok: true });
      } finally {
        open--;
      }
    });
    const analytics = client({
      maxInFlight: 4,
      flushAt: 25,
      maxBatchEvents: 25,
      retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 50 },
    });
    const tracked: string[] = [];
    for (let i = 0; i < 1000; i++) {
      analytics.track('item_viewed', { i }, { messageId: `msg-${String(i).padStart(4, '0')}` });
      tracked.push(`msg-${String(i).padStart(4, '0')}`);
    }
    await analytics.flush();

    expect(acknowledged.size).toBe(1000);
    expect(new Set(acknowledged.keys())).toEqual(new Set(tracked));
    const duplicates = [...acknowledged].filter(([, count]) => count !== 1);
    expect(duplicates).toEqual([]);
    expect(outcomes.ok).toBe(40);
    expect(outcomes[500] + outcomes[503] + outcomes.reset).toBeGreaterThan(10);
    expect(requests).toHaveLength(40 + outcomes[500] + outcomes[503] + outcomes.reset);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1);
    expect(analytics.stats()).toMatchObject({
      enqueued: 1000,
      sent: 1000,
      retried: (requests.length - 40) * 25,
      queued: 0,
      inFlight: 0,
      deadLettered: 0,
      dropped: {},
    });
  });
});

/**
 * The engine on its own, with a transport the test answers by hand: orderings that are hard to
 * provoke over HTTP.
 */
describe('createDelivery', () => {
  interface Call {
    batch: OutgoingBatch;
    answered: boolean;
    answer(response: TransportResponse): Promise<void>;
  }

  function manualTransport() {
    const calls: Call[] = [];
    return {
      calls,
      transport: {
        send(batch: OutgoingBatch) {
          return new Promise<TransportResponse>((resolve) => {
            const call: Call = {
              batch,
              answered: false,
              answer: async (response) => {
                call.answered = true;
                resolve(response);
                await new Promise((settle) => setTimeout(settle, 0));
              },
            };
            calls.push(call);
          });
        },
      },
    };
  }

  function engine(overrides: Partial<DeliveryOptions>) {
    const delivered: number[] = [];
    const dropped: Array<{ reason: string; seqs: number[] }> = [];
    const delivery = createDelivery({
      transport: { send: async () => ({ status: 200 }) },
      scheduler: defaultScheduler,
      flushAt: 100,
      flushIntervalMs: 600_000,
      maxBatchEvents: 100,
      maxBatchBytes: 500 * KB,
      maxQueueEvents: 1000,
      maxQueueBytes: 5_000_000,
      maxInFlight: 1,
      maxEventAgeMs: 3_600_000,
      retry: { ...DEFAULT_RETRY, baseDelayMs: 1, maxDelayMs: 1 },
      onDrop: (items, reason) => dropped.push({ reason, seqs: items.map((item) => item.seq) }),
      onDeadLetter: (items, reason) =>
        dropped.push({ reason, seqs: items.map((item) => item.seq) }),
      onDelivered: (items) => delivered.push(...items.map((item) => item.seq)),
      onRetry: () => {},
      ...overrides,
    });
    const enqueue = (count: number) => {
      for (let k = 0; k < count; k++) {
        const json = JSON.stringify({ n: delivery.counts().queued + k });
        delivery.enqueue({ messageId: `m${k}`, json, bytes: 10, createdAt: Date.now() });
      }
    };
    return { delivery, delivered, dropped, enqueue };
  }

  const stops: Array<() => void> = [];
  afterEach(() => {
    // Engines are not closed by the outer afterEach: stop them here.
    for (const stop of stops.splice(0)) stop();
  });

  it('flush() waits for events put back by a 413 even when a later batch is split after them', async () => {
    const { calls, transport } = manualTransport();
    const { delivery, delivered, enqueue } = engine({
      transport,
      maxInFlight: 2,
      flushAt: 3,
      maxBatchEvents: 3,
    });
    stops.push(() => delivery.stop());
    enqueue(3); // X = 0..2
    enqueue(3); // Z = 3..5
    expect(calls).toHaveLength(2);
    let flushed = false;
    const flushing = delivery.flush().then(() => {
      flushed = true;
    }); // waits for 0..5
    enqueue(3); // 6..8 wait for a slot

    await calls[1]!.answer({ status: 200 }); // Z delivered; Y = 6..8 goes out
    expect(calls).toHaveLength(3);
    await calls[0]!.answer({ status: 413 }); // X split; X1 = [0] goes out, 1..2 queued
    expect(calls).toHaveLength(4);
    await calls[2]!.answer({ status: 413 }); // Y split while 1..2 are still queued
    await calls[3]!.answer({ status: 200 }); // X1 delivered

    // 1 and 2 were enqueued before flush() and are not delivered yet: flush must still wait.
    expect(delivered).not.toContain(1);
    expect(flushed).toBe(false);

    const everything = delivery.flush();
    while (calls.some((call) => !call.answered)) {
      for (const call of calls.filter((open) => !open.answered)) await call.answer({ status: 200 });
    }
    await flushing;
    await everything;
    expect([...delivered].sort((a, b) => a - b)).toEqual(range(0, 9));
  });

  it('never raises the batch size back after a smaller 413 split', async () => {
    const { calls, transport } = manualTransport();
    const { delivery, enqueue } = engine({
      transport,
      maxInFlight: 2,
      flushAt: 8,
      maxBatchEvents: 8,
    });
    stops.push(() => delivery.stop());
    enqueue(8); // B = 0..7, sent at flushAt
    enqueue(4);
    void delivery.flush(); // A = 8..11
    expect(calls.map((call) => call.batch.events.length)).toEqual([8, 4]);
    await calls[1]!.answer({ status: 413 }); // the collector takes at most 2 events
    expect(calls.map((call) => call.batch.events.length)).toEqual([8, 4, 2]);
    await calls[0]!.answer({ status: 413 }); // an older, bigger batch is refused afterwards
    expect(calls.map((call) => call.batch.events.length)).toEqual([8, 4, 2, 2]);
  });

  it('keeps working when a hook throws', async () => {
    let answered = 0;
    const { delivery, enqueue } = engine({
      transport: { send: async () => ({ status: answered++ === 0 ? 400 : 200 }) },
      onDeadLetter: () => {
        throw new Error('hook bug');
      },
      onDelivered: () => {
        throw new Error('hook bug');
      },
    });
    stops.push(() => delivery.stop());
    enqueue(2);
    await delivery.flush();
    enqueue(2);
    await delivery.flush();
    expect(answered).toBe(2);
    expect(delivery.counts()).toEqual({ queued: 0, inFlight: 0 });
  });

  it('stop() returns what is queued and in flight, and later enqueues are dropped as closed', async () => {
    const { calls, transport } = manualTransport();
    const { delivery, dropped, enqueue } = engine({ transport, flushAt: 2, maxBatchEvents: 2 });
    enqueue(2); // in flight
    enqueue(1); // queued
    const left = delivery.stop();
    expect(left.map((item: QueuedEvent) => item.seq)).toEqual([0, 1, 2]);
    enqueue(1);
    expect(dropped).toEqual([{ reason: 'closed', seqs: [-1] }]);
    await calls[0]!.answer({ status: 200 });
    await expect(delivery.flush()).resolves.toBeUndefined();
  });
});

describe('createQueue', () => {
  it('rejects a createQueue that is not a function, naming the option', () => {
    expect(() =>
      createAnalytics({ writeKey: 'k', sandbox: true, createQueue: 5 as never }),
    ).toThrow(/createQueue.*function/);
  });

  it('queues in the queue it makes, and hands the transport UTF-8 bytes with events decoded only when read', async () => {
    const made: Array<[number, number]> = [];
    const decoded: string[] = [];
    const batches: OutgoingBatch[] = [];
    const analytics = client({
      maxQueueEvents: 500,
      maxQueueBytes: 100_000,
      // A queue that keeps each event as bytes, as the Node SDK's packed queue does.
      createQueue(maxEvents, maxBytes) {
        made.push([maxEvents, maxBytes]);
        const queue = new EventQueue(maxEvents, maxBytes);
        const push = queue.push.bind(queue);
        queue.push = (item) => {
          const utf8 = new TextEncoder().encode(item.json);
          const { seq, messageId, bytes, createdAt } = item;
          return push({
            seq,
            messageId,
            bytes,
            createdAt,
            utf8,
            get json() {
              const text = new TextDecoder().decode(utf8);
              decoded.push(text);
              return text;
            },
          });
        };
        return queue;
      },
      transport: {
        async send(batch) {
          batches.push(batch);
          return { status: 200 };
        },
      },
    });
    trackMany(analytics, 3, 0, { city: 'Zürich' });
    await analytics.flush();

    expect(made).toEqual([[500, 100_000]]);
    expect(batches).toHaveLength(1);
    expect(decoded).toEqual([]);
    const texts = batches[0]!.utf8!.map((bytes) => new TextDecoder().decode(bytes));
    expect(texts.map((text) => JSON.parse(text).properties)).toEqual([
      { i: 0, city: 'Zürich' },
      { i: 1, city: 'Zürich' },
      { i: 2, city: 'Zürich' },
    ]);
    // Read on demand, `events` is the same text.
    expect(batches[0]!.events).toEqual(texts);
    expect(decoded).toHaveLength(3);
  });
});
