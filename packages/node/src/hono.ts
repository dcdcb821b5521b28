import type { Context, Env, MiddlewareHandler } from 'hono';
import { type ApiRequestOptions, createApiRequestTracker, UNMATCHED_ROUTE } from './apiRequest';
import { runWithContext } from './requestContext';

export {
  type ApiRequestOptions,
  isHealthCheck,
  type RequestIdentity,
  UNMATCHED_ROUTE,
} from './apiRequest';

/** Options of {@link sightlineHono}; `identify` gets the Hono context `c`. */
export type SightlineHonoOptions<E extends Env = Env> = ApiRequestOptions<Context<E>>;

/**
 * Hono (4) middleware for Node runtimes: runs the rest of the request in its context (user from
 * `identify`, request id), so events the handlers track inherit it, and once the handlers are
 * done tracks `api_request` with `method`, `route` (the template, e.g. `/users/:id`), `status`,
 * `duration_ms` and `request_id`. Health checks are skipped. Use it before your routes and after
 * your authentication, so `identify` can read its result.
 *
 * @example
 * import { Hono } from 'hono';
 * import { sightlineHono } from '@sightline/node/hono';
 *
 * const app = new Hono<{ Variables: { userId: string } }>();
 * app.use(authenticate);
 * app.use(sightlineHono({ analytics, identify: (c) => ({ userId: c.get('userId') }) }));
 */
export function sightlineHono<E extends Env = Env>(
  options: SightlineHonoOptions<E>,
): MiddlewareHandler<E> {
  const start = createApiRequestTracker(options);
  return async (c, next) => {
    const tracking = start({
      request: c,
      method: c.req.method,
      url: c.req.path,
      header: (name) => c.req.header(name),
    });
    if (!tracking) {
      await next();
      return;
    }
    let threw = false;
    try {
      await runWithContext(tracking.context, next);
    } catch (error) {
      // Hono turns a handler's Error into a response itself; this is anything else, which
      // reaches the server as a failed request.
      threw = true;
      throw error;
    } finally {
      if (tracking.sampled) tracking.end(routeOf(c), threw ? 500 : c.res.status);
    }
  };
}

/**
 * The template of the route that answered. `matchedRoutes` and `routeIndex` (the route reached
 * last) are read on the request because every Hono 4 has them; the `hono/route` helpers that
 * replace them are recent. When the route reached last is a middleware (it takes `next`) and the
 * answer is a 404, no route matched: that is Hono's not-found handler.
 */
function routeOf(c: Context): string {
  try {
    const route = c.req.matchedRoutes[c.req.routeIndex];
    if (!route || (c.res.status === 404 && route.handler.length >= 2)) return UNMATCHED_ROUTE;
    return route.path;
  } catch {
    return UNMATCHED_ROUTE;
  }
}
