/**
 * Server-side forwarding: destinations that batch and retry on their own, for Amplitude's HTTP
 * V2 API, Mixpanel's Import and Engage APIs, and any Segment-compatible endpoint.
 *
 * @example
 * import { amplitudeDestination, mixpanelDestination } from '@sightline/node/destinations';
 */
export {
  type AmplitudeDestinationOptions,
  amplitudeDestination,
} from './destinations/amplitude';
export type { ForwardingStats } from './destinations/batcher';
export type { ForwardingDestination } from './destinations/forwardingDestination';
export { ForwardingError } from './destinations/forwardingError';
export type { ForwardingOptions } from './destinations/forwardingOptions';
export {
  type MixpanelDestinationOptions,
  type MixpanelServiceAccount,
  mixpanelDestination,
} from './destinations/mixpanel';
export { type SegmentDestinationOptions, segmentDestination } from './destinations/segment';
