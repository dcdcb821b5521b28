import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The collector's Prometheus metrics, on a registry of its own (two collectors in one process do
 * not collide).
 *
 * @example
 * const metrics = createMetrics();
 * metrics.received.inc({ tenant: 'acme' }, 100);
 * await metrics.registry.metrics(); // Prometheus text format
 */
export function createMetrics() {
  const registry = new Registry();
  const received = new Counter({
    name: 'sightline_events_received_total',
    help: 'Events received by the ingest API, valid or not.',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const stored = new Counter({
    name: 'sightline_events_stored_total',
    help: 'Events committed to the store.',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const deduplicated = new Counter({
    name: 'sightline_events_deduplicated_total',
    help: 'Events acknowledged but not stored again: their messageId was already stored.',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'sightline_events_rejected_total',
    help: 'Events refused, by reason (invalid, event_too_large, unauthorized, rate_limited, overloaded, store_unavailable, …).',
    labelNames: ['tenant', 'reason'] as const,
    registers: [registry],
  });
  const quotaExceeded = new Counter({
    name: 'sightline_quota_exceeded_total',
    help: 'Events over their daily quota (counted in soft mode, refused in hard mode), by tenant and event name.',
    labelNames: ['tenant', 'event', 'mode'] as const,
    registers: [registry],
  });
  const pruned = new Counter({
    name: 'sightline_events_pruned_total',
    help: 'Events deleted by the retention policy (retentionDays), all tenants.',
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'sightline_http_request_duration_seconds',
    help: 'HTTP request latency.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const storeWriteDuration = new Histogram({
    name: 'sightline_store_write_duration_seconds',
    help: 'Duration of one store write (a coalesced batch), commit included.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const storeWriteRows = new Histogram({
    name: 'sightline_store_write_rows',
    help: 'Rows in one store write (a coalesced batch).',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000],
    registers: [registry],
  });
  const writeQueueDepth = new Gauge({
    name: 'sightline_write_queue_depth',
    help: 'Rows accepted and waiting for a store write.',
    registers: [registry],
  });
  return {
    registry,
    received,
    stored,
    deduplicated,
    rejected,
    quotaExceeded,
    pruned,
    requestDuration,
    storeWriteDuration,
    storeWriteRows,
    writeQueueDepth,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
