import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Bytes of a set of output files, each gzipped on its own, as a server sends them. */
export interface FileSizes {
  files: number;
  minBytes: number;
  gzipBytes: number;
  /** The same files joined and gzipped as one, for comparison with a single-file bundle. */
  joinedGzipBytes: number;
}

/** What the browser loads before the app's first line runs, and what it may load later. */
export interface BundleSize {
  /** The file the package's import resolved to, relative to the package. */
  resolvedEntry: string;
  /** The entry chunk and every chunk it imports statically. */
  initial: FileSizes;
  /** Chunks reached only through `import()`: loaded later, not counted in `initial`. */
  lazy: FileSizes;
  /** esbuild's warnings, first line each. */
  warnings: string[];
}

/** The name the entry file is given; it is never written, esbuild reads it from stdin. */
const ENTRY_NAME = '__browser_size_entry__.js';

/** The same options for every SDK: an app's production bundle. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  splitting: true,
} as const;

/** Gzip level 9, the most a static file server or CDN would precompress with. */
export function gzipSize(contents: Uint8Array): number {
  return gzipSync(contents, { level: 9 }).length;
}

/**
 * Bundles `code` (an entry file that imports `packageName`) with esbuild, code splitting on, and
 * sizes the entry chunk with its static imports apart from the lazy chunks.
 *
 * @example
 * const size = await measureBundle(`import mixpanel from 'mixpanel-browser'; mixpanel.init('x');`,
 *   'mixpanel-browser', benchDir);
 * console.log(size.initial.gzipBytes);
 */
export async function measureBundle(
  code: string,
  packageName: string,
  resolveDir: string,
): Promise<BundleSize> {
  const outdir = mkdtempSync(join(tmpdir(), 'sightline-browser-size-'));
  const entryPath = join(resolveDir, ENTRY_NAME);
  try {
    let resolvedPath: string | undefined;
    const result = await build({
      ...BUNDLE_OPTIONS,
      stdin: { contents: code, resolveDir, sourcefile: ENTRY_NAME, loader: 'js' },
      outdir,
      absWorkingDir: outdir,
      metafile: true,
      write: true,
      logLevel: 'silent',
      plugins: [recordResolution(packageName, (path) => (resolvedPath = path))],
    });
    const packageDir = realpathSync(join(resolveDir, 'node_modules', packageName));
    const { initial, lazy } = splitOutputs(result.metafile, relative(outdir, entryPath));
    return {
      resolvedEntry: resolvedPath ? relative(packageDir, resolvedPath) : '?',
      initial: sizeFiles(outdir, initial),
      lazy: sizeFiles(outdir, lazy),
      warnings: result.warnings.map((warning) => warning.text.split('\n')[0]!),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Sizes one file as it is, e.g. a prebuilt `<script>` bundle. */
export function measureFile(path: string): FileSizes {
  const contents = readFileSync(path);
  const gzipBytes = gzipSize(contents);
  return { files: 1, minBytes: contents.length, gzipBytes, joinedGzipBytes: gzipBytes };
}

/**
 * The entry chunk plus its static imports, transitively; every other chunk is lazy. With splitting
 * every `import()` target is an entry point of its own, so the entry is found by its source path.
 */
function splitOutputs(
  metafile: Metafile,
  entryPoint: string,
): { initial: string[]; lazy: string[] } {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path]!.entryPoint === entryPoint);
  if (entry === undefined) throw new Error(`esbuild produced no chunk for ${entryPoint}`);
  const initial = new Set<string>();
  const pending = [entry];
  const entryCss = outputs[entry]!.cssBundle;
  if (entryCss !== undefined) pending.push(entryCss);
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (initial.has(path)) continue;
    initial.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
    }
  }
  const lazy = Object.keys(outputs).filter((path) => !initial.has(path));
  return { initial: [...initial], lazy };
}

function sizeFiles(outdir: string, paths: string[]): FileSizes {
  const files = paths.map((path) => readFileSync(join(outdir, path)));
  return {
    files: files.length,
    minBytes: files.reduce((sum, contents) => sum + contents.length, 0),
    gzipBytes: files.reduce((sum, contents) => sum + gzipSize(contents), 0),
    joinedGzipBytes: files.length === 0 ? 0 : gzipSize(Buffer.concat(files)),
  };
}

/** Reports the file the bare `packageName` import resolves to, and resolves it unchanged. */
function recordResolution(packageName: string, found: (path: string) => void): Plugin {
  const exact = new RegExp(`^${packageName.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
  return {
    name: 'record-resolution',
    setup(build) {
      build.onResolve({ filter: exact }, async (args) => {
        if (args.pluginData === 'recording') return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'recording',
        });
        if (resolved.errors.length === 0) found(resolved.path);
        return {
          path: resolved.path,
          external: resolved.external,
          namespace: resolved.namespace,
          sideEffects: resolved.sideEffects,
          suffix: resolved.suffix,
          pluginData: resolved.pluginData,
          errors: resolved.errors,
          warnings: resolved.warnings,
        };
      });
    },
  };
}
