import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import { createRateLimiter } from '../ingest/rateLimit';
import type { CollectorOptions } from '../options';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';
import { wrapStore } from './wrapStore';

const WRITE_KEY = 'wk_ingest_12345678';
const ADMIN_READ_KEY = 'rk_ingest_admin_1234';
const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

/** One row of `events` as read back from DuckDB: snake_case columns, times as Unix ms. */
export type EventRow = Record<string, unknown> & {
  tenant: string;
  message_id: string;
  type: string;
  event: string | null;
  timestamp: number;
  received_at: number;
  sent_at: number | null;
  properties: string;
  traits: string;
  context: string;
};

/**
 * Every row of `events` in the (closed) database file at `path`, ordered by tenant and
 * messageId, with TIMESTAMPTZ columns as Unix milliseconds.
 */
export async function readEvents(path: string): Promise<EventRow[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      'SELECT * EXCLUDE (seq) FROM events ORDER BY tenant, message_id',
    );
    return reader
      .getRowObjectsJS()
      .map(
        (row) =>
          Object.fromEntries(
            Object.entries(row).map(([column, value]) => [
              column,
              value instanceof Date ? value.getTime() : value,
            ]),
          ) as EventRow,
      );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

interface PostInit {
  /** Write key sent as Basic auth; null sends none. Default {@link WRITE_KEY}. */
  key?: string | null;
  headers?: Record<string, string>;
}

