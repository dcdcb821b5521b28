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
 * The table whose creation is the migrations' lock: `CREATE TABLE` without `IF NOT EXISTS`
 * succeeds for one collector only, so collectors starting at once on one database migrate one
 * after the other (statements of one meeting half-made tables of another failed, and a collector
 * still on an early migration could create again what a later one had removed). Memory engine:
 * its rows, the holder's heartbeats, do not survive a server restart, which ends the holder's
 * run anyway.
 */
const LOCK = 'schema_migrations_lock';
/** How often the holder shows it is alive. */
const HEARTBEAT_MS = 5_000;
/**
 * A lock with no heartbeat (nor creation) this recent was left by a stopped collector: a holder
 * busy with a long statement still beats (the heartbeat runs beside it).
 */
const STALE_SECONDS = 60;
/** How often a collector waiting for the lock looks again. */
const POLL_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Whether `error` is ClickHouse's UNKNOWN_TABLE (code 60): 18.16 says "doesn't exist", current
 * releases "Unknown table expression identifier" (parsed by the client into `code: '60'`).
 */
const isUnknownTable = (error: unknown) =>
  (error as { code?: unknown } | null)?.code === '60' ||
  /doesn't exist|does not exist|\bCode: 60\b/i.test(messageOf(error));

/**
 * Seconds since the lock's last sign of life (its latest heartbeat or its creation), by the
 * server's clock; undefined when it is gone.
 */
async function lockAge(connection: ClickHouseConnection): Promise<number | undefined> {
  try {
    const [row] = await connection.rows(
      `SELECT toUnixTimestamp(now()) - greatest(
          (SELECT toUnixTimestamp(any(metadata_modification_time)) FROM system.tables
            WHERE database = currentDatabase() AND name = ${encodeString(LOCK)}),
          (SELECT ifNull(max(at), 0) FROM ${LOCK})) AS age`,
    );
    return Number(row?.age);
  } catch (error) {
    if (isUnknownTable(error)) return undefined;
    throw error;
  }
}

/**
 * Runs `work` holding the migrations' lock, waiting while another collector holds it, and taking
 * over a lock with no sign of life for `staleSeconds`.
 */
async function withMigrationLock<T>(
  connection: ClickHouseConnection,
  staleSeconds: number,
  work: () => Promise<T>,
): Promise<T> {
  for (;;) {
    // Looked for first, so waiting does not fill the log with failed CREATEs.
    if (!(await tableExists(connection, LOCK))) {
      try {
        await connection.command(`CREATE TABLE ${LOCK} (at Int64) ENGINE = Memory`);
        break;
      } catch (error) {
        if (!/already exists/i.test(messageOf(error))) throw error;
      }
    }
    const age = await lockAge(connection);
    if (age !== undefined && age > staleSeconds) {
      // The holder stopped without releasing it. Two waiters deciding this at once may both
      // take over: 18.16 cannot drop a table on a condition.
      await connection.command(`DROP TABLE IF EXISTS ${LOCK}`);
      continue;
    }
    await sleep(POLL_MS);
  }
  const beat = () =>
    connection.command(`INSERT INTO ${LOCK} SELECT toInt64(toUnixTimestamp(now()))`);
  const timer = setInterval(() => {
    beat().catch(() => {});
  }, HEARTBEAT_MS);
  timer.unref();
  try {
    await beat();
    return await work();
  } finally {
    clearInterval(timer);
    await connection.command(`DROP TABLE IF EXISTS ${LOCK}`).catch(() => {});
  }
}

/**
 * Brings the ClickHouse schema up to date: creates `schema_migrations` if missing, then, holding
 * the migrations' lock (one collector at a time), applies each migration not recorded yet,
 * recording it after its last statement. Rejects, changing nothing, when the database holds a
 * version newer than any in `list`. Resolves with the versions it applied. A database already up
 * to date is not locked.
 *
 * @example
 * await runClickHouseMigrations(connection); // [1, 2, 3, 4] on a new database, [] from then on
 */
export async function runClickHouseMigrations(
  connection: ClickHouseConnection,
  list: readonly ClickHouseMigration[] = clickhouseMigrations,
  { staleSeconds = STALE_SECONDS }: { staleSeconds?: number } = {},
): Promise<number[]> {
  await connection.command(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, applied_at Int64)
     ENGINE = MergeTree() ORDER BY version`,
  );
  if ((await pending(connection, list)).length === 0) return [];
  return withMigrationLock(connection, staleSeconds, async () => {
    const done: number[] = [];
    // Read again under the lock: the collector that held it may have applied them.
    for (const migration of await pending(connection, list)) {
      await apply(connection, migration);
      done.push(migration.version);
    }
    return done;
  });
}

/** The migrations of `list` not recorded yet; rejects when the database is newer than `list`. */
async function pending(
  connection: ClickHouseConnection,
  list: readonly ClickHouseMigration[],
): Promise<ClickHouseMigration[]> {
  const rows = await connection.rows('SELECT DISTINCT version FROM schema_migrations');
  const applied = new Set(rows.map((row) => Number(row.version)));
  const known = Math.max(0, ...list.map((migration) => migration.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new Error(
      `Database schema version ${newest} is newer than this collector supports (${known}); upgrade the collector.`,
    );
  }
  return list.filter((migration) => !applied.has(migration.version));
}

/** Runs one migration's statements, then records it. */
async function apply(connection: ClickHouseConnection, migration: ClickHouseMigration) {
  try {
    for (const entry of migration.statements) {
      if (typeof entry === 'string') {
        await connection.command(entry);
      } else if (await tableExists(connection, entry.ifTableExists)) {
        try {
          await connection.command(entry.statement);
        } catch (error) {
          // A collector of an older version (which takes no lock) ran this migration past the
          // step that removes the table: its own run did this step's work.
          if (await tableExists(connection, entry.ifTableExists)) throw error;
        }
      }
    }
  } catch (error) {
    throw new Error(
      `Schema migration ${migration.version} (${migration.description}) failed: ${messageOf(error)}`,
      { cause: error },
    );
  }
  await connection.insert('schema_migrations', [
    { version: migration.version, applied_at: Date.now() },
  ]);
}
