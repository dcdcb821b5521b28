import { json } from '../http/errors';
import { ALL_TENANTS } from '../keys';
import type { ResolvedCollectorOptions } from '../options';
import { render, sql } from '../query/sql';
import type { ReadRoute } from '../read/readApi';

/** At most this many tenants are listed from the store (the dashboard's picker, not a report). */
const STORED_TENANTS_LIMIT = 1_000;

/**
 * `GET /v1/tenants` (admin keys only): the tenants this collector knows, from its configured
 * write and read keys and from the store's daily usage rollup (a small table, so the query is
 * cheap even on a large store). The dashboard's tenant picker lists them.
 *
 * @example
 * createReadApi({ routes: [...tenantRoutes(settings)], readKeys, store, cache, now });
 * // GET /v1/tenants → { tenants: [{ tenant: 'acme', configured: true, stored: true }] }
 */
export function tenantRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  const configured = new Set(
    [...settings.writeKeys, ...settings.readKeys]
      .map((grant) => grant.tenant)
      .filter((tenant) => tenant !== ALL_TENANTS),
  );
  return [
    {
      method: 'GET',
      pattern: '/v1/tenants',
      tenantScoped: false,
      adminOnly: true,
      async handle(context) {
        const rows = await context.store.query(
          render(
            sql`SELECT DISTINCT tenant FROM daily_usage ORDER BY tenant LIMIT ${STORED_TENANTS_LIMIT}`,
          ),
        );
        const stored = new Set(rows.map((row) => String(row.tenant)));
        const tenants = [...new Set([...configured, ...stored])].sort().map((tenant) => ({
          tenant,
          configured: configured.has(tenant),
          stored: stored.has(tenant),
        }));
        return json(200, { tenants }, { 'cache-control': 'no-store' });
      },
    },
  ];
}
