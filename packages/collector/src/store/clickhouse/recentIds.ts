/**
 * The (tenant, messageId) pairs one collector process stored most recently, up to `capacity`
 * (the oldest forgotten first): the "recent window" in which its dedupe is exact. Copies older
 * than the window, or written by another collector, are collapsed by `ReplacingMergeTree` and
 * read once through `FINAL`.
 *
 * @example
 * const recent = new RecentIds(300_000);
 * recent.add('acme', 'm-1');
 * recent.has('acme', 'm-1'); // true
 */
export class RecentIds {
  readonly #keys = new Set<string>();
  /** The same keys in insertion order, as a ring: the slot at `#next` holds the oldest. */
  readonly #ring: Array<string | undefined>;
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array(capacity);
  }

  has(tenant: string, messageId: string): boolean {
    return this.#keys.has(key(tenant, messageId));
  }

  add(tenant: string, messageId: string): void {
    const entry = key(tenant, messageId);
    if (this.#keys.has(entry)) return;
    // Evicting through the ring is O(1); a Set's first entry is found by walking past the holes
    // earlier deletions left (measured at 39–207 µs per add once the window was full).
    const oldest = this.#ring[this.#next];
    if (oldest !== undefined) this.#keys.delete(oldest);
    this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
    this.#keys.add(entry);
  }

  get size(): number {
    return this.#keys.size;
  }

  clear(): void {
    this.#keys.clear();
    this.#ring.fill(undefined);
    this.#next = 0;
  }
}

/** Length-prefixed, so no tenant and id can spell another pair's key. */
function key(tenant: string, messageId: string): string {
  return `${tenant.length}:${tenant}${messageId}`;
}
