import type { Context, Env, Hono, Schema } from 'hono';
import type { Collector } from '../collector';

/** Options of {@link mountOnHono}. */
export interface HonoMountOptions {
  /**
   * The client IP of a request. By default it is read from the runtime: `@hono/node-server`
   * (`env.incoming.socket`), Bun (`env.requestIP`) and Deno (`env.remoteAddr`). On Cloudflare
   * Workers, pass `(c) => c.req.header('cf-connecting-ip')`.
   */
  clientIp?: (c: Context) => string | undefined;
}

/**
 * Mounts the collector on a Hono app at `path`, with `app.mount` (which strips the path before
 * the collector sees the request). The request body reaches the collector untouched.
 *
 * @example
 * import { Hono } from 'hono';
 * import { serve } from '@hono/node-server';
 * import { createCollector } from '@sightline/collector';
 * import { mountOnHono } from '@sightline/collector/hono';
 *
 * const app = new Hono();
 * mountOnHono(app, '/analytics', createCollector({ writeKeys: ['wk_live_4f2c9a1d'] }));
 * serve({ fetch: app.fetch, port: 3000 });
 */
export function mountOnHono<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
  path: string,
  collector: Collector,
  options: HonoMountOptions = {},
): Hono<E, S, B> {
  const clientIp = options.clientIp ?? runtimeClientIp;
  // The function form of the third argument is understood by every Hono 4 release.
  app.mount(
    path,
    (request: Request, ip?: string) => collector.fetch(request, { clientIp: ip }),
    (c: Context) => [clientIp(c)],
  );
  return app;
}

/** The socket address as the Node, Bun and Deno adapters of Hono expose it. */
function runtimeClientIp(c: Context): string | undefined {
  const env: unknown = c.env;
  if (!env || typeof env !== 'object') return undefined;
  try {
    const node = (env as { incoming?: { socket?: { remoteAddress?: unknown } } }).incoming?.socket
      ?.remoteAddress;
    if (typeof node === 'string') return node;
    const bun = env as { requestIP?: (request: Request) => { address?: unknown } | null };
    if (typeof bun.requestIP === 'function') {
      const address = bun.requestIP(c.req.raw)?.address;
      if (typeof address === 'string') return address;
    }
    const deno = (env as { remoteAddr?: { hostname?: unknown } }).remoteAddr?.hostname;
    if (typeof deno === 'string') return deno;
  } catch {
    // An unexpected env shape: no client IP.
  }
  return undefined;
}
