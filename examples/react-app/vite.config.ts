import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { devWriteKey, runtimeConfigScript } from './runtimeConfig.mjs';

/** `vite` (development): the same runtime configuration serve.mjs injects in production. */
function runtimeConfig(): Plugin {
  return {
    name: 'sightline-runtime-config',
    apply: 'serve',
    async transformIndexHtml(html) {
      const host = process.env.SIGHTLINE_COLLECTOR_URL ?? 'http://127.0.0.1:8787';
      const writeKey = process.env.SIGHTLINE_WRITE_KEY ?? (await devWriteKey());
      return html.replace('</head>', `${runtimeConfigScript({ host, writeKey })}</head>`);
    },
  };
}

export default defineConfig({
  plugins: [react(), runtimeConfig()],
  server: { host: '127.0.0.1', port: 5175 },
});
