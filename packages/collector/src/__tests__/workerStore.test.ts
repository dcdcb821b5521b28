import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWorkerStore } from '../store/duckdb/workerStore';
import type { Store, StoredEvent } from '../store/store';
import { makeStoredEvent } from './storedEvent';

/**
 * The worker-thread DuckDB store that built packages use (`openStore('duckdb:…')`). It runs the
 * built `dist/store/duckdb/worker.js`, so `pnpm build` comes first, as for the CLI tests.
 */
const WORKER = new URL('../../dist/store/duckdb/worker.js', import.meta.url);
const directory = mkdtempSync(join(tmpdir(), 'sightline-worker-'));
let store: Store;

beforeAll(async () => {
  if (!existsSync(fileURLToPath(WORKER))) {
    throw new Error(
      `${fileURLToPath(WORKER)} is missing: run \`pnpm build\` in packages/collector first`,
    );
  }
  store = await createDuckDbWorkerStore({
    path: join(directory, 'events.duckdb'),
    workerUrl: WORKER,
  });
});

afterAll(async () => {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('DuckDB store in a worker thread', () => {
  it('appends, dedupes per tenant and reports counts like the in-process store', async () => {
    const rows = [
      makeStoredEvent({ tenant: 'a', messageId: 'w-1', anonymousId: 'anon', userId: 'u1' }),
      makeStoredEvent({ tenant: 'a', messageId: 'w-2' }),
      makeStoredEvent({ tenant: 'b', messageId: 'w-1' }),
    ];
    const first = await store.append(rows);
    expect(first.stored).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    const again = await store.append(rows);
    expect(again.duplicates).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    expect(await store.countEvents('a')).toBe(2);
    expect(await store.findMessageIds('a', ['w-1', 'w-2', 'w-3'])).toEqual(new Set(['w-1', 'w-2']));
    expect(await store.identityLinks('a')).toEqual([{ anonymousId: 'anon', userId: 'u1' }]);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('writes query results as CSV to a file, with bound values', async () => {
    const path = join(directory, 'rows.csv');
    await store.writeCsv(
      {
        text: `SELECT message_id, $1 AS note FROM events WHERE tenant = $2 ORDER BY message_id`,
        values: ['a "quoted", note', 'a'],
      },
      path,
    );
    expect(readFileSync(path, 'utf8')).toBe(
      'w-1,"a ""quoted"", note"\r\nw-2,"a ""quoted"", note"\r\n',
    );
  });

  it('rejects a failing append with the engine’s message and keeps working', async () => {
    const broken = makeStoredEvent({
      messageId: 'w-broken',
      type: null as unknown as StoredEvent['type'],
    });
    await expect(store.append([broken])).rejects.toThrow(/NOT NULL/i);
    await store.append([makeStoredEvent({ tenant: 'a', messageId: 'w-after' })]);
    expect(await store.findMessageIds('a', ['w-after'])).toEqual(new Set(['w-after']));
  });

  it('forwards eraseUser and prune to the worker', async () => {
    const old = Date.UTC(2020, 0, 1);
    await store.append([
      makeStoredEvent({ tenant: 'p', messageId: 'p-1', anonymousId: 'pa', userId: 'pu' }),
      makeStoredEvent({ tenant: 'p', messageId: 'p-2', anonymousId: 'pa' }),
      makeStoredEvent({ tenant: 'p', messageId: 'p-3', timestamp: old, anonymousId: 'pb' }),
    ]);
    expect(await store.eraseUser('p', 'pu', 'rk_12345678')).toEqual({
      events: 2,
      identityLinks: 1,
    });
    expect(await store.prune(old + 1)).toEqual({ events: 1, identityLinks: 0 });
    expect(await store.countEvents('p')).toBe(0);
  });

  it('refuses calls after close', async () => {
    const other = await createDuckDbWorkerStore({ path: ':memory:', workerUrl: WORKER });
    await other.close();
    await expect(other.countEvents('a')).rejects.toThrow(/closed/);
  });
});
