import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/**
 * The one build recipe every package uses: ESM and CJS, each with its own declaration file,
 * tree-shakeable, targeting ES2022 (native class fields and private members, which ES2020 output would emulate
 * with WeakMaps on the hot path) so the output runs in evergreen browsers and Node 20.
 * `__SIGHTLINE_VERSION__` is replaced by the package's version.
 *
 * @example
 * // packages/core/tsup.config.ts
 * export default createPackageConfig({ entry: { index: 'src/index.ts' } });
 */
export function createPackageConfig(options: Pick<Options, 'entry'> & Partial<Options>) {
  const { version } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return defineConfig({
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    treeshake: true,
    splitting: true,
    target: 'es2022',
    define: { __SIGHTLINE_VERSION__: JSON.stringify(version) },
    ...options,
  });
}