function post(path: string, body: unknown, init: PostInit = {}): Request {
  const key = init.key === undefined ? WRITE_KEY : init.key;
  return new Request(`http://collector.test${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: basic(key) } : {}),
      ...init.headers,
    },
    body:
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? (body as Uint8Array<ArrayBuffer>)
          : JSON.stringify(body),
  });
}

function track(messageId: string, extra: Record<string, unknown> = {}) {
  return { type: 'track', event: 'Clicked', anonymousId: 'anon-1', messageId, ...extra };
}

interface ErrorBody {
  success: false;
  error: { code: string; message: string; limitBytes?: number; limitEvents?: number };
  rejected?: Rejected[];
}

interface Rejected {
  index: number;
  messageId?: string;
  field: string;
  reason: string;
  message: string;
}

async function bodyOf<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

let dir: string;
let dbPath: string;
let store: Store;
let collector: Collector | undefined;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sightline-'));
  dbPath = join(dir, 'events.duckdb');
  store = await createDuckDbStore({ path: dbPath });
  clock = NOW;
});

afterEach(async () => {
  await collector?.close();
  await store.close();
  collector = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function start(options: Partial<CollectorOptions> = {}): Collector {
  collector = createCollector({ store, writeKeys: [WRITE_KEY], now: () => clock, ...options });
  return collector;
}

/** Closes the collector (and its store) and reads back what was stored. */
async function stored(): Promise<EventRow[]> {
  await collector?.close();
  return readEvents(dbPath);
}

function find(rows: EventRow[], messageId: string): EventRow {
  const row = rows.find((candidate) => candidate.message_id === messageId);
  if (!row) throw new Error(`no stored row ${messageId}`);
  return row;
}

describe('POST /v1/batch', () => {
  it('stores each event type with its typed columns', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          {
            type: 'track',
            event: 'Order Completed',
            messageId: 'm-track',
            userId: 'user-1',
            anonymousId: 'anon-1',
            timestamp: '2024-06-01T11:59:00.000Z',
            properties: { revenue: '19.99', currency: 'EUR', plan: 'pro' },
            context: {
              userAgent: IPHONE_UA,
              sessionId: 1717243140000,
              page: {
                url: 'https://shop.example.com/p?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero&gclid=G-1',
                referrer: 'https://www.google.com/search?q=shoes',
              },
            },
          },
          {
            type: 'identify',
            messageId: 'm-identify',
            userId: 42,
            name: 'not an event name',
            traits: { plan: 'pro', seats: 3 },
          },
          {
            type: 'page',
            messageId: 'm-page',
            anonymousId: 'anon-2',
            name: 'Pricing',
            properties: { path: '/pricing' },
            context: { campaign: { source: 'ads', name: 'summer' } },
          },
          { type: 'screen', messageId: 'm-screen', userId: 'user-2', name: 'Home' },
          {
            type: 'group',
            messageId: 'm-group',
            userId: 'user-1',
            groupId: 'acme',
            traits: { industry: 'retail' },
          },
          { type: 'alias', messageId: 'm-alias', userId: 'user-1', previousId: 'anon-1' },
        ],
      }),
      { clientIp: '203.0.113.77' },
    );
    expect(response.status).toBe(200);
    expect(await bodyOf(response)).toEqual({ success: true });

    const rows = await stored();
    expect(rows.map((row) => [row.message_id, row.type, row.event])).toEqual([
      ['m-alias', 'alias', null],
      ['m-group', 'group', null],
      ['m-identify', 'identify', null],
      ['m-page', 'page', 'Pricing'],
      ['m-screen', 'screen', 'Home'],
      ['m-track', 'track', 'Order Completed'],
    ]);
    const trackRow = find(rows, 'm-track');
    expect(trackRow).toMatchObject({
      tenant: 'default',
      timestamp: Date.UTC(2024, 5, 1, 11, 59),
      received_at: NOW,
      sent_at: null,
      user_id: 'user-1',
      anonymous_id: 'anon-1',
      session_id: '1717243140000',
      group_id: null,
      previous_id: null,
      utm_source: 'news',
      utm_medium: 'email',
      utm_campaign: 'spring',
      utm_term: 'shoes',
      utm_content: 'hero',
      referrer_domain: 'google.com',
      revenue: 19.99,
      currency: 'EUR',
      browser: 'Mobile Safari',
      os: 'iOS',
      device_type: 'mobile',
      ip: '203.0.113.0',
    });
    expect(JSON.parse(trackRow.properties)).toEqual({
      revenue: '19.99',
      currency: 'EUR',
      plan: 'pro',
    });
    expect(JSON.parse(trackRow.traits)).toEqual({});
    const trackContext = JSON.parse(trackRow.context) as Record<string, unknown>;
    expect(trackContext.ip).toBe('203.0.113.0');
    expect(trackContext.clickIds).toEqual({ gclid: 'G-1' });
    expect(trackContext.campaign).toEqual({
      source: 'news',
      medium: 'email',
      name: 'spring',
      term: 'shoes',
      content: 'hero',
    });

    expect(find(rows, 'm-identify')).toMatchObject({
      user_id: '42',
      anonymous_id: null,
      revenue: null,
    });
    expect(JSON.parse(find(rows, 'm-identify').traits)).toEqual({ plan: 'pro', seats: 3 });
    // An explicit context.campaign wins over the URL; its `name` is a campaign, not a person's name.
    expect(find(rows, 'm-page')).toMatchObject({
      utm_source: 'ads',
      utm_campaign: 'summer',
      revenue: null,
    });
    expect(find(rows, 'm-group')).toMatchObject({ group_id: 'acme', user_id: 'user-1' });
    expect(JSON.parse(find(rows, 'm-group').traits)).toEqual({ industry: 'retail' });
    expect(find(rows, 'm-alias')).toMatchObject({ previous_id: 'anon-1', user_id: 'user-1' });
  });

  it('stores revenue of track events only, as a finite number, with its currency', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          track('m-number', { properties: { revenue: 49, currency: 'USD' } }),
          track('m-text', { properties: { revenue: 'lots', currency: 'USD' } }),
          track('m-huge', { properties: { revenue: '9'.repeat(400) } }),
          {
            type: 'page',
            anonymousId: 'a',
            messageId: 'm-page',
            properties: { revenue: 10, currency: 'USD' },
          },
        ],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(rows.map((row) => [row.message_id, row.revenue, row.currency])).toEqual([
      ['m-huge', null, null],
      ['m-number', 49, 'USD'],
      ['m-page', null, null],
      ['m-text', null, null],
    ]);
  });

  it('merges the batch context under each event context, the event winning', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        context: {
          userAgent: IPHONE_UA,
          locale: 'fr-FR',
          library: { name: 'batch-lib', version: '1' },
        },
        batch: [track('m-1', { context: { locale: 'de-DE' } }), track('m-2')],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(
      rows.map((row) => [row.message_id, row.browser, JSON.parse(row.context).locale]),
    ).toEqual([
      ['m-1', 'Mobile Safari', 'de-DE'],
      ['m-2', 'Mobile Safari', 'fr-FR'],
    ]);
  });

  it('rejects events whose merged batch context is over 32 KB instead of storing it on each', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        context: { blob: 'x'.repeat(33 * 1024) },
        batch: [track('m-1'), track('m-2')],
      }),
    );
    expect(response.status).toBe(400);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.rejected?.map((rejection) => rejection.reason)).toEqual([
      'event_too_large',
      'event_too_large',
    ]);
    expect(await stored()).toEqual([]);
  });

  it('refuses a prototype-polluting key in the batch context for each event', async () => {
    const app = start();
    const response = await app.fetch(
      post(
        '/v1/batch',
        `{"context":{"__proto__":{"admin":true}},"batch":[${JSON.stringify(track('m-1'))}]}`,
      ),
    );
    expect(response.status).toBe(400);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.rejected?.map(({ field, reason }) => ({ field, reason }))).toEqual([
      { field: 'context.__proto__', reason: 'forbidden_key' },
    ]);
  });

  it('accepts the write key in the body instead of Basic auth', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', { writeKey: WRITE_KEY, batch: [track('m-1')] }, { key: null }),
    );
    expect(response.status).toBe(200);
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-1']);
  });

  it('accepts text/plain bodies (the browser SDK sends them to skip the CORS preflight)', async () => {
    const app = start();
    const response = await app.fetch(
      post(
        '/v1/batch',
        { batch: [track('m-1')] },
        { headers: { 'content-type': 'text/plain;charset=UTF-8' } },
      ),
    );
    expect(response.status).toBe(200);
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-1']);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ])('inflates %s bodies', async (encoding, compress) => {
    const app = start();
    const body = compress(Buffer.from(JSON.stringify({ batch: [track('m-1'), track('m-2')] })));
    const response = await app.fetch(
      post('/v1/batch', new Uint8Array(body), { headers: { 'content-encoding': encoding } }),
    );
    expect(response.status).toBe(200);
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-1', 'm-2']);
  });

  it('answers 415 to a content type other than JSON or text/plain', async () => {
    const app = start();
    const response = await app.fetch(
      post(
        '/v1/batch',
        { batch: [track('m-1')] },
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      ),
    );
    expect(response.status).toBe(415);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.error.code).toBe('unsupported_content_type');
    expect(body.error.message).toContain('application/json');
    expect(await stored()).toEqual([]);
  });

  it('answers 401 naming both ways to send the key when there is none', async () => {
    const app = start();
    const response = await app.fetch(post('/v1/batch', { batch: [track('m-1')] }, { key: null }));
    expect(response.status).toBe(401);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.error.code).toBe('missing_write_key');
    expect(body.error.message).toContain('HTTP Basic');
    expect(body.error.message).toContain('"writeKey" in the body');
  });

  it('answers 401 to an unknown key, by header or body', async () => {
    const app = start();
    const byHeader = await app.fetch(
      post('/v1/batch', { batch: [track('m-1')] }, { key: 'wk_unknown_12345678' }),
    );
    const byBody = await app.fetch(
      post('/v1/batch', { writeKey: `${WRITE_KEY}x`, batch: [track('m-2')] }, { key: null }),
    );
    for (const response of [byHeader, byBody]) {
      expect(response.status).toBe(401);
      expect((await bodyOf<ErrorBody>(response)).error.code).toBe('invalid_write_key');
    }
    expect(await stored()).toEqual([]);
  });

  it('stores the valid events of a batch and names each rejected one by index, messageId, field and reason', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          track('m-good-1'),
          { type: 'track', anonymousId: 'anon-1', messageId: 'm-no-name' },
          track('m-good-2'),
          { type: 'track', event: 'No ids', messageId: 'm-no-ids' },
          'not an event',
          track('m-bad-time', { timestamp: 'yesterday' }),
        ],
      }),
    );
    expect(response.status).toBe(200);
    const body = await bodyOf<{ success: boolean; stored: number; rejected: Rejected[] }>(response);
    expect(body.success).toBe(true);
    expect(body.stored).toBe(2);
    expect(
      body.rejected.map(({ index, messageId, field, reason }) => ({
        index,
        messageId,
        field,
        reason,
      })),
    ).toEqual([
      { index: 1, messageId: 'm-no-name', field: 'event', reason: 'invalid' },
      { index: 3, messageId: 'm-no-ids', field: 'userId', reason: 'invalid' },
      { index: 4, messageId: undefined, field: '(event)', reason: 'not_an_object' },
      { index: 5, messageId: 'm-bad-time', field: 'timestamp', reason: 'invalid' },
    ]);
    expect(body.rejected[1]?.message).toContain('set userId or anonymousId');
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-good-1', 'm-good-2']);
  });

  it('answers 400 naming every event when all are rejected', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [{ type: 'track', anonymousId: 'a', messageId: 'm-1' }, { type: 'nope' }],
      }),
    );
    expect(response.status).toBe(400);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('invalid_events');
    expect(body.error.message).toContain('all 2 event(s) were rejected');
    expect(body.rejected?.map(({ index, field }) => ({ index, field }))).toEqual([
      { index: 0, field: 'event' },
      { index: 1, field: 'type' },
    ]);
    expect(await stored()).toEqual([]);
  });

  it('refuses events that could pollute prototypes or hold non-finite numbers, keeping their neighbours', async () => {
    const app = start();
    const response = await app.fetch(
      post(
        '/v1/batch',
        `{"batch":[${JSON.stringify(track('m-ok'))},{"type":"track","event":"x","anonymousId":"a","messageId":"m-proto","properties":{"__proto__":{"admin":true}}},{"type":"track","event":"x","anonymousId":"a","messageId":"m-inf","properties":{"n":1e400}}]}`,
      ),
    );
    expect(response.status).toBe(200);
    const body = await bodyOf<{ rejected: Rejected[] }>(response);
    expect(
      body.rejected.map(({ messageId, field, reason }) => ({ messageId, field, reason })),
    ).toEqual([
      { messageId: 'm-proto', field: 'properties.__proto__', reason: 'forbidden_key' },
      { messageId: 'm-inf', field: 'properties.n', reason: 'number_out_of_range' },
    ]);
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-ok']);
  });

  it('answers 413 to a batch of 2,501 events and stores none of them', async () => {
    const app = start();
    const batch = Array.from({ length: 2501 }, (_, index) => ({
      type: 'track',
      event: 'e',
      anonymousId: 'a',
      messageId: `m${index}`,
    }));
    const response = await app.fetch(post('/v1/batch', { batch }));
    expect(response.status).toBe(413);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.error.code).toBe('batch_too_large');
    expect(body.error.limitEvents).toBe(2500);
    expect(await stored()).toEqual([]);
  });

  it('accepts a batch of exactly 2,500 events', async () => {
    const app = start();
    const batch = Array.from({ length: 2500 }, (_, index) => ({
      type: 'track',
      event: 'e',
      anonymousId: 'a',
      messageId: `m${index}`,
    }));
    const response = await app.fetch(post('/v1/batch', { batch }));
    expect(response.status).toBe(200);
    expect(await store.countEvents('default')).toBe(2500);
  });

  it('answers 413 to a 501 KB body', async () => {
    const app = start();
    const events = Array.from({ length: 40 }, (_, index) =>
      track(`m-${index}`, { properties: { padding: 'p'.repeat(12 * 1024) } }),
    );
    const text = JSON.stringify({ batch: events });
    const body = `${text.slice(0, -1)},"pad":"${'x'.repeat(501 * 1024 - text.length - 9)}"}`;
    expect(Buffer.byteLength(body)).toBe(501 * 1024);
    const response = await app.fetch(post('/v1/batch', body));
    expect(response.status).toBe(413);
    const error = await bodyOf<ErrorBody>(response);
    expect(error.error.code).toBe('body_too_large');
    expect(error.error.limitBytes).toBe(500 * 1024);
    expect(await stored()).toEqual([]);
  });

  it('answers 413 to a small gzip body that inflates past 500 KB', async () => {
    const app = start();
    const text = JSON.stringify({ batch: [track('m-1')], pad: 'x'.repeat(600 * 1024) });
    const compressed = gzipSync(Buffer.from(text));
    expect(compressed.byteLength).toBeLessThan(10 * 1024);
    const response = await app.fetch(
      post('/v1/batch', new Uint8Array(compressed), { headers: { 'content-encoding': 'gzip' } }),
    );
    expect(response.status).toBe(413);
    expect((await bodyOf<ErrorBody>(response)).error.code).toBe('body_too_large');
    expect(await stored()).toEqual([]);
  });

  it('rejects a 33 KB event with reason event_too_large and stores its neighbours', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          track('m-before'),
          track('m-big', { properties: { blob: 'b'.repeat(33 * 1024) } }),
          track('m-after'),
        ],
      }),
    );
    expect(response.status).toBe(200);
    const body = await bodyOf<{ stored: number; rejected: Rejected[] }>(response);
    expect(body.stored).toBe(2);
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0]).toMatchObject({
      index: 1,
      messageId: 'm-big',
      field: '(event)',
      reason: 'event_too_large',
    });
    expect(body.rejected[0]?.message).toContain('32 KB');
    expect((await stored()).map((row) => row.message_id)).toEqual(['m-after', 'm-before']);
  });

  it('corrects clock skew: a sentAt 1 hour ahead moves the timestamp back by 1 hour', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        sentAt: new Date(NOW + HOUR).toISOString(),
        batch: [
          track('m-skewed', { timestamp: new Date(NOW + HOUR - 5 * 60_000).toISOString() }),
          // An event's own sentAt wins over the batch's.
          track('m-own-sent-at', {
            timestamp: new Date(NOW - 2 * HOUR - 60_000).toISOString(),
            sentAt: new Date(NOW - 2 * HOUR).toISOString(),
          }),
        ],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(find(rows, 'm-skewed')).toMatchObject({
      timestamp: NOW - 5 * 60_000,
      sent_at: NOW + HOUR,
      received_at: NOW,
    });
    expect(find(rows, 'm-own-sent-at')).toMatchObject({
      timestamp: NOW - 60_000,
      sent_at: NOW - 2 * HOUR,
    });
  });

  it('keeps the timestamp as sent without sentAt, and uses receivedAt when there is no timestamp', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [track('m-as-sent', { timestamp: '2024-05-31T08:00:00.000Z' }), track('m-no-time')],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(find(rows, 'm-as-sent')).toMatchObject({
      timestamp: Date.UTC(2024, 4, 31, 8),
      sent_at: null,
    });
    expect(find(rows, 'm-no-time')).toMatchObject({ timestamp: NOW, received_at: NOW });
  });

  it('stamps receivedAt from the collector clock, ignoring a client receivedAt, and gives events without messageId a UUIDv7', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          {
            type: 'track',
            event: 'A',
            anonymousId: 'anon',
            receivedAt: '2000-01-01T00:00:00.000Z',
          },
          { type: 'track', event: 'B', anonymousId: 'anon' },
        ],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.message_id).toMatch(UUID_V7);
      expect(row.received_at).toBe(NOW);
    }
    expect(rows[0]?.message_id).not.toBe(rows[1]?.message_id);
  });

  it('redacts PII in properties, traits and context server-side by default', async () => {
    const app = start();
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          track('m-pii', {
            properties: {
              email: 'jane@example.com',
              note: 'write to jane@example.com',
              plan: 'pro',
            },
            context: { page: { url: 'https://x.io/signup?email=jane%40example.com&plan=pro' } },
          }),
          {
            type: 'identify',
            userId: 'u-1',
            messageId: 'm-traits',
            traits: { email: 'jane@example.com', plan: 'pro' },
          },
        ],
      }),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(JSON.parse(find(rows, 'm-pii').properties)).toEqual({
      email: '[redacted]',
      note: 'write to [redacted:email]',
      plan: 'pro',
    });
    expect(JSON.parse(find(rows, 'm-pii').context).page.url).toBe(
      'https://x.io/signup?email=%5Bredacted%5D&plan=pro',
    );
    expect(JSON.parse(find(rows, 'm-traits').traits)).toEqual({ email: '[redacted]', plan: 'pro' });
    for (const row of rows) expect(JSON.stringify(row)).not.toContain('jane@example.com');
  });

  it('keeps PII with pii: false', async () => {
    const app = start({ pii: false });
    const response = await app.fetch(
      post('/v1/batch', { batch: [track('m-pii', { properties: { email: 'jane@example.com' } })] }),
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(find(await stored(), 'm-pii').properties)).toEqual({
      email: 'jane@example.com',
    });
  });

  it('takes the client IP from context.ip when it is an address, else from the connection', async () => {
    const app = start({ ip: 'keep' });
    const response = await app.fetch(
      post('/v1/batch', {
        batch: [
          track('m-server-ip', { context: { ip: '198.51.100.7' } }),
          track('m-redacted-ip', { context: { ip: '[redacted]' } }),
          track('m-socket-ip'),
        ],
      }),
      { clientIp: '::ffff:203.0.113.77' },
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(rows.map((row) => [row.message_id, row.ip])).toEqual([
      ['m-redacted-ip', '203.0.113.77'],
      ['m-server-ip', '198.51.100.7'],
      ['m-socket-ip', '203.0.113.77'],
    ]);
  });

  it('stores no IP with ip: drop', async () => {
    const app = start({ ip: 'drop' });
    await app.fetch(
      post('/v1/batch', { batch: [track('m-1', { context: { ip: '198.51.100.7' } })] }),
      {
        clientIp: '203.0.113.77',
      },
    );
    const [row] = await stored();
    expect(row?.ip).toBeNull();
    expect(JSON.parse(row?.context ?? '{}').ip).toBeUndefined();
  });

  it('takes the address from X-Forwarded-For only with trustProxy', async () => {
    const app = start({ trustProxy: 1 });
    await app.fetch(
      post(
        '/v1/batch',
        { batch: [track('m-1')] },
        { headers: { 'x-forwarded-for': '1.1.1.1, 198.51.100.7' } },
      ),
      { clientIp: '10.0.0.2' },
    );
    const [row] = await stored();
    expect(row?.ip).toBe('198.51.100.0');
  });
});

describe('single-event paths', () => {
  it.each([
    ['/v1/track', { event: 'Signed Up', anonymousId: 'anon-1' }, 'track', 'Signed Up'],
    ['/v1/identify', { userId: 'u-1', traits: { plan: 'pro' } }, 'identify', null],
    ['/v1/page', { anonymousId: 'anon-1', name: 'Pricing' }, 'page', 'Pricing'],
    ['/v1/screen', { userId: 'u-1', name: 'Home' }, 'screen', 'Home'],
    ['/v1/group', { userId: 'u-1', groupId: 'acme' }, 'group', null],
    ['/v1/alias', { userId: 'u-1', previousId: 'anon-1' }, 'alias', null],
  ])('%s stores one event of its type', async (path, event, type, name) => {
    const app = start();
    // The path decides the type, whatever the body says.
    const response = await app.fetch(
      post(path, { ...event, type: 'track', messageId: 'm-single' }),
    );
    expect(response.status).toBe(200);
    expect(await bodyOf(response)).toEqual({ success: true });
    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ message_id: 'm-single', type, event: name, tenant: 'default' });
  });

  it('accepts the write key in the body and does not store it', async () => {
    const app = start();
    const response = await app.fetch(
      post(
        '/v1/track',
        { writeKey: WRITE_KEY, event: 'Signed Up', userId: 'u-1', messageId: 'm-1' },
        { key: null },
      ),
    );
    expect(response.status).toBe(200);
    const rows = await stored();
    expect(JSON.stringify(rows)).not.toContain(WRITE_KEY);
    expect(rows.map((row) => row.message_id)).toEqual(['m-1']);
  });

  it('corrects clock skew with the event sentAt', async () => {
    const app = start();
    await app.fetch(
      post('/v1/track', {
        event: 'Signed Up',
        userId: 'u-1',
        messageId: 'm-1',
        timestamp: new Date(NOW + HOUR - 1000).toISOString(),
        sentAt: new Date(NOW + HOUR).toISOString(),
      }),
    );
    const [row] = await stored();
    expect(row?.timestamp).toBe(NOW - 1000);
  });

  it('answers 400 naming the field of an invalid single event', async () => {
    const app = start();
    const response = await app.fetch(post('/v1/group', { userId: 'u-1', messageId: 'm-1' }));
    expect(response.status).toBe(400);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.rejected).toEqual([
      expect.objectContaining({ index: 0, messageId: 'm-1', field: 'groupId', reason: 'invalid' }),
    ]);
  });

  it('answers 405 to GET', async () => {
    const app = start();
    const response = await app.fetch(new Request('http://collector.test/v1/track'));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
  });
});

describe('dedupe over HTTP', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function listen(app: Collector): Promise<string> {
    server = createServer(createNodeListener(app));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('stores each event once when a batch is sent 3 times in a row and 3 times at once', async () => {
    const app = start({ readKeys: [`${ADMIN_READ_KEY}=*`] });
    const base = await listen(app);
    const send = (batch: unknown[]) =>
      fetch(`${base}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) },
        body: JSON.stringify({ batch }),
      });
    const sequential = [track('seq-1'), track('seq-2'), track('seq-3')];
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await send(sequential);
      statuses.push(response.status);
      expect(await response.json()).toEqual({ success: true });
    }
    const concurrent = [track('con-1'), track('con-2'), track('con-3')];
    const responses = await Promise.all([send(concurrent), send(concurrent), send(concurrent)]);
    for (const response of responses) {
      statuses.push(response.status);
      expect(await response.json()).toEqual({ success: true });
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await store.countEvents('default')).toBe(6);

    const metrics = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_READ_KEY}` },
    });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('sightline_events_received_total{tenant="default"} 18');
    expect(text).toContain('sightline_events_stored_total{tenant="default"} 6');
    expect(text).toContain('sightline_events_deduplicated_total{tenant="default"} 12');

    const rows = await stored();
    expect(rows.map((row) => row.message_id)).toEqual([
      'con-1',
      'con-2',
      'con-3',
      'seq-1',
      'seq-2',
      'seq-3',
    ]);
  });

  it('passes the socket address of the HTTP connection to IP enrichment', async () => {
    const app = start({ ip: 'keep' });
    const base = await listen(app);
    const response = await fetch(`${base}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: basic(WRITE_KEY) },
      body: JSON.stringify({ event: 'Signed Up', userId: 'u-1', messageId: 'm-1' }),
    });
    expect(response.status).toBe(200);
    const [row] = await stored();
    expect(row?.ip).toBe('127.0.0.1');
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once a key has used its burst, and accepts again after the refill', async () => {
    const app = start({ rateLimit: { eventsPerSecond: 10, burst: 10 } });
    const batchOf = (prefix: string) =>
      Array.from({ length: 10 }, (_, index) => track(`${prefix}-${index}`));
    const first = await app.fetch(post('/v1/batch', { batch: batchOf('first') }));
    expect(first.status).toBe(200);

    const second = await app.fetch(post('/v1/batch', { batch: batchOf('second') }));
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await bodyOf<ErrorBody>(second);
    expect(body.error.code).toBe('rate_limited');

    clock += 500;
    expect((await app.fetch(post('/v1/batch', { batch: batchOf('early') }))).status).toBe(429);
    clock += 1000;
    const third = await app.fetch(post('/v1/batch', { batch: batchOf('third') }));
    expect(third.status).toBe(200);

    const ids = (await stored()).map((row) => row.message_id);
    expect(ids.filter((id) => id.startsWith('first'))).toHaveLength(10);
    expect(ids.filter((id) => id.startsWith('third'))).toHaveLength(10);
    expect(ids).toHaveLength(20);
  });

  it('limits each write key separately', async () => {
    const other = 'wk_ingest_other_1234';
    const app = start({
      writeKeys: [WRITE_KEY, other],
      rateLimit: { eventsPerSecond: 5, burst: 5 },
    });
    const batch = Array.from({ length: 5 }, (_, index) => track(`m-${index}`));
    expect((await app.fetch(post('/v1/batch', { batch }))).status).toBe(200);
    expect((await app.fetch(post('/v1/batch', { batch }))).status).toBe(429);
    expect((await app.fetch(post('/v1/batch', { batch }, { key: other }))).status).toBe(200);
  });

  it('is not drained by a clock that steps back', async () => {
    const app = start({ rateLimit: { eventsPerSecond: 10, burst: 10 } });
    const batch = (prefix: string) =>
      Array.from({ length: 5 }, (_, index) => track(`${prefix}-${index}`));
    expect((await app.fetch(post('/v1/batch', { batch: batch('a') }))).status).toBe(200);
    clock -= 60_000;
    expect((await app.fetch(post('/v1/batch', { batch: batch('b') }))).status).toBe(200);
  });
});

