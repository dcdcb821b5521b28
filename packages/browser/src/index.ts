export type { AttributionOptions, Touch } from './attribution';
export type { AutoTrackOptions } from './autoTrack';
export { createBeaconTransport } from './beaconTransport';
export {
  type BrowserAnalytics,
  type BrowserAnalyticsBaseOptions,
  type BrowserAnalyticsOptions,
  createBrowserAnalytics,
} from './browserAnalytics';
export type { PageViewOptions } from './pageViews';
export type { Persistence, StorageOptions, SyncStorage } from './storage';
export type { QueueStore } from './tabQueue';
