import type { SqlDialect } from '../query/dialect';
import { joinSql, type Sql, sql } from '../query/sql';
import type { StoreHistory } from './store';

/** Rows per multi-row `INSERT`: a few thousand parameters per statement. */
const ROWS_PER_STATEMENT = 500;

/**
 * The statements that import `history` into a DuckDB or PostgreSQL store (both take `ON
 * CONFLICT … DO UPDATE`), to run in one transaction on the store's write connection.
 *
 * @example
 * for (const statement of importHistoryStatements(dialect, history)) await run(render(statement));
 */
export function importHistoryStatements(dialect: SqlDialect, history: StoreHistory): Sql[] {
  const statements: Sql[] = [];
  for (const rows of chunks(history.identityLinks)) {
    const values = rows.map(
      (link) =>
        sql`(${link.tenant}, ${link.anonymousId}, ${link.userId}, ${dialect.instant(link.firstSeen)})`,
    );
    statements.push(sql`INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
      VALUES ${joinSql(values, ', ')}
      ON CONFLICT (tenant, anonymous_id, user_id)
      DO UPDATE SET first_seen = least(identity_links.first_seen, excluded.first_seen)`);
  }
  for (const rows of chunks(history.dailyUsage)) {
    const values = rows.map(
      (row) => sql`(${row.tenant}, ${dialect.date(row.day)}, ${row.event}, ${row.count})`,
    );
    statements.push(sql`INSERT INTO daily_usage (tenant, day, event, count)
      VALUES ${joinSql(values, ', ')}
      ON CONFLICT (tenant, day, event)
      DO UPDATE SET count = greatest(daily_usage.count, excluded.count)`);
  }
  for (const row of history.erasureAudit) {
    const erasedAt = dialect.instant(row.erasedAt);
    statements.push(sql`INSERT INTO erasure_audit
        (tenant, subject_hash, actor, erased_at, events_deleted, links_deleted)
      SELECT ${row.tenant}, ${row.subjectHash}, ${row.actor}, ${erasedAt},
        ${row.eventsDeleted}, ${row.linksDeleted}
      WHERE NOT EXISTS (SELECT 1 FROM erasure_audit WHERE tenant = ${row.tenant}
        AND subject_hash = ${row.subjectHash} AND erased_at = ${erasedAt})`);
  }
  return statements;
}

function* chunks<T>(rows: readonly T[]): Generator<readonly T[]> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    yield rows.slice(start, start + ROWS_PER_STATEMENT);
  }
}
