/**
 * The demo page of `npm start`: a static site on its own origin (http://127.0.0.1:5173 by default)
 * that loads the browser SDK's `<script>` build and sends to the collector started beside it
 * (http://127.0.0.1:8787), with the dev write key the collector keeps in .sightline/dev-keys.json.
 *
 *   node examples/browser-demo/server.mjs      (after `pnpm build` and `sightline-collector start`)
 *
 * Environment: DEMO_PORT (5173), SIGHTLINE_COLLECTOR_URL (http://127.0.0.1:8787),
 * SIGHTLINE_WRITE_KEY (else read from .sightline/dev-keys.json).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { devWriteKey } from '../../scripts/devWriteKey.mjs';

const SDK = fileURLToPath(
  new URL('../../packages/browser/dist/sightline.global.js', import.meta.url),
);
const PAGE = fileURLToPath(new URL('./index.html', import.meta.url));

/**
 * Serves the demo page and the SDK; resolves with the server once it listens.
 *
 * @example
 * const server = await startDemo({ port: 0, collectorUrl, writeKey });
 */
export function startDemo({ port, collectorUrl, writeKey, host = '127.0.0.1' }) {
  if (!existsSync(SDK)) {
    throw new Error(`${SDK} is missing: run \`pnpm build\` first`);
  }
  const options = JSON.stringify({ writeKey, host: collectorUrl }).replaceAll('<', '\\u003c');
  const page = readFileSync(PAGE, 'utf8').replaceAll('__SIGHTLINE_OPTIONS__', options);
  const sdk = readFileSync(SDK);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/sightline.global.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(sdk);
    } else if (path === '/' || path === '/pricing') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.DEMO_PORT ?? 5173);
  const collectorUrl = process.env.SIGHTLINE_COLLECTOR_URL ?? 'http://127.0.0.1:8787';
  const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
  await startDemo({ port, collectorUrl, writeKey });
  console.log(`demo page: http://127.0.0.1:${port}/  (sending to ${collectorUrl})`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0));
}
