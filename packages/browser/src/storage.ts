import {
  createMemoryStorage,
  STORAGE_KEYS,
  type StoragePort,
  type SyncStorage,
} from '@sightline/core';

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
  const scope = `${domain ? `;domain=${domain}` : ''}${location.protocol === 'https:' ? ';secure' : ''}`;
  /** `lifetime` is a `max-age` to keep the cookie, or an `expires` in the past to remove it. */
  const write = (key: string, value: string, lifetime: string) => {
    // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is async and missing in Safari/Firefox.
    document.cookie = `${encodeURIComponent(key)}=${encodeURIComponent(value)};path=/;${lifetime};samesite=lax${scope}`;
  };
  return {
    getItem(key) {
      const name = `${encodeURIComponent(key)}=`;
      for (const part of document.cookie.split('; ')) {
        if (part.startsWith(name)) return decodeURIComponent(part.slice(name.length));
      }
      return null;
    },
    setItem: (key, value) => write(key, value, `max-age=${COOKIE_MAX_AGE}`),
    removeItem: (key) => write(key, '', 'expires=Thu, 01 Jan 1970 00:00:00 GMT'),
  };
}

/**
 * `localStorage`, when the page may use it (it throws in some privacy modes and sandboxes). A
 * full one (quota) is still used when it holds our ids or consent: a stored opt-out must be read,
 * not replaced by cookies that know nothing of it. Its writes then fail where they are made.
 */
export function localStorageIfUsable(): Storage | undefined {
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
    const probe = 'sightline.probe';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch {
    try {
      return (storage?.getItem(STORAGE_KEYS.consent) ?? storage?.getItem(STORAGE_KEYS.anonymousId))
        ? storage
        : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Keys that follow `cookieDomain` to cookies, so every subdomain sees the same visitor. */
const SHARED_KEYS: readonly string[] = [STORAGE_KEYS.anonymousId, STORAGE_KEYS.userId];

/**
 * The storage for `options.persistence`, falling back from localStorage to cookies to memory.
 * With `cookieDomain`, the anonymous and user ids live in cookies on that domain (localStorage is
 * per origin, so subdomains could not share them there); everything else stays in localStorage.
 *
 * @example
 * const storage = createBrowserStorage({ persistence: 'localStorage', cookieDomain: 'example.com' });
 */
export function createBrowserStorage(options: StorageOptions = {}): SyncStorage {
  const { persistence = 'localStorage', cookieDomain } = options;
  const local = persistence === 'localStorage' ? localStorageIfUsable() : undefined;
  const cookies =
    persistence !== 'memory' && navigator.cookieEnabled ? cookieStorage(cookieDomain) : undefined;
  if (local && cookies && cookieDomain) {
    return routeStorage((key) => (SHARED_KEYS.includes(key) ? cookies : local));
  }
  return local ?? cookies ?? createMemoryStorage();
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
