import { AsyncResource } from 'node:async_hooks';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import {
  type ApiRequestOptions,
  type ApiRequestTracking,
  createApiRequestTracker,
  UNMATCHED_ROUTE,
} from './apiRequest';
import { runWithContext } from './requestContext';

export {
  type ApiRequestOptions,
  isHealthCheck,
  type RequestIdentity,
  UNMATCHED_ROUTE,
} from './apiRequest';

/** Options of {@link sightlineFastify}. */
export type SightlineFastifyOptions = ApiRequestOptions<FastifyRequest>;

/** A request in flight: how to end its tracking, and the async scope its context lives in. */
interface Started {
  tracking: ApiRequestTracking;
  scope: AsyncResource;
}

const plugin: FastifyPluginCallback<SightlineFastifyOptions> = (instance, options, done) => {
  let start: ReturnType<typeof createApiRequestTracker<FastifyRequest>>;
  try {
    start = createApiRequestTracker(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  const started = new WeakMap<FastifyRequest, Started>();

  instance.addHook('onRequest', (request, _reply, next) => {
    const tracking = start({
      request,
      method: request.method,
      url: request.url,
      header: (name) => firstValue(request.headers[name]),
    });
    if (!tracking) {
      next();
      return;
    }
    runWithContext(tracking.context, () => {
      started.set(request, { tracking, scope: new AsyncResource('sightline.request') });
      next();
    });
  });

  // A hook that goes on from a callback run outside the request (a shared queue's timer, a
  // stream's events: Node emits those in the connection's context) leaves what follows without
  // the context. The scope captured in onRequest puts it back for validation, the preHandler
  // hooks and the handler, as @fastify/request-context does. (Fastify's own body parsing keeps it.)
  instance.addHook('preValidation', (request, _reply, next) => {
    const scope = started.get(request)?.scope;
    if (scope) scope.runInAsyncScope(next);
    else next();
  });

  instance.addHook('onResponse', (request, reply, next) => {
    started.get(request)?.tracking.end(routeOf(request), reply.statusCode);
    next();
  });
  done();
};

/**
 * Fastify (4 or 5) plugin: runs each request's hooks and handler in its context (user from
 * `identify`, request id), so events they track inherit it, and once the response is sent tracks
 * `api_request` with `method`, `route` (the template, e.g. `/users/:id`), `status`,
 * `duration_ms` and `request_id`. Health checks are skipped. Its hooks apply to the whole app
 * wherever it is registered (no encapsulation, like plugins wrapped in fastify-plugin); register
 * it after your authentication, so `identify` can read its result.
 *
 * @example
 * import Fastify from 'fastify';
 * import { sightlineFastify } from '@sightline/node/fastify';
 *
 * const app = Fastify();
 * await app.register(sightlineFastify, {
 *   analytics,
 *   identify: (request) => ({ userId: request.headers['x-user-id'] as string | undefined }),
 * });
 */
export const sightlineFastify: FastifyPluginCallback<SightlineFastifyOptions> = Object.assign(
  plugin,
  {
    // What fastify-plugin sets, without the dependency: the hooks then reach every route.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@sightline/node/fastify',
  },
);

/** The route template (prefix included); Fastify 4 before `routeOptions` had `routerPath`. */
function routeOf(request: FastifyRequest): string {
  const url =
    request.routeOptions === undefined
      ? (request as { routerPath?: string }).routerPath
      : request.routeOptions.url;
  return url ?? UNMATCHED_ROUTE;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
