import type { BrowserAnalytics } from '@sightline/browser';
import { defineEventCatalog, type StandardSchemaV1 } from '@sightline/core';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type EventName,
  type EventProperties,
  Track,
  useAnalytics,
  useConsent,
  useTrackEvent,
} from '../index';

/** A Standard Schema (what zod, valibot and arktype implement) that only carries a type. */
const schema = <T extends Record<string, unknown>>(): StandardSchemaV1<T> => ({
  '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) },
});

const catalog = defineEventCatalog({
  asset_viewed: schema<{ assetId: string }>(),
  license_created: schema<{ licenseId: string; revenueCents: number; currency: string }>(),
  cta_clicked: schema<{ cta?: string }>(),
});
type Catalog = typeof catalog;

describe('typed event catalogs through the React binding', () => {
  it('useAnalytics<typeof catalog>() returns the typed client', () => {
    const analytics = useAnalytics<Catalog>();
    expectTypeOf(analytics).toEqualTypeOf<BrowserAnalytics<Catalog>>();
    analytics.track('asset_viewed', { assetId: 'a-1' });
    // @ts-expect-error: not in the catalog
    analytics.track('asset_deleted', { assetId: 'a-1' });
    // @ts-expect-error: revenueCents must be a number
    analytics.track('license_created', { licenseId: 'l-1', revenueCents: '49', currency: 'USD' });
  });

  it('useAnalytics() without a catalog keeps track open', () => {
    const analytics = useAnalytics();
    expectTypeOf(analytics).toEqualTypeOf<BrowserAnalytics>();
    analytics.track('anything', { at: 'all' });
  });

  it('useTrackEvent with the catalog checks names and properties', () => {
    expectTypeOf(
      useTrackEvent<Catalog, 'asset_viewed'>('asset_viewed', { assetId: 'a-1' }),
    ).toEqualTypeOf<() => void>();
    // @ts-expect-error: assetId must be a string
    useTrackEvent<Catalog, 'asset_viewed'>('asset_viewed', { assetId: 1 });
    // @ts-expect-error: not in the catalog
    useTrackEvent<Catalog>('asset_deleted');
    // @ts-expect-error: license_created requires its properties
    useTrackEvent<Catalog, 'license_created'>('license_created');
    // Every property of cta_clicked is optional: so is the argument.
    useTrackEvent<Catalog, 'cta_clicked'>('cta_clicked');
  });

  it('useTrackEvent.withTypes infers the event name and checks its properties', () => {
    const useAppTrackEvent = useTrackEvent.withTypes<Catalog>();
    expectTypeOf(useAppTrackEvent('asset_viewed', { assetId: 'a-1' })).toEqualTypeOf<() => void>();
    useAppTrackEvent('license_created', { licenseId: 'l-1', revenueCents: 4900, currency: 'USD' });
    useAppTrackEvent('cta_clicked');
    // @ts-expect-error: properties of another event
    useAppTrackEvent('asset_viewed', { licenseId: 'l-1' });
    // @ts-expect-error: missing required properties
    useAppTrackEvent('license_created', { licenseId: 'l-1' });
    // @ts-expect-error: not in the catalog
    useAppTrackEvent('asset_deleted');
  });

  it('useTrackEvent without a catalog takes any name and optional open properties', () => {
    useTrackEvent('anything');
    useTrackEvent('anything', { at: 'all' });
    // @ts-expect-error: properties are an object
    useTrackEvent('anything', 'at all');
  });

  it('<Track> checks names and properties against the catalog', () => {
    const AppTrack = Track.withTypes<Catalog>();
    <AppTrack event="asset_viewed" properties={{ assetId: 'a-1' }}>
      <a href="/assets/a-1">Open</a>
    </AppTrack>;
    <AppTrack event="cta_clicked" on="mouseEnter">
      <button type="button">Buy</button>
    </AppTrack>;
    // @ts-expect-error: assetId must be a string
    <AppTrack event="asset_viewed" properties={{ assetId: 1 }}>
      <a href="/assets/a-1">Open</a>
    </AppTrack>;
    // @ts-expect-error: license_created requires its properties
    <AppTrack event="license_created">
      <button type="button">Buy</button>
    </AppTrack>;
    // @ts-expect-error: not in the catalog
    <AppTrack event="asset_deleted">
      <button type="button">Delete</button>
    </AppTrack>;
    <Track<Catalog, 'asset_viewed'> event="asset_viewed" properties={{ assetId: 'a-1' }}>
      <a href="/assets/a-1">Open</a>
    </Track>;
  });

  it('<Track> takes React event names for `on` and exactly one element', () => {
    <Track event="anything" on="submit">
      <form />
    </Track>;
    // @ts-expect-error: not a React event
    <Track event="anything" on="hover">
      <button type="button" />
    </Track>;
    // @ts-expect-error: one element, not text
    <Track event="anything">text</Track>;
  });

  it('exposes the catalog’s names and properties as types', () => {
    expectTypeOf<EventName<Catalog>>().toEqualTypeOf<
      'asset_viewed' | 'license_created' | 'cta_clicked'
    >();
    expectTypeOf<EventProperties<Catalog, 'asset_viewed'>>().toEqualTypeOf<{ assetId: string }>();
    expectTypeOf<EventName<undefined>>().toEqualTypeOf<string>();
  });

  it('useConsent returns a consent state', () => {
    expectTypeOf(useConsent()).toEqualTypeOf<'granted' | 'denied' | 'pending'>();
  });
});
