declare module '*.vue' {
  import type { DefineComponent } from 'vue';

  const component: DefineComponent;
  export default component;
}

interface Window {
  /** Injected into index.html by serve.mjs at runtime. */
  __SIGHTLINE__?: { host: string; writeKey: string };
}
