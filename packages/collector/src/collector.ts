import { createPiiFilter, type EventType, LIMITS, VERSION } from '@sightline/core';
import { isDashboardPath, serveDashboard } from './dashboard/dashboardRoute';
import { assertJsonContentType, parseJson, readBody } from './http/body';
import { corsHeaders, preflight } from './http/cors';
import { errorResponse, HttpError, json } from './http/errors';
import { clientAddress } from './ingest/enrich';
import { inspectPart } from './ingest/inspect';
import { type IngestContext, normalizeEvent, type Rejection } from './ingest/normalize';
import { createQuotaTracker } from './ingest/quotas';
import { createRateLimiter } from './ingest/rateLimit';
import { createWriteQueue, OverloadedError } from './ingest/writeQueue';
import { ALL_TENANTS, bearerToken, createKeyring, writeKeyFromHeader } from './keys';
import { createMetrics, type Metrics } from './metrics';
import { openApiDocument } from './openapi';
import { type CollectorOptions, resolveCollectorOptions } from './options';
import { startRetentionJob } from './privacy/retentionJob';
import { createQueryCache } from './read/queryCache';
import { createReadApi } from './read/readApi';
import { readRoutes } from './read/routes';
import { reportRoutes } from './reports/reportRoutes';
import { createReportsRuntime, type ReportsRuntime } from './reports/reportsRuntime';
import { openStore } from './store/openStore';
import type { Store, StoredEvent } from './store/store';

/** What an adapter knows about the connection that `Request` cannot carry. */
export interface ConnectionInfo {
  /** The socket's remote address. */
  clientIp?: string;
}

/**
 * A mounted-anywhere collector: a `fetch(Request) → Response` handler plus its lifecycle.
 *
 * @example
 * const collector = createCollector({ writeKeys: ['wk_dev_12345678'] });
 * const response = await collector.fetch(new Request('http://x/health'));
 */
export interface Collector {
  fetch(request: Request, connection?: ConnectionInfo): Promise<Response>;
  /** Resolves once the store is open and migrated; rejects if it cannot be. */
  ready(): Promise<void>;
  /** Stops accepting requests, writes what was accepted, closes the store. */
  close(): Promise<void>;
  readonly metrics: Metrics;
  /** Report schedules, alert rules and their run history (docs/reports.md). */
  readonly reports: ReportsRuntime;
}

const SINGLE_EVENT_PATHS: Record<string, EventType> = {
  '/v1/track': 'track',
  '/v1/identify': 'identify',
  '/v1/page': 'page',
  '/v1/screen': 'screen',
  '/v1/group': 'group',
  '/v1/alias': 'alias',
};

const STORE_RETRY_AFTER_SECONDS = 5;
const DAY_MS = 86_400_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Creates the collector. The store opens in the background; requests wait for it, and answer 503
 * with `Retry-After` while it is unavailable.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createCollector } from '@sightline/collector';
 * import { createNodeListener } from '@sightline/collector/node';
 *
 * const collector = createCollector({ writeKeys: ['wk_dev_12345678'], readKeys: ['rk_dev_12345678'] });
 * createServer(createNodeListener(collector)).listen(8787);
 */
