import type { NextFunction, Request, Response } from 'express';
import { type ApiRequestOptions, createApiRequestTracker, UNMATCHED_ROUTE } from './apiRequest';
import { runWithContext } from './requestContext';

export {
  type ApiRequestOptions,
  isHealthCheck,
  type RequestIdentity,
  UNMATCHED_ROUTE,
} from './apiRequest';

/** Options of {@link sightlineExpress}. */
export type SightlineExpressOptions = ApiRequestOptions<Request>;

/**
 * Express (4 or 5) middleware: runs the rest of the request in its context (user from
 * `identify`, request id), so events the handlers track inherit it, and once the response is
 * sent tracks `api_request` with `method`, `route` (the template, e.g. `/users/:id`), `status`,
 * `duration_ms` and `request_id`. Health checks are skipped. Mount it before your routes and
 * after your authentication, so `identify` can read its result.
 *
 * @example
 * import express from 'express';
 * import { sightlineExpress } from '@sightline/node/express';
 *
 * const app = express();
 * app.use(authenticate);
 * app.use(sightlineExpress({ analytics, identify: (req) => ({ userId: req.user?.id }) }));
 */
export function sightlineExpress(
  options: SightlineExpressOptions,
): (request: Request, response: Response, next: NextFunction) => void {
  const start = createApiRequestTracker(options);
  return (request, response, next) => {
    const tracking = start({
      request,
      method: request.method,
      url: request.originalUrl ?? request.url,
      header: (name) => request.get(name),
    });
    if (!tracking) {
      next();
      return;
    }
    if (tracking.sampled) {
      const route = watchRoute(request);
      response.once('finish', () => tracking.end(route() ?? UNMATCHED_ROUTE, response.statusCode));
    }
    runWithContext(tracking.context, next);
  };
}

/**
 * Returns the matched route's template, mount path included. Express sets `req.route` when a
 * route matches; it is read at that moment because a mounted router puts `req.baseUrl` back once
 * an error leaves it. `req.baseUrl` is the matched mount path (`/orgs/7`): the parameters the
 * router sees then are put back as names (`/orgs/:orgId`), which is reliable for routers created
 * with `mergeParams: true`.
 */
function watchRoute(request: Request): () => string | undefined {
  let route: unknown = request.route;
  let template: string | undefined;
  Object.defineProperty(request, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (value?.path === undefined) return;
      const base = withParameterNames(request.baseUrl ?? '', request.params ?? {});
      const path = String(value.path);
      template = base === '' ? path : path === '/' ? base : base + path;
    },
  });
  return () => template;
}

/** `/orgs/7` with `{ orgId: '7' }` → `/orgs/:orgId`. */
function withParameterNames(baseUrl: string, params: Record<string, unknown>): string {
  const names = new Map<string, string>();
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string' && value !== '') names.set(value, name);
  }
  if (names.size === 0) return baseUrl;
  return baseUrl
    .split('/')
    .map((segment) => {
      const name = names.get(decodeSegment(segment));
      return name === undefined ? segment : `:${name}`;
    })
    .join('/');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
