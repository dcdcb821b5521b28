import type { BrowserAnalytics } from '@sightline/browser';
import {
  type ConsentState,
  type EventCatalog,
  type Properties,
  SightlineError,
} from '@sightline/core';
import { hasInjectionContext, type InjectionKey, inject, type ShallowRef } from 'vue';

/**
 * What {@link useAnalytics} returns: the browser client (every method of `@sightline/browser`),
 * plus two helpers, for feature usage and form interactions.
 *
 * @example
 * const { track, trackFeatureUsage, trackFormInteraction } = useAnalytics();
 * trackFeatureUsage('image_generator', { action: 'click' }); // feature_used { feature, action }
 */
export interface Sightline<Catalog extends EventCatalog | undefined = undefined>
  extends BrowserAnalytics<Catalog> {
  /** Tracks `feature_used` with `{ feature, ...properties }`. */
  trackFeatureUsage(feature: string, properties?: Properties): void;
  /** Tracks `form_interaction` with `{ form, action, ...properties }`. */
  trackFormInteraction(form: string, action: string, properties?: Properties): void;
}

/** What the plugin provides to every component of its app. */
export interface SightlineContext {
  analytics: Sightline;
  /** The client's consent state, kept current by one subscription per app. */
  consent: ShallowRef<Readonly<Record<string, ConsentState>>>;
}

export const SIGHTLINE_KEY: InjectionKey<SightlineContext> = Symbol('sightline');

/** The plugin's context, or an error naming the fix when the plugin is missing. */
export function injectSightline(caller: string): SightlineContext {
  const context = hasInjectionContext() ? inject(SIGHTLINE_KEY, undefined) : undefined;
  if (!context) {
    throw new SightlineError(
      'missing_plugin',
      `${caller}(): no Sightline client: call app.use(createSightline({ writeKey, host })) before mounting, and call ${caller}() inside setup()`,
    );
  }
  return context;
}
