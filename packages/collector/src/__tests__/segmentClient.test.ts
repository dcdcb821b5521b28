import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeListener } from '../adapters/node';
import { type Collector, createCollector } from '../collector';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';

/**
 * Segment's own Node client (`@segment/analytics-node` 3.x), unmodified, pointed at a real
 * collector over loopback HTTP with a DuckDB file store: what it sends must be stored as sent.
 */

const WRITE_KEY = 'wk_segment_node_1234';
const OTHER_WRITE_KEY = 'wk_other_tenant_1234';
const TENANT = 'segment';
const ORDER_TIME = '2024-06-01T12:00:00.000Z';

const segmentPackage = JSON.parse(
  readFileSync(
    fileURLToPath(
      new URL('../../node_modules/@segment/analytics-node/package.json', import.meta.url),
    ),
    'utf8',
  ),
) as { version: string };

interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

interface SentEvent {
  type: string;
  messageId: string;
  userId?: string;
  anonymousId?: string;
  event?: string;
  name?: string;
  timestamp: string;
  context: { library: { name: string; version: string } };
}

interface Row {
  tenant: string;
  message_id: string;
  type: string;
  event: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  group_id: string | null;
  previous_id: string | null;
  revenue: number | null;
  currency: string | null;
  timestamp_ms: number;
  properties: string;
  traits: string;
  library_name: string | null;
  library_version: string | null;
}

let dir: string;
let store: Store;
let collector: Collector;
let server: Server;

const requests: CapturedRequest[] = [];
const responseStatuses: number[] = [];
const deliveryErrors: unknown[] = [];
let sent: SentEvent[] = [];
let retry: {
  statuses: number[];
  countBefore: number;
  countAfter: number;
  deduplicatedBefore: number;
  deduplicatedAfter: number;
  batchSize: number;
};
let identityLinks: Array<{ anonymousId: string; userId: string }>;
let otherTenantCount: number;
let rows: Row[];

async function deduplicatedCount(): Promise<number> {
  const metric = await collector.metrics.registry
    .getSingleMetric('sightline_events_deduplicated_total')
    ?.get();
  return (metric?.values ?? [])
    .filter((value) => value.labels.tenant === TENANT)
    .reduce((sum, value) => sum + value.value, 0);
}

async function readRows(path: string): Promise<Row[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`
      SELECT tenant, message_id, type, event, user_id, anonymous_id, group_id, previous_id, revenue, currency,
             epoch_ms("timestamp") AS timestamp_ms,
             CAST(properties AS VARCHAR) AS properties, CAST(traits AS VARCHAR) AS traits,
             json_extract_string(context, '$.library.name') AS library_name,
             json_extract_string(context, '$.library.version') AS library_version
      FROM events ORDER BY received_at, message_id`);
    return reader
      .getRowObjectsJS()
      .map((row) => ({ ...row, timestamp_ms: Number(row.timestamp_ms) }) as unknown as Row);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sightline-'));
  const dbPath = join(dir, 'events.duckdb');
  store = await createDuckDbStore({ path: dbPath });
  collector = createCollector({
    store,
    writeKeys: [`${WRITE_KEY}=${TENANT}`, `${OTHER_WRITE_KEY}=other`],
  });
  await collector.ready();
  server = createServer(createNodeListener(collector));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const analytics = new Analytics({
    writeKey: WRITE_KEY,
    host: `http://127.0.0.1:${port}`,
    path: '/v1/batch',
    flushAt: 2,
    flushInterval: 60_000,
    maxRetries: 1,
    httpRequestTimeout: 5_000,
  });
  analytics.on('http_request', (request) => requests.push(request));
  analytics.on('http_response', (response) => responseStatuses.push(response.status));
  analytics.on('error', (error) => deliveryErrors.push(error));

  analytics.identify({
    userId: 'user-42',
    anonymousId: 'anon-7',
    traits: { plan: 'pro', seats: 5 },
  });
  analytics.track({
    userId: 'user-42',
    event: 'Order Completed',
    properties: { orderId: 'o-1', revenue: 99.5, currency: 'EUR', items: 3 },
    timestamp: new Date(ORDER_TIME),
  });
  analytics.page({
    anonymousId: 'anon-7',
    category: 'Docs',
    name: 'Getting Started',
    properties: { path: '/docs/start' },
  });
  analytics.screen({ userId: 'user-42', name: 'Settings', properties: { variant: 'dark' } });
  analytics.group({
    userId: 'user-42',
    groupId: 'acme-inc',
    traits: { plan: 'enterprise', employees: 120 },
  });
  analytics.alias({ userId: 'user-42', previousId: 'anon-legacy' });
  analytics.track({ anonymousId: 'anon-7', event: 'Signed Up', properties: { source: 'ads' } });
  await analytics.closeAndFlush({ timeout: 10_000 });

  sent = requests.flatMap((request) => (JSON.parse(request.body) as { batch: SentEvent[] }).batch);

  // A client retry: the same request body (same messageIds) arrives twice more.
  const first = requests[0]!;
  const countBefore = await store.countEvents(TENANT);
  const deduplicatedBefore = await deduplicatedCount();
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(first.url, {
      method: 'POST',
      headers: first.headers,
      body: first.body,
    });
    statuses.push(response.status);
  }
  retry = {
    statuses,
    countBefore,
    countAfter: await store.countEvents(TENANT),
    deduplicatedBefore,
    deduplicatedAfter: await deduplicatedCount(),
    batchSize: (JSON.parse(first.body) as { batch: unknown[] }).batch.length,
  };
  identityLinks = await store.identityLinks(TENANT);
  otherTenantCount = await store.countEvents('other');

  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await collector.close();
  rows = await readRows(dbPath);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function rowOf(type: string, predicate: (event: SentEvent) => boolean = () => true): Row {
  const event = sent.find((candidate) => candidate.type === type && predicate(candidate));
  if (!event) throw new Error(`the client sent no ${type} event`);
  const row = rows.find((candidate) => candidate.message_id === event.messageId);
  if (!row) throw new Error(`${type} ${event.messageId} was not stored`);
  return row;
}

