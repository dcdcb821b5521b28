import type { SqlDialect } from './dialect';
import { raw, type Sql, sql } from './sql';

/** Columns of `events` a query may ask `keyedEvents` for (identifiers, never input). */
export type EventColumn =
  | 'type'
  | 'event'
  | 'revenue'
  | 'session_id'
  | 'utm_source'
  | 'utm_medium'
  | 'utm_campaign'
  | 'referrer_domain'
  | 'browser'
  | 'os'
  | 'device_type'
  | 'properties';

/**
 * Two CTEs, `links` and `ev`, for `WITH`: the tenant's events (within [since, until) when given,
 * and matching `where`) with their **user key** (docs/metrics.md): the userId; else the userId
 * the anonymousId is linked to (the earliest link, ties by the smaller userId); else the
 * anonymousId. `ev` has `user_key`, `ts` and the asked `columns`.
 *
 * @example
 * sql`WITH ${keyedEvents(dialect, tenant, { since, until, columns: ['event'] })} SELECT count(DISTINCT user_key) FROM ev`
 */
export function keyedEvents(
  dialect: SqlDialect,
  tenant: string,
  options: {
    since?: number;
    until?: number;
    where?: Sql;
    columns?: readonly EventColumn[];
    /** More select expressions over `e` (the events row), each with its `AS` name. */
    select?: Sql;
  } = {},
): Sql {
  const columns = (options.columns ?? []).map((column) => `, e.${column}`).join('');
  const since =
    options.since === undefined
      ? sql``
      : sql` AND e."timestamp" >= ${dialect.instant(options.since)}`;
  const until =
    options.until === undefined
      ? sql``
      : sql` AND e."timestamp" < ${dialect.instant(options.until)}`;
  const where = options.where ? sql` AND (${options.where})` : sql``;
  const select = options.select ? sql`, ${options.select}` : sql``;
  return sql`${linksCte(dialect, tenant)},
  ev AS (
    SELECT coalesce(e.user_id, l.linked_user, e.anonymous_id) AS user_key, e."timestamp" AS ts${raw(columns)}${select}
    FROM events e LEFT JOIN links l ON l.anonymous_id = e.anonymous_id
    WHERE e.tenant = ${tenant}${since}${until}${where}
  )`;
}

/**
 * The CTE `links`: for each linked anonymous id of the tenant, the user id it counts as (the
 * earliest link, ties by the smaller user id). For queries that aggregate per (userId,
 * anonymousId) first and resolve the user key on that much smaller set (see kpis.ts).
 */
export function linksCte(dialect: SqlDialect, tenant: string): Sql {
  return sql`links AS (
    SELECT anonymous_id, ${dialect.firstOrdered(sql`user_id`, sql`first_seen, user_id`)} AS linked_user
    FROM identity_links WHERE tenant = ${tenant} GROUP BY anonymous_id
  )`;
}

/** The user key of a row with `user_id` and `anonymous_id` joined to `links` as `l`. */
export const USER_KEY = sql`coalesce(r.user_id, l.linked_user, r.anonymous_id)`;
