/**
 * Serves the built React example (`vite build` → dist/) on its own origin, http://127.0.0.1:5175
 * by default, with a fallback to index.html for the app's routes. The collector URL and write key
 * are runtime configuration: each index.html response carries them as `window.__SIGHTLINE__`, so
 * one build runs against any collector.
 *
 *   node examples/react-app/serve.mjs [--build]   (after `sightline-collector start`)
 *
 * `--build` (or a missing dist/) builds first. Environment: REACT_APP_PORT (5175),
 * SIGHTLINE_COLLECTOR_URL (http://127.0.0.1:8787), SIGHTLINE_WRITE_KEY (else read from
 * .sightline/dev-keys.json, which the collector CLI writes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devWriteKey, runtimeConfigScript } from './runtimeConfig.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/**
 * Serves `dist` (default: this example's dist/) with the runtime configuration; resolves with the
 * server once it listens.
 *
 * @example
 * const server = await startReactApp({ port: 0, collectorUrl, writeKey });
 */
export function startReactApp({ port, collectorUrl, writeKey, host = '127.0.0.1', dist }) {
  const directory = resolve(dist ?? join(here, 'dist'));
  const indexFile = join(directory, 'index.html');
  if (!existsSync(indexFile)) {
    throw new Error(
      `${indexFile} is missing: run \`pnpm --filter @sightline/example-react-app build\` first`,
    );
  }
  if (!collectorUrl || !writeKey) {
    throw new Error('startReactApp needs collectorUrl and writeKey: the app sends events there');
  }
  const index = readFileSync(indexFile, 'utf8').replace(
    '</head>',
    `${runtimeConfigScript({ host: collectorUrl, writeKey })}</head>`,
  );
  const server = createServer((request, response) => {
    let path;
    try {
      path = decodeURIComponent((request.url ?? '/').split('?')[0]);
    } catch {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('malformed URL');
      return;
    }
    const file = normalize(join(directory, path));
    const inside = file.startsWith(directory + sep);
    if (inside && extname(file) !== '' && existsSync(file)) {
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      const immutable = path.startsWith('/assets/') && extname(file) !== '.html';
      response.writeHead(200, {
        'content-type': type,
        ...(immutable ? { 'cache-control': 'public, max-age=31536000, immutable' } : {}),
      });
      response.end(readFileSync(file));
    } else if (request.method === 'GET' || request.method === 'HEAD') {
      // Every other path is a route of the app: React Router renders it.
      response
        .writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-cache' })
        .end(index);
    } else {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.REACT_APP_PORT ?? 5175);
  const collectorUrl = process.env.SIGHTLINE_COLLECTOR_URL ?? 'http://127.0.0.1:8787';
  if (process.argv.includes('--build') || !existsSync(join(here, 'dist', 'index.html'))) {
    const { build } = await import('vite');
    await build({ root: here, logLevel: 'warn' });
  }
  const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
  await startReactApp({ port, collectorUrl, writeKey });
  console.log(`React example: http://127.0.0.1:${port}/  (sending to ${collectorUrl})`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
}
