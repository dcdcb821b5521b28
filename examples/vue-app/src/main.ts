import { createSightline } from '@sightline/vue';
import { createApp } from 'vue';
import App from './App.vue';
import { createAppRouter } from './router';

const config = window.__SIGHTLINE__;
if (!config) {
  throw new Error(
    'window.__SIGHTLINE__ is missing: serve the built app with `node serve.mjs`, which injects the collector URL and write key',
  );
}

const router = createAppRouter();
// With `router`, page views come from the router: one per navigation, with the route's name and
// pattern (the plugin turns the browser SDK's own page views off).
const sightline = createSightline({ writeKey: config.writeKey, host: config.host, router });
// For the browser console (and the end-to-end test): sightline.stats(), sightline.flush().
Object.assign(window, { sightline: sightline.client });

createApp(App).use(router).use(sightline).mount('#app');
