import { createHash } from 'node:crypto';
import { HttpError } from '../http/errors';
import type { Keyring } from '../keys';
import type { Store } from '../store/store';
import type { QueryCache } from './queryCache';
import { authorizeRead, type ReadContext } from './readContext';

/** One read endpoint. */
export interface ReadRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path under the mount point; `:name` segments become `params.name`. */
  pattern: string;
  /** Whether it works on one tenant (an admin key must then pass `?tenant=`). Default true. */
  tenantScoped?: boolean;
  /** Only admin keys (tenant `*`) may call it. */
  adminOnly?: boolean;
  handle(context: ReadContext): Promise<Response>;
}

interface CompiledRoute {
  route: ReadRoute;
  segments: string[];
}

/**
 * The read API: matches a path to a route, authorises the read key, scopes the request to one
 * tenant and runs the route.
 *
 * @example
 * const readApi = createReadApi({ routes: [...metricsRoutes], readKeys, store, cache, now });
 * const response = await readApi.handle(request, url, '/v1/metrics'); // undefined: no such route
 */
export function createReadApi(options: {
  routes: readonly ReadRoute[];
  readKeys: Keyring;
  store: Promise<Store>;
  cache: QueryCache;
  now: () => number;
}) {
  const compiled: CompiledRoute[] = options.routes.map((route) => ({
    route,
    segments: route.pattern.split('/').filter(Boolean),
  }));

  function match(path: string): Array<{ route: ReadRoute; params: Record<string, string> }> {
    const segments = path.split('/').filter(Boolean);
    const found: Array<{ route: ReadRoute; params: Record<string, string> }> = [];
    for (const candidate of compiled) {
      if (candidate.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const matches = candidate.segments.every((segment, index) => {
        const actual = segments[index]!;
        if (segment.startsWith(':')) {
          try {
            params[segment.slice(1)] = decodeURIComponent(actual);
          } catch {
            return false;
          }
          return true;
        }
        return segment === actual;
      });
      if (matches) found.push({ route: candidate.route, params });
    }
    return found;
  }

  return {
    /** Whether some read route has this path (for metrics labels). */
    knows(path: string): boolean {
      return match(path).length > 0;
    },
    /** The route's pattern for `path`, for metrics labels without ids. */
    patternOf(path: string): string | undefined {
      return match(path)[0]?.route.pattern;
    },
    /** The response of the read route at `path`, or undefined when no route has that path. */
    async handle(request: Request, url: URL, path: string): Promise<Response | undefined> {
      const candidates = match(path);
      if (candidates.length === 0) return undefined;
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      const chosen = candidates.find((candidate) => candidate.route.method === method);
      if (!chosen) {
        const allow = [...new Set(candidates.map((candidate) => candidate.route.method))].join(
          ', ',
        );
        throw new HttpError(405, 'method_not_allowed', `use ${allow} for ${path}`, { allow });
      }
      const { route, params } = chosen;
      const caller = authorizeRead(request, url, options.readKeys, actorOf, {
        tenantRequired: route.tenantScoped !== false,
      });
      if (route.adminOnly && !caller.admin) {
        throw new HttpError(403, 'admin_key_required', `${route.pattern} needs an admin read key`);
      }
      let store: Store;
      try {
        store = await options.store;
      } catch {
        throw new HttpError(
          503,
          'store_unavailable',
          'the event store is unavailable: retry later',
          {
            'retry-after': '5',
          },
        );
      }
      return route.handle({
        request,
        url,
        caller,
        store,
        cache: options.cache,
        params,
        now: options.now(),
      });
    },
  };
}

export type ReadApi = ReturnType<typeof createReadApi>;

/** A read key's audit name: never the key, only a short digest of it. */
function actorOf(key: string): string {
  return `rk_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
