import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { erasureSubjectHash, subjectEvents, subjectLinks } from '../../privacy/subject';
import { render, type Sql, sql } from '../../query/sql';
import type { ActivityEvents } from '../activityRollup';
import { eraseActivity, pruneActivity } from './activityHours';

/** Rows one deletion removed. */
export interface Deleted {
  events: number;
  identityLinks: number;
}

/**
 * Erases one data subject and writes its `erasure_audit` row, in one transaction on the write
 * connection `connection` (the caller serialises it with appends and makes the writer forget
 * remembered keys afterwards).
 *
 * @example
 * await eraseSubject(writer, 'acme', 'u-1', 'rk_1a2b3c4d'); // { events: 12, identityLinks: 2 }
 */
export function eraseSubject(
  connection: DuckDBConnection,
  tenant: string,
  userId: string,
  actor: string,
): Promise<Deleted> {
  return inTransaction(connection, async () => {
    // Events and their rollup first: their predicates read the links deleted next.
    const events = await run(
      connection,
      sql`DELETE FROM events WHERE ${subjectEvents(tenant, userId)}`,
    );
    for (const statement of eraseActivity(tenant, userId)) await run(connection, statement);
    const identityLinks = await run(
      connection,
      sql`DELETE FROM identity_links WHERE ${subjectLinks(tenant, userId)}`,
    );
    await run(
      connection,
      sql`INSERT INTO erasure_audit (tenant, subject_hash, actor, erased_at, events_deleted, links_deleted)
        VALUES (${tenant}, ${erasureSubjectHash(tenant, userId)}, ${actor}, now(),
          ${events}, ${identityLinks})`,
    );
    return { events, identityLinks };
  });
}

/**
 * Deletes, for every tenant, events before `cutoffMs` (and their share of `activity_hours`) and the
 * identity links first seen before it that no remaining event's anonymous id refers to, in one
 * transaction. `daily_usage` is kept.
 *
 * @example
 * await pruneBefore(writer, Date.now() - 90 * 86_400_000, names); // { events: 1042, identityLinks: 17 }
 */
export function pruneBefore(
  connection: DuckDBConnection,
  cutoffMs: number,
  activityEvents: ActivityEvents,
): Promise<Deleted> {
  if (!Number.isFinite(cutoffMs)) {
    return Promise.reject(new RangeError(`prune needs a cutoff in Unix ms, got ${cutoffMs}`));
  }
  const cutoff = sql`make_timestamptz(CAST(${String(Math.round(cutoffMs * 1000))} AS BIGINT))`;
  return inTransaction(connection, async () => {
    const events = await run(connection, sql`DELETE FROM events WHERE "timestamp" < ${cutoff}`);
    for (const statement of pruneActivity(cutoff, activityEvents)) await run(connection, statement);
    const identityLinks = await run(
      connection,
      sql`DELETE FROM identity_links WHERE first_seen < ${cutoff} AND NOT EXISTS (
        SELECT 1 FROM events
        WHERE events.tenant = identity_links.tenant
          AND events.anonymous_id = identity_links.anonymous_id)`,
    );
    return { events, identityLinks };
  });
}

export async function inTransaction<T>(
  connection: DuckDBConnection,
  work: () => Promise<T>,
): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await connection.run('COMMIT');
    return result;
  } catch (error) {
    // Fails harmlessly when a failed COMMIT already rolled back.
    await connection.run('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Runs `fragment` with its values bound; resolves with the number of rows it changed. */
export async function run(connection: DuckDBConnection, fragment: Sql): Promise<number> {
  const statement = render(fragment);
  const result = await connection.run(statement.text, statement.values as DuckDBValue[]);
  return Number(result.rowsChanged);
}
