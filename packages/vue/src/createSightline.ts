import {
  type BrowserAnalytics,
  type BrowserAnalyticsOptions,
  createBrowserAnalytics,
} from '@sightline/browser';
import { ConfigurationError, type EventCatalog, type Properties } from '@sightline/core';
import { type App, shallowRef } from 'vue';
import { type RouterLike, trackRouterPageViews } from './routerPageViews';
import { SIGHTLINE_KEY, type Sightline } from './sightlineContext';
import { createTrackDirective } from './trackDirective';

/**
 * Options of {@link createSightline}: the browser SDK's options (it creates the client), or
 * `client`, one you created; and `router` for page views from vue-router.
 *
 * @example
 * const options: SightlineOptions = { writeKey: 'wk_…', host: 'https://example.com/analytics', router };
 */
export type SightlineOptions<Catalog extends EventCatalog | undefined = undefined> = (
  | (BrowserAnalyticsOptions<Catalog> & { client?: undefined })
  | { client: BrowserAnalytics<Catalog> }
) & {
  /**
   * vue-router's router: one page view per navigation, named after the route, with its path
   * pattern as `route`. A client created here then leaves page views to the router; a `client`
   * you pass must be created with `pageViews: false`.
   */
  router?: RouterLike;
};

/**
 * The Vue plugin; `client` is there for code outside components (stores, router guards).
 *
 * @example
 * export const sightline = createSightline({ writeKey, host, router });
 * // in a store, after login:
 * sightline.client.identify(user.id, { plan: user.plan });
 */
export interface SightlinePlugin<Catalog extends EventCatalog | undefined = undefined> {
  readonly client: BrowserAnalytics<Catalog>;
  install(app: App): void;
}

/**
 * The Vue plugin: provides the client to `useAnalytics()` and `useConsent()`, registers
 * `v-track`, and with `router` tracks page views. Safe during SSR: without `window` the client
 * does nothing and the router is not watched.
 *
 * @example
 * app.use(createSightline({ writeKey: 'wk_…', host: 'https://example.com/analytics', router }));
 * // or, with a client you already have (created with pageViews: false when you pass router):
 * app.use(createSightline({ client: analytics, router }));
 */
export function createSightline<Catalog extends EventCatalog | undefined = undefined>(
  options: SightlineOptions<Catalog>,
): SightlinePlugin<Catalog> {
  const { router, client: given, ...browserOptions } = options ?? ({} as SightlineOptions<Catalog>);
  if (router && !given && 'pageViews' in browserOptions && browserOptions.pageViews) {
    throw new ConfigurationError(
      'pageViews',
      'leave it out when you pass `router`: the router integration tracks each navigation once, with the route name and pattern',
    );
  }
  const client =
    given ??
    createBrowserAnalytics({
      ...(browserOptions as BrowserAnalyticsOptions<Catalog>),
      ...(router && { pageViews: false }),
    });
  const track = client.track as (event: string, properties?: Properties) => void;
  return {
    client,
    install(app) {
      // Own properties, so that `{ ...useAnalytics() }` and destructuring both keep every method.
      const analytics: Sightline = {
        ...(client as BrowserAnalytics),
        trackFeatureUsage: (feature, properties) =>
          track('feature_used', { ...properties, feature }),
        trackFormInteraction: (form, action, properties) =>
          track('form_interaction', { ...properties, form, action }),
      };
      const consent = shallowRef(client.consent.getAll());
      const stops = [
        client.consent.subscribe((state) => {
          consent.value = state;
        }),
      ];
      if (router && typeof window !== 'undefined') {
        stops.push(
          trackRouterPageViews(router, (name, properties) => client.page(name, properties)),
        );
      }
      app.provide(SIGHTLINE_KEY, { analytics, consent });
      app.directive('track', createTrackDirective(track));
      // Vue 3.5+; before it, the app's listeners live as long as the page.
      app.onUnmount?.(() => {
        for (const stop of stops) stop();
      });
    },
  };
}
