/**
 * The `<script>` build (`dist/sightline.global.js`). The snippet (see docs/browser.md) defines
 * `window.sightline` as a queue of calls made before this file loads, with the options in
 * `sightline.options`; this file creates the client from them, replays the calls in order, and
 * puts the client in place of the queue. Loaded without the snippet, it only defines
 * `window.Sightline` (`createBrowserAnalytics`, `indexedDbQueue`, `sha256Hex`).
 */
import {
  type BrowserAnalyticsBaseOptions,
  type BrowserAnalyticsOptions,
  createBrowserAnalytics,
} from './browserAnalytics';
import { sha256Hex } from './hash';
import { indexedDbQueue } from './indexeddb';

interface Snippet extends Array<[string, ...unknown[]]> {
  /** The options, JSON: `queueStorage: 'indexedDB'` stands for `indexedDbQueue()`. */
  options?: Omit<BrowserAnalyticsBaseOptions, 'queueStorage'> & {
    host?: string;
    queueStorage?: 'indexedDB';
  };
}

const target = window as unknown as {
  sightline?: Snippet | ReturnType<typeof createBrowserAnalytics>;
  Sightline?: {
    createBrowserAnalytics: typeof createBrowserAnalytics;
    indexedDbQueue: typeof indexedDbQueue;
    sha256Hex: typeof sha256Hex;
  };
};
target.Sightline = { createBrowserAnalytics, indexedDbQueue, sha256Hex };
const snippet = target.sightline;
if (Array.isArray(snippet) && snippet.options) {
  const { queueStorage, ...options } = snippet.options;
  // A missing host (outside sandbox mode) is the SDK's to report, naming the option.
  const client = createBrowserAnalytics({
    ...options,
    // JSON options cannot carry a function: the `hash` action gets SHA-256.
    pii: options.pii && { hash: sha256Hex, ...options.pii },
    queueStorage: queueStorage === 'indexedDB' ? indexedDbQueue() : undefined,
  } as BrowserAnalyticsOptions);
  target.sightline = client;
  for (const [method, ...args] of snippet) {
    const call = (client as unknown as Record<string, unknown>)[method];
    if (typeof call === 'function') call.apply(client, args);
  }
}
