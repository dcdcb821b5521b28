import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../store/openStore';
import { basic, type HttpCollector, startHttpCollector } from '../httpCollector';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * Durability when ClickHouse goes away under load: a 200 means the insert succeeded, a stopped
 * server turns ingest into 503 + Retry-After, and clients that keep and resend their batches get
 * every event stored exactly once when the server is back.
 */

const WRITE_KEY = 'wk_outage_12345678';
const BATCHES = 60;
const PER_BATCH = 50;

let server: ClickHouseTestServer;
let http: HttpCollector;

beforeAll(async () => {
  server = await startClickHouse();
  http = await startHttpCollector({
    store: await openStore(server.storeUrl('outage')),
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: ['rk_outage_12345678=acme'],
  });
}, 60_000);

afterAll(async () => {
  await http?.close();
  await server?.stop();
}, 60_000);

function batch(index: number): Array<Record<string, unknown>> {
  return Array.from({ length: PER_BATCH }, (_, position) => ({
    type: 'track',
    event: 'order_placed',
    messageId: `m-${index}-${position}`,
    userId: `u-${(index * PER_BATCH + position) % 97}`,
    timestamp: new Date(Date.UTC(2024, 4, 1) + index * 60_000).toISOString(),
    properties: { batch: index },
  }));
}

interface Outcome {
  status: number;
  retryAfter: string | null;
  body: string;
}

async function send(events: Array<Record<string, unknown>>): Promise<Outcome> {
  const response = await fetch(`${http.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) },
    body: JSON.stringify({ batch: events }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: await response.text(),
  };
}

describe('ClickHouse outage during ingest', () => {
  it('answers 503 with Retry-After while the server is down, and loses no acknowledged event', async () => {
    const pending = Array.from({ length: BATCHES }, (_, index) => index);
    const acknowledged = new Set<number>();
    const refusals: Outcome[] = [];
    let halted = false;
    let resumed = false;
    let outage: Promise<void> | undefined;
    // Four clients sending at once; each keeps its batch until it gets a 200, as the SDKs do.
    // The server is killed while requests are in flight, and comes back after five refusals.
    const client = async () => {
      while (acknowledged.size < BATCHES) {
        const index = pending.shift();
        if (index === undefined) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        const outcome = await send(batch(index));
        if (outcome.status === 200) acknowledged.add(index);
        else {
          refusals.push(outcome);
          pending.push(index);
        }
        if (!halted && acknowledged.size >= BATCHES / 3) {
          halted = true;
          outage = server.halt('SIGKILL');
        }
        if (halted && !resumed && refusals.length >= 5) {
          resumed = true;
          await outage;
          await server.resume();
        }
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    expect(halted && resumed).toBe(true);
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    for (const refusal of refusals) {
      expect(refusal.status).toBe(503);
      expect(refusal.retryAfter).toMatch(/^[1-9]\d*$/);
      expect(JSON.parse(refusal.body)).toMatchObject({ error: { code: 'store_unavailable' } });
    }
    expect(acknowledged.size).toBe(BATCHES);
    // Exactly once: every acknowledged event, no copy of the resent ones.
    expect(await http.store.countEvents('acme')).toBe(BATCHES * PER_BATCH);
    const stored = await server.run(
      'SELECT count() AS n, uniqExact(message_id) AS ids FROM outage.events FORMAT TSV',
    );
    expect(stored.trim()).toBe(`${BATCHES * PER_BATCH}\t${BATCHES * PER_BATCH}`);
  }, 120_000);

  it('reports the outage on /health and recovers when the server is back', async () => {
    await server.halt();
    const down = await fetch(`${http.url}/health`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    await server.resume();
    const up = await fetch(`${http.url}/health`);
    expect(up.status).toBe(200);
    expect((await send(batch(BATCHES))).status).toBe(200);
    expect(await http.store.countEvents('acme')).toBe((BATCHES + 1) * PER_BATCH);
  }, 120_000);
});
