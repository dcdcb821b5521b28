import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Collector } from '../collector';
import { type ServeNodeOptions, serveNode } from './node';

/**
 * An Express (4 or 5) middleware: `(req, res, next)`. Typed structurally so that this module
 * needs neither `express` nor `@types/express`.
 */
export type CollectorMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Serves the collector from an Express app, under the path it is mounted at. Everything under
 * the mount belongs to the collector (its own 404s included); nothing reaches `next`.
 *
 * Mount it before body parsers: the collector reads the raw body itself (gzip, 500 KB limit). If
 * a parser such as `express.json()` has already read the body, its result is forwarded instead.
 *
 * @example
 * import express from 'express';
 * import { createCollector } from '@sightline/collector';
 * import { createExpressMiddleware } from '@sightline/collector/express';
 *
 * const app = express();
 * app.use('/analytics', createExpressMiddleware(createCollector({ writeKeys: ['wk_live_4f2c9a1d'] })));
 * app.listen(3000);
 */
export function createExpressMiddleware(collector: Collector): CollectorMiddleware {
  return (request, response) => {
    // Express rewrites req.url to be relative to the mount path (`/analytics/v1/batch` → `/v1/batch`).
    void serveNode(collector, request, response, request.url || '/', parsedBody(request));
  };
}

/** The body a body parser already read, re-encoded for the collector. */
function parsedBody(request: IncomingMessage): ServeNodeOptions {
  if (!request.readableEnded) return {};
  const body = (request as IncomingMessage & { body?: unknown }).body;
  if (typeof body === 'string' || body instanceof Uint8Array) return { body };
  if (body === undefined || body === null) return { body: '' };
  return { body: JSON.stringify(body) };
}
