import * as z from 'zod';
import { json } from '../http/errors';
import type { ResolvedCollectorOptions } from '../options';
import { render, type Sql, sql } from '../query/sql';
import type { Row, Store } from '../store/store';
import { EVENT_SELECT, toApiEvent } from './apiEvent';
import { EVENT_CSV_HEADER, eventCsvLine } from './csv';
import {
  decodeCursor,
  encodeCursor,
  eventFilter,
  eventFilterShape,
  eventRange,
  rejectUnknownParameters,
  wholeNumberParam,
} from './eventFilters';
import type { ReadRoute } from './readApi';
import { parseParams, type ReadContext } from './readContext';

/** Rows one store query of a CSV export fetches. */
const EXPORT_PAGE_ROWS = 2_000;
const LIST_MAX = 1_000;

const LIST_PARAMETERS = ['from', 'to', 'type', 'event', 'userId', 'limit', 'cursor'];
const listQuery = z.object({
  ...eventFilterShape,
  limit: wholeNumberParam(1, LIST_MAX, '').optional(),
  cursor: z.string().optional(),
});

/**
 * `GET /v1/events` (newest first, keyset-paginated) and `GET /v1/export.csv` (the same filters,
 * streamed as CSV up to `read.exportRowCap` rows).
 *
 * @example
 * createReadApi({ routes: [...eventRoutes(settings)], readKeys, store, cache, now });
 * // GET /v1/events?userId=u-1&limit=50 → { events: [...], nextCursor: 'djE6MTIz' }
 */
export function eventRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  const { maxRangeDays, exportRowCap } = settings.read;
  const exportQuery = z.object({
    ...eventFilterShape,
    limit: wholeNumberParam(1, exportRowCap, ' (read.exportRowCap caps exports)').optional(),
  });

  return [
    {
      method: 'GET',
      pattern: '/v1/events',
      async handle(context) {
        rejectUnknownParameters(context.url, LIST_PARAMETERS);
        const query = parseParams(listQuery, Object.fromEntries(context.url.searchParams));
        const limit = query.limit ?? 100;
        const where = eventFilter(context.caller.tenant, {
          ...query,
          ...eventRange(query, maxRangeDays),
        });
        const before =
          query.cursor === undefined ? sql`` : sql` AND events.seq < ${decodeCursor(query.cursor)}`;
        const rows = await context.store.query(
          render(sql`SELECT ${EVENT_SELECT} FROM events WHERE ${where}${before}
            ORDER BY events.seq DESC LIMIT ${limit + 1}`),
        );
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        const nextCursor = rows.length > limit && last ? encodeCursor(Number(last.seq)) : null;
        return json(
          200,
          { events: page.map(toApiEvent), nextCursor },
          { 'cache-control': 'no-store' },
        );
      },
    },
    {
      method: 'GET',
      pattern: '/v1/export.csv',
      async handle(context) {
        rejectUnknownParameters(context.url, ['from', 'to', 'type', 'event', 'userId', 'limit']);
        const query = parseParams(exportQuery, Object.fromEntries(context.url.searchParams));
        const limit = query.limit ?? exportRowCap;
        const where = eventFilter(context.caller.tenant, {
          ...query,
          ...eventRange(query, maxRangeDays),
        });
        return exportResponse(context, where, limit);
      },
    },
  ];
}

/**
 * The CSV response. A first, bounded query counts up to `limit + 1` matching rows and pins the
 * newest `seq`, so the truncation header is known before the body starts and events arriving
 * during the download are left out (the export is of the events stored when it began).
 */
async function exportResponse(context: ReadContext, where: Sql, limit: number): Promise<Response> {
  const [probe] = await context.store.query(
    render(sql`SELECT count(*) AS matched, max(seq) AS newest FROM (
      SELECT events.seq AS seq FROM events WHERE ${where} ORDER BY events.seq DESC LIMIT ${limit + 1})`),
  );
  const matched = Number(probe?.matched ?? 0);
  const newest = probe?.newest === null || probe?.newest === undefined ? 0 : Number(probe.newest);
  const day = new Date(context.now).toISOString().slice(0, 10);
  // An admin's ?tenant= is free text: keep the header's quoted filename well-formed.
  const tenant = context.caller.tenant.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response(csvStream(context.store, where, newest, Math.min(limit, matched)), {
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

/** The header record, then `rows` events of `where` with `seq` ≤ `newest`, newest first, in pages. */
function csvStream(
  store: Store,
  where: Sql,
  newest: number,
  rows: number,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let emitted = 0;
  let before = newest + 1;
  let span = EXPORT_PAGE_ROWS * 2;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(EVENT_CSV_HEADER));
          if (rows === 0) controller.close();
          return;
        }
        // Each page reads a window of seq values below the last row sent: rows are stored in seq
        // order, so DuckDB skips every row group outside the window by its min/max instead of
        // sorting the whole table for each page. A window with too few matching rows (other
        // tenants' rows, filters) is widened until it reaches seq 0.
        for (;;) {
          const size = Math.min(EXPORT_PAGE_ROWS, rows - emitted);
          const lowest = Math.max(0, before - span);
          const page: Row[] = await store.query(
            render(sql`SELECT ${EVENT_SELECT} FROM events WHERE ${where}
            AND events.seq < CAST(${before} AS BIGINT) AND events.seq >= CAST(${lowest} AS BIGINT)
            ORDER BY events.seq DESC LIMIT ${size}`),
          );
          const last = page[page.length - 1];
          if (last) {
            controller.enqueue(encoder.encode(page.map(eventCsvLine).join('')));
            emitted += page.length;
            before = Number(last.seq);
          }
          if (emitted >= rows || (page.length < size && lowest === 0)) {
            // Everything counted was sent, or nothing is left (some rows were erased or pruned
            // since the count).
            controller.close();
            return;
          }
          if (page.length < size) span *= 4;
          if (last) return;
        }
      },
      // One page of read-ahead: the next page is queried while the previous one is being sent,
      // so at most two pages are held however slow the client.
    },
    { highWaterMark: 1 },
  );
}
