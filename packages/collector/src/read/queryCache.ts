/**
 * A short-lived cache of read-API results. Entries are keyed by tenant plus the query, expire
 * after `ttlMs`, and every entry of a tenant is dropped when new events of that tenant are stored,
 * so a cached answer is never older than the tenant's last write.
 *
 * @example
 * const cache = createQueryCache({ ttlMs: 10_000 });
 * const series = await cache.get('acme', 'metrics?dau…', () => computeSeries());
 * cache.invalidate('acme'); // after a write of tenant acme
 */
export function createQueryCache(options: { ttlMs: number; maxEntries?: number }) {
  const { ttlMs } = options;
  const maxEntries = options.maxEntries ?? 500;
  /** tenant → (query key → entry). Map order is insertion order: oldest first. */
  const tenants = new Map<string, Map<string, { expires: number; value: Promise<unknown> }>>();
  let size = 0;
  let hits = 0;
  let misses = 0;

  function evictOldest(): void {
    for (const [tenant, entries] of tenants) {
      const first = entries.keys().next();
      if (!first.done) {
        entries.delete(first.value);
        size--;
        if (entries.size === 0) tenants.delete(tenant);
        return;
      }
    }
  }

  return {
    /** The cached result of `key` for `tenant`, or `compute()`'s (failures are not cached). */
    get<T>(tenant: string, key: string, compute: () => Promise<T>, now = Date.now()): Promise<T> {
      if (ttlMs <= 0) return compute();
      let entries = tenants.get(tenant);
      const cached = entries?.get(key);
      if (cached && cached.expires > now) {
        hits++;
        return cached.value as Promise<T>;
      }
      misses++;
      if (cached) {
        entries!.delete(key);
        size--;
      }
      if (!entries) {
        entries = new Map();
        tenants.set(tenant, entries);
      }
      const value = compute();
      const owner = entries;
      owner.set(key, { expires: now + ttlMs, value });
      size++;
      if (size > maxEntries) evictOldest();
      value.catch(() => {
        if (owner.get(key)?.value === value) {
          owner.delete(key);
          size--;
        }
      });
      return value;
    },
    /** Drops every cached result of `tenant` (its data changed). */
    invalidate(tenant: string): void {
      const entries = tenants.get(tenant);
      if (!entries) return;
      size -= entries.size;
      tenants.delete(tenant);
    },
    /** Drops every cached result of every tenant (e.g. after retention pruned all tenants). */
    clear(): void {
      tenants.clear();
      size = 0;
    },
    get stats() {
      return { size, hits, misses };
    },
  };
}

export type QueryCache = ReturnType<typeof createQueryCache>;
