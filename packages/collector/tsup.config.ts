import { createPackageConfig } from '../../tsup.base';

export default createPackageConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'adapters/node': 'src/adapters/node.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/hono': 'src/adapters/hono.ts',
    'store/duckdb/worker': 'src/store/duckdb/worker.ts',
  },
  platform: 'node',
  // `import.meta.url` in the CJS build too (openStore finds the worker file with it).
  shims: true,
  target: 'node20',
});
