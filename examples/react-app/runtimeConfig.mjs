/**
 * The app's runtime configuration: which collector it sends to, with which write key. Shared by
 * serve.mjs (production) and vite.config.ts (development); kept apart from serve.mjs, whose
 * command-line entry must not run when Vite loads its config.
 */
/**
 * The inline script that hands the app its collector, for the top of index.html.
 *
 * @example
 * html.replace('</head>', `${runtimeConfigScript({ host, writeKey })}</head>`);
 */
export function runtimeConfigScript({ host, writeKey }) {
  // `<` escaped: a value can never close the script element.
  const json = JSON.stringify({ host, writeKey }).replaceAll('<', '\\u003c');
  return `<script>window.__SIGHTLINE__ = ${json};</script>`;
}

export { devWriteKey } from '../../scripts/devWriteKey.mjs';
