import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PruneResult, startRetentionJob } from '../privacy/retentionJob';
import { render, sql } from '../query/sql';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';
import { type HttpCollector, startHttpCollector } from './httpCollector';
import { makeStoredEvent } from './storedEvent';
import { wrapStore } from './wrapStore';

/** Retention against real DuckDB: `Store.prune`, the periodic job, and the collector's wiring. */
const DAY = 86_400_000;
const NOW = Date.UTC(2024, 6, 1, 12, 0, 0);

let store: Store;

beforeEach(async () => {
  store = await createDuckDbStore({ path: ':memory:' });
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

async function messageIds(tenant: string): Promise<string[]> {
  const rows = await store.query(
    render(sql`SELECT message_id FROM events WHERE tenant = ${tenant} ORDER BY message_id`),
  );
  return rows.map((row) => String(row.message_id));
}

async function usage(): Promise<Array<{ tenant: string; event: string; count: number }>> {
  const rows = await store.query(
    render(sql`SELECT tenant, event, count FROM daily_usage ORDER BY tenant, event, day`),
  );
  return rows.map((row) => ({
    tenant: String(row.tenant),
    event: String(row.event),
    count: Number(row.count),
  }));
}

/** Old and recent events over two tenants, with links of every kind a prune must judge. */
async function seed(): Promise<void> {
  const old = NOW - 100 * DAY;
  const recent = NOW - 5 * DAY;
  await store.append([
    // gone-link: linked and seen only by old events → pruned with them.
    makeStoredEvent({ messageId: 'old-1', timestamp: old, anonymousId: 'gone', userId: 'u-1' }),
    makeStoredEvent({ messageId: 'old-2', timestamp: old, anonymousId: 'gone' }),
    // kept-link: first seen long ago, but a recent event still carries the anonymous id.
    makeStoredEvent({ messageId: 'old-3', timestamp: old, anonymousId: 'kept', userId: 'u-2' }),
    makeStoredEvent({ messageId: 'new-1', timestamp: recent, anonymousId: 'kept' }),
    makeStoredEvent({ messageId: 'new-2', timestamp: recent, anonymousId: 'fresh', userId: 'u-3' }),
    // Another tenant: pruned too (retention is for every tenant).
    makeStoredEvent({ tenant: 'b', messageId: 'old-b', timestamp: old, anonymousId: 'gone' }),
    makeStoredEvent({ tenant: 'b', messageId: 'new-b', timestamp: recent }),
  ]);
}

describe('Store.prune', () => {
  it('deletes events before the cutoff and links only they referred to, for every tenant', async () => {
    await seed();
    const rollup = await usage();
    expect(await store.prune(NOW - 30 * DAY)).toEqual({ events: 4, identityLinks: 1 });
    expect(await messageIds('default')).toEqual(['new-1', 'new-2']);
    expect(await messageIds('b')).toEqual(['new-b']);
    expect(await store.identityLinks('default')).toEqual([
      { anonymousId: 'kept', userId: 'u-2' },
      { anonymousId: 'fresh', userId: 'u-3' },
    ]);
    // The daily rollup outlives raw events.
    expect(await usage()).toEqual(rollup);
    // Idempotent.
    expect(await store.prune(NOW - 30 * DAY)).toEqual({ events: 0, identityLinks: 0 });
  });

  it('keeps an event exactly at the cutoff', async () => {
    await store.append([makeStoredEvent({ messageId: 'edge', timestamp: NOW - DAY })]);
    expect(await store.prune(NOW - DAY)).toEqual({ events: 0, identityLinks: 0 });
    expect(await store.prune(NOW - DAY + 1)).toEqual({ events: 1, identityLinks: 0 });
  });

  it('stores a pruned event again when it is resent (the writer forgot its keys)', async () => {
    const row = makeStoredEvent({ messageId: 'again', timestamp: NOW - 100 * DAY });
    await store.append([row]);
    await store.prune(NOW);
    const result = await store.append([row]);
    expect(result.stored.get('default')).toBe(1);
    expect(await messageIds('default')).toEqual(['again']);
  });
});

describe('startRetentionJob', () => {
  it('prunes soon after start, then every interval, with the cutoff from the injected clock', async () => {
    await seed();
    let now = NOW;
    const runs: PruneResult[] = [];
    const job = startRetentionJob({
      store: Promise.resolve(store),
      retentionDays: 30,
      now: () => now,
      intervalMs: 20,
      onPruned: (result) => runs.push(result),
    });
    await vi.waitFor(() => expect(runs.length).toBeGreaterThanOrEqual(1));
    expect(runs[0]).toEqual({ events: 4, identityLinks: 1, cutoffMs: NOW - 30 * DAY });
    expect(await messageIds('default')).toEqual(['new-1', 'new-2']);

    // 26 days later the "recent" events are 31 days old.
    now = NOW + 26 * DAY;
    // Runs every 20 ms: the later ones find nothing left, so add up the runs with the new cutoff.
    const laterCutoff = now - 30 * DAY;
    const prunedLater = () =>
      runs.filter((run) => run.cutoffMs === laterCutoff).reduce((sum, run) => sum + run.events, 0);
    await vi.waitFor(() => expect(prunedLater()).toBe(3));
    expect(await messageIds('default')).toEqual([]);
    expect(await store.identityLinks('default')).toEqual([]);

    job.stop();
    // A run in progress finishes and reports; none starts after it.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const count = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs.length).toBe(count);
  });

  it('never throws: failures go to onError and the job keeps its schedule', async () => {
    let calls = 0;
    const failing = wrapStore(store, {});
    failing.prune = async () => {
      calls++;
      throw new Error(`disk full ${calls}`);
    };
    const errors: unknown[] = [];
    const job = startRetentionJob({
      store: Promise.resolve(failing),
      retentionDays: 1,
      now: () => NOW,
      intervalMs: 10,
      onError: (error) => errors.push(error),
      onPruned: () => {
        throw new Error('never called');
      },
    });
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2));
    job.stop();
    expect((errors[0] as Error).message).toBe('disk full 1');
  });

  it('warns once on the console when no onError is given', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const failing = wrapStore(store, {});
      let calls = 0;
      failing.prune = async () => {
        calls++;
        throw new Error('store is gone');
      };
      const job = startRetentionJob({
        store: Promise.resolve(failing),
        retentionDays: 1,
        now: () => NOW,
        intervalMs: 10,
      });
      await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(3));
      job.stop();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain('store is gone');
    } finally {
      warn.mockRestore();
    }
  });

  it('does nothing when the store fails to open, and refuses bad options at once', async () => {
    const job = startRetentionJob({
      store: Promise.reject(new Error('no store')),
      retentionDays: 1,
      now: () => NOW,
      intervalMs: 10,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    job.stop();
    for (const retentionDays of [0, 1.5, Number.NaN]) {
      expect(() =>
        startRetentionJob({ store: Promise.resolve(store), retentionDays, now: () => NOW }),
      ).toThrow('Invalid option `retentionDays`');
    }
  });
});

