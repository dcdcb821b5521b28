/**
 * The app's runtime configuration: which collector it sends to, with which write key. Shared by
 * serve.mjs (production) and vite.config.ts (development); kept apart from serve.mjs, whose
 * command-line entry must not run when Vite loads its config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The inline script that hands the app its collector, for the top of index.html.
 *
 * @example
 * html.replace('</head>', `${runtimeConfigScript({ host, writeKey })}</head>`);
 */
export function runtimeConfigScript({ host, writeKey }) {
  // `<` escaped: a value can never close the script element.
  const json = JSON.stringify({ host, writeKey }).replaceAll('<', '\\u003c');
  return `<script>window.__SIGHTLINE__ = ${json};</script>`;
}

/**
 * The dev write key the collector CLI generated, waiting up to 30 s for the CLI to write it.
 *
 * @example
 * const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
 */
export async function devWriteKey() {
  const file = join(root, '.sightline', 'dev-keys.json');
  for (let waited = 0; !existsSync(file); waited += 200) {
    if (waited > 30_000) throw new Error(`${file} did not appear: is the collector running?`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return JSON.parse(readFileSync(file, 'utf8')).writeKey;
}
