import { readFileSync, writeFileSync } from 'node:fs';
import { createPackageConfig } from '../../tsup.base';

const directive = "'use client';";

export default createPackageConfig({
  entry: { index: 'src/index.ts' },
  external: ['react', 'react-dom', '@sightline/browser', '@sightline/core'],
  // Hooks and context only work on the client: the directive tells React Server Components
  // bundlers (the Next.js App Router) to treat every import of this package as client code.
  // Rollup's tree-shaking pass would strip it; esbuild's own, used instead, keeps the banner.
  banner: { js: directive },
  treeshake: false,
  // A directive counts only before any statement: the CJS output starts with its interop
  // statements, so move the banner in front of them (same line, so the source map still holds).
  async onSuccess() {
    const file = 'dist/index.cjs';
    const [first = '', ...rest] = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, [directive + first.replace(directive, ''), ...rest].join('\n'));
  },
});