export function createCollector(options: CollectorOptions): Collector {
  const settings = resolveCollectorOptions(options);
  const writeKeys = createKeyring(settings.writeKeys, 'writeKeys');
  const readKeys = createKeyring(settings.readKeys, 'readKeys');
  const metrics = createMetrics();
  const piiFilter = settings.pii === false ? undefined : createPiiFilter(settings.pii);
  const rateLimiter = settings.rateLimit ? createRateLimiter(settings.rateLimit) : undefined;
  let closing = false;

  const storePromise: Promise<Store> =
    typeof settings.store === 'string'
      ? openStore(settings.store, {
          activityEvents: {
            signup: settings.kpis.signupEvent,
            payment: settings.kpis.paymentEvent,
            adSpend: settings.kpis.adSpendEvent,
          },
        })
      : Promise.resolve(settings.store);
  storePromise.catch(() => {}); // reported through /health and 503s, not as an unhandled rejection
  const quotas = createQuotaTracker(settings.quotas, storePromise, (tenant, event, count) =>
    metrics.quotaExceeded.inc({ tenant, event, mode: settings.quotas.mode }, count),
  );
  const queuePromise = storePromise.then((store) =>
    createWriteQueue(store, {
      ...settings.writeQueue,
      onWrite(result, rows, seconds) {
        metrics.storeWriteDuration.observe(seconds);
        metrics.storeWriteRows.observe(rows);
        for (const [tenant, count] of result.stored) {
          metrics.stored.inc({ tenant }, count);
          if (count > 0) cache.invalidate(tenant);
        }
        for (const [tenant, count] of result.duplicates) {
          if (count > 0) metrics.deduplicated.inc({ tenant }, count);
        }
      },
    }),
  );
  queuePromise.catch(() => {});

  const cache = createQueryCache({ ttlMs: settings.read.cacheTtlMs });
  const retention =
    settings.retentionDays === undefined
      ? undefined
      : startRetentionJob({
          store: storePromise,
          retentionDays: settings.retentionDays,
          now: settings.now,
          onPruned(result) {
            metrics.pruned.inc(result.events);
            if (result.events > 0 || result.identityLinks > 0) cache.clear();
          },
        });
  // Reads start once migrations ran and the write queue is up; a failed store answers 503.
  const readStore = queuePromise.then(() => storePromise);
  readStore.catch(() => {});
  const reportSource = { kpis: settings.kpis, maxRangeDays: settings.read.maxRangeDays };
  const reports = createReportsRuntime({
    config: settings.reports,
    store: readStore,
    source: reportSource,
    now: settings.now,
  });
  reports.start();
  const readApi = createReadApi({
    routes: [...readRoutes(settings), ...reportRoutes(reportSource, reports)],
    readKeys,
    store: readStore,
    cache,
    now: settings.now,
  });

  async function ingest(request: Request, path: string, connection: ConnectionInfo | undefined) {
    if (request.method !== 'POST') {
      throw new HttpError(405, 'method_not_allowed', `use POST for ${path}`, {
        allow: 'POST, OPTIONS',
      });
    }
    assertJsonContentType(request);
    const body = parseJson(await readBody(request, settings.maxBodyBytes));
    if (!isObject(body)) {
      throw new HttpError(400, 'invalid_body', 'the body must be a JSON object');
    }
    const key =
      writeKeyFromHeader(request.headers.get('authorization')) ??
      (typeof body.writeKey === 'string' ? body.writeKey : undefined);
    if (!key) {
      metrics.rejected.inc({ tenant: 'unknown', reason: 'unauthorized' });
      throw new HttpError(
        401,
        'missing_write_key',
        'send the write key as HTTP Basic auth (base64 of "KEY:") or as "writeKey" in the body',
      );
    }
    const tenant = writeKeys.tenantOf(key);
    if (tenant === undefined) {
      metrics.rejected.inc({ tenant: 'unknown', reason: 'unauthorized' });
      throw new HttpError(401, 'invalid_write_key', 'the write key is not known to this collector');
    }

    let rawEvents: unknown[];
    const type = SINGLE_EVENT_PATHS[path];
    if (type) {
      const { writeKey: _writeKey, ...event } = body;
      rawEvents = [{ ...event, type }];
    } else {
      if (!Array.isArray(body.batch)) {
        throw new HttpError(400, 'invalid_batch', '"batch" must be an array of events');
      }
      if (body.batch.length > LIMITS.maxBatchEvents) {
        throw new HttpError(
          413,
          'batch_too_large',
          `a batch holds at most ${LIMITS.maxBatchEvents} events (this one has ${body.batch.length}): split it`,
          {},
          { limitEvents: LIMITS.maxBatchEvents },
        );
      }
      rawEvents = body.batch;
    }
    metrics.received.inc({ tenant }, rawEvents.length);

    const now = settings.now();
    const waitMs = rateLimiter?.take(key, rawEvents.length, now) ?? 0;
    if (waitMs > 0) {
      metrics.rejected.inc({ tenant, reason: 'rate_limited' }, rawEvents.length);
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new HttpError(
        429,
        'rate_limited',
        `this write key is over its rate limit: retry after ${seconds} s`,
        { 'retry-after': String(seconds) },
      );
    }

    const batchContext = !type && isObject(body.context) ? body.context : undefined;
    const batchContextInspection = batchContext && inspectPart(batchContext, 'context', 1);
    const context: IngestContext = {
      tenant,
      receivedAt: now,
      batchSentAt: typeof body.sentAt === 'string' && !type ? parseTime(body.sentAt) : undefined,
      batchContext,
      batchContextProblem: batchContextInspection?.problem,
      batchContextMaxBytes: batchContextInspection?.maxBytes,
      clientIp: clientAddress(
        request.headers.get('x-forwarded-for'),
        connection?.clientIp,
        settings.trustProxy,
      ),
      ipPolicy: settings.ip,
      piiFilter,
    };
    let rows: StoredEvent[] = [];
    const rowIndexes: number[] = [];
    const rejected: Rejection[] = [];
    rawEvents.forEach((raw, index) => {
      const result = normalizeEvent(raw, index, context);
      if ('reason' in result) rejected.push(result);
      else {
        rows.push(result);
        rowIndexes.push(index);
      }
    });

    const quota = rows.length > 0 ? await quotas.admit(tenant, rows) : undefined;
    if (quota && quota.refused.size > 0) {
      for (const position of quota.refused) {
        const row = rows[position]!;
        rejected.push({
          index: rowIndexes[position]!,
          messageId: row.messageId,
          field: row.type === 'track' ? 'event' : 'name',
          reason: 'quota_exceeded',
          message: `the daily quota of "${row.event ?? row.type}" for this tenant is used up: retry after midnight UTC`,
        });
      }
      rows = rows.filter((_, position) => !quota.refused.has(position));
      rejected.sort((a, b) => a.index - b.index);
    }
    for (const rejection of rejected) metrics.rejected.inc({ tenant, reason: rejection.reason });

    if (rows.length > 0) {
      try {
        await write(rows, tenant);
      } catch (error) {
        quota?.release();
        throw error;
      }
    }
    if (rows.length === 0 && rejected.every((rejection) => rejection.reason === 'quota_exceeded')) {
      const seconds = Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
      throw new HttpError(
        429,
        'quota_exceeded',
        `this tenant's daily quota is used up for these events: retry after midnight UTC (${seconds} s)`,
        { 'retry-after': String(seconds) },
        { rejected },
      );
    }
    if (rejected.length === 0) return json(200, { success: true });
    if (rows.length === 0) {
      return json(400, {
        success: false,
        error: {
          code: 'invalid_events',
          message: `all ${rejected.length} event(s) were rejected: see "rejected" for each field and reason`,
        },
        rejected,
      });
    }
    return json(200, { success: true, stored: rows.length, rejected });
  }

  async function write(rows: StoredEvent[], tenant: string): Promise<void> {
    let queue: Awaited<typeof queuePromise>;
    try {
      queue = await queuePromise;
    } catch {
      throw storeUnavailable(tenant, rows.length);
    }
    if (closing) {
      // Began before close() but finished its body after: refuse rather than write to a closing store.
      metrics.rejected.inc({ tenant, reason: 'shutting_down' }, rows.length);
      throw new HttpError(503, 'shutting_down', 'the collector is shutting down: retry', {
        'retry-after': '1',
      });
    }
    let done: Promise<void>;
    try {
      done = queue.write(rows);
    } catch (error) {
      if (error instanceof OverloadedError) {
        metrics.rejected.inc({ tenant, reason: 'overloaded' }, rows.length);
        throw new HttpError(503, 'overloaded', 'the collector is busy writing: retry shortly', {
          'retry-after': '1',
        });
      }
      throw error;
    } finally {
      metrics.writeQueueDepth.set(queue.depth);
    }
    try {
      await done;
    } catch {
      throw storeUnavailable(tenant, rows.length);
    }
  }

  function storeUnavailable(tenant: string, count: number): HttpError {
    metrics.rejected.inc({ tenant, reason: 'store_unavailable' }, count);
    return new HttpError(
      503,
      'store_unavailable',
      'the event store is unavailable; nothing was stored: retry later',
      { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
    );
  }

  async function health(): Promise<Response> {
    try {
      const store = await storePromise;
      await store.ping();
      return json(200, { status: 'ok', version: VERSION, store: { kind: store.kind, ok: true } });
    } catch (error) {
      return json(
        503,
        {
          status: 'unavailable',
          version: VERSION,
          store: { ok: false, error: error instanceof Error ? error.message : String(error) },
        },
        { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
      );
    }
  }

  async function prometheus(request: Request): Promise<Response> {
    if (!settings.publicMetrics) {
      const token = bearerToken(request.headers.get('authorization'));
      if (!token || readKeys.tenantOf(token) !== ALL_TENANTS) {
        throw new HttpError(
          401,
          'admin_key_required',
          'send an admin read key (tenant "*") as Bearer token',
        );
      }
    }
    return new Response(await metrics.registry.metrics(), {
      headers: { 'content-type': metrics.registry.contentType },
    });
  }

  const READ_ROUTES: Record<string, (request: Request) => Promise<Response>> = {
    '/health': () => health(),
    '/metrics': (request) => prometheus(request),
    '/openapi.json': async () => json(200, openApiDocument),
  };

  async function route(request: Request, url: URL, path: string, connection?: ConnectionInfo) {
    if (closing) {
      throw new HttpError(503, 'shutting_down', 'the collector is shutting down: retry', {
        'retry-after': '1',
      });
    }
    if (path === '/v1/batch' || SINGLE_EVENT_PATHS[path]) return ingest(request, path, connection);
    if (isDashboardPath(path)) return serveDashboard(request, url, path);
    const answer = await readApi.handle(request, url, path);
    if (answer) return answer;
    const read = READ_ROUTES[path];
    if (!read) {
      throw new HttpError(
        404,
        'not_found',
        `no route ${request.method} ${path}: see /openapi.json`,
      );
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', `use GET for ${path}`, { allow: 'GET' });
    }
    return read(request);
  }

  return {
    metrics,
    reports,
    async fetch(request, connection) {
      const started = performance.now();
      const url = new URL(request.url);
      const path = url.pathname.replace(/\/+$/, '') || '/';
      const origin = request.headers.get('origin');
      let response: Response;
      if (request.method === 'OPTIONS') {
        response = preflight(origin, settings.allowedOrigins);
      } else {
        try {
          response = await route(request, url, path, connection);
        } catch (error) {
          response =
            error instanceof HttpError
              ? errorResponse(error)
              : json(500, {
                  success: false,
                  error: { code: 'internal_error', message: 'unexpected error' },
                });
        }
        for (const [name, value] of Object.entries(corsHeaders(origin, settings.allowedOrigins))) {
          response.headers.set(name, value);
        }
      }
      const routeLabel =
        path === '/v1/batch' || SINGLE_EVENT_PATHS[path] || READ_ROUTES[path]
          ? path
          : isDashboardPath(path)
            ? '/dashboard'
            : (readApi.patternOf(path) ?? 'other');
      metrics.requestDuration.observe(
        { route: routeLabel, status: String(response.status) },
        (performance.now() - started) / 1000,
      );
      return response;
    },
    async ready() {
      await queuePromise;
    },
    async close() {
      if (closing) return;
      closing = true;
      retention?.stop();
      await reports.stop();
      const store = await storePromise.catch(() => undefined);
      const queue = await queuePromise.catch(() => undefined);
      await queue?.idle();
      await store?.close();
    },
  };
}

function parseTime(value: string): number | undefined {
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : millis;
}
