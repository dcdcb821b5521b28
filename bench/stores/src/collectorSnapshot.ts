/**
 * A private copy of the built collector for one bench run. A full run lasts hours, and the
 * workspace's `packages/collector/dist` (and core's) are rebuilt meanwhile by other work: a
 * collector started during a build finds half a `dist/`, and a process that loaded the old entry
 * later imports lazy chunks that no longer exist. So the bench copies both `dist/` folders once,
 * links their dependencies beside them, and compiles its collector script next to the copy:
 * every process of the run then uses the same build.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

export interface CollectorSnapshot {
  /** The compiled `collectorServer.mjs`, which imports `@sightline/collector` from the copy. */
  script: string;
  /** When the copied `dist/index.js` was built. */
  builtAt: Date;
}

/** Relative imports in built JavaScript: `from "./chunk-X.js"`, `import("./y.js")`. */
const RELATIVE_IMPORT = /(?:from\s*|import\s*\(\s*)["'](\.\.?\/[^"']+)["']/g;

/** True when every relative import of every `.js` file under `dist` resolves to a file. */
function complete(dist: string): boolean {
  if (!existsSync(join(dist, 'index.js'))) return false;
  const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.js'),
  );
  return files.every((file) => {
    const path = join(dist, file);
    for (const match of readFileSync(path, 'utf8').matchAll(RELATIVE_IMPORT)) {
      if (!existsSync(resolve(dirname(path), match[1]!))) return false;
    }
    return true;
  });
}

/** Copies `<package>/dist` and `package.json` into `node_modules/<name>` of `target`. */
async function copyPackage(packageDir: string, name: string, target: string): Promise<void> {
  const destination = join(target, 'node_modules', name);
  for (let attempt = 1; ; attempt++) {
    rmSync(destination, { recursive: true, force: true });
    mkdirSync(destination, { recursive: true });
    cpSync(join(packageDir, 'package.json'), join(destination, 'package.json'));
    if (existsSync(join(packageDir, 'dist'))) {
      cpSync(join(packageDir, 'dist'), join(destination, 'dist'), {
        recursive: true,
        preserveTimestamps: true,
      });
    }
    if (complete(join(destination, 'dist'))) return;
    // A build is under way: wait for it to finish.
    if (attempt === 40) throw new Error(`${packageDir}/dist is incomplete: run pnpm build`);
    await new Promise((done) => setTimeout(done, 3_000));
  }
}

/** Symlinks every dependency the package has installed into `node_modules` of `target`. */
function linkDependencies(packageDir: string, target: string): void {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const names = new Set(
    ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.keys(manifest[field] ?? {}),
    ),
  );
  for (const name of names) {
    const installed = join(packageDir, 'node_modules', name);
    const link = join(target, 'node_modules', name);
    if (name.startsWith('@sightline/') || !existsSync(installed) || existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(installed), link, 'dir');
  }
}

/**
 * Copies the built `@sightline/collector` and `@sightline/core` into `target` (waiting while a
 * build is under way) and compiles `serverSource` beside them.
 */
export async function snapshotCollector(
  benchDir: string,
  serverSource: string,
  target: string,
): Promise<CollectorSnapshot> {
  const collectorDir = realpathSync(join(benchDir, 'node_modules', '@sightline', 'collector'));
  const coreDir = realpathSync(join(collectorDir, 'node_modules', '@sightline', 'core'));
  rmSync(target, { recursive: true, force: true });
  await copyPackage(coreDir, '@sightline/core', target);
  await copyPackage(collectorDir, '@sightline/collector', target);
  linkDependencies(collectorDir, target);
  linkDependencies(coreDir, target);
  await build({
    entryPoints: [serverSource],
    outdir: target,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return {
    script: join(target, 'collectorServer.mjs'),
    builtAt: statSync(join(target, 'node_modules', '@sightline', 'collector', 'dist', 'index.js'))
      .mtime,
  };
}
