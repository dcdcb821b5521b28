import type { Options } from 'tsup';
import { createPackageConfig } from '../../tsup.base';
import { bundleDashboard } from './src/dashboard/bundleDashboard';

const config = createPackageConfig({
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
}) as Options;

// The dashboard page (TS + uPlot + CSS) is bundled first and compiled into the collector as
// strings: served from memory, it works under any mount point and whatever the process's cwd.
export default async (): Promise<Options> => {
  const dashboard = await bundleDashboard();
  return {
    ...config,
    define: { ...config.define, __SIGHTLINE_DASHBOARD__: JSON.stringify(dashboard) },
  };
};
