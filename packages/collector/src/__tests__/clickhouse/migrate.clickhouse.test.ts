import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHistory } from '../../migrate/migrateStore';
import { createDuckDbStore } from '../../store/duckdb/duckdbStore';
import { openStore } from '../../store/openStore';
import type { Store } from '../../store/store';
import { assertCliBuilt, killAll, spawnCli } from '../cliProcess';
import { ingest, startHttpCollector } from '../httpCollector';
import { type PostgresServer, startPostgres } from '../postgres/postgresServer';
import { generateEvents, toBatches } from '../synthetic/generator';
import { type ClickHouseTestServer, startClickHouse } from './clickhouseServer';

/**
 * `sightline-collector migrate` (the real CLI) from a DuckDB file to ClickHouse and to
 * PostgreSQL: every event, identity link, daily usage count (including days whose events were
 * pruned) and erasure audit row arrives, the metrics answer the same, and a second run adds nothing.
 */

const WRITE_KEY = 'wk_migrate_12345678';
const READ_KEY = 'rk_migrate_12345678';
const NOW = Date.UTC(2024, 2, 20, 12);
const EVENTS = generateEvents({ seed: 31, users: 80, days: 45, start: '2024-02-01' });
const PRUNED_BEFORE = Date.UTC(2024, 1, 8);

const children = new Set<ChildProcess>();
let dir: string;
let sourceUrl: string;
let clickhouse: ClickHouseTestServer;
let postgres: PostgresServer;
let sourceCount: number;

beforeAll(async () => {
  assertCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sightline-migrate-'));
  const file = join(dir, 'events.duckdb');
  sourceUrl = `duckdb:${file}`;
  const http = await startHttpCollector({
    store: await createDuckDbStore({ path: file }),
    writeKeys: [`${WRITE_KEY}=acme`, 'wk_migrate_other_1234=other'],
    readKeys: [`${READ_KEY}=acme`],
    now: () => NOW,
  });
  for (const batch of toBatches(EVENTS, 500)) {
    await ingest(http.url, WRITE_KEY, batch as unknown as Array<Record<string, unknown>>);
  }
  await ingest(http.url, 'wk_migrate_other_1234', [
    { type: 'track', event: 'other_tenant_event', userId: 'o-1', messageId: 'o-m-1' },
  ]);
  // History the events alone cannot rebuild: an erasure's audit row, and usage of pruned days.
  const someone = EVENTS.find((event) => event.userId !== undefined)!.userId!;
  await http.store.eraseUser('acme', someone, 'rk_test');
  await http.store.prune(PRUNED_BEFORE);
  sourceCount = (await http.store.countEvents('acme')) + (await http.store.countEvents('other'));
  await http.close();
  [clickhouse, postgres] = await Promise.all([startClickHouse(), startPostgres()]);
}, 180_000);

