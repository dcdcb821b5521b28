import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialectOf } from '../query/dialect';
import { render, type Sql, sql } from '../query/sql';
import type { Store } from '../store/store';
import { EVENT_CSV_HEADER, eventCsvSelect } from './apiEvent';
import { after } from './eventFilters';
import type { ReadContext } from './readContext';
import { bigint, eventsBySeq, type SeqBounds, seqBounds, type TimeSpan } from './seqWindow';

/**
 * Rows of one export page: one CSV file written by the store, then streamed and deleted.
 * ClickHouse pages are larger: its rows are sorted by (tenant, day, message_id), so any page of
 * a day's events reads every granule of that day, and a run of pages would read the same days
 * again for each page (5 pages of 10,000 rows of one 10M-event export each read the newest day's
 * 141,525 rows). One page of 50,000 rows (about 30 MB of CSV) reads them once.
 */
export function exportPageRows(kind: Store['kind']): number {
  return kind === 'clickhouse' ? 50_000 : 10_000;
}
/** Bytes read from a page file per chunk sent. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The `GET /v1/export.csv` response: the header record, then up to `limit` events of `where`,
 * newest first (`seq DESC, message_id DESC`, as `GET /v1/events` lists them). The rows the export
 * holds are fixed when it begins: the newest `seq` is pinned and the truncation header
 * (`x-sightline-truncated`) is known before the body starts.
 *
 * The store writes the CSV itself (`Store.writeCsv`, DuckDB's `COPY … TO`), a page of
 * {@link exportPageRows} rows at a time into a private temporary directory: no row becomes a
 * JavaScript object. Each page file is streamed, then deleted; the next page is written while
 * the previous one is being sent, so at most two are on disk however slow the client. The
 * directory is removed when the export ends, fails or the client goes away. `span` is the
 * filter's time range: ClickHouse sizes its seq windows by the events in it (`seqWindow.ts`).
 */
