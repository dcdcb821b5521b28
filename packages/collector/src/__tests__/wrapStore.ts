import type { Store } from '../store/store';

/**
 * A store that forwards everything to `inner`, except what `overrides` replaces: for tests that
 * record or delay appends to a real DuckDB store, or read it without its rollup (or its signup and
 * payment columns).
 *
 * @example
 * const slow = wrapStore(duckdb, { append: async (rows) => (await gate, duckdb.append(rows)) });
 */
export function wrapStore(
  inner: Store,
  overrides: Partial<
    Pick<Store, 'append' | 'ping' | 'activityHours' | 'activityEvents' | 'identityFirsts'>
  >,
): Store {
  return {
    kind: inner.kind,
    activityHours: 'activityHours' in overrides ? overrides.activityHours : inner.activityHours,
    activityEvents: 'activityEvents' in overrides ? overrides.activityEvents : inner.activityEvents,
    identityFirsts: 'identityFirsts' in overrides ? overrides.identityFirsts : inner.identityFirsts,
    append: overrides.append ?? ((rows) => inner.append(rows)),
    query: (statement) => inner.query(statement),
    writeCsv: (statement, path) => inner.writeCsv(statement, path),
    findMessageIds: (tenant, ids) => inner.findMessageIds(tenant, ids),
    countEvents: (tenant) => inner.countEvents(tenant),
    identityLinks: (tenant) => inner.identityLinks(tenant),
    eraseUser: (tenant, userId, actor) => inner.eraseUser(tenant, userId, actor),
    prune: (olderThanMs) => inner.prune(olderThanMs),
    importHistory: (history) => inner.importHistory(history),
    ping: overrides.ping ?? (() => inner.ping()),
    close: () => inner.close(),
  };
}
