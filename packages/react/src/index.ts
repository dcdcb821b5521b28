// Re-exported so an app declares its events without depending on @sightline/core itself.
export { defineEventCatalog, type EventCatalog } from '@sightline/core';
export {
  AnalyticsProvider,
  type AnalyticsProviderProps,
  useAnalytics,
} from './AnalyticsProvider';
export type { EventName, EventProperties } from './catalogTypes';
export { Track, type TrackProps, type TrackTrigger } from './Track';
export { useConsent } from './useConsent';
export { usePageView } from './usePageView';
export { type TypedUseTrackEvent, useTrackEvent } from './useTrackEvent';
