import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, sql } from '../../query/sql';
import { openStore } from '../../store/openStore';
import type { Store } from '../../store/store';
import { makeStoredEvent } from '../storedEvent';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/** Strings that break naive SQL quoting; each must come back as the same data. */
const HOSTILE = [
  "O'Brien",
  "'; DROP TABLE events; --",
  "\\'; DROP TABLE event_rows_v4; --",
  'back\\slash\\',
  'trailing backslash \\',
  'nul\u0000inside',
  'tab\tnew\nline\rcr\u0007bell\u007fdel',
  '$1 $2 ? :name {x:String}',
  '"double" `back`',
  'ünïcödé ✓ 日本語 😀',
  'x'.repeat(100_000),
];

let server: ClickHouseTestServer;
let store: Store;
/** The database's tables after migrations, before any hostile value arrives. */
let tablesBefore: string[];

const tableNames = async () =>
  (
    await server.run(
      "SELECT name FROM system.tables WHERE database = 'hostile' ORDER BY name FORMAT TSV",
    )
  )
    .trim()
    .split('\n');

beforeAll(async () => {
  server = await startClickHouse();
  store = await openStore(server.storeUrl('hostile'));
  tablesBefore = await tableNames();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await server?.stop();
}, 60_000);

describe('hostile strings through every ClickHouse store path', () => {
  it.each(HOSTILE.map((value, index) => [index, value] as const))(
    'round-trips hostile value #%i as data',
    async (_index, value) => {
      const tenant = `t-${value}`;
      const event = makeStoredEvent({
        tenant,
        messageId: value,
        event: value,
        userId: value,
        anonymousId: `anon-${value}`,
        properties: JSON.stringify({ value }),
      });
      // Ingest.
      const appended = await store.append([event, event]);
      expect(appended.stored.get(tenant)).toBe(1);
      expect(appended.duplicates.get(tenant)).toBe(1);
      // Dedupe lookup, counts, links.
      expect(await store.findMessageIds(tenant, [value])).toEqual(new Set([value]));
      expect(await store.countEvents(tenant)).toBe(1);
      expect(await store.identityLinks(tenant)).toEqual([
        { anonymousId: `anon-${value}`, userId: value },
      ]);
      // Bound query values (event-name filters, list filters, tenants).
      const rows = await store.query(
        render(sql`SELECT message_id, event, user_id, properties FROM events
          WHERE tenant = ${tenant} AND event = ${value} AND has(${[value, "'"]}, message_id)`),
      );
      expect(rows).toEqual([
        { message_id: value, event: value, user_id: value, properties: JSON.stringify({ value }) },
      ]);
      const [echo] = await store.query(render(sql`SELECT ${value} AS v, length(${value}) AS n`));
      expect(echo?.v).toBe(value);
      expect(echo?.n).toBe(Buffer.byteLength(value));
      // Erasure by hostile tenant and user id.
      expect(await store.eraseUser(tenant, value, value)).toEqual({ events: 1, identityLinks: 1 });
      expect(await store.countEvents(tenant)).toBe(0);
      // Nothing was dropped or rewritten by any of the above.
      expect(tablesBefore).toEqual(
        expect.arrayContaining(['event_rows_v4', 'events', 'identity_links', 'daily_usage']),
      );
      expect(await tableNames()).toEqual(tablesBefore);
    },
  );
});
