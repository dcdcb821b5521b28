import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// No collector URL or write key here: serve.mjs injects them into index.html at runtime, so one
// build runs against any collector.
export default defineConfig({
  plugins: [vue()],
  build: { sourcemap: true },
});