describe('createRateLimiter', () => {
  it('answers the milliseconds until a batch fits, per key', () => {
    const limiter = createRateLimiter({ eventsPerSecond: 100, burst: 50 });
    expect(limiter.take('k1', 50, 0)).toBe(0);
    expect(limiter.take('k1', 10, 0)).toBe(100);
    expect(limiter.take('k1', 10, 100)).toBe(0);
    expect(limiter.take('k2', 50, 100)).toBe(0);
  });

  it('lets a batch larger than the burst through once the bucket is full', () => {
    const limiter = createRateLimiter({ eventsPerSecond: 10, burst: 10 });
    expect(limiter.take('k', 500, 0)).toBe(0);
    expect(limiter.take('k', 500, 0)).toBe(1000);
  });

  it('still limits with a burst of 0', () => {
    const limiter = createRateLimiter({ eventsPerSecond: 1, burst: 0 });
    expect(limiter.take('k', 1, 0)).toBe(0);
    expect(limiter.take('k', 1, 0)).toBe(1000);
  });

  it('uses the default burst (2 × rate) when burst is not a number', () => {
    const limiter = createRateLimiter({ eventsPerSecond: 5, burst: Number.NaN });
    expect(limiter.take('k', 10, 0)).toBe(0);
    expect(limiter.take('k', 1, 0)).toBe(200);
  });
});

