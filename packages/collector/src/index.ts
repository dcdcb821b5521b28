export { type Collector, type ConnectionInfo, createCollector } from './collector';
export { anonymizeIp, campaignFromUrl, parseDevice, referrerDomain } from './ingest/enrich';
export { createKeyring, type KeyGrant, type KeyInput, parseKey } from './keys';
export { createMetrics, type Metrics } from './metrics';
export { openApiDocument } from './openapi';
export { type CollectorOptions, DEFAULT_STORE_URL } from './options';
export { openStore } from './store/openStore';
export type { AppendResult, Store, StoredEvent } from './store/store';
