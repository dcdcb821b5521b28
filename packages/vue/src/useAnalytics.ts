import type { EventCatalog } from '@sightline/core';
import { injectSightline, type Sightline } from './sightlineContext';

/**
 * The app's Sightline client, inside `setup()`. Pass your catalog's type to get a checked
 * `track`. Throws, naming the fix, when `app.use(createSightline(…))` is missing.
 *
 * @example
 * const { track, trackFeatureUsage } = useAnalytics<typeof catalog>();
 * track('signup_completed', { method: 'email' }); // checked against the catalog
 * trackFeatureUsage('image_generator', { action: 'click' });
 */
export function useAnalytics<
  Catalog extends EventCatalog | undefined = undefined,
>(): Sightline<Catalog> {
  return injectSightline('useAnalytics').analytics as unknown as Sightline<Catalog>;
}
