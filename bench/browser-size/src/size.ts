/**
 * Bundle size of our browser SDK's default entry next to its peers', measured the same way for
 * all in one run: a tiny entry file that imports the SDK's initialiser and tracks one event is
 * bundled by esbuild as an app would (minified ESM for browsers, ES2020, tree-shaken, code
 * splitting on), then gzipped at level 9. "min+gz" counts the entry chunk and the chunks it
 * imports statically, each gzipped on its own; chunks reached only through `import()` are
 * reported apart. Code an SDK fetches at run time from its CDN is invisible here. Our `<script>`
 * build is sized as it is shipped.
 *
 *   pnpm --filter @sightline/core build && pnpm --filter @sightline/browser build
 *   pnpm --filter @sightline/bench-browser-size bench
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version as esbuildVersion } from 'esbuild';
import { BUNDLE_OPTIONS, type FileSizes, measureBundle, measureFile } from './measureBundle';
import { sdkEntries } from './sdkEntries';

/** The budget for `createBrowserAnalytics` with core, min+gz. */
const TARGET_KB = 8;

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const browserDir = realpathSync(join(benchDir, 'node_modules', '@sightline', 'browser'));
const repoDir = dirname(dirname(browserDir));
const globalBuild = join(browserDir, 'dist', 'sightline.global.js');

checkBuilt();

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const count = (bytes: number) => bytes.toLocaleString('en-US');

interface Row {
  SDK: string;
  package: string;
  entry: string;
  'min bytes': string;
  'min+gz KB': string;
  note: string;
}

const rows: Row[] = [];
const failures: string[] = [];
let ourGzipBytes: number | undefined;

for (const { sdk, packageName, code, optional } of sdkEntries) {
  const packageLabel = `${packageName}@${packageVersion(packageName)}`;
  try {
    const size = await measureBundle(code, packageName, benchDir);
    if (packageName === '@sightline/browser') ourGzipBytes = size.initial.gzipBytes;
    rows.push({
      SDK: sdk,
      package: packageLabel,
      entry: size.resolvedEntry,
      'min bytes': count(size.initial.minBytes),
      'min+gz KB': kb(size.initial.gzipBytes),
      note: [chunkNote(size.initial, size.lazy), ...size.warnings.map((w) => `warning: ${w}`)].join(
        '; ',
      ),
    });
  } catch (error) {
    const reason = failureReason(error);
    if (!optional) failures.push(`${sdk}: ${reason}`);
    rows.push({
      SDK: sdk,
      package: packageLabel,
      entry: '-',
      'min bytes': '-',
      'min+gz KB': '-',
      note: `${optional ? 'skipped' : 'FAILED'}: does not bundle (${reason})`,
    });
  }
}

const script = measureFile(globalBuild);
rows.push({
  SDK: 'Sightline <script>',
  package: `@sightline/browser@${packageVersion('@sightline/browser')}`,
  entry: 'dist/sightline.global.js',
  'min bytes': count(script.minBytes),
  'min+gz KB': kb(script.gzipBytes),
  note: 'prebuilt IIFE (core included), gzipped as is',
});

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
console.log(
  `\nbrowser SDK bundle size: esbuild ${esbuildVersion} (bundle, minify, format ${BUNDLE_OPTIONS.format}, ` +
    `platform ${BUNDLE_OPTIONS.platform}, target ${BUNDLE_OPTIONS.target}, splitting), gzip -9; KB = 1,024 bytes`,
);
console.log(
  `node ${process.version}, ${platform()}/${process.arch}, ${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.table(rows);
console.log('\nEntry file of each row (index):');
sdkEntries.forEach(({ code }, index) => {
  console.log(`  [${index}] ${code.replaceAll('\n', ' ')}`);
});
console.log(`  [${sdkEntries.length}] none: ${relative(repoDir, globalBuild)} as shipped`);
console.log(
  '"min bytes" and "min+gz KB" count the entry chunk and its static imports; chunks reached only' +
    ' through import() are in the note, not in the figures. Code fetched at run time from a CDN' +
    ' (script tags, remote plugins) is not seen by the bundler and is counted nowhere.',
);
if (ourGzipBytes !== undefined) {
  const met = ourGzipBytes <= TARGET_KB * 1024 ? 'met' : 'NOT met';
  console.log(
    `\nTarget for @sightline/browser createBrowserAnalytics (≤ ${TARGET_KB} KB min+gz): ${met} (${kb(ourGzipBytes)} KB).`,
  );
}
if (failures.length > 0) {
  console.error(`\nFailed to bundle:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}

function chunkNote(initial: FileSizes, lazy: FileSizes): string {
  const initialNote =
    initial.files > 1
      ? `${initial.files} initial chunks (${kb(initial.joinedGzipBytes)} KB gzipped as one file); `
      : '';
  if (lazy.files === 0) return `${initialNote}no lazy chunks`;
  return `${initialNote}+ ${lazy.files} lazy chunk${lazy.files > 1 ? 's' : ''} (import()): ${count(lazy.minBytes)} bytes, ${kb(lazy.gzipBytes)} KB min+gz, not counted`;
}

/** esbuild's first error (its message alone only says how many there were). */
function failureReason(error: unknown): string {
  const first = (error as { errors?: Array<{ text: string }> }).errors?.[0]?.text;
  return (first ?? (error instanceof Error ? error.message : String(error))).split('\n')[0]!;
}

function packageVersion(packageName: string): string {
  const manifest = join(benchDir, 'node_modules', packageName, 'package.json');
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Our entry bundles `packages/browser/dist` (and core's): say so if it is missing or stale. */
function checkBuilt(): void {
  const fix =
    'run `pnpm --filter @sightline/core build && pnpm --filter @sightline/browser build` first';
  for (const name of ['core', 'browser']) {
    const packageDir = join(repoDir, 'packages', name);
    const built = join(packageDir, 'dist', 'index.js');
    if (!existsSync(built)) {
      console.error(
        `@sightline/${name} is not built (${relative(repoDir, built)} is missing): ${fix}.`,
      );
      process.exit(1);
    }
    if (newestMtime(join(packageDir, 'src')) > statSync(built).mtimeMs) {
      console.warn(`warning: packages/${name}/src is newer than its dist/: ${fix} to measure it.`);
    }
  }
  if (!existsSync(globalBuild)) {
    console.error(`${relative(repoDir, globalBuild)} is missing: ${fix}.`);
    process.exit(1);
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !entry.parentPath.includes('__tests__')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}
