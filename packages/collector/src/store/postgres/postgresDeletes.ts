import type { PoolClient } from 'pg';
import { erasureSubjectHash, subjectEvents, subjectLinks } from '../../privacy/subject';
import { postgresDialect } from '../../query/postgresDialect';
import { render, type Sql, sql } from '../../query/sql';
import { eraseActivity, pruneActivity } from './activityHours';
import { withoutNul } from './postgresWriter';

/** Rows one deletion removed. */
export interface Deleted {
  events: number;
  identityLinks: number;
}

/**
 * Erases one data subject and writes its `erasure_audit` row, in one transaction on `client` (the
 * write connection; the caller serialises it with appends).
 *
 * @example
 * await eraseSubject(client, 'acme', 'u-1', 'rk_1a2b3c4d'); // { events: 12, identityLinks: 2 }
 */
export function eraseSubject(
  client: PoolClient,
  tenant: string,
  userId: string,
  actor: string,
): Promise<Deleted> {
  // Ids are stored with U+0000 replaced (see withoutNul): erase what was stored for this id.
  const storedTenant = withoutNul(tenant);
  const storedUser = withoutNul(userId);
  return inTransaction(client, async () => {
    // Events and their rollup rows first: their predicates read the links deleted next.
    await run(client, eraseActivity(storedTenant, storedUser));
    const events = await run(
      client,
      sql`DELETE FROM events WHERE ${subjectEvents(storedTenant, storedUser)}`,
    );
    const identityLinks = await run(
      client,
      sql`DELETE FROM identity_links WHERE ${subjectLinks(storedTenant, storedUser)}`,
    );
    await run(
      client,
      sql`INSERT INTO erasure_audit (tenant, subject_hash, actor, erased_at, events_deleted, links_deleted)
        VALUES (${storedTenant}, ${erasureSubjectHash(tenant, userId)}, ${withoutNul(actor)}, now(),
          ${events}, ${identityLinks})`,
    );
    return { events, identityLinks };
  });
}

/**
 * Deletes, for every tenant, events before `cutoffMs` and the identity links first seen before it
 * that no remaining event's anonymous id refers to, in one transaction. `daily_usage` is kept.
 *
 * @example
 * await pruneBefore(client, Date.now() - 90 * 86_400_000); // { events: 1042, identityLinks: 17 }
 */
export function pruneBefore(client: PoolClient, cutoffMs: number): Promise<Deleted> {
  if (!Number.isFinite(cutoffMs)) {
    return Promise.reject(new RangeError(`prune needs a cutoff in Unix ms, got ${cutoffMs}`));
  }
  const cutoff = postgresDialect.instant(cutoffMs);
  return inTransaction(client, async () => {
    const events = await run(client, sql`DELETE FROM events WHERE "timestamp" < ${cutoff}`);
    for (const statement of pruneActivity(cutoff)) await run(client, statement);
    const identityLinks = await run(
      client,
      sql`DELETE FROM identity_links WHERE first_seen < ${cutoff} AND NOT EXISTS (
        SELECT 1 FROM events
        WHERE events.tenant = identity_links.tenant
          AND events.anonymous_id = identity_links.anonymous_id)`,
    );
    return { events, identityLinks };
  });
}

export async function inTransaction<T>(client: PoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Runs `fragment` with its values bound; resolves with the number of rows it changed. */
export async function run(client: PoolClient, fragment: Sql): Promise<number> {
  const statement = render(fragment);
  const result = await client.query(statement.text, [...statement.values]);
  return result.rowCount ?? 0;
}
