import type { ClickHouseConnection } from './clickhouseConnection';
import { encodeString } from './literal';
import { type ClickHouseMigration, clickhouseMigrations } from './migrations';

/** Whether the connection's database has a table (or view) named `name`. */
async function tableExists(connection: ClickHouseConnection, name: string): Promise<boolean> {
  const [row] = await connection.rows(
    `SELECT count() AS found FROM system.tables WHERE database = currentDatabase() AND name = ${encodeString(name)}`,
  );
  return Number(row?.found) > 0;
}

/**
 * Brings the ClickHouse schema up to date: creates `schema_migrations` if missing, then applies
 * each migration not recorded yet, recording it after its last statement. Rejects, changing
 * nothing, when the database holds a version newer than any in `list`. Resolves with the
 * versions it applied.
 *
 * @example
 * await runClickHouseMigrations(connection); // [1] on a new database, [] from then on
 */
export async function runClickHouseMigrations(
  connection: ClickHouseConnection,
  list: readonly ClickHouseMigration[] = clickhouseMigrations,
): Promise<number[]> {
  await connection.command(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at Int64)
     ENGINE = MergeTree() ORDER BY version`,
  );
  const rows = await connection.rows('SELECT DISTINCT version FROM schema_migrations');
  const applied = new Set(rows.map((row) => Number(row.version)));
  const known = Math.max(0, ...list.map((migration) => migration.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new Error(
      `Database schema version ${newest} is newer than this collector supports (${known}); upgrade the collector.`,
    );
  }
  const done: number[] = [];
  for (const migration of list) {
    if (applied.has(migration.version)) continue;
    try {
      for (const entry of migration.statements) {
        if (typeof entry === 'string') {
          await connection.command(entry);
        } else if (await tableExists(connection, entry.ifTableExists)) {
          try {
            await connection.command(entry.statement);
          } catch (error) {
            // Another collector starting at the same time ran this migration past the step that
            // removes the table: its own run did this step's work.
            if (await tableExists(connection, entry.ifTableExists)) throw error;
          }
        }
      }
    } catch (error) {
      throw new Error(
        `Schema migration ${migration.version} (${migration.description}) failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    await connection.insert('schema_migrations', [
      { version: migration.version, applied_at: Date.now() },
    ]);
    done.push(migration.version);
  }
  return done;
}
