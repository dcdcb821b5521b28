import * as z from 'zod';
import { json } from '../http/errors';
import type { ResolvedCollectorOptions } from '../options';
import { dialectOf } from '../query/dialect';
import { sql } from '../query/sql';
import { eventSelect, toApiEvent } from './apiEvent';
import { exportResponse } from './csvExport';
import {
  after,
  decodeCursor,
  encodeCursor,
  eventFilter,
  eventFilterShape,
  eventRange,
  rejectUnknownParameters,
  wholeNumberParam,
} from './eventFilters';
import type { ReadRoute } from './readApi';
import { parseParams } from './readContext';
import { newestEvents } from './seqWindow';

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
 * // GET /v1/events?userId=u-1&limit=50 → { events: [...], nextCursor: 'djI6MTIzOm0tNDI' }
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
        const dialect = dialectOf(context.store.kind);
        const span = eventRange(query, maxRangeDays);
        const where = eventFilter(dialect, context.caller.tenant, { ...query, ...span });
        const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        const rows = await newestEvents(context.store, context.caller.tenant, {
          select: eventSelect(dialect),
          where: cursor ? sql`${where} AND ${after(cursor)}` : where,
          count: limit + 1,
          atMost: cursor?.seq,
          span,
        });
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        const nextCursor =
          rows.length > limit && last
            ? encodeCursor({ seq: Number(last.seq), messageId: String(last.messageId) })
            : null;
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
        const span = eventRange(query, maxRangeDays);
        const where = eventFilter(dialectOf(context.store.kind), context.caller.tenant, {
          ...query,
          ...span,
        });
        return exportResponse(context, where, limit, span);
      },
    },
  ];
}
