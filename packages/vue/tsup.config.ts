import { createPackageConfig } from '../../tsup.base';

export default createPackageConfig({
  entry: { index: 'src/index.ts' },
  // Peers and the SDK stay imports: the app bundles one copy of each.
  external: ['vue', 'vue-router', '@sightline/browser', '@sightline/core'],
});
