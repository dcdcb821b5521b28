import type { QueueStore } from './tabQueue';

/**
 * The offline queue in IndexedDB (database `sightline`, object store `queue`, through
 * idb-keyval), for queues too large for localStorage's ~5 MB. idb-keyval is loaded with
 * `import()` on first use. Writes are asynchronous: an event is stored a moment after it is
 * enqueued, not at once as with localStorage. Its own entry, so apps on the default never
 * bundle it.
 *
 * @example
 * import { indexedDbQueue } from '@sightline/browser/indexeddb';
 * createBrowserAnalytics({ writeKey, host, queueStorage: indexedDbQueue() });
 */
export function indexedDbQueue(): QueueStore {
  let opened: Promise<QueueStore> | undefined;
  const open = () => {
    opened ??= import('idb-keyval').then(({ createStore, get, set, del, keys }) => {
      const db = createStore('sightline', 'queue');
      return {
        get: (key) => get<string>(key, db),
        set: (key, value) => set(key, value, db),
        delete: (key) => del(key, db),
        keys: async () => (await keys(db)).map(String),
      };
    });
    return opened;
  };
  return {
    get: async (key) => (await open()).get(key),
    set: async (key, value) => (await open()).set(key, value),
    delete: async (key) => (await open()).delete(key),
    keys: async () => (await open()).keys(),
  };
}
