import type { SyncStorage } from './storage';

/** How often a tab says it is alive, and after how long without it a tab counts as gone. */
const HEARTBEAT_MS = 2_000;
const GONE_MS = 10_000;
const TAB_PREFIX = 'sightline.tab.';

/** A storage whose keys can be listed: localStorage has `length` and `key(i)`. */
export interface ListableStorage extends SyncStorage {
  readonly length: number;
  key(index: number): string | null;
}

export interface TabQueue {
  /** The storage core writes through: its queue key is this tab's own queue key. */
  storage: SyncStorage;
  /** Stops the heartbeat and forgets this tab's liveness (its queue stays, for adoption). */
  stop(): void;
}

function parseQueue(text: string | null): Array<{ messageId?: unknown }> {
  try {
    const parsed: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

/**
 * Gives each tab (each page load) its own persisted queue, so tabs never overwrite each other's
 * undelivered events, and hands the queues of tabs that are gone to the next tab that loads.
 *
 * Core keeps the queue under `queueKey`; here that key maps to `<queueKey>.<tabId>`. A tab writes
 * a heartbeat every 2 s and removes it on `pagehide`; when a tab loads, the queues of tabs
 * without a heartbeat (gone, or silent for 10 s: crashed, frozen) are merged into its own (once
 * per messageId) and their keys removed.
 * Two tabs loading at once may both adopt the same queue: the collector's dedupe then stores each
 * event once.
 *
 * @example
 * const { storage } = createTabQueue(localStorage, 'sightline.queue.wk_1');
 * createAnalytics({ storage, persistQueue: true, … });
 */
export function createTabQueue(
  local: ListableStorage,
  queueKey: string,
  deliver?: (events: readonly unknown[]) => Promise<boolean>,
): TabQueue {
  const tabId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const ownKey = `${queueKey}.${tabId}`;
  const alive = () => {
    try {
      local.setItem(TAB_PREFIX + tabId, String(Date.now()));
    } catch {
      // Storage refuses writes: the queue lives in memory anyway.
    }
  };
  /**
   * Delivers the queues of tabs that went away while this one is open (adoption at load only
   * sees tabs gone by then), and removes each once the collector acknowledged all of it.
   */
  let sweeping = false;
  const sweep = async () => {
    if (!deliver || sweeping) return;
    sweeping = true;
    try {
      for (const key of orphans()) {
        const events = parseQueue(local.getItem(key));
        if (events.length === 0 || (await deliver(events))) forget(key);
      }
    } catch {
      // Left for the next heartbeat.
    } finally {
      sweeping = false;
    }
  };
  const gone = () => {
    try {
      local.removeItem(TAB_PREFIX + tabId);
    } catch {
      // Nothing to forget.
    }
  };
  const beat = () => {
    alive();
    void sweep();
  };
  alive();
  let timer = setInterval(beat, HEARTBEAT_MS);
  // A page that goes away (reload, navigation, close) hands its queue over at once; one restored
  // from the back/forward cache takes it back up (anything adopted meanwhile is sent twice and
  // stored once).
  const onHide = () => {
    clearInterval(timer);
    gone();
  };
  const onShow = (event: PageTransitionEvent) => {
    if (!event.persisted) return;
    alive();
    timer = setInterval(beat, HEARTBEAT_MS);
  };
  addEventListener('pagehide', onHide);
  addEventListener('pageshow', onShow);

  /** Queue keys of tabs that are gone: no heartbeat, or none for `GONE_MS`. */
  const orphans = (): string[] => {
    const now = Date.now();
    const found: string[] = [];
    for (let index = local.length - 1; index >= 0; index--) {
      const key = local.key(index);
      if (!key?.startsWith(`${queueKey}.`) || key === ownKey) continue;
      const beat = local.getItem(TAB_PREFIX + key.slice(queueKey.length + 1));
      if (beat === null || now - Number(beat) >= GONE_MS) found.push(key);
    }
    return found;
  };
  const forget = (key: string) => {
    local.removeItem(key);
    local.removeItem(TAB_PREFIX + key.slice(queueKey.length + 1));
  };

  /** This tab's queue with every orphaned queue merged in; orphans are removed. */
  const adopt = (): string | null => {
    const merged = parseQueue(local.getItem(ownKey));
    const seen = new Set(merged.map((event) => event.messageId));
    for (const key of orphans()) {
      for (const event of parseQueue(local.getItem(key))) {
        if (seen.has(event.messageId)) continue;
        seen.add(event.messageId);
        merged.push(event);
      }
      // Saved under this tab's key before the orphan's key goes: a crash in between duplicates
      // events (harmless), never loses them.
      local.setItem(ownKey, JSON.stringify(merged));
      forget(key);
    }
    return merged.length === 0 ? null : JSON.stringify(merged);
  };

  const mapped = (key: string) => (key === queueKey ? ownKey : key);
  return {
    storage: {
      getItem: (key) => (key === queueKey ? adopt() : local.getItem(key)),
      setItem: (key, value) => local.setItem(mapped(key), value),
      removeItem: (key) => local.removeItem(mapped(key)),
    },
    stop() {
      onHide();
      removeEventListener('pagehide', onHide);
      removeEventListener('pageshow', onShow);
    },
  };
}
