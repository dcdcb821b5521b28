import { describe, expect, it } from 'vitest';
import {
  type AnalyticsEvent,
  createAnalytics,
  createConsentManager,
  createMemoryStorage,
} from '../index';
import { createRecordingTransport, silentLogger } from './helpers';

function setup(options: Partial<Parameters<typeof createAnalytics>[0]> = {}) {
  const recorder = createRecordingTransport();
  const analytics = createAnalytics({
    writeKey: 'wk',
    transport: recorder.transport,
    logger: silentLogger,
    ...options,
  });
  return { analytics, recorder };
}

const names = (events: AnalyticsEvent[]) =>
  events.map((event) => ('event' in event ? event.event : event.type));

describe('consent', () => {
  it('knows analytics and marketing, each granted, denied or pending', () => {
    const consent = createConsentManager({ require: true });
    expect(consent.getAll()).toEqual({ analytics: 'pending', marketing: 'pending' });
    consent.set({ analytics: 'granted', marketing: 'denied', functional: 'granted' });
    expect(consent.get('analytics')).toBe('granted');
    expect(consent.get('marketing')).toBe('denied');
    expect(consent.get('functional')).toBe('granted');
    expect(() => consent.set({ analytics: 'yes' as never })).toThrow(
      /consent\.set\(\)\.analytics.*'granted', 'denied' or 'pending'/,
    );
  });

  it('holds events in memory while pending and releases them in order when granted', async () => {
    const { analytics, recorder } = setup({ consent: { require: true } });
    analytics.track('one');
    analytics.track('two');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(analytics.stats().pendingConsent).toBe(2);
    analytics.consent.set({ analytics: 'granted' });
    await analytics.flush();
    expect(names(recorder.events())).toEqual(['one', 'two']);
    expect(recorder.events()[0]!.context.consent).toEqual({
      analytics: 'granted',
      marketing: 'pending',
    });
    expect(analytics.stats().pendingConsent).toBe(0);
  });

  it('discards held events with reason consent when the state resolves to denied', async () => {
    const { analytics, recorder } = setup({ consent: { require: true } });
    analytics.track('one');
    analytics.consent.set({ analytics: 'denied' });
    analytics.track('two');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(analytics.stats().dropped.consent).toBe(2);
  });

  it('bounds the pending buffer, dropping the oldest with reason consent_buffer_overflow', async () => {
    const { analytics, recorder } = setup({ consent: { require: true, maxPendingEvents: 3 } });
    for (const name of ['a', 'b', 'c', 'd', 'e']) analytics.track(name);
    analytics.consent.set({ analytics: 'granted' });
    await analytics.flush();
    expect(names(recorder.events())).toEqual(['c', 'd', 'e']);
    expect(analytics.stats().dropped.consent_buffer_overflow).toBe(2);
  });

  it('routes events to a destination only while its own category is granted', async () => {
    const marketing: string[] = [];
    const product: string[] = [];
    const { analytics, recorder } = setup({
      consent: { initial: { analytics: 'granted', marketing: 'pending' } },
      destinations: [
        {
          name: 'ads',
          category: 'marketing',
          send: (event) => void marketing.push((event as { event: string }).event),
        },
        { name: 'product', send: (event) => void product.push((event as { event: string }).event) },
      ],
    });
    analytics.track('first');
    await analytics.flush();
    expect(product).toEqual(['first']);
    expect(marketing).toEqual([]);
    analytics.consent.set({ marketing: 'granted' });
    expect(marketing).toEqual(['first']);
    analytics.consent.set({ marketing: 'denied' });
    analytics.track('second');
    await analytics.flush();
    expect(marketing).toEqual(['first']);
    expect(product).toEqual(['first', 'second']);
    expect(recorder.events()).toHaveLength(2);
  });

  it('persists the choice through the storage port and restores it on the next start', async () => {
    const storage = createMemoryStorage();
    const first = setup({ storage, consent: { require: true } }).analytics;
    first.consent.set({ analytics: 'denied', marketing: 'granted' });
    expect(JSON.parse(storage.getItem('sightline.consent') as string)).toEqual({
      analytics: 'denied',
      marketing: 'granted',
    });
    const { analytics, recorder } = setup({ storage, consent: { require: true } });
    expect(analytics.consent.getAll()).toEqual({ analytics: 'denied', marketing: 'granted' });
    analytics.track('after_restart');
    await analytics.flush();
    expect(recorder.events()).toHaveLength(0);
    expect(analytics.stats().dropped.consent).toBe(1);
  });

  it('lets subscribers see every change once', () => {
    const consent = createConsentManager();
    const seen: unknown[] = [];
    const unsubscribe = consent.subscribe((state) => seen.push(state));
    consent.set({ marketing: 'denied' });
    consent.set({ marketing: 'denied' });
    unsubscribe();
    consent.set({ marketing: 'granted' });
    expect(seen).toEqual([{ analytics: 'granted', marketing: 'denied' }]);
  });
});
