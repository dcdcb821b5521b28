import { createPackageConfig } from '../../tsup.base';

export default createPackageConfig({
  entry: { index: 'src/index.ts', schema: 'src/schema.ts' },
});
