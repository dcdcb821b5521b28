import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { assertCliBuilt, killAll, startCli } from './cliProcess';

/**
 * "A 200 means the events are durable: an acknowledged event survives a crash." The built CLI
 * (`pnpm build` first) runs as a child process on a DuckDB file, takes concurrent batches, and is
 * SIGKILLed mid-load; every messageId it acknowledged must be in the file afterwards.
 */
const WRITE_KEY = 'wk_durability_1234';
const TENANT = 'durable';
const CYCLES = 3;
const LOAD_MS = 1_500;
const LOOPS = 12;
const BATCH = 50;

let directory: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  assertCliBuilt();
  directory = mkdtempSync(join(tmpdir(), 'sightline-'));
});

afterAll(async () => {
  await killAll(children);
  rmSync(directory, { recursive: true, force: true });
});

/** `sightline-collector start` on `file`, resolved once it prints the URL it listens on. */
function startDurableCli(file: string) {
  return startCli(
    directory,
    ['start', '--port', '0', '--store', `duckdb:${file}`, '--write-key', `${WRITE_KEY}=${TENANT}`],
    {},
    children,
  );
}

function post(url: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/v1/batch`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Load {
  /** Every messageId sent, acknowledged or not. */
  sent: string[];
  /** messageIds whose batch got a 200. */
  acknowledged: string[];
  statuses: Map<string, number>;
  /** Requests awaiting their response. */
  readonly inFlight: number;
  /** Stops the loops and resolves once all have returned. */
  stop(): Promise<void>;
}

/** LOOPS concurrent loops POSTing batches of BATCH events with ids `run-${n}`, from `first` on. */
function startLoad(url: string, first: number): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: LOOPS });
  let next = first;
  let stopped = false;
  let inFlight = 0;
  const load = {
    sent: [] as string[],
    acknowledged: [] as string[],
    statuses: new Map<string, number>(),
    get inFlight() {
      return inFlight;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
    },
  };
  const loop = async () => {
    while (!stopped) {
      const ids = Array.from({ length: BATCH }, () => `run-${next++}`);
      load.sent.push(...ids);
      const body = JSON.stringify({
        batch: ids.map((messageId) => ({
          type: 'track',
          event: 'Load Tested',
          anonymousId: `anon-${messageId}`,
          messageId,
        })),
      });
      inFlight += 1;
      const outcome = await post(url, body, agent).then(
        (status) => String(status),
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      );
      inFlight -= 1;
      load.statuses.set(outcome, (load.statuses.get(outcome) ?? 0) + 1);
      if (outcome === '200') load.acknowledged.push(...ids);
      else if (/^\d+$/.test(outcome)) await new Promise((done) => setTimeout(done, 20));
      else return; // the connection failed: the collector is gone
    }
  };
  const loops = Array.from({ length: LOOPS }, loop);
  return load;
}

it('keeps every acknowledged event across three SIGKILLs of the CLI under concurrent load on the same DuckDB file', async () => {
  const file = join(directory, 'events.duckdb');
  const sent: string[] = [];
  const acknowledged: string[] = [];
  const cycles: Array<{
    acknowledged: number;
    sent: number;
    inFlightAtKill: number;
    statuses: string;
  }> = [];

  for (let cycle = 0; cycle < CYCLES; cycle += 1) {
    // From the second cycle on, the CLI opens a file whose last process was killed: DuckDB
    // replays its write-ahead log, and new writes go on top of the replayed data.
    const cli = await startDurableCli(file);
    const load = startLoad(cli.url, sent.length);
    await new Promise((done) => setTimeout(done, LOAD_MS));
    const inFlightAtKill = load.inFlight;
    cli.child.kill('SIGKILL');
    expect(await cli.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await load.stop();

    sent.push(...load.sent);
    acknowledged.push(...load.acknowledged);
    cycles.push({
      acknowledged: load.acknowledged.length,
      sent: load.sent.length,
      inFlightAtKill,
      statuses: JSON.stringify(Object.fromEntries(load.statuses)),
    });
    // Killed mid-load: requests were waiting for their answer when the process died.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(load.acknowledged.length).toBeGreaterThan(500);
  }

  const store = await createDuckDbStore({ path: file });
  let stored: Set<string>;
  let count: number;
  try {
    stored = await store.findMessageIds(TENANT, sent);
    count = await store.countEvents(TENANT);
  } finally {
    await store.close();
  }
  const missing = acknowledged.filter((id) => !stored.has(id));
  const acknowledgedIds = new Set(acknowledged);
  const storedNotAcknowledged = [...stored].filter((id) => !acknowledgedIds.has(id)).length;
  console.info(
    `durability: ${acknowledged.length} acknowledged, ${missing.length} missing, ` +
      `${storedNotAcknowledged} stored but not acknowledged, ${sent.length} sent; per cycle ${JSON.stringify(cycles)}`,
  );

  expect(acknowledged.length).toBeGreaterThan(CYCLES * 1_000);
  expect({ missing: missing.length, firstMissing: missing.slice(0, 5) }).toEqual({
    missing: 0,
    firstMissing: [],
  });
  // Nothing stored that was never sent, and each messageId once.
  expect(count).toBe(stored.size);
  // Stored but not acknowledged (the kill came between commit and response) is allowed; at
  // most the batches in flight at the kills.
  expect(storedNotAcknowledged).toBeLessThanOrEqual(
    cycles.reduce((sum, cycle) => sum + cycle.inFlightAtKill, 0) * BATCH,
  );
}, 40_000);
