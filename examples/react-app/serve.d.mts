import type { Server } from 'node:http';

/** Serves the built app with its runtime configuration; resolves once it listens. */
export function startReactApp(options: {
  port: number;
  collectorUrl: string;
  writeKey: string;
  host?: string;
  /** The `vite build` output to serve. Default: this example's dist/. */
  dist?: string;
}): Promise<Server>;
