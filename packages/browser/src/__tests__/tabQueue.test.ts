import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTabQueue, localQueueStore, type QueueStore, type TabQueue } from '../tabQueue';

const KEY = 'sightline.queue.wk_tabs';
const queue = (...ids: string[]) => JSON.stringify(ids.map((messageId) => ({ messageId })));
const ids = (text: unknown) =>
  (JSON.parse((text as string | null) ?? '[]') as Array<{ messageId: string }>).map(
    (event) => event.messageId,
  );

const tabs: TabQueue[] = [];
const open = (deliver?: (events: readonly unknown[]) => Promise<boolean>) => {
  const tab = createTabQueue(localQueueStore(localStorage), localStorage, KEY, deliver);
  tabs.push(tab);
  return tab;
};

beforeEach(() => localStorage.clear());
afterEach(() => {
  for (const tab of tabs.splice(0)) tab.stop();
  vi.useRealTimers();
});

describe('per-tab queues', () => {
  it('gives each tab its own key, so tabs never overwrite each other', () => {
    const a = open();
    const b = open();
    a.storage.setItem(KEY, queue('a1'));
    b.storage.setItem(KEY, queue('b1'));
    const keys = Object.keys(localStorage).filter((key) => key.startsWith(`${KEY}.`));
    expect(keys).toHaveLength(2);
    expect(keys.map((key) => ids(localStorage.getItem(key))).sort()).toEqual([['a1'], ['b1']]);
    // A tab reads back its own queue only: the other tab is alive.
    expect(ids(a.storage.getItem(KEY))).toEqual(['a1']);
  });

  it('adopts the queue of a tab that went away (pagehide), once per messageId', () => {
    const gone = open();
    gone.storage.setItem(KEY, queue('g1', 'g2'));
    const survivor = open();
    survivor.storage.setItem(KEY, queue('g2', 's1'));
    gone.stop(); // what pagehide does
    expect(ids(survivor.storage.getItem(KEY))).toEqual(['g2', 's1', 'g1']);
    // Saved under the survivor's key before the orphan's key was removed.
    const keys = Object.keys(localStorage).filter((key) => key.startsWith(`${KEY}.`));
    expect(keys).toHaveLength(1);
    expect(ids(localStorage.getItem(keys[0]!))).toEqual(['g2', 's1', 'g1']);
  });

  it('adopts the queue of a tab silent for 10 s (crashed), not of a live one', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(1_000_000);
    localStorage.setItem(`${KEY}.crashed`, queue('c1'));
    localStorage.setItem('sightline.tab.crashed', String(1_000_000 - 10_001));
    localStorage.setItem(`${KEY}.live`, queue('l1'));
    localStorage.setItem('sightline.tab.live', String(1_000_000 - 1_000));
    const tab = open();
    expect(ids(tab.storage.getItem(KEY))).toEqual(['c1']);
    expect(localStorage.getItem(`${KEY}.crashed`)).toBeNull();
    expect(localStorage.getItem(`${KEY}.live`)).toBe(queue('l1'));
  });

  it('keeps its heartbeat while open, so other tabs leave its queue alone', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(0);
    const a = open();
    a.storage.setItem(KEY, queue('a1'));
    vi.advanceTimersByTime(60_000);
    const b = open();
    expect(b.storage.getItem(KEY)).toBeNull();
    expect(ids(a.storage.getItem(KEY))).toEqual(['a1']);
  });

  it('drops corrupt orphans instead of failing', () => {
    localStorage.setItem(`${KEY}.broken`, '{not json');
    const tab = open();
    expect(tab.storage.getItem(KEY)).toBeNull();
    expect(localStorage.getItem(`${KEY}.broken`)).toBeNull();
  });

  it('delivers the queue of a tab that goes away later, at its next heartbeat, and keeps it until acknowledged', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(0);
    const delivered: unknown[][] = [];
    let accept = false;
    const survivor = open(async (events) => {
      delivered.push([...events]);
      return accept;
    });
    const leaving = open();
    leaving.storage.setItem(KEY, queue('l1', 'l2'));
    leaving.stop(); // pagehide, after the survivor loaded
    await vi.advanceTimersByTimeAsync(2_000);
    expect(delivered).toEqual([[{ messageId: 'l1' }, { messageId: 'l2' }]]);
    // Refused (collector down): the queue stays for the next heartbeat.
    expect(Object.keys(localStorage).filter((key) => key.startsWith(`${KEY}.`))).toHaveLength(1);
    accept = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(delivered).toHaveLength(2);
    expect(Object.keys(localStorage).filter((key) => key.startsWith(`${KEY}.`))).toEqual([]);
    expect(survivor.storage.getItem(KEY)).toBeNull();
  });

  it('works the same over an asynchronous store (the IndexedDB option), loading core asynchronously', async () => {
    const items = new Map<string, string>();
    const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));
    const store: QueueStore = {
      get: (key) => later(items.get(key) ?? null),
      set: (key, value) => later(void items.set(key, value)),
      delete: (key) => later(void items.delete(key)),
      keys: () => later([...items.keys()]),
    };
    const gone = createTabQueue(store, localStorage, KEY);
    tabs.push(gone);
    await gone.storage.setItem(KEY, queue('g1'));
    gone.stop();
    const tab = createTabQueue(store, localStorage, KEY);
    tabs.push(tab);
    const loaded = tab.storage.getItem(KEY);
    expect(loaded).toBeInstanceOf(Promise);
    expect(ids(await loaded)).toEqual(['g1']);
    expect([...items.keys()]).toHaveLength(1);
    expect(ids([...items.values()][0])).toEqual(['g1']);
  });
});