describe('store failures', () => {
  it('answers 503 with Retry-After when the store append fails, acknowledging nothing', async () => {
    let appends = 0;
    const failing = wrapStore(store, {
      append: async () => {
        appends++;
        throw new Error('disk I/O error');
      },
    });
    const app = start({ store: failing });
    const response = await app.fetch(post('/v1/batch', { batch: [track('m-1'), track('m-2')] }));
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await bodyOf<ErrorBody>(response);
    expect(body.success).toBe(false);
    expect(body.error.code).toBe('store_unavailable');
    expect(body.error.message).toContain('nothing was stored');
    expect(appends).toBe(1);
    expect(await stored()).toEqual([]);
  });

  it('answers 503 overloaded when the write queue is full, and stores what it accepted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let appendStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      appendStarted = resolve;
    });
    const slow = wrapStore(store, {
      append: async (events) => {
        appendStarted();
        await gate;
        return store.append(events);
      },
    });
    const app = start({ store: slow, writeQueue: { maxPendingRows: 5 } });
    const three = (prefix: string) => ({
      batch: [track(`${prefix}-1`), track(`${prefix}-2`), track(`${prefix}-3`)],
    });

    const running = app.fetch(post('/v1/batch', three('running')));
    await started;
    const waiting = app.fetch(post('/v1/batch', three('waiting')));
    // Wait until the second request's rows are queued behind the running write.
    for (let attempt = 0; attempt < 200; attempt++) {
      const depth = (await app.metrics.writeQueueDepth.get()).values[0]?.value;
      if (depth === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await app.metrics.writeQueueDepth.get()).values[0]?.value).toBe(3);

    const refused = await app.fetch(post('/v1/batch', three('refused')));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await bodyOf<ErrorBody>(refused)).error.code).toBe('overloaded');

    release();
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
    const ids = (await stored()).map((row) => row.message_id);
    expect(ids).toEqual([
      'running-1',
      'running-2',
      'running-3',
      'waiting-1',
      'waiting-2',
      'waiting-3',
    ]);
  });
});

describe('GET /health', () => {
  it('answers 200 with the store kind when the store answers', async () => {
    const app = start();
    const response = await app.fetch(new Request('http://collector.test/health'));
    expect(response.status).toBe(200);
    const body = await bodyOf<{ status: string; store: { kind: string; ok: boolean } }>(response);
    expect(body.status).toBe('ok');
    expect(body.store).toEqual({ kind: 'duckdb', ok: true });
  });

  it('answers 503 with Retry-After and the error when the store ping fails', async () => {
    const app = start({
      store: wrapStore(store, {
        ping: async () => {
          throw new Error('database file is gone');
        },
      }),
    });
    const response = await app.fetch(new Request('http://collector.test/health'));
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = await bodyOf<{ status: string; store: { ok: boolean; error: string } }>(response);
    expect(body.status).toBe('unavailable');
    expect(body.store).toEqual({ ok: false, error: 'database file is gone' });
  });
});
