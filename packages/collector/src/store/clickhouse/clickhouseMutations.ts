import type { ClickHouseConnection } from './clickhouseConnection';

const POLL_MS = 50;
const TIMEOUT_MS = 60_000;

/**
 * Deletes the rows of `table` matching `where` (trusted text whose values were encoded by
 * `literal.ts`) with an `ALTER TABLE … DELETE` mutation, and resolves once the server reports
 * every mutation of the table done: 18.16 has no `mutations_sync`, so `system.mutations` is
 * polled. Rejects when it takes longer than a minute.
 *
 * @example
 * await deleteRows(connection, 'event_rows_v4', "tenant = 'acme'");
 */
export async function deleteRows(
  connection: ClickHouseConnection,
  table: string,
  where: string,
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a table name: ${table}`);
  await connection.command(`ALTER TABLE ${table} DELETE WHERE ${where}`);
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const [row] = await connection.rows(
      `SELECT count() AS pending FROM system.mutations
       WHERE database = currentDatabase() AND table = '${table}' AND is_done = 0`,
    );
    if (Number(row?.pending ?? 0) === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`ClickHouse mutation on ${table} did not finish within ${TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
