import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { Collector } from '../collector';
import { serveNode } from './node';

/**
 * A Fastify (4 or 5) plugin serving the collector under the prefix it is registered with. Inside
 * its own encapsulated context it removes Fastify's body parsers, so the collector reads the raw
 * request stream (gzip, its own 500 KB limit); routes outside the prefix keep theirs.
 *
 * @example
 * import Fastify from 'fastify';
 * import { createCollector } from '@sightline/collector';
 * import { fastifyCollector } from '@sightline/collector/fastify';
 *
 * const app = Fastify();
 * app.register(fastifyCollector(createCollector({ writeKeys: ['wk_live_4f2c9a1d'] })), { prefix: '/analytics' });
 * await app.listen({ port: 3000 });
 */
export function fastifyCollector(collector: Collector): FastifyPluginCallback {
  return (instance, _options, done) => {
    instance.removeAllContentTypeParsers();
    // Leaves the body stream unread: serveNode hands it to the collector as is.
    instance.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));
    const prefix = instance.prefix;

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.hijack();
      await serveNode(collector, request.raw, reply.raw, relativePath(request, prefix));
    };
    instance.all('/', handler);
    instance.all('/*', handler);
    done();
  };
}

/** The URL (path and query) relative to the plugin's prefix. */
function relativePath(request: FastifyRequest, prefix: string): string {
  const url = request.raw.url ?? '/';
  if (url.startsWith(prefix) && /^(?:[/?]|$)/.test(url.slice(prefix.length, prefix.length + 1))) {
    return url.slice(prefix.length) || '/';
  }
  // Matched without an exact prefix (case-insensitive or duplicate-slash routing): use the wildcard.
  const queryStart = url.indexOf('?');
  const query = queryStart === -1 ? '' : url.slice(queryStart);
  const wildcard = (request.params as { '*'?: string } | undefined)?.['*'] ?? '';
  return `/${wildcard}${query}`;
}
