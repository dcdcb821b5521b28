import { clickhouseDialect } from '../clickhouseDialect';
import { type Sql, sql } from '../sql';

/**
 * Building blocks of the ClickHouse metric queries. 18.16 has no `WITH name AS (subquery)`, so
 * what the standard SQL names as CTEs is nested here as subqueries; its joins need a strictness
 * (`ANY`/`ALL`), match on equal keys only, and fill an unmatched row with the columns' default
 * values rather than NULL (so a `linked` flag tells a match apart). Joined subqueries are named:
 * current releases refuse them unnamed (`joined_subquery_requires_alias`), 18.16 takes either.
 */

/**
 * The tenant's identity links as a subquery to `ANY LEFT JOIN … USING link_anon`: for each linked
 * anonymous id (`link_anon`), the user id it counts as (`linked_user`: the earliest link, ties by
 * the smaller user id) and `linked` = 1.
 *
 * @example
 * sql`SELECT … FROM (${rows}) ANY LEFT JOIN ${links(tenant)} USING link_anon`
 */
export function links(tenant: string): Sql {
  return sql`(SELECT anonymous_id AS link_anon,
      ${clickhouseDialect.firstOrdered(sql`user_id`, sql`first_seen, user_id`)} AS linked_user,
      toUInt8(1) AS linked
    FROM identity_links WHERE tenant = ${tenant} GROUP BY anonymous_id)`;
}

/**
 * The join key of a row with `anonymous_id`: an event without one has a `user_id`, which is its
 * user key whatever it joins to.
 */
export const LINK_ANON = sql`ifNull(anonymous_id, '') AS link_anon`;

/**
 * The user key (docs/metrics.md) of a row with `user_id` and `anonymous_id` joined to
 * {@link links}: its userId; else the linked userId; else its anonymousId.
 */
export const USER_KEY = sql`assumeNotNull(coalesce(user_id, if(linked = 1, linked_user, NULL), anonymous_id))`;

/**
 * `rows` (a SELECT with `user_id`, `anonymous_id` and {@link LINK_ANON}) with each row's user key
 * resolved: `SELECT <USER_KEY> AS user_key, <select> FROM (rows) ANY LEFT JOIN links`.
 *
 * @example
 * withUserKey(tenant, sql`SELECT user_id, anonymous_id, ${LINK_ANON}, min("timestamp") AS first_ts FROM events …`, sql`first_ts`)
 */
export function withUserKey(tenant: string, rows: Sql, select: Sql): Sql {
  return sql`SELECT ${USER_KEY} AS user_key, ${select}
    FROM (${rows}) AS keyed_rows ANY LEFT JOIN ${links(tenant)} AS user_links USING link_anon`;
}

/** A condition that may be NULL as the UInt8 `if` and the `-If` combinators take (NULL: false). */
export function isTrue(condition: Sql): Sql {
  return sql`ifNull(${condition}, 0)`;
}
