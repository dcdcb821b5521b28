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

  constructor(readonly capacity: number) {}

  has(tenant: string, messageId: string): boolean {
    return this.#keys.has(key(tenant, messageId));
  }

  add(tenant: string, messageId: string): void {
    const entry = key(tenant, messageId);
    if (this.#keys.has(entry)) return;
    this.#keys.add(entry);
    if (this.#keys.size > this.capacity) {
      // A Set iterates in insertion order: its first entry is the oldest.
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  get size(): number {
    return this.#keys.size;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/** Length-prefixed, so no tenant and id can spell another pair's key. */
function key(tenant: string, messageId: string): string {
  return `${tenant.length}:${tenant}${messageId}`;
}
