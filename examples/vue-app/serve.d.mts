import type { Server } from 'node:http';

/** Options of {@link startVueApp}. */
export interface VueAppOptions {
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /** The collector the app sends to, e.g. `http://127.0.0.1:8787`. */
  collectorUrl: string;
  /** The write key the app sends with. */
  writeKey: string;
  /** The address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** The built app. Default `dist/` beside serve.mjs. */
  dist?: string;
}

/**
 * Serves the built app with an SPA fallback, injecting `window.__SIGHTLINE__ = { host, writeKey }`.
 *
 * @example
 * const server = await startVueApp({ port: 0, collectorUrl: 'http://127.0.0.1:8787', writeKey });
 */
export function startVueApp(options: VueAppOptions): Promise<Server>;
