import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialectOf } from '../query/dialect';
import { render, type Sql, sql } from '../query/sql';
import type { Store } from '../store/store';
import { EVENT_CSV_HEADER, eventCsvSelect } from './apiEvent';
import type { ReadContext } from './readContext';

/** Rows of one export page: one CSV file written by the store, then streamed and deleted. */
export const EXPORT_PAGE_ROWS = 10_000;
/** Bytes read from a page file per chunk sent. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The `GET /v1/export.csv` response: the header record, then up to `limit` events of `where`,
 * newest first. The rows the export holds are fixed when it begins: the newest `seq` is pinned
 * and the truncation header (`x-sightline-truncated`) is known before the body starts.
 *
 * The store writes the CSV itself (`Store.writeCsv`, DuckDB's `COPY … TO`), a page of
 * {@link EXPORT_PAGE_ROWS} rows at a time into a private temporary directory: no row becomes a
 * JavaScript object. Each page file is streamed, then deleted; the next page is written while
 * the previous one is being sent, so at most two are on disk however slow the client. The
 * directory is removed when the export ends, fails or the client goes away.
 */
export async function exportResponse(
  context: ReadContext,
  where: Sql,
  limit: number,
): Promise<Response> {
  const { store } = context;
  const [top] = await store.query(
    render(sql`SELECT max(events.seq) AS newest FROM events WHERE ${where}`),
  );
  const newest = top?.newest === null || top?.newest === undefined ? 0 : Number(top.newest);
  const matched = newest === 0 ? 0 : await countFrom(store, where, newest, limit);
  const day = new Date(context.now).toISOString().slice(0, 10);
  // An admin's ?tenant= is free text: keep the header's quoted filename well-formed.
  const tenant = context.caller.tenant.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response(csvStream(store, where, newest, Math.min(limit, matched)), {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="sightline-events-${tenant}-${day}.csv"`,
      'cache-control': 'no-store',
      'x-sightline-row-limit': String(limit),
      'x-sightline-truncated': String(matched > limit),
    },
  });
}

/**
 * How many rows of `where` have `seq` ≤ `newest`, counted exactly up to `limit + 1` (any answer
 * above `limit` means "more than the export holds"). Rows are stored in `seq` order, so a count
 * over a window of `seq` values lets DuckDB skip every row group outside it by its min/max; the
 * window widens (×4) until it holds more than `limit` rows or reaches the first row.
 */
async function countFrom(store: Store, where: Sql, newest: number, limit: number): Promise<number> {
  let span = (limit + 1) * 2;
  for (;;) {
    const lowest = Math.max(0, newest + 1 - span);
    const [row] = await store.query(
      render(sql`SELECT count(*) AS matched FROM events WHERE ${where}
        AND events.seq >= CAST(${lowest} AS BIGINT) AND events.seq <= CAST(${newest} AS BIGINT)`),
    );
    const matched = Number(row?.matched ?? 0);
    if (matched > limit || lowest === 0) return matched;
    span *= 4;
  }
}

interface PageFile {
  path: string;
  /** Rows in the page. */
  rows: number;
  /** The lowest `seq` in the page: the next page holds the rows below it. */
  lowest: number;
}

/** The header record, then `rows` events of `where` with `seq` ≤ `newest`, newest first. */
function csvStream(
  store: Store,
  where: Sql,
  newest: number,
  rows: number,
): ReadableStream<Uint8Array> {
  const select = eventCsvSelect(dialectOf(store.kind));
  let directory: Promise<string> | undefined;
  let pagesWritten = 0;
  let planned = 0;
  let before = newest + 1;
  let span = EXPORT_PAGE_ROWS * 2;

  /** Writes the next page below `before` into a file, or resolves undefined when none is left. */
  async function writePage(): Promise<PageFile | undefined> {
    const size = Math.min(EXPORT_PAGE_ROWS, rows - planned);
    if (size <= 0) return undefined;
    // Find the page's lowest seq in a window of seq values below the last page, widened until it
    // holds a whole page or reaches seq 0 (other tenants' rows, filters).
    let page: { rows: number; lowest: number };
    for (;;) {
      const lowest = Math.max(0, before - span);
      const [row] = await store.query(
        render(sql`SELECT count(*) AS rows, min(seq) AS lowest FROM (
          SELECT events.seq AS seq FROM events WHERE ${where}
            AND events.seq < CAST(${before} AS BIGINT) AND events.seq >= CAST(${lowest} AS BIGINT)
            ORDER BY events.seq DESC LIMIT ${size}) AS page`),
      );
      page = { rows: Number(row?.rows ?? 0), lowest: Number(row?.lowest ?? 0) };
      if (page.rows === size || lowest === 0) break;
      span *= 4;
    }
    if (page.rows === 0) return undefined;
    const highest = before;
    planned += page.rows;
    before = page.lowest;
    directory ??= mkdtemp(join(tmpdir(), 'sightline-export-'));
    const path = join(await directory, `page-${pagesWritten++}.csv`);
    await store.writeCsv(
      render(sql`SELECT ${select} FROM events WHERE ${where}
        AND events.seq < CAST(${highest} AS BIGINT) AND events.seq >= CAST(${page.lowest} AS BIGINT)
        ORDER BY events.seq DESC`),
      path,
    );
    return { path, rows: page.rows, lowest: page.lowest };
  }

  let headerSent = false;
  /** The page being sent, open. */
  let current: { file: FileHandle; path: string } | undefined;
  /** The page being written while `current` is sent (one page of read-ahead). */
  let next: Promise<PageFile | undefined> | undefined;
  let finished = false;

  async function cleanUp(): Promise<void> {
    finished = true;
    await current?.file.close().catch(() => {});
    current = undefined;
    // A page being written lands in the directory: wait for it before removing the directory.
    await next?.catch(() => {});
    next = undefined;
    if (directory) await rm(await directory, { recursive: true, force: true });
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (!headerSent) {
            headerSent = true;
            controller.enqueue(new TextEncoder().encode(EVENT_CSV_HEADER));
            if (rows === 0) {
              await cleanUp();
              controller.close();
            } else {
              next = handled(writePage());
            }
            return;
          }
          for (;;) {
            if (!current) {
              const page = await next;
              if (!page) {
                next = undefined;
                await cleanUp();
                controller.close();
                return;
              }
              current = { file: await open(page.path, 'r'), path: page.path };
              next = handled(writePage());
            }
            const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
            const { bytesRead } = await current.file.read(chunk, 0, CHUNK_BYTES, null);
            if (bytesRead > 0) {
              controller.enqueue(chunk.subarray(0, bytesRead));
              return;
            }
            await current.file.close();
            await rm(current.path, { force: true });
            current = undefined;
          }
        } catch (error) {
          if (!finished) await cleanUp().catch(() => {});
          throw error;
        }
      },
      async cancel() {
        await cleanUp();
      },
    },
    // One chunk buffered ahead of the client.
    { highWaterMark: 1 },
  );
}

/**
 * `promise`, marked as handled: a read-ahead page that fails while no pull awaits it must not be
 * an unhandled rejection (which ends the process); the next pull awaits it and reports it.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
