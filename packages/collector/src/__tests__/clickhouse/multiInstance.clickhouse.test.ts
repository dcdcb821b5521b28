import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, killAll, type RunningCli, startCli } from '../cliProcess';
import { basic } from '../httpCollector';
import { generateEvents, type RawEvent, toBatches } from '../synthetic/generator';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * Two collector processes (the real CLI) behind a round-robin "load balancer", writing to one
 * ClickHouse at once: every event is stored exactly once, including batches a client resent to
 * the other instance, and both instances answer reads with the same exact numbers.
 */

const WRITE_KEY = 'wk_multi_12345678';
const READ_KEY = 'rk_multi_12345678';
const EVENTS = generateEvents({ seed: 23, users: 120, days: 20, start: '2024-02-01' });
const BATCHES = toBatches(EVENTS, 100);

const children = new Set<ChildProcess>();
let server: ClickHouseTestServer;
let dir: string;
let instances: RunningCli[];

beforeAll(async () => {
  assertCliBuilt();
  server = await startClickHouse();
  dir = mkdtempSync(join(tmpdir(), 'sightline-multi-'));
  const args = [
    'start',
    '--port',
    '0',
    '--store',
    server.storeUrl('shared'),
    '--write-key',
    `${WRITE_KEY}=acme`,
    '--read-key',
    `${READ_KEY}=acme`,
  ];
  // Both start at once: migrations run concurrently on an empty database.
  instances = await Promise.all([
    startCli(dir, args, {}, children),
    startCli(dir, args, {}, children),
  ]);
}, 90_000);

afterAll(async () => {
  await killAll(children);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function post(instance: RunningCli, batch: readonly RawEvent[]): Promise<number> {
  const response = await fetch(`${instance.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) },
    body: JSON.stringify({ batch }),
  });
  await response.body?.cancel();
  return response.status;
}

async function read(instance: RunningCli, path: string): Promise<unknown> {
  const response = await fetch(`${instance.url}${path}`, {
    headers: { authorization: `Bearer ${READ_KEY}` },
  });
  expect(response.status, path).toBe(200);
  return response.json();
}

/** The usage rows an exact count of `EVENTS` gives: per UTC day and event (or page) name. */
function expectedUsage(): Array<{ date: string; event: string; count: number }> {
  const counts = new Map<string, number>();
  for (const event of EVENTS) {
    const name = event.event ?? event.name ?? event.type;
    const key = `${event.timestamp.slice(0, 10)}\u0000${name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => {
      const [date, event] = key.split('\u0000') as [string, string];
      return { date, event, count };
    })
    .sort((a, b) => (a.date === b.date ? (a.event < b.event ? -1 : 1) : a.date < b.date ? -1 : 1));
}

describe('two collector processes on one ClickHouse', () => {
  it('store every event exactly once while writing concurrently', async () => {
    // Six clients; batch i goes to instance i mod 2, as a round-robin balancer would send it.
    const queue = BATCHES.map((batch, index) => ({ batch, index }));
    const client = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        expect(await post(instances[next.index % 2]!, next.batch)).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 6 }, client));
    // A client that timed out resends every fifth batch, and the balancer picks the other one.
    await Promise.all(
      BATCHES.filter((_, index) => index % 5 === 0).map(async (batch, index) =>
        expect(await post(instances[(index * 5 + 1) % 2]!, batch)).toBe(200),
      ),
    );
    const unique = new Set(EVENTS.map((event) => event.messageId)).size;
    expect(unique).toBe(EVENTS.length);
    const [rows, ids] = (
      await server.run('SELECT count(), uniqExact(message_id) FROM shared.events FORMAT TSV')
    )
      .trim()
      .split('\t')
      .map(Number);
    expect({ rows, ids }).toEqual({ rows: EVENTS.length, ids: EVENTS.length });
  }, 120_000);

  it('answer usage with exact counts from either instance', async () => {
    const path = '/v1/usage?from=2024-01-25&to=2024-03-01';
    const expected = expectedUsage();
    expect(await read(instances[0]!, path)).toEqual({ usage: expected });
    expect(await read(instances[1]!, path)).toEqual({ usage: expected });
  }, 60_000);

  it('page through every event once from either instance', async () => {
    for (const instance of instances) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`;
        const page = (await read(instance, `/v1/events?limit=500${query}`)) as {
          events: Array<{ messageId: string }>;
          nextCursor: string | null;
        };
        seen.push(...page.events.map((event) => event.messageId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(seen.length).toBe(EVENTS.length);
      expect(new Set(seen).size).toBe(EVENTS.length);
    }
  }, 60_000);
});
