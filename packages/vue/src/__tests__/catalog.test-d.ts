import { type BrowserAnalytics, createBrowserAnalytics } from '@sightline/browser';
import { type ConsentState, defineEventCatalog, type StandardSchemaV1 } from '@sightline/core';
import { describe, expectTypeOf, it } from 'vitest';
import { createApp, type GlobalDirectives, type Ref } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import {
  createSightline,
  type Sightline,
  type SightlinePlugin,
  type TrackBinding,
  type TrackDirective,
  useAnalytics,
  useConsent,
} from '../index';

/** A Standard Schema (what zod, valibot and arktype implement) that only carries a type. */
const schema = <T extends Record<string, unknown>>(): StandardSchemaV1<T> => ({
  '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) },
});

const catalog = defineEventCatalog({
  asset_viewed: schema<{ assetId: string }>(),
  license_purchased: schema<{ amount: number; currency: string }>(),
});
const host = 'http://127.0.0.1:8787';

describe('typed event catalogs', () => {
  it('flow from createSightline({ catalog }) to the plugin client', () => {
    const plugin = createSightline({ writeKey: 'wk', host, catalog });
    expectTypeOf(plugin).toEqualTypeOf<SightlinePlugin<typeof catalog>>();
    expectTypeOf(plugin.client).toEqualTypeOf<BrowserAnalytics<typeof catalog>>();
    plugin.client.track('asset_viewed', { assetId: 'a-1' });
    // @ts-expect-error: not in the catalog
    plugin.client.track('asset_deleted', { assetId: 'a-1' });
  });

  it('flow from an existing typed client', () => {
    const client = createBrowserAnalytics({ writeKey: 'wk', host, catalog, pageViews: false });
    const plugin = createSightline({ client });
    expectTypeOf(plugin.client).toEqualTypeOf<BrowserAnalytics<typeof catalog>>();
  });

  it('check track through useAnalytics<typeof catalog>()', () => {
    const analytics = useAnalytics<typeof catalog>();
    expectTypeOf(analytics).toEqualTypeOf<Sightline<typeof catalog>>();
    analytics.track('license_purchased', { amount: 9, currency: 'EUR' });
    // @ts-expect-error: not in the catalog
    analytics.track('asset_deleted', { assetId: 'a-1' });
    // @ts-expect-error: amount must be a number
    analytics.track('license_purchased', { amount: '9', currency: 'EUR' });
    // @ts-expect-error: assetId is required
    analytics.track('asset_viewed', {});
    // The two helpers are the same with or without a catalog.
    analytics.trackFeatureUsage('image_generator', { action: 'click' });
    analytics.trackFormInteraction('generation_form', 'submit', { prompt_length: 3 });
  });

  it('leave track open without a catalog', () => {
    const { track, trackFeatureUsage } = useAnalytics();
    track('anything', { at: 'all' });
    trackFeatureUsage('exports');
    // @ts-expect-error: the feature is required
    trackFeatureUsage();
  });
});

describe('createSightline options', () => {
  it('takes browser options or a client, not both', () => {
    const client = createBrowserAnalytics({ writeKey: 'wk', host });
    createSightline({ client });
    // @ts-expect-error: a client and browser options at once
    createSightline({ client, writeKey: 'wk', host });
    // @ts-expect-error: the browser options need a host
    createSightline({ writeKey: 'wk' });
  });

  it("accepts vue-router's router and installs with app.use()", () => {
    const router = createRouter({ history: createMemoryHistory(), routes: [] });
    const plugin = createSightline({ writeKey: 'wk', host, router });
    createApp({}).use(router).use(plugin);
    // @ts-expect-error: not a router
    createSightline({ writeKey: 'wk', host, router: {} });
  });
});

describe('useConsent() and v-track', () => {
  it('useConsent() is a writable ref of the three states', () => {
    const consent = useConsent('marketing');
    expectTypeOf(consent).toEqualTypeOf<Ref<ConsentState>>();
    consent.value = 'denied';
    // @ts-expect-error: not a consent state
    consent.value = 'yes';
  });

  it('v-track is a typed global directive', () => {
    expectTypeOf<GlobalDirectives['vTrack']>().toEqualTypeOf<TrackDirective>();
    expectTypeOf<'signup_started'>().toExtend<TrackBinding>();
    expectTypeOf<{
      event: 'plan_selected';
      properties: { plan: 'pro' };
    }>().toExtend<TrackBinding>();
    expectTypeOf<{ properties: { plan: 'pro' } }>().not.toExtend<TrackBinding>();
  });
});
