import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPageRows } from '../../read/csvExport';
import { openStore } from '../../store/openStore';
import { type HttpCollector, readApi, readJson, startHttpCollector } from '../httpCollector';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * Event listing and CSV export on ClickHouse when `seq` repeats (several collectors writing one
 * database assign time-ordered seqs that may collide): both order by (seq, message id), newest
 * first, and page by that pair, so no event is repeated or skipped, also where a page boundary
 * falls inside a run of equal seqs.
 */

const READ_KEY = 'rk_paging_12345678';
const PAGE_ROWS = exportPageRows('clickhouse');
const ROWS = PAGE_ROWS + 50;
/** Seven events share each seq: the page boundary (50,000 = 7 × 7,142 + 6) splits a run. */
const RUN = 7;

let server: ClickHouseTestServer;
let http: HttpCollector;

/** The stored rows' message ids in (seq DESC, message_id DESC) order. */
const EXPECTED = Array.from({ length: ROWS }, (_, index) => ({
  id: `m-${index}`,
  seq: 1_000_000 + Math.floor(index / RUN),
}))
  .sort((a, b) => b.seq - a.seq || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  .map((row) => row.id);

beforeAll(async () => {
  server = await startClickHouse();
  const store = await openStore(server.storeUrl('paging'));
  http = await startHttpCollector({
    store,
    writeKeys: ['wk_paging_12345678=paging'],
    readKeys: [`${READ_KEY}=paging`],
    // Above the default cap (50,000), so an export spans two pages.
    read: { cacheTtlMs: 0, exportRowCap: 2 * PAGE_ROWS },
  });
  // Rows of another tenant share the same seqs: filtered out, they must not shift pages.
  for (const [tenant, prefix, count] of [
    ['paging', 'm-', ROWS],
    ['other', 'o-', 3 * RUN],
  ] as const) {
    await server.run(`INSERT INTO paging.event_rows_v4
      (tenant, day, message_id, type, event, "timestamp", received_at, anonymous_id,
       properties, traits, context, seq)
      SELECT '${tenant}', toDate('2024-02-01'), concat('${prefix}', toString(number)), 'track',
        'tick', toInt64(1706788800000 + number), toInt64(1706788800000),
        concat('anon-', toString(number % 13)), '{}', '{}', '{}',
        toInt64(1000000 + intDiv(number, ${RUN}))
      FROM system.numbers LIMIT ${count}`);
  }
}, 120_000);

afterAll(async () => {
  await http?.close();
  await server?.stop();
}, 60_000);

interface Page {
  events: Array<{ messageId: string }>;
  nextCursor: string | null;
}

async function pageThrough(limit: number, query = ''): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const suffix: string = cursor === null ? '' : `&cursor=${cursor}`;
    const page: Page = await readJson<Page>(
      http.url,
      `/v1/events?${query}limit=${limit}${suffix}`,
      READ_KEY,
    );
    seen.push(...page.events.map((event) => event.messageId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return seen;
}

/** The first cell (message id) of each CSV record after the header. */
async function exportedIds(query: string): Promise<{ ids: string[]; truncated: string | null }> {
  const response = await readApi(http.url, `/v1/export.csv${query}`, READ_KEY);
  expect(response.status).toBe(200);
  const records = (await response.text()).split('\r\n').slice(1, -1);
  return {
    ids: records.map((record) => record.slice(0, record.indexOf(','))),
    truncated: response.headers.get('x-sightline-truncated'),
  };
}

describe('ClickHouse paging when seq repeats', () => {
  it('lists every event once, by (seq, message id) newest first, through any page size', async () => {
    expect(await pageThrough(1_000)).toEqual(EXPECTED);
    // The first 300 rows (by time), in pages shorter than a run.
    const first = new Set(Array.from({ length: 300 }, (_, index) => `m-${index}`));
    const range = 'from=2024-02-01T12:00:00.000Z&to=2024-02-01T12:00:00.300Z&';
    expect(await pageThrough(RUN - 2, range)).toEqual(EXPECTED.filter((id) => first.has(id)));
  }, 60_000);

  it('exports every event once in the same order, across export pages', async () => {
    const { ids, truncated } = await exportedIds('');
    expect(ids).toHaveLength(ROWS);
    expect(ids).toEqual(EXPECTED);
    expect(truncated).toBe('false');
  });

  it('stops an export at its limit inside a run of equal seqs', async () => {
    const { ids, truncated } = await exportedIds(`?limit=${PAGE_ROWS + 3}`);
    expect(ids).toEqual(EXPECTED.slice(0, PAGE_ROWS + 3));
    expect(truncated).toBe('true');
  });
});
