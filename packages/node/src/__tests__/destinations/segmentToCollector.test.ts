import { afterEach, describe, expect, it } from 'vitest';
import { segmentDestination } from '../../destinations/segment';
import { type RealCollector, startRealCollector, WRITE_KEY } from '../realCollector';
import { trackEvent } from './sampleEvents';

let collector: RealCollector | undefined;
afterEach(async () => {
  await collector?.close();
  collector = undefined;
});

describe('segmentDestination to another Sightline collector', () => {
  it('delivers each event once, and a retry after a lost answer stores no duplicate', async () => {
    let failOnce = true;
    // The first batch is stored, yet its answer is a 500: the retry must not store it twice.
    collector = await startRealCollector(() => {
      if (!failOnce) return undefined;
      failOnce = false;
      return 'after';
    });
    const errors: unknown[] = [];
    const mirror = segmentDestination({
      writeKey: WRITE_KEY,
      host: collector.url,
      retry: { baseDelayMs: 1 },
      onError: (error) => errors.push(error),
    });
    for (let seq = 1; seq <= 5; seq++) mirror.send(trackEvent('mirrored', { seq }));
    await mirror.close();

    expect(errors).toEqual([]);
    expect(mirror.stats()).toMatchObject({ delivered: 5, retried: 5 });
    expect(await collector.storedSeqs()).toEqual(
      new Map([
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
        [5, 1],
      ]),
    );
  });
});
