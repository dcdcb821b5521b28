import { afterEach, describe, expect, it } from 'vitest';
import { createNodeAnalytics, type NodeAnalytics } from '../nodeAnalytics';
import { type RealCollector, startRealCollector, WRITE_KEY } from './realCollector';

/**
 * The Node client against our real collector (DuckDB file, loopback HTTP): every event sent is
 * read back from the store, counted per `seq` property, so a loss shows as a missing seq and a
 * duplicate (the same event stored twice under two messageIds) as a count of 2.
 */
let collector: RealCollector | undefined;
let analytics: NodeAnalytics | undefined;

afterEach(async () => {
  await analytics?.close({ timeoutMs: 1_000 });
  analytics = undefined;
  await collector?.close();
  collector = undefined;
});

function expectEachOnce(stored: Map<number, number>, count: number) {
  const missing = Array.from({ length: count }, (_, seq) => seq).filter((seq) => !stored.has(seq));
  const doubled = [...stored].filter(([, copies]) => copies !== 1);
  expect({ missing: missing.length, doubled: doubled.length, stored: stored.size }).toEqual({
    missing: 0,
    doubled: 0,
    stored: count,
  });
}

describe('createNodeAnalytics against the real collector', () => {
  it('delivers 10,000 events exactly once', async () => {
    collector = await startRealCollector();
    analytics = createNodeAnalytics({ writeKey: WRITE_KEY, host: collector.url });
    for (let seq = 0; seq < 10_000; seq++) {
      analytics.track({ userId: `u-${seq % 97}`, event: 'burst', properties: { seq } });
    }
    await analytics.close({ timeoutMs: 30_000 });
    expect(analytics.stats()).toMatchObject({ sent: 10_000, dropped: {} });
    expectEachOnce(await collector.storedSeqs(), 10_000);
  });

  it('loses and duplicates nothing when the collector is down for 10 s mid-stream', async () => {
    collector = await startRealCollector();
    const errors: string[] = [];
    analytics = createNodeAnalytics({
      writeKey: WRITE_KEY,
      host: collector.url,
      flushAt: 50,
      flushIntervalMs: 100,
      retry: { baseDelayMs: 200, maxDelayMs: 2_000, maxAttempts: 50 },
      onError: (error) => errors.push(error.message),
    });
    const send = (from: number, to: number) => {
      for (let seq = from; seq < to; seq++) {
        analytics!.track({ anonymousId: 'a-1', event: 'stream', properties: { seq } });
      }
    };
    send(0, 1_000);
    await analytics.flush();
    await collector.stop();
    // Keeps tracking through the outage.
    for (let second = 0; second < 10; second++) {
      send(1_000 + second * 100, 1_100 + second * 100);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(analytics.stats().retried).toBeGreaterThan(0);
    await collector.restart();
    send(2_000, 3_000);
    await analytics.close({ timeoutMs: 30_000 });
    expect(errors).toEqual([]);
    expectEachOnce(await collector.storedSeqs(), 3_000);
  }, 60_000);

  it('loses and duplicates nothing when the collector answers 500 at random, before or after storing', async () => {
    let requests = 0;
    collector = await startRealCollector(() => {
      requests++;
      const roll = Math.random();
      return roll < 0.25 ? 'before' : roll < 0.5 ? 'after' : undefined;
    });
    analytics = createNodeAnalytics({
      writeKey: WRITE_KEY,
      host: collector.url,
      flushAt: 100,
      maxBatchEvents: 100,
      retry: { baseDelayMs: 10, maxDelayMs: 100, maxAttempts: 100 },
    });
    for (let seq = 0; seq < 5_000; seq++) {
      analytics.track({ userId: 'u-1', event: 'flaky', properties: { seq } });
    }
    await analytics.close({ timeoutMs: 30_000 });
    expect(analytics.stats().retried).toBeGreaterThan(0);
    expect(requests).toBeGreaterThan(50);
    expectEachOnce(await collector.storedSeqs(), 5_000);
  });
});
