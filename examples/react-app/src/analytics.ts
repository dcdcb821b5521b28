import { createBrowserAnalytics } from '@sightline/browser';
import { defineEventCatalog, Track, useAnalytics, useTrackEvent } from '@sightline/react';
import { fields } from './schema';

/**
 * The app's events, named as the asset-licensing platform of seed 003 names them. Page views are
 * Sightline `page` events, one per navigation (see Layout). `validate` drops an event whose
 * properties do not match, with the field in `onError`.
 */
export const catalog = defineEventCatalog(
  {
    asset_viewed: fields({ assetId: 'string', projectId: 'string' }),
    license_cta_clicked: fields({ assetId: 'string' }),
    license_created: fields({
      licenseId: 'string',
      assetId: 'string',
      projectId: 'string',
      licenseType: 'string',
      revenueCents: 'number',
      // The collector sums `revenue` (with `currency`) into its revenue metric.
      revenue: 'number',
      currency: 'string',
    }),
  },
  { validate: true, rejectUnknownEvents: true },
);

interface RuntimeConfig {
  host: string;
  writeKey: string;
}

/** The collector, given at runtime by the server of index.html (serve.mjs, or `vite`). */
function runtimeConfig(): RuntimeConfig {
  const config = (window as { __SIGHTLINE__?: RuntimeConfig }).__SIGHTLINE__;
  if (!config?.host || !config.writeKey) {
    throw new Error(
      'window.__SIGHTLINE__ = { host, writeKey } is missing: serve the app with serve.mjs ' +
        '(or `vite` in development), which puts it into index.html',
    );
  }
  return config;
}

/**
 * One client for the whole app. `pageViews: false`: Layout's `usePageView` tracks each
 * navigation, with the route's name, so the SDK's own history-based page views stay off.
 */
export const analytics = createBrowserAnalytics({
  ...runtimeConfig(),
  catalog,
  pageViews: false,
  onError: (error) => console.warn('[sightline]', error.message),
});

/** The binding, typed by the catalog: names and properties are checked everywhere. */
export const useAppAnalytics = () => useAnalytics<typeof catalog>();
export const useAppTrackEvent = useTrackEvent.withTypes<typeof catalog>();
export const AppTrack = Track.withTypes<typeof catalog>();
