export { createSightline, type SightlineOptions, type SightlinePlugin } from './createSightline';
export type { RouteLike, RouterLike } from './routerPageViews';
export type { Sightline } from './sightlineContext';
export type { TrackBinding, TrackDirective } from './trackDirective';
export { useAnalytics } from './useAnalytics';
export { useConsent } from './useConsent';
