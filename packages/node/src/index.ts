export {
  createDecorators,
  type Decorators,
  type DecoratorsOptions,
  type MethodDecorator,
  type TrackedMethod,
  type TrackOperationOptions,
  type TrackOptions,
} from './decorators';
export {
  EXPERIMENT_EXPOSURE_EVENT,
  type ExperimentExposureProperties,
  experimentExposureSchema,
  trackExperimentExposure,
} from './experimentExposure';
export type { FixedEventOptions } from './fixedEvent';
export {
  MODEL_REQUEST_EVENT,
  type ModelRequestMetrics,
  type ModelRequestProperties,
  modelRequestProperties,
  modelRequestSchema,
  trackModelRequest,
} from './modelRequest';
export {
  type AliasMessage,
  createNodeAnalytics,
  type GroupMessage,
  type IdentifyMessage,
  type MessageBase,
  type NodeAnalytics,
  type NodeAnalyticsOptions,
  type OverflowPolicy,
  type PageMessage,
  type TrackMessage,
} from './nodeAnalytics';
export { createNodeTransport, type NodeTransportOptions } from './nodeTransport';
export { currentContext, type RequestContext, runWithContext } from './requestContext';
export { trackOperation } from './trackOperation';
