import { randomUUID } from 'node:crypto';
import { ConfigurationError } from '@sightline/core';
import type { NodeAnalytics } from './nodeAnalytics';
import type { RequestContext } from './requestContext';

/** Who a request is for, as the app's `identify` reads it (a session, a verified token). */
export interface RequestIdentity {
  userId?: string;
  anonymousId?: string;
  /** The app's tenant (account, workspace), sent as `context.tenant`. */
  tenant?: string;
}

/**
 * Options of the Express, Fastify and Hono middleware. `Request` is what the framework calls a
 * request: Express `req`, Fastify `request`, Hono `c`.
 */
export interface ApiRequestOptions<Request> {
  /** The client from `createNodeAnalytics`. */
  analytics: NodeAnalytics;
  /**
   * Who the request is for. Events the handler tracks inherit it, and so does the `api_request`
   * event. Mount the middleware after your authentication so this can read its result.
   */
  identify?: (request: Request) => RequestIdentity | undefined;
  /** Default: the `x-request-id` header, else a random UUID. Sent as `context.requestId`. */
  requestId?: (request: Request) => string | undefined;
  /**
   * Share of requests that send `api_request`, from 0 to 1. Default 1. Sampled-out requests still
   * get their context, so the app's own events keep their user.
   */
  sampleRate?: number;
  /**
   * Requests to leave alone (no context, no event), by path without the query string.
   * Default {@link isHealthCheck}; compose with it to keep skipping probes.
   */
  skip?: (path: string) => boolean;
  /** The event name. Default `api_request`. */
  event?: string;
  /** Receives what a throwing `identify`, `requestId` or `skip` threw; the request goes on. */
  onError?: (error: unknown) => void;
}

/** The route reported when no route matched (404s, responses sent by a middleware). */
export const UNMATCHED_ROUTE = '(unmatched)';

// Probes hit these every few seconds: as events they would be noise that costs money.
const HEALTH_CHECK_PATHS = new Set([
  '/health',
  '/healthz',
  '/ready',
  '/readyz',
  '/livez',
  '/ping',
  '/metrics',
]);

/**
 * Whether `path` is a health check, readiness or metrics endpoint, which the middleware skips by
 * default. A trailing slash is ignored.
 *
 * @example
 * sightlineExpress({ analytics, skip: (path) => isHealthCheck(path) || path.startsWith('/internal/') });
 */
export function isHealthCheck(path: string): boolean {
  return HEALTH_CHECK_PATHS.has(path.length > 1 ? path.replace(/\/+$/, '') : path);
}

/** What a framework adapter knows about a request when it arrives. */
export interface IncomingApiRequest<Request> {
  request: Request;
  method: string;
  /** Path and query string, as in the request line. */
  url: string;
  header(name: string): string | undefined;
}

/** A request the middleware handles: the context to run it in and how to report its end. */
export interface ApiRequestTracking {
  /** What events tracked by the handler inherit. */
  context: RequestContext;
  /** False for a request sampled out: `end` does nothing, so there is nothing to watch for. */
  sampled: boolean;
  /** Tracks the event (unless the request was sampled out); call it once the response is sent. */
  end(route: string, status: number): void;
}

// A client-chosen header ends up in every event of the request: keep it to a sane size.
const MAX_REQUEST_ID_LENGTH = 200;

/**
 * Validates `options` once and returns what each adapter calls per request: `undefined` for a
 * skipped request, else the context to run the handler in and the `end` that tracks
 * `{ method, route, status, duration_ms, request_id }`. Never throws once created.
 *
 * @example
 * const start = createApiRequestTracker(options);
 * const tracking = start({ request: req, method: req.method, url: req.url, header: (name) => req.get(name) });
 * if (tracking) runWithContext(tracking.context, next);
 */
export function createApiRequestTracker<Request>(
  options: ApiRequestOptions<Request>,
): (incoming: IncomingApiRequest<Request>) => ApiRequestTracking | undefined {
  const { analytics, identify, requestId, onError } = validate(options);
  const sampleRate = options.sampleRate ?? 1;
  const skip = options.skip ?? isHealthCheck;
  const event = options.event ?? 'api_request';

  /** The app's callback's result, or `fallback` when it throws (reported to `onError`). */
  const guarded = <T>(callback: () => T, fallback: T): T => {
    try {
      return callback();
    } catch (error) {
      report(onError, error);
      return fallback;
    }
  };

  return (incoming) => {
    if (guarded(() => skip(pathOf(incoming.url)), false)) return undefined;
    // Decided first, so a sampled-out request costs no timer and no listener.
    const sampled = sampleRate === 1 || Math.random() < sampleRate;
    const identity = guarded(() => identify?.(incoming.request), undefined) ?? {};
    const id =
      usableRequestId(
        guarded(
          () => (requestId ? requestId(incoming.request) : incoming.header('x-request-id')),
          undefined,
        ),
      ) ?? randomUUID();
    const context: RequestContext = { ...identity, requestId: id };
    if (!sampled) return { context, sampled, end: () => {} };

    const startedAt = performance.now();
    let ended = false;
    return {
      context,
      sampled,
      end(route, status) {
        if (ended) return;
        ended = true;
        try {
          const tracked = analytics.track({
            event,
            userId: identity.userId,
            // Without one of the two the event is dropped as invalid; an anonymous request
            // still counts, as a visitor of its own.
            anonymousId: identity.anonymousId ?? (identity.userId === undefined ? id : undefined),
            // Sent after the response, outside the request's async context: name it here.
            context: { tenant: identity.tenant, requestId: id },
            properties: {
              method: incoming.method,
              route,
              status,
              duration_ms: Math.round(performance.now() - startedAt),
              request_id: id,
            },
          });
          if (tracked) tracked.catch((error: unknown) => report(onError, error));
        } catch (error) {
          report(onError, error);
        }
      },
    };
  };
}

function validate<Request>(options: ApiRequestOptions<Request>): ApiRequestOptions<Request> {
  if (typeof options?.analytics?.track !== 'function') {
    throw new ConfigurationError('analytics', 'pass the client from createNodeAnalytics(…)');
  }
  const { sampleRate, event } = options;
  if (
    sampleRate !== undefined &&
    !(typeof sampleRate === 'number' && sampleRate >= 0 && sampleRate <= 1)
  ) {
    throw new ConfigurationError(
      'sampleRate',
      'pass a number from 0 (no api_request events) to 1 (one per request)',
    );
  }
  if (event !== undefined && (typeof event !== 'string' || event === '')) {
    throw new ConfigurationError('event', "pass a non-empty event name, e.g. 'api_request'");
  }
  return options;
}

function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

function usableRequestId(value: string | undefined): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_REQUEST_ID_LENGTH
    ? value
    : undefined;
}

function report(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    onError?.(error);
  } catch {
    // A throwing hook stays here too.
  }
}
