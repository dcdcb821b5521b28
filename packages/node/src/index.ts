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
