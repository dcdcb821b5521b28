import { defineEventCatalog, type StandardSchemaV1 } from '@sightline/core';
import { describe, expectTypeOf, it } from 'vitest';
import { type BrowserAnalytics, createBrowserAnalytics } from '../browserAnalytics';

/** A Standard Schema (what zod, valibot and arktype implement) that only carries a type. */
const schema = <T extends Record<string, unknown>>(): StandardSchemaV1<T> => ({
  '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) },
});

const catalog = defineEventCatalog({
  asset_viewed: schema<{ assetId: string }>(),
  license_purchased: schema<{ amount: number; currency: string }>(),
});

describe('createBrowserAnalytics with a typed event catalog', () => {
  it('checks event names and properties', () => {
    const analytics = createBrowserAnalytics({
      writeKey: 'wk',
      host: 'http://127.0.0.1:8787',
      catalog,
    });
    expectTypeOf(analytics).toEqualTypeOf<BrowserAnalytics<typeof catalog>>();
    analytics.track('asset_viewed', { assetId: 'a-1' });
    // @ts-expect-error: not in the catalog
    analytics.track('asset_deleted', { assetId: 'a-1' });
    // @ts-expect-error: amount must be a number
    analytics.track('license_purchased', { amount: '9', currency: 'EUR' });
  });

  it('leaves track open without a catalog', () => {
    const analytics = createBrowserAnalytics({ writeKey: 'wk', host: 'http://127.0.0.1:8787' });
    analytics.track('anything', { at: 'all' });
  });
});

describe('createBrowserAnalytics options', () => {
  it('needs a host unless in sandbox mode', () => {
    createBrowserAnalytics({ writeKey: 'wk', host: 'http://127.0.0.1:8787' });
    createBrowserAnalytics({ writeKey: 'wk', sandbox: true });
    // @ts-expect-error: a host, or sandbox mode
    createBrowserAnalytics({ writeKey: 'wk' });
    // @ts-expect-error: sandbox: false still sends, so it needs a host
    createBrowserAnalytics({ writeKey: 'wk', sandbox: false });
  });
});
