import * as z from 'zod';
import { json } from '../http/errors';
import { ALL_TENANTS } from '../keys';
import type { ResolvedCollectorOptions } from '../options';
import { subjectEvents, subjectLinks } from '../privacy/subject';
import { dialectOf } from '../query/dialect';
import { render, sql } from '../query/sql';
import { eventSelect, toApiEvent } from './apiEvent';
import { invalid, rejectUnknownParameters, wholeNumberParam } from './eventFilters';
import type { ReadRoute } from './readApi';
import { parseParams, type ReadContext } from './readContext';

/** Longest user id a privacy request may name. */
const MAX_ID_LENGTH = 1024;

const auditQuery = z.object({
  limit: wholeNumberParam(1, 10_000).optional(),
  subjectHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, {
      error: 'use the SHA-256 hex of "<tenant>:<userId>" (64 lowercase hex characters)',
    })
    .optional(),
});

/** The user id of `/v1/users/:id…`, as a 400 naming `id` when too long. */
function subjectOf(context: ReadContext): string {
  const id = context.params.id ?? '';
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw invalid('id', `id: use a user id of 1 to ${MAX_ID_LENGTH} characters, URL-encoded`);
  }
  return id;
}

/**
 * The privacy API: `GET /v1/users/:id/export` (right of access), `DELETE /v1/users/:id`
 * (erasure, audited) and `GET /v1/audit/erasures` (admin keys only). What belongs to a user is
 * defined once, in `privacy/subject.ts`.
 *
 * @example
 * createReadApi({ routes: [...privacyRoutes(settings)], readKeys, store, cache, now });
 * // DELETE /v1/users/u-1 → { erased: { events: 12, identityLinks: 2 } }
 */
export function privacyRoutes(_settings: ResolvedCollectorOptions): ReadRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/users/:id/export',
      async handle(context) {
        rejectUnknownParameters(context.url, []);
        const userId = subjectOf(context);
        const { tenant } = context.caller;
        const dialect = dialectOf(context.store.kind);
        const events = await context.store.query(
          render(sql`SELECT ${eventSelect(dialect)} FROM events
            WHERE ${subjectEvents(tenant, userId)}
            ORDER BY events."timestamp", events.seq, events.message_id`),
        );
        const links = await context.store.query(
          render(sql`SELECT anonymous_id AS "anonymousId", user_id AS "userId",
              ${dialect.epochMs(sql`first_seen`)} AS "firstSeen"
            FROM identity_links WHERE ${subjectLinks(tenant, userId)}
            ORDER BY first_seen, anonymous_id, user_id`),
        );
        const identityLinks = links.map((link) => ({
          anonymousId: String(link.anonymousId),
          userId: String(link.userId),
          firstSeen: new Date(Number(link.firstSeen)).toISOString(),
        }));
        const anonymousIds = [
          ...new Set(
            identityLinks.filter((link) => link.userId === userId).map((link) => link.anonymousId),
          ),
        ].sort();
        return json(
          200,
          { userId, anonymousIds, events: events.map(toApiEvent), identityLinks },
          { 'cache-control': 'no-store' },
        );
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/users/:id',
      async handle(context) {
        rejectUnknownParameters(context.url, []);
        const userId = subjectOf(context);
        const { tenant, actor } = context.caller;
        const erased = await context.store.eraseUser(tenant, userId, actor);
        context.cache.invalidate(tenant);
        return json(200, { erased }, { 'cache-control': 'no-store' });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/audit/erasures',
      tenantScoped: false,
      adminOnly: true,
      async handle(context) {
        rejectUnknownParameters(context.url, ['limit', 'subjectHash']);
        const query = parseParams(auditQuery, Object.fromEntries(context.url.searchParams));
        const { tenant } = context.caller;
        const dialect = dialectOf(context.store.kind);
        // ClickHouse 18.16 has no TRUE literal.
        const byTenant = tenant === ALL_TENANTS ? sql`1 = 1` : sql`tenant = ${tenant}`;
        const bySubject =
          query.subjectHash === undefined ? sql`` : sql` AND subject_hash = ${query.subjectHash}`;
        const rows = await context.store.query(
          render(sql`SELECT tenant, subject_hash AS "subjectHash", actor,
              ${dialect.epochMs(sql`erased_at`)} AS "erasedAt", events_deleted AS "eventsDeleted",
              links_deleted AS "linksDeleted"
            FROM erasure_audit WHERE ${byTenant}${bySubject}
            ORDER BY erased_at DESC, tenant, subject_hash LIMIT ${query.limit ?? 1_000}`),
        );
        const erasures = rows.map((row) => ({
          tenant: String(row.tenant),
          subjectHash: String(row.subjectHash),
          actor: String(row.actor),
          erasedAt: new Date(Number(row.erasedAt)).toISOString(),
          eventsDeleted: Number(row.eventsDeleted),
          linksDeleted: Number(row.linksDeleted),
        }));
        return json(200, { erasures }, { 'cache-control': 'no-store' });
      },
    },
  ];
}