export async function exportResponse(
  context: ReadContext,
  where: Sql,
  limit: number,
  span: TimeSpan = {},
): Promise<Response> {
  const { store } = context;
  const { tenant } = context.caller;
  const seqs = await seqBounds(store, tenant, where, { span });
  const scope = { store, tenant, time: span };
  const pinned = seqs ? sql`${where} AND events.seq <= ${bigint(seqs.newest)}` : where;
  const files = pageFiles(store);
  // An export of one page: the page is written while its rows are counted, over the window the
  // count tries first, and kept when the count settles on that window (the usual case: it is
  // sized to hold twice the rows). At 10M events on ClickHouse the count takes about 0.35 s of a
  // 2.3 s export.
  const firstLowest = seqs ? countWindowLowest(seqs, limit) : 0;
  const early =
    seqs && limit <= exportPageRows(store.kind)
      ? handled(files.write(onePage(scope, pinned, seqs.newest, firstLowest, limit), limit))
      : undefined;
  let counted: { matched: number; lowest: number };
  try {
    counted = seqs ? await countFrom(scope, where, seqs, limit) : { matched: 0, lowest: 0 };
  } catch (error) {
    await files.remove(early);
    throw error;
  }
  const rows = Math.min(limit, counted.matched);
  let firstPage: Promise<PageFile> | undefined;
  if (early && rows > 0 && counted.lowest === firstLowest) {
    firstPage = handled(early.then((page) => ({ ...page, rows })));
  } else {
    await files.remove(early);
  }
  const day = new Date(context.now).toISOString().slice(0, 10);
  // An admin's ?tenant= is free text: keep the header's quoted filename well-formed.
  const filename = tenant.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response(
    csvStream(scope, pinned, seqs ?? { newest: 0, oldest: 0, perEvent: 1 }, {
      rows,
      counted: counted.lowest,
      files,
      firstPage,
    }),
    {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="sightline-events-${filename}-${day}.csv"`,
        'cache-control': 'no-store',
        'x-sightline-row-limit': String(limit),
        'x-sightline-truncated': String(counted.matched > limit),
      },
    },
  );
}

/** The lowest seq of the first window {@link countFrom} counts in: about twice `limit` rows. */
function countWindowLowest(seqs: SeqBounds, limit: number): number {
  return Math.max(seqs.oldest, seqs.newest + 1 - Math.ceil((limit + 1) * 2 * seqs.perEvent));
}

/**
 * The statement of an export that is one page: the first `size` rows of `where` (pinned to
 * `newest` already) in the window of seq values from `lowest`, newest first.
 */
function onePage(
  { store, tenant, time }: ExportScope,
  where: Sql,
  newest: number,
  lowest: number,
  size: number,
): Sql {
  const source = eventsBySeq(store, tenant, lowest, newest, time, true);
  return sql`SELECT ${eventCsvSelect(dialectOf(store.kind))} FROM ${source}
    WHERE ${where} AND events.seq >= ${bigint(lowest)} ${NEWEST_FIRST} LIMIT ${size}`;
}

/** The export's order, as `GET /v1/events` lists events. */
const NEWEST_FIRST = sql`ORDER BY events.seq DESC, events.message_id DESC`;

/**
 * How many rows of `where` have `seq` ≤ `newest`, counted exactly up to `limit + 1` (any answer
 * above `limit` means "more than the export holds"), and the window they were counted in: its
 * lowest seq. Rows are stored in `seq` order, so a count over a window of `seq` values lets
 * DuckDB skip every row group outside it by its min/max (and ClickHouse read only the window's
 * rows, see `eventsBySeq`); the window widens (×4) until it holds more than `limit` rows or
 * reaches the oldest row. So it holds the export's rows: the newest `min(limit, matched)`.
 */
async function countFrom(
  { store, tenant, time }: ExportScope,
  where: Sql,
  seqs: SeqBounds,
  limit: number,
): Promise<{ matched: number; lowest: number }> {
  let lowest = countWindowLowest(seqs, limit);
  let span = seqs.newest + 1 - lowest;
  for (;;) {
    const [row] = await store.query(
      render(sql`SELECT count(*) AS matched FROM ${eventsBySeq(store, tenant, lowest, seqs.newest, time)}
        WHERE ${where} AND events.seq >= ${bigint(lowest)} AND events.seq <= ${bigint(seqs.newest)}`),
    );
    const matched = Number(row?.matched ?? 0);
    if (matched > limit || lowest === seqs.oldest) return { matched, lowest };
    span *= 4;
    lowest = Math.max(seqs.oldest, seqs.newest + 1 - span);
  }
}

/** What the export reads: the store, the caller's tenant and the filter's time range. */
interface ExportScope {
  store: Store;
  tenant: string;
  time: TimeSpan;
}

interface PageFile {
  path: string;
  /** Rows in the page. */
  rows: number;
}

/** An export's page files, in a private temporary directory made at the first write. */
interface PageFiles {
  /** Has the store write the rows of `statement` (`rows` of them) into the next page file. */
  write(statement: Sql, rows: number): Promise<PageFile>;
  /** Removes the directory, once `writing` (a page being written into it) has ended. */
  remove(writing?: Promise<unknown>): Promise<void>;
}

function pageFiles(store: Store): PageFiles {
  let directory: Promise<string> | undefined;
  let written = 0;
  return {
    async write(statement, rows) {
      directory ??= mkdtemp(join(tmpdir(), 'sightline-export-'));
      const path = join(await directory, `page-${written++}.csv`);
      await store.writeCsv(render(statement), path);
      return { path, rows };
    },
    async remove(writing) {
      await writing?.catch(() => {});
      const made = directory;
      directory = undefined;
      if (made) await rm(await made, { recursive: true, force: true });
    },
  };
}

/** What {@link csvStream} sends, beyond the rows' filter. */
interface StreamPlan {
  /** Rows to send. */
  rows: number;
  /** The lowest seq of the window the rows were counted in (holds them all). */
  counted: number;
  files: PageFiles;
  /** The export's only page, already being written (`exportResponse`). */
  firstPage?: Promise<PageFile>;
}

/**
 * The header record, then `rows` events of `where` (already pinned to the export's newest seq),
 * newest first. Pages are bounded by positions (seq, message id) in that order, so a seq shared
 * by several events (collectors writing one store) never splits or repeats them. An export of
 * one page is the first `rows` rows of the window `countFrom` counted in (seq ≥ `counted`), with
 * no query for its last row.
 */
function csvStream(
  scope: ExportScope,
  where: Sql,
  seqs: SeqBounds,
  { rows, counted, files, firstPage }: StreamPlan,
): ReadableStream<Uint8Array> {
  const { store, tenant, time } = scope;
  const select = eventCsvSelect(dialectOf(store.kind));
  let planned = 0;
  /** The last row of the previous page: the next page holds the rows after it. */
  let before: { seq: number; messageId: string } | undefined;
  /** Whether the last page written held every row that was left. */
  let exhausted = false;
  const perPage = exportPageRows(store.kind);
  let span = Math.ceil(perPage * 2 * seqs.perEvent);

  /** Writes the next page into a file, or resolves undefined when none is left. */
  async function writePage(): Promise<PageFile | undefined> {
    const size = Math.min(perPage, rows - planned);
    if (size <= 0 || exhausted) return undefined;
    if (size === rows) {
      exhausted = true;
      planned = size;
      return firstPage ?? files.write(onePage(scope, where, seqs.newest, counted, size), size);
    }
    const rest = before ? sql`${where} AND ${after(before)}` : where;
    // The page's last row: the size-th row after `before`, looked for in a window of seq values
    // below it, widened until it holds one or reaches the oldest row (other tenants' rows and
    // filters make the window's rows sparse). None: the page is everything that is left.
    let last: { seq: number; messageId: string } | undefined;
    const highest = before?.seq ?? seqs.newest;
    for (;;) {
      const lowest = Math.max(seqs.oldest, highest - span);
      const [row] = await store.query(
        render(sql`SELECT events.seq AS seq, events.message_id AS "messageId"
          FROM ${eventsBySeq(store, tenant, lowest, highest, time)}
          WHERE ${rest} AND events.seq >= ${bigint(lowest)}
          ${NEWEST_FIRST} LIMIT 1 OFFSET ${size - 1}`),
      );
      if (row) {
        last = { seq: Number(row.seq), messageId: String(row.messageId) };
        break;
      }
      if (lowest === seqs.oldest) break;
      span *= 4;
    }
    // `rest` holds seq ≤ highest already (the pinned newest, or the cursor's condition).
    const pageLowest = last?.seq ?? seqs.oldest;
    const source = eventsBySeq(store, tenant, pageLowest, highest, time);
    const bounded = last
      ? sql`${rest} AND events.seq >= ${bigint(last.seq)} AND NOT ${after(last)}`
      : sql`${rest} AND events.seq >= ${bigint(pageLowest)}`;
    const pageRows = last
      ? size
      : Number(
          (
            await store.query(render(sql`SELECT count(*) AS rows FROM ${source} WHERE ${bounded}`))
          )[0]?.rows ?? 0,
        );
    if (pageRows === 0) return undefined;
    planned += pageRows;
    before = last;
    exhausted = last === undefined;
    const page = eventsBySeq(store, tenant, pageLowest, highest, time, true);
    return files.write(
      sql`SELECT ${select} FROM ${page} WHERE ${bounded} ${NEWEST_FIRST}`,
      pageRows,
    );
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
    const writing = Promise.all([next, firstPage]);
    next = undefined;
    await files.remove(writing);
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
