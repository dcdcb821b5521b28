import { createMemoryStorage, type StoragePort, type SyncStorage } from '@sightline/core';

export type { SyncStorage };

/**
 * Where the SDK keeps the anonymous id, the user id, consent, the session and attribution:
 * `localStorage` (default, falling back to cookies when it is unavailable), `cookie`, or
 * `memory` (cookieless: nothing outlives the page).
 */
export type Persistence = 'localStorage' | 'cookie' | 'memory';

export interface StorageOptions {
  persistence?: Persistence;
  /**
   * Cookie domain, e.g. `example.com`, so `app.example.com` and `www.example.com` share the
   * anonymous id. Default: the current host only.
   */
  cookieDomain?: string;
}

/** A year, in seconds: how long cookies live (renewed on every write). */
const COOKIE_MAX_AGE = 31_536_000;

/**
 * First-party cookies as a {@link SyncStorage}, values URI-encoded. `domain` widens them to
 * subdomains.
 *
 * @example
 * cookieStorage('example.com').setItem('sightline.anonymousId', id);
 */
export function cookieStorage(domain?: string): SyncStorage {
  const attributes = `;path=/;max-age=${COOKIE_MAX_AGE};samesite=lax${domain ? `;domain=${domain}` : ''}${
    location.protocol === 'https:' ? ';secure' : ''
  }`;
  const write = (key: string, value: string, remove?: boolean) => {
    // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is async and missing in Safari/Firefox.
    document.cookie = `${encodeURIComponent(key)}=${encodeURIComponent(value)}${attributes}${
      remove ? ';max-age=0;expires=Thu, 01 Jan 1970 00:00:00 GMT' : ''
    }`;
  };
  return {
    getItem(key) {
      const name = `${encodeURIComponent(key)}=`;
      for (const part of document.cookie.split('; ')) {
        if (part.startsWith(name)) return decodeURIComponent(part.slice(name.length));
      }
      return null;
    },
    setItem: (key, value) => write(key, value),
    removeItem: (key) => write(key, '', true),
  };
}

/** `localStorage`, when the page may use it (it throws in some privacy modes and sandboxes). */
export function localStorageIfUsable(): Storage | undefined {
  try {
    const storage = window.localStorage;
    const probe = 'sightline.probe';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch {
    return undefined;
  }
}

/** Keys that follow `cookieDomain` to cookies, so every subdomain sees the same visitor. */
const SHARED_KEYS = new Set(['sightline.anonymousId', 'sightline.userId']);

/**
 * The storage for `options.persistence`, falling back from localStorage to cookies to memory.
 * With `cookieDomain`, the anonymous and user ids live in cookies on that domain (localStorage is
 * per origin, so subdomains could not share them there); everything else stays in localStorage.
 *
 * @example
 * const storage = createBrowserStorage({ persistence: 'localStorage', cookieDomain: 'example.com' });
 */
export function createBrowserStorage(options: StorageOptions = {}): SyncStorage {
  const persistence = options.persistence ?? 'localStorage';
  if (persistence === 'memory') return createMemoryStorage();
  const cookies = navigator.cookieEnabled ? cookieStorage(options.cookieDomain) : undefined;
  const local = persistence === 'localStorage' ? localStorageIfUsable() : undefined;
  if (!local) return cookies ?? createMemoryStorage();
  if (!cookies || !options.cookieDomain) return local;
  return routeStorage((key) => (SHARED_KEYS.has(key) ? cookies : local));
}

/**
 * One storage over several: `pick` names the one each key lives in.
 *
 * @example
 * routeStorage((key) => (key === queueKey ? queueStorage : localStorage));
 */
export function routeStorage(pick: (key: string) => SyncStorage): SyncStorage;
export function routeStorage(pick: (key: string) => StoragePort): StoragePort;
export function routeStorage(pick: (key: string) => StoragePort): StoragePort {
  return {
    getItem: (key) => pick(key).getItem(key),
    setItem: (key, value) => pick(key).setItem(key, value),
    removeItem: (key) => pick(key).removeItem(key),
  };
}