describe('createCollector({ retentionDays })', () => {
  let http: HttpCollector | undefined;

  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it('prunes on its own schedule, counts sightline_events_pruned_total, stops on close', async () => {
    await seed();
    let prunes = 0;
    const counted = wrapStore(store, {});
    counted.prune = (olderThanMs) => {
      prunes++;
      return store.prune(olderThanMs);
    };
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const collector = await startHttpCollector({
      store: counted,
      writeKeys: ['wk_retention_1234567=default'],
      readKeys: ['rk_retention_admin_12=*'],
      retentionDays: 30,
      now: () => NOW,
    });
    http = collector;
    expect(await store.countEvents('default')).toBe(5);
    await vi.advanceTimersByTimeAsync(10_000); // the first run, shortly after start
    await vi.waitFor(async () => expect(await store.countEvents('default')).toBe(2));
    const metrics = await fetch(`${collector.url}/metrics`, {
      headers: { authorization: 'Bearer rk_retention_admin_12' },
    });
    expect(await metrics.text()).toContain('sightline_events_pruned_total 4');
    await vi.advanceTimersByTimeAsync(3_600_000); // hourly
    await vi.waitFor(() => expect(prunes).toBe(2));

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await collector.close();
    http = undefined;
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    expect(prunes).toBe(2);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    store = await createDuckDbStore({ path: ':memory:' }); // the collector closed the old one
  });

  it('does not prune without retentionDays', async () => {
    await seed();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    http = await startHttpCollector({ store, writeKeys: ['wk_retention_1234567=default'] });
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    vi.useRealTimers();
    expect(await store.countEvents('default')).toBe(5);
    await http.close();
    http = undefined;
    store = await createDuckDbStore({ path: ':memory:' });
  });
});
