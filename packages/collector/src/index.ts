export { type Collector, type ConnectionInfo, createCollector } from './collector';
export { anonymizeIp, campaignFromUrl, parseDevice, referrerDomain } from './ingest/enrich';
export { createKeyring, type KeyGrant, type KeyInput, parseKey } from './keys';
export { createMetrics, type Metrics } from './metrics';
export { openApiDocument } from './openapi';
export { type CollectorOptions, DEFAULT_STORE_URL } from './options';
export { type ForecastModel, type ForecastPoint, forecastSeries } from './reports/forecast';
export {
  loadReportsConfig,
  parseReportsConfig,
  type ReportsConfig,
  type ReportsConfigInput,
} from './reports/reportConfig';
export type { ReportsRuntime } from './reports/reportsRuntime';
export type { RunRecord } from './reports/runHistory';
export { SIGNATURE_HEADER, signPayload, verifySignature } from './reports/signature';
export { openStore } from './store/openStore';
export type { AppendResult, Store, StoredEvent } from './store/store';
