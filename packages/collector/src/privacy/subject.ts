import { createHash } from 'node:crypto';
import { raw, type Sql, sql } from '../query/sql';

/**
 * What belongs to one data subject (a user id `userId` of `tenant`) for access and erasure, as
 * predicates over `events` and `identity_links`. Access (`GET /v1/users/:id/export`) and erasure
 * (`DELETE /v1/users/:id`) use the same definition, so an export shows exactly what an erasure
 * deletes:
 *
 * - events whose `user_id` is `userId`;
 * - events without a `user_id` whose `anonymous_id` is `userId` itself (a visitor who never
 *   identified is known by their anonymous id) or is linked to `userId` by **any** identity link,
 *   not only the link that wins for metrics. An anonymous id linked to two users has all its
 *   anonymous events erased with either user: nothing tells whose they were, so privacy wins.
 *   The other user's own events (carrying their `user_id`) and their link are kept;
 * - identity links whose `user_id` is `userId`, or whose `anonymous_id` is `userId`.
 *
 * Ids are not followed further: a former user id aliased to `userId` (alias `previousId`) loses
 * its anonymous events, but events carrying it as their own `user_id` are erased with
 * `DELETE /v1/users/<that id>`.
 *
 * @example
 * render(sql`SELECT count(*) AS n FROM events WHERE ${subjectEvents('acme', 'u-1')}`);
 */
export function subjectEvents(tenant: string, userId: string): Sql {
  return sql`(events.tenant = ${tenant} AND (events.user_id = ${userId}
    OR (events.user_id IS NULL AND (events.anonymous_id = ${userId} OR events.anonymous_id IN (
      SELECT anonymous_id FROM identity_links WHERE tenant = ${tenant} AND user_id = ${userId})))))`;
}

/**
 * The rows of the `activity_hours` rollup (DuckDB, PostgreSQL) that hold only events of the subject
 * (see {@link subjectEvents}; the rollup keeps a missing user id as `''`), or of another table
 * keyed by the rollup's (tenant, user_id, anonymous_id) such as DuckDB's `identity_firsts`.
 *
 * @example
 * render(sql`DELETE FROM activity_hours WHERE ${subjectActivity('acme', 'u-1')}`);
 */
export function subjectActivity(
  tenant: string,
  userId: string,
  table: 'activity_hours' | 'identity_firsts' = 'activity_hours',
): Sql {
  const t = raw(table);
  return sql`(${t}.tenant = ${tenant} AND (${t}.user_id = ${userId}
    OR (${t}.user_id = '' AND (${t}.anonymous_id = ${userId}
      OR ${t}.anonymous_id IN (
        SELECT anonymous_id FROM identity_links WHERE tenant = ${tenant} AND user_id = ${userId})))))`;
}

/**
 * The identity links of the subject (see {@link subjectEvents}): links to `userId`, and links of
 * `userId` used as an anonymous id.
 *
 * @example
 * render(sql`DELETE FROM identity_links WHERE ${subjectLinks('acme', 'u-1')}`);
 */
export function subjectLinks(tenant: string, userId: string): Sql {
  return sql`(identity_links.tenant = ${tenant}
    AND (identity_links.user_id = ${userId} OR identity_links.anonymous_id = ${userId}))`;
}

/**
 * The subject of an erasure as the audit keeps it: SHA-256 (hex) of `${tenant}:${userId}`, salted
 * by the tenant. The raw user id is never stored; who knows the id can still find its erasure by
 * computing the hash.
 *
 * @example
 * erasureSubjectHash('acme', 'u-1'); // '5f1d…' (64 hex characters)
 */
export function erasureSubjectHash(tenant: string, userId: string): string {
  return createHash('sha256').update(`${tenant}:${userId}`).digest('hex');
}
