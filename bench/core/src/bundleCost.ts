/**
 * What validation costs a browser bundle: each entry is bundled for the browser with esbuild,
 * minified, and gzipped (level 9), as a bundler would ship it.
 *
 *   pnpm --filter @sightline/bench-core exec tsx src/bundleCost.ts   (after `pnpm build`)
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const fixture = fileURLToPath(new URL('./fixtures/classicSchema.ts', import.meta.url));

const entries: Array<[string, string]> = [
  [
    '@sightline/core: createAnalytics (no zod)',
    `export { createAnalytics } from '@sightline/core';`,
  ],
  [
    '@sightline/core: createAnalytics + defineEventCatalog with one zod/mini schema',
    `import * as z from 'zod/mini'; export { createAnalytics, defineEventCatalog } from '@sightline/core'; export const s = z.object({ method: z.enum(['email', 'google']) });`,
  ],
  [
    '@sightline/core/schema: validateEvent (zod/mini)',
    `export { validateEvent } from '@sightline/core/schema';`,
  ],
  [
    'same event schema in classic zod (`import * as z`)',
    `export { eventSchema } from ${JSON.stringify(fixture)};`,
  ],
  [
    'classic zod, `import * as z`: one z.object',
    `import * as z from 'zod'; export const s = z.object({ a: z.string() });`,
  ],
  [
    'classic zod, `import { z }`: one z.object (namespace object keeps every locale)',
    `import { z } from 'zod'; export const s = z.object({ a: z.string() });`,
  ],
  [
    'zod/mini: one z.object',
    `import * as z from 'zod/mini'; export const s = z.object({ a: z.string() });`,
  ],
];

const rows = [];
for (const [name, contents] of entries) {
  const result = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0]!.contents;
  rows.push({
    bundle: name,
    'min (KB)': (code.length / 1024).toFixed(1),
    'min+gz (KB)': (gzipSync(code, { level: 9 }).length / 1024).toFixed(1),
  });
}
console.log('\nbrowser bundle cost (esbuild, minified, gzip -9)\n');
console.table(rows);
