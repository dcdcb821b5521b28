import { createPackageConfig } from '../../tsup.base';

export default createPackageConfig({
  entry: {
    index: 'src/index.ts',
    express: 'src/express.ts',
    fastify: 'src/fastify.ts',
    hono: 'src/hono.ts',
    destinations: 'src/destinations.ts',
  },
  platform: 'node',
  target: 'node20',
});
