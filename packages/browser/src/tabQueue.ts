import type { StoragePort } from '@sightline/core';
import { listen } from './listen';
import type { SyncStorage } from './storage';

/** How often a tab says it is alive, and after how long without it a tab counts as gone. */
const HEARTBEAT_MS = 2_000;
const GONE_MS = 10_000;
const TAB_PREFIX = 'sightline.tab.';

type Maybe<T> = T | Promise<T>;

/** `next(value)`: at once for a plain value (localStorage), once it resolves for a Promise. */
function then<T, R>(value: Maybe<T>, next: (value: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** `next(values)`: at once when every value is plain, once all resolve when any is a Promise. */
function thenAll<T, R>(values: Array<Maybe<T>>, next: (values: T[]) => Maybe<R>): Maybe<R> {
  return values.some((value) => value instanceof Promise)
    ? Promise.all(values).then(next)
    : next(values as T[]);
}

/**
 * Where per-tab queues are kept: localStorage (synchronous: an event is stored as it is
 * enqueued) or IndexedDB through idb-keyval (asynchronous, for large queues).
 */
export interface QueueStore {
  /**
   * Every method answers at once (localStorage). Informative: a store whose methods return plain
   * values is read synchronously either way, so core loads its queue at once.
   */
  readonly sync?: boolean;
  get(key: string): Maybe<string | null | undefined>;
  set(key: string, value: string): Maybe<void>;
  delete(key: string): Maybe<void>;
  keys(): Maybe<string[]>;
}

/**
 * localStorage as a {@link QueueStore}.
 *
 * @example
 * createTabQueue(localQueueStore(localStorage), localStorage, 'sightline.queue.wk_1');
 */
export function localQueueStore(local: Storage): QueueStore {
  return {
    sync: true,
    get: (key) => local.getItem(key),
    set: (key, value) => local.setItem(key, value),
    delete: (key) => local.removeItem(key),
    // A Storage's own enumerable properties are exactly its keys.
    keys: () => Object.keys(local),
  };
}

export interface TabQueue {
  /** The storage core keeps its queue through: `queueKey` is this tab's own queue. */
  storage: Pick<StoragePort, 'getItem' | 'setItem' | 'removeItem'>;
  /** Stops the heartbeat and forgets this tab's liveness (its queue stays, for adoption). */
  stop(): void;
}

function parseQueue(text: string | null | undefined): Array<{ messageId?: unknown }> {
  try {
    const parsed: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * Gives each tab (each page load) its own persisted queue, so tabs never overwrite each other's
 * undelivered events, and hands the queues of tabs that are gone to tabs still open.
 *
 * Core keeps the queue under `queueKey`; here that key maps to `<queueKey>.<tabId>` in `store`.
 * A tab writes a heartbeat (in `local`, localStorage) every 2 s and removes it on `pagehide`. A
 * tab's queue is an orphan once its heartbeat is gone, or silent for 10 s (crashed, frozen).
 * - When a tab loads, orphans are merged into its own queue (once per messageId) and removed.
 * - While it is open, at each heartbeat, orphans left by tabs that went away later are sent with
 *   `deliver` and removed once the collector acknowledged all of them.
 * Two tabs picking up the same orphan at once send it twice: the collector's dedupe stores each
 * event once.
 *
 * @example
 * const { storage } = createTabQueue(localQueueStore(localStorage), localStorage, 'sightline.queue.wk_1');
 * createAnalytics({ storage, persistQueue: true, … });
 */
export function createTabQueue(
  store: QueueStore,
  local: SyncStorage,
  queueKey: string,
  deliver?: (events: readonly unknown[]) => Promise<boolean>,
): TabQueue {
  const tabId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const ownKey = `${queueKey}.${tabId}`;
  const heartbeat = (key: string) => TAB_PREFIX + key.slice(queueKey.length + 1);
  const quietly = (run: () => void) => {
    try {
      run();
    } catch {
      // Storage refuses: the queue lives in memory anyway.
    }
  };

  /** Which of `keys` are queues of tabs that are gone: no heartbeat, or none for `GONE_MS`. */
  const orphansAmong = (keys: readonly string[]): string[] =>
    keys.filter((key) => {
      if (!key.startsWith(`${queueKey}.`) || key === ownKey) return false;
      const beat = local.getItem(heartbeat(key));
      return beat === null || Date.now() - Number(beat) >= GONE_MS;
    });

  const forget = (key: string) =>
    then(store.delete(key), () => quietly(() => local.removeItem(heartbeat(key))));

  /**
   * This tab's queue with every orphaned queue merged in (once per messageId); orphans are
   * removed after the merged queue is saved under this tab's key: a crash in between duplicates
   * events (harmless), never loses them. Synchronous over a synchronous store, so core loads a
   * localStorage queue at once.
   */
  const adopt = (): Maybe<string | null> =>
    then(store.keys(), (keys) => {
      const orphans = orphansAmong(keys);
      return thenAll(
        [ownKey, ...orphans].map((key) => store.get(key)),
        (texts) => {
          const byMessageId = new Map<unknown, unknown>();
          for (const event of texts.flatMap(parseQueue)) {
            if (!byMessageId.has(event.messageId)) byMessageId.set(event.messageId, event);
          }
          const merged = JSON.stringify([...byMessageId.values()]);
          const loaded = byMessageId.size === 0 ? null : merged;
          if (orphans.length === 0) return loaded;
          return then(store.set(ownKey, merged), () => thenAll(orphans.map(forget), () => loaded));
        },
      );
    });

  let sweeping = false;
  const sweep = async () => {
    if (!deliver || sweeping) return;
    sweeping = true;
    try {
      for (const key of orphansAmong(await store.keys())) {
        const events = parseQueue(await store.get(key));
        if (events.length === 0 || (await deliver(events))) await forget(key);
      }
    } catch {
      // Left for the next heartbeat.
    } finally {
      sweeping = false;
    }
  };

  const alive = () => quietly(() => local.setItem(TAB_PREFIX + tabId, String(Date.now())));
  let timer: ReturnType<typeof setInterval>;
  const start = () => {
    alive();
    timer = setInterval(() => {
      alive();
      void sweep();
    }, HEARTBEAT_MS);
  };
  start();
  // A page that goes away (reload, navigation, close) hands its queue over at once; one restored
  // from the back/forward cache takes it back up (anything adopted meanwhile is sent twice and
  // stored once).
  const onHide = () => {
    clearInterval(timer);
    quietly(() => local.removeItem(TAB_PREFIX + tabId));
  };
  const unlisten = listen(window, {
    pagehide: onHide,
    pageshow(event: PageTransitionEvent) {
      if (event.persisted) start();
    },
  });

  return {
    storage: {
      getItem: (key) => (key === queueKey ? adopt() : null),
      setItem: (key, value) => (key === queueKey ? store.set(ownKey, value) : undefined),
      removeItem: (key) => (key === queueKey ? store.delete(ownKey) : undefined),
    },
    stop() {
      onHide();
      unlisten();
    },
  };
}
