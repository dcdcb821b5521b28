import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { createPackageConfig } from '../../tsup.base';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default [
  createPackageConfig({
    entry: {
      index: 'src/index.ts',
      amplitude: 'src/amplitude.ts',
      mixpanel: 'src/mixpanel.ts',
      indexeddb: 'src/indexeddb.ts',
      hash: 'src/hash.ts',
    },
    // Vendor SDKs stay imports: the app bundles the one it uses. `build` cleans dist/ first, so
    // the two builds below cannot race on cleaning it.
    external: ['@amplitude/analytics-browser', 'mixpanel-browser', 'idb-keyval'],
    clean: false,
  }),
  // The <script> build: one minified file that defines window.Sightline and replays the snippet.
  defineConfig({
    entry: { sightline: 'src/global.ts' },
    format: ['iife'],
    // Everything in one file, core included.
    noExternal: [/.*/],
    minify: true,
    sourcemap: true,
    target: 'es2020',
    outExtension: () => ({ js: '.global.js' }),
    define: { __SIGHTLINE_VERSION__: JSON.stringify(version) },
  }),
];