afterAll(async () => {
  await killAll(children);
  await clickhouse?.stop();
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function runMigrate(target: string) {
  const cli = spawnCli(
    dir,
    ['migrate', '--from', sourceUrl, '--to', target, '--batch-size', '700'],
    {},
    children,
  );
  const exit = await cli.closed;
  expect(exit, cli.stderr()).toEqual({ code: 0, signal: null });
  return { stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Every read a migrated store must answer as the source does. */
async function answers(store: Store): Promise<unknown[]> {
  const http = await startHttpCollector({
    store,
    writeKeys: [`${WRITE_KEY}=acme`],
    readKeys: [`${READ_KEY}=acme`],
    read: { cacheTtlMs: 0, maxRangeDays: 400 },
    now: () => NOW,
  });
  try {
    const requests: Array<[string, unknown?]> = [
      ['/v1/dashboard?from=2024-02-01&to=2024-03-16'],
      ['/v1/metrics?names=dau,revenue,new_users&from=2024-02-01&to=2024-03-16'],
      ['/v1/usage?from=2024-01-25&to=2024-03-20'],
      ['/v1/events?limit=50'],
      ['/v1/retention', { interval: 'week', periods: 4, from: '2024-02-05', to: '2024-03-03' }],
    ];
    const bodies: unknown[] = [];
    for (const [path, body] of requests) {
      const response = await fetch(`${http.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${READ_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      expect(response.status, path).toBe(200);
      const answer = (await response.json()) as Record<string, unknown>;
      // Cursors name each store's own arrival sequence; the events on the page must match.
      delete answer.nextCursor;
      bodies.push(answer);
    }
    return bodies;
  } finally {
    await http.close();
  }
}

function significant(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isInteger(value)) return Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(significant);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, significant(item)]));
  }
  return value;
}

describe.each([
  ['ClickHouse', () => clickhouse.storeUrl('migrated')],
  ['PostgreSQL', () => postgres.createDatabase('migrated')],
])('sightline-collector migrate from DuckDB to %s', (_name, targetUrl) => {
  let target: string;

  it('copies every event and the history, with a progress bar', async () => {
    target = await targetUrl();
    const { stdout, stderr } = await runMigrate(target);
    expect(stderr).toContain(`migrating ${sourceUrl} → ${target}`);
    expect(stderr).toMatch(/\[#{30}\] 100% {2}[\d,]+\/[\d,]+ events/);
    expect(stdout).toContain(
      `migrated ${sourceCount} events (${sourceCount} new, 0 already there)`,
    );
    const [source, copy] = await Promise.all([openStore(sourceUrl), openStore(target)]);
    try {
      expect(await copy.countEvents('acme')).toBe(await source.countEvents('acme'));
      expect(await copy.countEvents('other')).toBe(1);
      const history = await readHistory(source);
      expect(history.erasureAudit).toHaveLength(1);
      expect(history.dailyUsage.some((row) => row.day < '2024-02-08')).toBe(true);
      expect(await readHistory(copy)).toEqual(history);
    } finally {
      await Promise.all([source.close(), copy.close()]);
    }
  }, 180_000);

  it('answers the metrics as the source does', async () => {
    const expected = await answers(await openStore(sourceUrl));
    // Rows reach the target in another physical order, so sums of doubles may differ in the
    // last bit (3.3224242424242423 vs 3.322424242424242): compared to 12 significant digits.
    expect(significant(await answers(await openStore(target)))).toEqual(significant(expected));
  }, 120_000);

  it('adds nothing when run again', async () => {
    const { stdout } = await runMigrate(target);
    expect(stdout).toContain(
      `migrated ${sourceCount} events (0 new, ${sourceCount} already there)`,
    );
    const [source, copy] = await Promise.all([openStore(sourceUrl), openStore(target)]);
    try {
      expect(await readHistory(copy)).toEqual(await readHistory(source));
      expect(await copy.countEvents('acme')).toBe(await source.countEvents('acme'));
    } finally {
      await Promise.all([source.close(), copy.close()]);
    }
  }, 180_000);
});

describe('sightline-collector migrate with bad arguments', () => {
  it.each<{ args: string[]; says: string }>([
    { args: ['migrate', '--from', 'duckdb::memory:'], says: 'migrate needs --from' },
    {
      args: ['migrate', '--from', 'duckdb:a.duckdb', '--to', 'duckdb:a.duckdb'],
      says: '--from and --to name the same store',
    },
    {
      args: [
        'migrate',
        '--from',
        'duckdb::memory:',
        '--to',
        'duckdb:b.duckdb',
        '--batch-size',
        '0',
      ],
      says: '--batch-size',
    },
    {
      args: ['migrate', '--from', 'duckdb::memory:', '--into', 'x'],
      says: "Unknown option '--into'",
    },
    { args: ['migrate', '--from', 'duckdb::memory:', '--to', 'mysql://db/x'], says: 'store' },
  ])('exits 2 naming the problem for $args', async ({ args, says }) => {
    const cli = spawnCli(dir, args, {}, children);
    const exit = await cli.closed;
    expect(exit.code, cli.stderr()).toBe(2);
    expect(cli.stderr()).toContain(says);
  });
});
