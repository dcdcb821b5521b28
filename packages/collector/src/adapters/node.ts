import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Collector } from '../collector';

/** Options of {@link createNodeListener}. */
export interface NodeListenerOptions {
  /** Where the collector is mounted, e.g. `/analytics`. Requests outside it get a 404. */
  basePath?: string;
}

/**
 * A `node:http` request listener serving the collector.
 *
 * @example
 * import { createServer } from 'node:http';
 * createServer(createNodeListener(collector, { basePath: '/analytics' })).listen(8787);
 */
export function createNodeListener(collector: Collector, options: NodeListenerOptions = {}) {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  return (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    if (basePath && url !== basePath && !url.startsWith(`${basePath}/`) && !url.startsWith(`${basePath}?`)) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({ success: false, error: { code: 'not_found', message: `mounted at ${basePath}` } }),
      );
      return;
    }
    serveNode(collector, request, response, url.slice(basePath.length) || '/');
  };
}

/**
 * Serves one Node request through the collector, with `path` relative to its mount point. Shared
 * by the node:http, Express and Fastify adapters.
 */
export function serveNode(
  collector: Collector,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): void {
  const host = request.headers.host ?? 'localhost';
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const fetchRequest = new Request(`http://${host}${path.startsWith('/') ? path : `/${path}`}`, {
    method: request.method,
    headers,
    body: hasBody ? (Readable.toWeb(request) as ReadableStream<Uint8Array>) : undefined,
    // Required by Node's fetch for streamed request bodies.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
  collector
    .fetch(fetchRequest, { clientIp: request.socket.remoteAddress })
    .then(async (result) => {
      const body = Buffer.from(await result.arrayBuffer());
      response.writeHead(result.status, Object.fromEntries(result.headers));
      response.end(body);
    })
    .catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ success: false, error: { code: 'internal_error', message: 'unexpected error' } }));
    });
}
