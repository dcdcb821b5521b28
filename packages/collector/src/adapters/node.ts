import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Collector } from '../collector';

/** Options of {@link createNodeListener}. */
export interface NodeListenerOptions {
  /** Where the collector is mounted, e.g. `/analytics`. Requests outside it get a 404. */
  basePath?: string;
}

/** Options of {@link serveNode}. */
export interface ServeNodeOptions {
  /**
   * The request body, when something in front of the collector (a body parser) has already read
   * the request stream. It must be the decoded body: `Content-Encoding` and `Content-Length` are
   * dropped.
   */
  body?: Uint8Array | string;
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
    if (
      basePath &&
      url !== basePath &&
      !url.startsWith(`${basePath}/`) &&
      !url.startsWith(`${basePath}?`)
    ) {
      sendJson(response, 404, 'not_found', `mounted at ${basePath}`);
      return;
    }
    void serveNode(collector, request, response, url.slice(basePath.length) || '/');
  };
}

/**
 * Serves one Node request through the collector, with `path` (and query) relative to its mount
 * point. Shared by the node:http, Express and Fastify adapters. Never rejects: failures become a
 * JSON error response. Resolves once the response is written.
 *
 * @example
 * // inside any Node server, for a collector mounted at /analytics
 * await serveNode(collector, req, res, req.url.slice('/analytics'.length) || '/');
 */
export async function serveNode(
  collector: Collector,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  options: ServeNodeOptions = {},
): Promise<void> {
  const method = request.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const stream = hasBody && options.body === undefined ? requestBody(request) : undefined;
  try {
    if (!VALID_HOST.test(request.headers.host ?? '')) {
      sendJson(response, 400, 'invalid_host', 'the Host header is not a valid host[:port]');
      return;
    }
    let fetchRequest: Request;
    try {
      fetchRequest = toFetchRequest(
        request,
        path,
        method,
        hasBody ? (options.body ?? stream?.body) : undefined,
      );
    } catch {
      // `Request` refuses some methods (TRACE, CONNECT, TRACK) and hosts that Node lets through.
      const allowed = /^[A-Z]+$/.test(method) && !['TRACE', 'TRACK', 'CONNECT'].includes(method);
      if (allowed)
        sendJson(response, 400, 'invalid_request', 'the request URL or headers are malformed');
      else sendJson(response, 405, 'method_not_allowed', `the method ${method} is not served`);
      return;
    }
    const result = await collector.fetch(fetchRequest, { clientIp: request.socket?.remoteAddress });
    await writeResponse(result, response);
  } catch {
    if (!response.headersSent) sendJson(response, 500, 'internal_error', 'unexpected error');
    else response.end();
  } finally {
    // A body the collector did not read (e.g. a 415 or 413 before reading) is drained, as Node
    // does for unread bodies, so a keep-alive connection can carry the next request.
    stream?.release();
  }
}

/**
 * Writes `result` to `response`. A body of at most one chunk (every JSON answer) is sent in one
 * write. A longer stream (the CSV export) is written as it is produced, waiting
 * for the socket to drain, and cancelled when the client goes away; if it fails after the headers
 * went out, the connection is destroyed so the client sees an incomplete response, never a
 * silently shortened one.
 */
async function writeResponse(result: Response, response: ServerResponse): Promise<void> {
  const headers = Object.fromEntries(result.headers);
  const reader = result.body?.getReader();
  const first = reader ? await reader.read() : undefined;
  const second = reader && first && !first.done ? await reader.read() : undefined;
  if (!reader || !first || first.done || !second || second.done) {
    response.writeHead(result.status, headers);
    await finish(response, first?.value ? Buffer.from(first.value) : Buffer.alloc(0));
    return;
  }
  response.writeHead(result.status, headers);
  try {
    let chunk: ReadableStreamReadResult<Uint8Array> = first;
    let next: ReadableStreamReadResult<Uint8Array> | undefined = second;
    while (!chunk.done) {
      if (response.destroyed) {
        await reader.cancel();
        return;
      }
      if (!response.write(chunk.value)) await drained(response);
      chunk = next ?? (await reader.read());
      next = undefined;
    }
  } catch (error) {
    response.destroy(error instanceof Error ? error : new Error(String(error)));
    await reader.cancel().catch(() => {});
    return;
  }
  await finish(response);
}

/** Ends `response`; resolves when it is sent, or when the client went away. */
function finish(response: ServerResponse, body?: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    // 'close' as well: a client that went away means 'finish' never comes.
    response.once('close', resolve);
    response.end(body, () => resolve());
  });
}

/** Resolves when `response` can take more data, or closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.on('drain', done).on('close', done);
  });
}

/** host, IPv4, [IPv6] and an optional port; empty for HTTP/1.0 clients that send none. */
const VALID_HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])?(?::\d{1,5})?$/;

function toFetchRequest(
  request: IncomingMessage,
  path: string,
  method: string,
  body: ReadableStream<Uint8Array> | Uint8Array | string | undefined,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    headers.delete('content-encoding');
    headers.delete('content-length');
    headers.delete('transfer-encoding');
  }
  // A fixed origin: the Host header is the client's to choose and must not be able to change the
  // route (`Host: x/v1/batch?` would otherwise turn GET /health into GET /v1/batch).
  return new Request(
    new URL(path.startsWith('/') ? path : `/${path}`, 'http://collector.invalid'),
    {
      method,
      headers,
      body,
      // Required by Node's fetch for streamed request bodies.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit,
  );
}

/**
 * The request stream as a web stream that pulls on demand, and can be released afterwards: the
 * unread rest is then discarded instead of holding the connection.
 */
function requestBody(request: IncomingMessage): {
  body: ReadableStream<Uint8Array>;
  release(): void;
} {
  let detached = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Buffer) => {
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) <= 0) request.pause();
  };
  const onEnd = () => {
    detach();
    controller.close();
  };
  const onError = (error: Error) => {
    detach();
    controller.error(error);
  };
  const onClose = () => {
    if (!detached)
      onError(new Error('the client closed the connection before sending the whole body'));
  };
  function detach() {
    if (detached) return;
    detached = true;
    request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
  }
  function drain() {
    detach();
    if (!request.readableEnded && !request.destroyed) request.resume();
  }
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      if (request.readableEnded) {
        detached = true;
        controller.close();
        return;
      }
      request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    },
    pull() {
      if (!detached) request.resume();
    },
    cancel() {
      drain();
    },
  });
  return { body, release: drain };
}

function sendJson(response: ServerResponse, status: number, code: string, message: string): void {
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ success: false, error: { code, message } }));
}