describe('the real @segment/analytics-node client against a collector over loopback HTTP', () => {
  it('sends 7 calls as 4 batches to /v1/batch with Basic auth, every one answered 200, no delivery errors', () => {
    expect(requests).toHaveLength(4);
    for (const request of requests) {
      expect(request.method).toBe('POST');
      expect(new URL(request.url).pathname).toBe('/v1/batch');
      expect(request.headers.Authorization).toBe(
        `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
      );
      expect(request.headers['Content-Type']).toBe('application/json');
    }
    expect(responseStatuses).toEqual([200, 200, 200, 200]);
    expect(deliveryErrors).toEqual([]);
    expect(sent.map((event) => event.type).sort()).toEqual([
      'alias',
      'group',
      'identify',
      'page',
      'screen',
      'track',
      'track',
    ]);
  });

  it('stores every event exactly once, all under the write key tenant', () => {
    expect(rows).toHaveLength(7);
    expect(new Set(rows.map((row) => row.tenant))).toEqual(new Set([TENANT]));
    expect(rows.map((row) => row.message_id).sort()).toEqual(
      sent.map((event) => event.messageId).sort(),
    );
    expect(otherTenantCount).toBe(0);
  });

  it('keeps the type, ids, names, properties and traits of each call', () => {
    expect(rowOf('identify')).toMatchObject({
      type: 'identify',
      event: null,
      user_id: 'user-42',
      anonymous_id: 'anon-7',
    });
    expect(JSON.parse(rowOf('identify').traits)).toEqual({ plan: 'pro', seats: 5 });

    const order = rowOf('track', (event) => event.event === 'Order Completed');
    expect(order).toMatchObject({
      event: 'Order Completed',
      user_id: 'user-42',
      anonymous_id: null,
      revenue: 99.5,
      currency: 'EUR',
    });
    expect(JSON.parse(order.properties)).toEqual({
      orderId: 'o-1',
      revenue: 99.5,
      currency: 'EUR',
      items: 3,
    });

    const signUp = rowOf('track', (event) => event.event === 'Signed Up');
    expect(signUp).toMatchObject({
      event: 'Signed Up',
      user_id: null,
      anonymous_id: 'anon-7',
      revenue: null,
    });
    expect(JSON.parse(signUp.properties)).toEqual({ source: 'ads' });

    const page = rowOf('page');
    expect(page).toMatchObject({ event: 'Getting Started', anonymous_id: 'anon-7', user_id: null });
    // Segment's client copies `category` into the page properties.
    expect(JSON.parse(page.properties)).toEqual({ path: '/docs/start', category: 'Docs' });

    const screen = rowOf('screen');
    expect(screen).toMatchObject({ event: 'Settings', user_id: 'user-42' });
    expect(JSON.parse(screen.properties)).toEqual({ variant: 'dark' });

    const group = rowOf('group');
    expect(group).toMatchObject({ group_id: 'acme-inc', user_id: 'user-42', event: null });
    expect(JSON.parse(group.traits)).toEqual({ plan: 'enterprise', employees: 120 });

    expect(rowOf('alias')).toMatchObject({
      user_id: 'user-42',
      previous_id: 'anon-legacy',
      event: null,
    });
  });

  it("records context.library as Segment's Node library and its version", () => {
    expect(new Set(sent.map((event) => event.context.library.name))).toEqual(
      new Set(['@segment/analytics-node']),
    );
    for (const row of rows) {
      expect({ name: row.library_name, version: row.library_version }).toEqual({
        name: '@segment/analytics-node',
        version: segmentPackage.version,
      });
    }
    expect(segmentPackage.version).toMatch(/^3\./);
  });

  it('keeps an explicit timestamp (corrected for clock skew by at most a few seconds on loopback)', () => {
    const order = rowOf('track', (event) => event.event === 'Order Completed');
    expect(Math.abs(order.timestamp_ms - Date.parse(ORDER_TIME))).toBeLessThan(5_000);
  });

  it('links identities from identify (anonymousId → userId) and alias (previousId → userId)', () => {
    expect(identityLinks).toEqual(
      expect.arrayContaining([
        { anonymousId: 'anon-7', userId: 'user-42' },
        { anonymousId: 'anon-legacy', userId: 'user-42' },
      ]),
    );
  });

  it('a client retry of the same batch (sent twice more) answers 200 and is not double counted', () => {
    expect(retry.statuses).toEqual([200, 200]);
    expect(retry.countBefore).toBe(7);
    expect(retry.countAfter).toBe(7);
    expect(retry.batchSize).toBe(2);
    expect(retry.deduplicatedAfter - retry.deduplicatedBefore).toBe(2 * retry.batchSize);
    expect(rows).toHaveLength(7);
  });
});
