/**
 * What each part of our default browser entry costs: the entry of size.ts is bundled from
 * source, once as it is and once per part with that part's modules replaced by a stub that
 * exports the same names. The difference is what the part adds to an app's bundle (with
 * whatever only it imports). A last row stubs every part at once: what is left is the client
 * itself (core's `createAnalytics` and the browser's `createBrowserAnalytics`).
 *
 *   pnpm --filter @sightline/bench-browser-size parts
 */

import { cpus, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';
import { BUNDLE_OPTIONS, gzipSize } from './measureBundle';
import { sdkEntries } from './sdkEntries';

const packagesDir = fileURLToPath(new URL('../../../packages/', import.meta.url));
const source = (path: string) => join(packagesDir, path);

/** The issue's budget for the default entry, min+gz. */
const TARGET_BYTES = 8 * 1024;

/** Parts of the default entry by feature, as the issue names them; paths under packages/. */
const PARTS: ReadonlyArray<{ part: string; modules: string[] }> = [
  {
    part: 'PII filter, whole (keys, URLs, detectors)',
    modules: ['core/src/piiFilter.ts', 'core/src/piiDetectors.ts'],
  },
  { part: 'PII filter: its value detectors alone', modules: ['core/src/piiDetectors.ts'] },
  {
    part: 'delivery: batching, retry, 413, max age',
    modules: ['core/src/delivery.ts', 'core/src/queue.ts', 'core/src/retry.ts'],
  },
  {
    part: 'offline queue across tabs, flush lock',
    modules: ['browser/src/tabQueue.ts', 'browser/src/flushLock.ts'],
  },
  { part: 'storage: localStorage, cookie fallback', modules: ['browser/src/storage.ts'] },
  { part: 'page-hide delivery (keepalive, beacon)', modules: ['browser/src/beaconTransport.ts'] },
  { part: 'attribution', modules: ['browser/src/attribution.ts', 'core/src/campaign.ts'] },
  { part: 'auto-tracking: clicks, forms', modules: ['browser/src/autoTrack.ts'] },
  { part: 'page views (SPA, bfcache)', modules: ['browser/src/pageViews.ts'] },
  { part: 'sessions', modules: ['browser/src/session.ts'] },
  { part: 'consent', modules: ['core/src/consent.ts'] },
  { part: 'destination router', modules: ['core/src/destinations.ts'] },
  { part: 'option checks', modules: ['core/src/options.ts'] },
  {
    part: 'argument checks, error classes',
    modules: ['core/src/validate.ts', 'core/src/errors.ts'],
  },
  { part: 'plugin pipeline', modules: ['core/src/pipeline.ts'] },
  { part: 'message ids (UUIDv7)', modules: ['core/src/uuidv7.ts'] },
];

const entry = sdkEntries.find((sdk) => sdk.packageName === '@sightline/browser')!.code;

/** The names a module exports (type-only exports are erased by esbuild). */
async function exportsOf(path: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs)[0]!.exports;
}

/** Loads each stubbed module as one function exported under all of the module's names. */
function stubModules(stubs: ReadonlyMap<string, string[]>): Plugin {
  return {
    name: 'stub-modules',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        const names = stubs.get(args.path);
        if (names === undefined) return undefined;
        const list = names.map((name) => `stub as ${name}`).join(', ');
        return { loader: 'js', contents: `const stub = () => stub;\nexport { ${list} };` };
      });
    },
  };
}

/** The default entry bundled from source as size.ts bundles it, with `stubs` stubbed out. */
async function bundleSize(stubs: ReadonlyMap<string, string[]>) {
  const result = await build({
    ...BUNDLE_OPTIONS,
    splitting: false,
    stdin: { contents: entry, resolveDir: source('browser'), loader: 'js' },
    alias: {
      '@sightline/browser': source('browser/src/index.ts'),
      '@sightline/core': source('core/src/index.ts'),
    },
    define: { __SIGHTLINE_VERSION__: '"0.0.0"' },
    write: false,
    logLevel: 'silent',
    plugins: [stubModules(stubs)],
  });
  const code = result.outputFiles[0]!.contents;
  return { minBytes: code.length, gzipBytes: gzipSize(code) };
}

const exportsByModule = new Map<string, string[]>();
for (const { modules } of PARTS) {
  for (const module of modules)
    exportsByModule.set(source(module), await exportsOf(source(module)));
}
const stubsOf = (modules: string[]) =>
  new Map(modules.map((module) => [source(module), exportsByModule.get(source(module))!]));

const whole = await bundleSize(new Map());
const count = (bytes: number) => bytes.toLocaleString('en-US');
const rows: Array<Record<string, string>> = [];
for (const { part, modules } of PARTS) {
  const without = await bundleSize(stubsOf(modules));
  rows.push({
    part,
    modules: modules.map((module) => module.replace('/src/', '/')).join(', '),
    'min bytes': count(whole.minBytes - without.minBytes),
    'min+gz bytes': count(whole.gzipBytes - without.gzipBytes),
  });
}
const client = await bundleSize(stubsOf(PARTS.flatMap((row) => row.modules)));
rows.push({
  part: 'the rest: the client (createAnalytics, createBrowserAnalytics)',
  modules: 'everything above stubbed at once',
  'min bytes': count(client.minBytes),
  'min+gz bytes': count(client.gzipBytes),
});
/** Only what delivers events at all: the client, delivery, the offline queue, storage, page hide. */
const deliveryOnly = new Set([
  'delivery: batching, retry, 413, max age',
  'offline queue across tabs, flush lock',
  'storage: localStorage, cookie fallback',
  'page-hide delivery (keepalive, beacon)',
]);
const bare = await bundleSize(
  stubsOf(PARTS.filter((row) => !deliveryOnly.has(row.part)).flatMap((row) => row.modules)),
);
rows.push({
  part: 'the client with delivery, offline queue, storage, page hide only',
  modules: 'every other part stubbed at once',
  'min bytes': count(bare.minBytes),
  'min+gz bytes': count(bare.gzipBytes),
});
rows.push({
  part: 'the default entry as a whole',
  modules: '',
  'min bytes': count(whole.minBytes),
  'min+gz bytes': count(whole.gzipBytes),
});

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
console.log(
  `\ndefault browser entry by part: esbuild ${esbuildVersion} from source (bundle, minify, format ${BUNDLE_OPTIONS.format}, ` +
    `platform ${BUNDLE_OPTIONS.platform}, target ${BUNDLE_OPTIONS.target}), gzip -9`,
);
console.log(
  `node ${process.version}, ${platform()}/${process.arch}, ${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(`entry: ${entry.replaceAll('\n', ' ')}\n`);
console.table(rows);
console.log(
  "A part's bytes are the whole bundle minus the bundle with that part stubbed: what removing it" +
    ' alone would save. Gzip shares its dictionary across parts, so the rows do not add up to the whole.',
);
console.log(
  `Budget ${count(TARGET_BYTES)} bytes min+gz: ${whole.gzipBytes <= TARGET_BYTES ? 'met' : `NOT met, ${count(whole.gzipBytes - TARGET_BYTES)} bytes over`}.`,
);
