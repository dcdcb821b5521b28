import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDashboard, computeDashboards, previousRange } from '../../query/kpis';
import { resolveRange } from '../../query/time';
import { openStore } from '../../store/openStore';
import { type HttpCollector, ingest, startHttpCollector } from '../httpCollector';
import { generateEvents, toBatches } from '../synthetic/generator';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * The dashboard's KPIs on ClickHouse, where several periods are answered by one query: each
 * period answers as when asked alone, whatever the periods' lengths, zones and
 * overlaps, with raw duplicate rows stored (as when two collectors insert the same batch).
 */

const WRITE_KEY = 'wk_kpis_12345678';
const NOW = Date.UTC(2024, 3, 1, 12);
const DATABASE = 'kpis_test';
const SETTINGS = {
  signupEvent: 'signup_completed',
  paymentEvent: 'payment_completed',
  adSpendEvent: 'ad_spend',
  acquisitionSpend: undefined,
};
const RANGES = [
  resolveRange({ from: '2024-02-01', to: '2024-03-12' }, 400),
  previousRange(resolveRange({ from: '2024-02-01', to: '2024-03-12' }, 400)),
  resolveRange({ from: '2024-01-05', to: '2024-01-20', tz: 'Asia/Kolkata' }, 400),
  resolveRange({ from: '2024-02-20', to: '2024-03-01', tz: 'America/New_York' }, 400),
];

let server: ClickHouseTestServer;
let http: HttpCollector;

beforeAll(async () => {
  server = await startClickHouse();
  http = await startHttpCollector({
    store: await openStore(server.storeUrl(DATABASE)),
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: ['rk_kpis_12345678=acme'],
    now: () => NOW,
  });
  const events = generateEvents({ seed: 11, users: 120, days: 75, start: '2024-01-01' });
  for (const batch of toBatches(events, 500)) {
    await ingest(http.url, WRITE_KEY, batch as unknown as Array<Record<string, unknown>>);
  }
  // A third of the events a second time, not merged yet.
  await server.run(
    `INSERT INTO ${DATABASE}.event_rows_v4 SELECT * FROM ${DATABASE}.event_rows_v4 WHERE cityHash64(message_id) % 3 = 0`,
  );
}, 120_000);

afterAll(async () => {
  await http?.close();
  await server?.stop();
}, 60_000);

describe('ClickHouse dashboard KPIs', () => {
  it('answers periods asked together as each asked alone', async () => {
    const alone = [];
    for (const range of RANGES) {
      alone.push(await computeDashboard(http.store, 'acme', range, SETTINGS));
    }
    expect(alone[0]!.dau).toBeGreaterThan(0);
    expect(alone[0]!.revenue).toBeGreaterThan(0);
    expect(alone[0]!.signups).toBeGreaterThan(0);
    expect(await computeDashboards(http.store, 'acme', RANGES, SETTINGS)).toEqual(alone);
  });
});
