/**
 * Serves the built Vue example (dist/, from `vite build`) with an SPA fallback, putting the
 * collector URL and write key into index.html at runtime as `window.__SIGHTLINE__`: one build
 * runs against any collector.
 *
 *   pnpm --filter @sightline/example-vue-app build && node examples/vue-app/serve.mjs
 *
 * Environment: VUE_APP_PORT (5174), SIGHTLINE_COLLECTOR_URL (http://127.0.0.1:8787),
 * SIGHTLINE_WRITE_KEY (else read from .sightline/dev-keys.json, written by the collector CLI).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devWriteKey } from '../../scripts/devWriteKey.mjs';

const DIST = fileURLToPath(new URL('./dist', import.meta.url));
const PLACEHOLDER = '<!-- sightline:config -->';
const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Serves the app from `dist` on `host:port`; resolves with the server once it listens. Paths
 * without a file extension get index.html (the router takes it from there); missing files are 404.
 *
 * @param {{ port: number, collectorUrl: string, writeKey: string, host?: string, dist?: string }} options
 * @returns {Promise<import('node:http').Server>}
 * @example
 * const server = await startVueApp({ port: 0, collectorUrl: 'http://127.0.0.1:8787', writeKey });
 */
export function startVueApp({ port, collectorUrl, writeKey, host = '127.0.0.1', dist = DIST }) {
  const indexFile = join(dist, 'index.html');
  if (!existsSync(indexFile)) {
    throw new Error(
      `${indexFile} is missing: run \`pnpm --filter @sightline/example-vue-app build\` first`,
    );
  }
  if (!collectorUrl || !writeKey) {
    throw new Error('startVueApp: pass `collectorUrl` and `writeKey` (the collector to send to)');
  }
  const config = JSON.stringify({ host: collectorUrl, writeKey }).replaceAll('<', '\\u003c');
  const index = readFileSync(indexFile, 'utf8').replace(
    PLACEHOLDER,
    `<script>window.__SIGHTLINE__ = ${config};</script>`,
  );
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0]);
    const extension = extname(path);
    if (!extension || extension === '.html') {
      response.writeHead(200, { 'content-type': TYPES['.html'] }).end(index);
      return;
    }
    const file = normalize(join(dist, path));
    if (!file.startsWith(dist + sep)) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
      return;
    }
    try {
      const body = await readFile(file);
      const type = TYPES[extension] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-type': type }).end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.VUE_APP_PORT ?? 5174);
  const collectorUrl = process.env.SIGHTLINE_COLLECTOR_URL ?? 'http://127.0.0.1:8787';
  const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
  await startVueApp({ port, collectorUrl, writeKey });
  console.log(`vue app: http://127.0.0.1:${port}/  (sending to ${collectorUrl})`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
}
