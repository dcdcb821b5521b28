/**
 * Where a platform keeps small strings across restarts. `window.localStorage` already has this
 * shape; IndexedDB adapters return Promises. Core only reads and writes through this port.
 *
 * @example
 * createAnalytics({ writeKey, host, storage: window.localStorage });
 */
export interface StoragePort {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** A storage that answers at once: `localStorage`'s shape. */
export interface SyncStorage extends StoragePort {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A storage that lives as long as the process: the default, and the right one for servers and tests.
 *
 * @example
 * const storage = createMemoryStorage();
 * storage.setItem('k', 'v');
 */
export function createMemoryStorage(): SyncStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}
