export { type Analytics, createAnalytics, createPlatformAnalytics } from './analytics';
export { CLICK_IDS } from './campaign';
export {
  type CatalogOptions,
  createCatalogValidator,
  defineEventCatalog,
  type EventCatalog,
  type EventSchemas,
  type TrackFunction,
} from './catalog';
export {
  type ConsentManager,
  type ConsentOptions,
  createConsentManager,
} from './consent';
export { createDelivery, type Delivery, type DeliveryOptions } from './delivery';
export type { Destination } from './destinations';
export {
  ConfigurationError,
  DeliveryError,
  SightlineError,
  ValidationError,
} from './errors';
export type {
  AliasEvent,
  AnalyticsEvent,
  CallOptions,
  ConsentCategory,
  ConsentState,
  EventContext,
  EventType,
  GroupEvent,
  IdentifyEvent,
  PageEvent,
  Properties,
  TrackEvent,
} from './event';
export { type Identity, type IdentityMode, STORAGE_KEYS } from './identity';
export { LIMITS, utf8ByteLength } from './limits';
export { createConsoleLogger, type Logger } from './logger';
export {
  type AnalyticsOptions,
  type DeadLetterReport,
  type DropReport,
  type NumericRule,
  wholeNumber,
} from './options';
export { isIpv6, isPaymentCard, type PiiDetectorName, passesLuhn } from './piiDetectors';
export {
  createPiiFilter,
  DEFAULT_PII_KEYS,
  type PiiAction,
  type PiiFilterOptions,
  REDACTED,
} from './piiFilter';
export {
  createPipeline,
  type Pipeline,
  type PipelineSink,
  type PipelineStep,
  type StepContext,
  type StepResult,
} from './pipeline';
export {
  type EventBuffer,
  type EventBufferFactory,
  EventQueue,
  type QueuedEvent,
} from './queue';
export {
  backoffDelay,
  classifyStatus,
  DEFAULT_RETRY,
  type DeliveryVerdict,
  parseRetryAfter,
  type RetryOptions,
} from './retry';
export { defaultScheduler, type Scheduler } from './scheduler';
export { sha256Hex } from './sha256';
export type { StandardSchemaV1 } from './standardSchema';
export type { AnalyticsStats } from './stats';
export { createMemoryStorage, type StoragePort, type SyncStorage } from './storage';
export {
  batchUrl,
  createFetchTransport,
  createSandboxTransport,
  type FetchTransportOptions,
  type OutgoingBatch,
  postBatch,
  serializeBatch,
  type Transport,
  type TransportResponse,
  withBatchContext,
} from './transport';
export { isUuidv7, uuidv7, uuidv7Timestamp } from './uuidv7';
export { VERSION } from './version';
