import { defineConfig } from 'vitest/config';

/**
 * One project per package: `node` for platform-free and server packages, `happy-dom` for DOM
 * packages. Type tests (`*.test-d.ts`) run through the TypeScript compiler.
 */
export default defineConfig({
  define: { __SIGHTLINE_VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    // CI also writes a JSON report, from which .ci/run prints the "N passed, N failed" line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]]
      : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          root: 'packages/core',
          environment: 'node',
          include: ['src/**/*.test.ts'],
          typecheck: {
            enabled: true,
            include: ['src/**/*.test-d.ts'],
            tsconfig: '../../tsconfig.check.json',
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'collector',
          root: 'packages/collector',
          environment: 'node',
          include: ['src/**/*.test.ts'],
          // Real DuckDB files, real HTTP servers and child processes: give them time.
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'collector-clickhouse-current',
          root: 'packages/collector',
          environment: 'node',
          // The ClickHouse store on the current engine (chDB behind the HTTP interface, see
          // chdbServer.ts). seqIndex and eventRowsV4 read system.query_log, which chDB lacks.
          include: [
            'src/__tests__/clickhouse/store.clickhouse.test.ts',
            'src/__tests__/clickhouse/hostile.clickhouse.test.ts',
            'src/__tests__/clickhouse/hostileReads.clickhouse.test.ts',
            'src/__tests__/clickhouse/kpis.clickhouse.test.ts',
            'src/__tests__/clickhouse/paging.clickhouse.test.ts',
            'src/__tests__/clickhouse/migrate.clickhouse.test.ts',
            'src/__tests__/clickhouse/outage.clickhouse.test.ts',
            'src/__tests__/parity/parity.stores.test.ts',
          ],
          env: { SIGHTLINE_CLICKHOUSE: 'chdb' },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          root: 'packages/browser',
          environment: 'happy-dom',
          include: ['src/**/*.test.ts'],
          // Our real collector, started in Node for the whole project.
          globalSetup: ['src/__tests__/globalSetup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'node',
          root: 'packages/node',
          environment: 'node',
          include: ['src/**/*.test.ts'],
          // The real collector over HTTP, real frameworks, outages of several seconds.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'examples',
          root: 'examples',
          environment: 'node',
          include: ['*/src/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'vue',
          root: 'packages/vue',
          environment: 'happy-dom',
          include: ['src/**/*.test.ts'],
          typecheck: {
            enabled: true,
            include: ['src/**/*.test-d.ts'],
            tsconfig: '../../tsconfig.check.json',
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'react',
          root: 'packages/react',
          environment: 'happy-dom',
          include: ['src/**/*.test.{ts,tsx}'],
          typecheck: {
            enabled: true,
            include: ['src/**/*.test-d.{ts,tsx}'],
            tsconfig: '../../tsconfig.check.json',
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'examples-e2e',
          root: 'examples',
          environment: 'node',
          include: ['*/e2e/**/*.test.ts'],
          // Each example built with Vite, served, and driven in Debian's Chromium against the real
          // collector.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'collector-e2e',
          root: 'packages/collector',
          environment: 'node',
          include: ['e2e/**/*.test.ts'],
          // The built collector's dashboard in Debian's Chromium, against real data over HTTP.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser-e2e',
          root: 'packages/browser',
          environment: 'node',
          include: ['e2e/**/*.test.ts'],
          // Debian's Chromium through playwright-core, the built <script> SDK, the real collector.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
