import { createPackageConfig } from '../../tsup.base';

export default createPackageConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'adapters/node': 'src/adapters/node.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/hono': 'src/adapters/hono.ts',
  },
  platform: 'node',
  target: 'node20',
});
