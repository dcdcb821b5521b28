import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { usesActivityHours } from '../query/activity';
import { computeAttribution } from '../query/attribution';
import { computeDashboard } from '../query/kpis';
import { computeRetention } from '../query/retention';
import { computeSeries, SERIES_NAMES } from '../query/series';
import { resolveRange } from '../query/time';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import { migrations } from '../store/duckdb/migrations';
import type { Store, StoredEvent } from '../store/store';
import { generatedStoredEvents, makeStoredEvent } from './storedEvent';
import { wrapStore } from './wrapStore';

/**
 * The DuckDB store's `activity_hours` rollup: kept equal to a rollup computed afresh from `events`
 * through appends (fast and slow path, duplicates), erasure and retention; and the metrics read
 * from it equal the same metrics read from the events.
 */

const TENANT = 'acme';
const SETTINGS = {
  signupEvent: 'signup_completed',
  paymentEvent: 'payment_completed',
  adSpendEvent: 'ad_spend',
  acquisitionSpend: undefined,
};

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function openStore(): Promise<Store> {
  const store = await createDuckDbStore({ path: ':memory:' });
  stores.push(store);
  return store;
}

/** Generated events as the collector stores them (normalised, tenant `acme`). */
function storedEvents(seed: number, users: number): StoredEvent[] {
  return generatedStoredEvents(seed, users, TENANT);
}

/**
 * The rollup computed here from `events`, independently of the store's statements, and the
 * store's table, both as sorted JSON lines.
 */
async function rollups(
  store: Store,
  names = {
    signup: SETTINGS.signupEvent,
    payment: SETTINGS.paymentEvent,
    adSpend: SETTINGS.adSpendEvent,
  },
): Promise<{ fresh: string[]; kept: string[] }> {
  const columns = `tenant, epoch_ms(hour) AS hour, user_id, anonymous_id, session_id, events,
    revenue_count, CAST(revenue_micros AS VARCHAR) AS revenue_micros, revenue_large,
    epoch_ms(first_touch_at) AS first_touch_at, first_touch, epoch_ms(last_touch_at) AS last_touch_at,
    last_touch, epoch_ms(signup_first_at) AS signup_first_at, payments,
    epoch_ms(payment_first_at) AS payment_first_at, epoch_ms(payment_last_at) AS payment_last_at,
    ad_spend_count, CAST(ad_spend_micros AS VARCHAR) AS ad_spend_micros, ad_spend_large`;
  const fresh = await store.query({
    text: `WITH keyed AS (
        SELECT tenant, time_bucket(INTERVAL 1 HOUR, "timestamp") AS hour,
          ifnull(user_id, '') AS user_id, ifnull(anonymous_id, '') AS anonymous_id,
          ifnull(session_id, '') AS session_id,
          CASE WHEN type = 'track' THEN revenue END AS amount,
          "timestamp" AS event_at,
          event IS NOT DISTINCT FROM $1 AS signup, event IS NOT DISTINCT FROM $2 AS payment,
          CASE WHEN type = 'track' AND event = $3 THEN (CASE
            WHEN json_type(properties -> '$.amount') IN ('BIGINT', 'UBIGINT', 'DOUBLE')
              THEN CAST(properties -> '$.amount' AS DOUBLE)
            WHEN json_type(properties -> '$.amount') = 'VARCHAR'
              AND regexp_full_match(trim(properties ->> '$.amount'), '-?[0-9]+([.][0-9]+)?')
              THEN CAST(trim(properties ->> '$.amount') AS DOUBLE)
          END) END AS spend,
          (utm_source IS NOT NULL OR referrer_domain IS NOT NULL) AS touched,
          {'utm_source': utm_source, 'utm_medium': utm_medium, 'utm_campaign': utm_campaign,
           'referrer_domain': referrer_domain} AS channel
        FROM events
      ),
      grouped AS (
        SELECT tenant, hour, user_id, anonymous_id, session_id, count(*) AS events,
          count(amount) AS revenue_count,
          CAST(ifnull(sum(floor(amount * 1000000 + 0.5)) FILTER (WHERE abs(amount) < 1e9), 0) AS HUGEINT) AS revenue_micros,
          ifnull(sum(amount) FILTER (WHERE abs(amount) >= 1e9), 0) AS revenue_large,
          min(event_at) FILTER (WHERE touched) AS first_touch_at,
          arg_min(channel, event_at) FILTER (WHERE touched) AS first_touch,
          max(event_at) FILTER (WHERE touched) AS last_touch_at,
          arg_max(channel, event_at) FILTER (WHERE touched) AS last_touch,
          min(event_at) FILTER (WHERE signup) AS signup_first_at,
          count(*) FILTER (WHERE payment) AS payments,
          min(event_at) FILTER (WHERE payment) AS payment_first_at,
          max(event_at) FILTER (WHERE payment) AS payment_last_at,
          count(spend) AS ad_spend_count,
          CAST(ifnull(sum(floor(spend * 1000000 + 0.5)) FILTER (WHERE abs(spend) < 1e9), 0) AS HUGEINT) AS ad_spend_micros,
          ifnull(sum(spend) FILTER (WHERE abs(spend) >= 1e9), 0) AS ad_spend_large
        FROM keyed GROUP BY tenant, hour, user_id, anonymous_id, session_id
      )
      SELECT ${columns} FROM grouped ORDER BY ALL`,
    values: [names.signup, names.payment, names.adSpend],
  });
  const kept = await store.query({
    text: `SELECT ${columns} FROM activity_hours ORDER BY ALL`,
    values: [],
  });
  const lines = (rows: Array<Record<string, unknown>>) => rows.map((row) => JSON.stringify(row));
  return { fresh: lines(fresh), kept: lines(kept) };
}

/**
 * `identity_firsts` computed here from `events` (each pair's first hour and first touch) and the
 * store's table, both as sorted JSON lines.
 */
async function firsts(store: Store): Promise<{ fresh: string[]; kept: string[] }> {
  const columns = `tenant, user_id, anonymous_id, epoch_ms(first_hour) AS first_hour,
    epoch_ms(first_touch_at) AS first_touch_at, first_touch`;
  const fresh = await store.query({
    text: `WITH keyed AS (
        SELECT tenant, ifnull(user_id, '') AS user_id, ifnull(anonymous_id, '') AS anonymous_id,
          "timestamp" AS event_at,
          (utm_source IS NOT NULL OR referrer_domain IS NOT NULL) AS touched,
          {'utm_source': utm_source, 'utm_medium': utm_medium, 'utm_campaign': utm_campaign,
           'referrer_domain': referrer_domain} AS channel
        FROM events
      ),
      grouped AS (
        SELECT tenant, user_id, anonymous_id,
          time_bucket(INTERVAL 1 HOUR, min(event_at)) AS first_hour,
          min(event_at) FILTER (WHERE touched) AS first_touch_at,
          arg_min(channel, event_at) FILTER (WHERE touched) AS first_touch
        FROM keyed GROUP BY tenant, user_id, anonymous_id
      )
      SELECT ${columns} FROM grouped ORDER BY ALL`,
    values: [],
  });
  const kept = await store.query({
    text: `SELECT ${columns} FROM identity_firsts ORDER BY ALL`,
    values: [],
  });
  const lines = (rows: Array<Record<string, unknown>>) => rows.map((row) => JSON.stringify(row));
  return { fresh: lines(fresh), kept: lines(kept) };
}

/** Checks `activity_hours` and `identity_firsts` against the events; resolves with the rollup's rows. */
async function expectRollupInStep(
  store: Store,
  names?: { signup: string; payment: string; adSpend: string },
): Promise<number> {
  const { fresh, kept } = await rollups(store, names);
  expect(kept).toEqual(fresh);
  const pairs = await firsts(store);
  expect(pairs.kept).toEqual(pairs.fresh);
  expect(pairs.kept.length).toBeGreaterThan(0);
  return kept.length;
}

describe('activity_hours', () => {
  it('stays equal to a rollup of the events through appends, duplicates, erasure and retention', async () => {
    const store = await openStore();
    const events = storedEvents(7, 120);
    // Revenue below and above 1e9 in size, and two events of one hour sent in separate batches:
    // the second batch's row merges into the first's.
    const extra = [
      makeStoredEvent({
        tenant: TENANT,
        anonymousId: 'rich',
        sessionId: 's-rich',
        timestamp: Date.UTC(2024, 2, 10, 12, 5),
        event: SETTINGS.paymentEvent,
        revenue: 2.5e9,
        utmSource: 'late',
      }),
      makeStoredEvent({
        tenant: TENANT,
        anonymousId: 'rich',
        sessionId: 's-rich',
        timestamp: Date.UTC(2024, 2, 10, 12, 1),
        event: SETTINGS.paymentEvent,
        revenue: 0.1,
        referrerDomain: 'early.example',
      }),
    ];
    for (let at = 0; at < events.length; at += 300) await store.append(events.slice(at, at + 300));
    await store.append([extra[0]!]);
    await store.append([extra[1]!]);
    // Ad spend amounts as the query reads them: numbers, decimal strings with spaces around,
    // and values it does not count (exponents, words, booleans, objects, tabs, a page event).
    const amounts: unknown[] = [
      12.5,
      '7',
      ' 3.25 ',
      '1e3',
      'abc',
      true,
      null,
      { n: 1 },
      -4,
      '\t8',
      1e20,
      2e9,
      '0.1',
      '-0.50',
      '',
      '12.',
      '.5',
      2.675,
    ];
    await store.append(
      amounts.map((amount, index) =>
        makeStoredEvent({
          tenant: TENANT,
          userId: 'marketing',
          sessionId: 's-spend',
          type: index === 3 ? 'page' : 'track',
          event: SETTINGS.adSpendEvent,
          timestamp: Date.UTC(2024, 2, 12, 9, index),
          properties: JSON.stringify({ amount }),
        }),
      ),
    );
    const [spend] = await store.query({
      text: `SELECT ad_spend_count AS count, CAST(ad_spend_micros AS VARCHAR) AS micros,
          ad_spend_large AS large FROM activity_hours WHERE user_id = 'marketing'`,
      values: [],
    });
    // 12.5, '7', ' 3.25 ', -4, 1e20, 2e9, '0.1', '-0.50', 2.675 ('1e3' is on a page event).
    expect(spend).toEqual({ count: 9, micros: '21025000', large: 1e20 + 2e9 });
    const rows = await expectRollupInStep(store);
    expect(rows).toBeGreaterThan(100);
    const [merged] = await store.query({
      text: `SELECT events, revenue_count, CAST(revenue_micros AS VARCHAR) AS micros, revenue_large,
          first_touch.referrer_domain AS first, last_touch.utm_source AS last, payments,
          epoch_ms(payment_first_at) AS first_paid, epoch_ms(payment_last_at) AS last_paid
        FROM activity_hours WHERE anonymous_id = 'rich'`,
      values: [],
    });
    // The pair's firsts: its first hour, and the earlier touch of the two batches.
    const [rich] = await store.query({
      text: `SELECT epoch_ms(first_hour) AS hour, epoch_ms(first_touch_at) AS at,
          first_touch.referrer_domain AS referrer FROM identity_firsts WHERE anonymous_id = 'rich'`,
      values: [],
    });
    expect(rich).toEqual({
      hour: Date.UTC(2024, 2, 10, 12),
      at: Date.UTC(2024, 2, 10, 12, 1),
      referrer: 'early.example',
    });
    expect(merged).toEqual({
      events: 2,
      revenue_count: 2,
      micros: '100000',
      revenue_large: 2.5e9,
      first: 'early.example',
      last: 'late',
      payments: 2,
      first_paid: Date.UTC(2024, 2, 10, 12, 1),
      last_paid: Date.UTC(2024, 2, 10, 12, 5),
    });

    // Retried batches: the writer remembers them (counted as duplicates), then, after it forgot
    // (an erasure of nobody), they take the slow path; neither adds to the rollup.
    expect((await store.append(events.slice(0, 50))).duplicates.get(TENANT)).toBe(50);
    await store.eraseUser(TENANT, 'nobody', 'test');
    const retried = await store.append([
      ...events.slice(50, 80),
      makeStoredEvent({ tenant: TENANT }),
    ]);
    expect(retried.stored.get(TENANT)).toBe(1);
    await expectRollupInStep(store);

    // Erasure of a user with anonymous history and linked ids.
    const [subject] = await store.query({
      text: `SELECT user_id FROM identity_links WHERE tenant = 'acme' ORDER BY user_id LIMIT 1`,
      values: [],
    });
    const erased = await store.eraseUser(TENANT, String(subject!.user_id), 'test');
    expect(erased.events).toBeGreaterThan(0);
    await expectRollupInStep(store);

    // Retention with a cutoff inside an hour: its earlier events go, the one at the cutoff stays.
    const [hour] = await store.query({
      text: `SELECT epoch_ms(max("timestamp")) AS cutoff FROM events
        GROUP BY date_trunc('hour', "timestamp") HAVING min("timestamp") < max("timestamp")
        ORDER BY 1 OFFSET 5 LIMIT 1`,
      values: [],
    });
    const before = await store.countEvents(TENANT);
    const pruned = await store.prune(Number(hour!.cutoff));
    expect(pruned.events).toBeGreaterThan(0);
    expect(await store.countEvents(TENANT)).toBe(before - pruned.events);
    await expectRollupInStep(store);
  });

  it('is built from the stored events when a database at schema version 2, 3 or 4 is migrated', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sightline-activity-'));
    const path = join(directory, 'events.duckdb');
    const rewind = async (statements: string) => {
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      await connection.run(statements);
      connection.closeSync();
      instance.closeSync();
    };
    try {
      const first = await createDuckDbStore({ path });
      await first.append(storedEvents(3, 40));
      await first.close();
      // Back to schema version 2: no rollup, as a database written before it existed.
      await rewind(
        'DROP TABLE activity_hours; DROP TABLE activity_events; DROP TABLE identity_firsts; DELETE FROM schema_migrations WHERE version >= 3',
      );
      const fromTwo = await createDuckDbStore({ path });
      expect(await expectRollupInStep(fromTwo)).toBeGreaterThan(10);
      await fromTwo.close();
      // Version 3: the rollup without signup and payment times, filled.
      const three = migrations.find((migration) => migration.version === 3)!;
      await rewind(
        `DROP TABLE activity_hours; DROP TABLE activity_events; DROP TABLE identity_firsts;
        DELETE FROM schema_migrations WHERE version >= 4;
        ${three.sql}
        INSERT INTO activity_hours (tenant, hour, user_id, anonymous_id, session_id, events,
          revenue_count, revenue_micros, revenue_large)
        SELECT tenant, date_trunc('hour', "timestamp"), coalesce(user_id, ''), coalesce(anonymous_id, ''),
          coalesce(session_id, ''), count(*), 0, 0, 0 FROM events GROUP BY ALL`,
      );
      const fromThree = await createDuckDbStore({ path });
      expect(await expectRollupInStep(fromThree)).toBeGreaterThan(10);
      await fromThree.append(storedEvents(4, 20));
      await fromThree.close();
      // Version 4: the rollup as it is now, without identity_firsts; version 5 fills it from it.
      await rewind('DROP TABLE identity_firsts; DELETE FROM schema_migrations WHERE version = 5');
      const fromFour = await createDuckDbStore({ path });
      stores.push(fromFour);
      expect(await expectRollupInStep(fromFour)).toBeGreaterThan(10);
    } finally {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('is rebuilt for other signup and payment event names, and kept when none are given', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sightline-activity-'));
    const path = join(directory, 'events.duckdb');
    const renamed = { signup: 'project_created', payment: 'signup_completed', adSpend: 'Docs' };
    try {
      const first = await createDuckDbStore({ path });
      await first.append(storedEvents(5, 60));
      expect(first.activityEvents).toEqual({
        signup: SETTINGS.signupEvent,
        payment: SETTINGS.paymentEvent,
        adSpend: SETTINGS.adSpendEvent,
      });
      await first.close();
      const second = await createDuckDbStore({ path, activityEvents: renamed });
      expect(second.activityEvents).toEqual(renamed);
      await expectRollupInStep(second, renamed);
      // Appends and retention keep the new names' columns.
      await second.append(
        storedEvents(6, 20).map((row) => ({ ...row, messageId: `again-${row.messageId}` })),
      );
      await second.prune(Date.UTC(2024, 2, 3, 10, 30));
      await expectRollupInStep(second, renamed);
      const [held] = await second.query({
        text: 'SELECT sum(payments) AS payments FROM activity_hours',
        values: [],
      });
      expect(Number(held!.payments)).toBeGreaterThan(0);
      await second.close();
      // Opened without names (a CLI command): the rollup keeps the names it holds.
      const third = await createDuckDbStore({ path });
      stores.push(third);
      expect(third.activityEvents).toEqual(renamed);
      await expectRollupInStep(third, renamed);
    } finally {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('usesActivityHours', () => {
  const duckdb = { activityHours: true } as Store;
  const range = (from: string, to: string, tz: string) => resolveRange({ from, to, tz }, 400);

  it('takes ranges of whole days in zones whose offsets are whole hours, daylight saving included', () => {
    for (const tz of ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney']) {
      const r = range('2024-03-01', '2024-04-30', tz);
      expect(usesActivityHours(duckdb, tz, r, [r.startMs, r.endMs]), tz).toBe(true);
    }
  });

  it('refuses half-hour zones, instants within an hour and stores without the rollup', () => {
    for (const tz of ['Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide']) {
      const r = range('2024-03-01', '2024-04-30', tz);
      expect(usesActivityHours(duckdb, tz, r, [r.startMs]), tz).toBe(false);
    }
    // Lord Howe shifts by 30 minutes for daylight saving: a whole-hour start, a half-hour change.
    const howe = range('2024-03-01', '2024-04-30', 'Australia/Lord_Howe');
    expect(usesActivityHours(duckdb, 'Australia/Lord_Howe', howe, [])).toBe(false);
    const within = range('2024-03-01T10:30:00Z', '2024-03-05', 'UTC');
    expect(usesActivityHours(duckdb, 'UTC', within, [])).toBe(false);
    const whole = range('2024-03-01', '2024-03-05', 'UTC');
    expect(usesActivityHours(duckdb, 'UTC', whole, [whole.startMs + 60_000])).toBe(false);
    expect(usesActivityHours({ kind: 'duckdb' } as Store, 'UTC', whole, [])).toBe(false);
  });
});

describe('metrics from activity_hours', () => {
  it('equal the same metrics from the events, in UTC and across daylight saving', async () => {
    const store = await openStore();
    await store.append(storedEvents(11, 250));
    // Within one hour: a payment, the signup, a second payment. Converted (a payment at or after
    // the signup), which the hour's first payment time alone would miss.
    const at = (minute: number) => Date.UTC(2024, 2, 20, 12, minute);
    await store.append(
      [
        [5, SETTINGS.paymentEvent],
        [10, SETTINGS.signupEvent],
        [20, SETTINGS.paymentEvent],
      ].map(([minute, event]) =>
        makeStoredEvent({
          tenant: TENANT,
          userId: 'hour-converter',
          sessionId: 's-hour',
          event: String(event),
          timestamp: at(Number(minute)),
        }),
      ),
    );
    await store.append(
      [3, 9, 15, 21, 27].map((day) =>
        makeStoredEvent({
          tenant: TENANT,
          userId: 'marketing',
          event: SETTINGS.adSpendEvent,
          timestamp: Date.UTC(2024, 2, day, 8),
          properties: JSON.stringify({ amount: day % 2 === 0 ? String(day * 10.25) : day * 10.25 }),
        }),
      ),
    );
    const statements: string[] = [];
    const rollup = wrapStore(store, {});
    const recording: Store = {
      ...rollup,
      query: (statement) => {
        statements.push(statement.text);
        return store.query(statement);
      },
    };
    const events = wrapStore(store, { activityHours: false });
    // The rollup without the KPIs' event names: signup and payment times come from the events.
    const otherNames = wrapStore(store, {
      activityEvents: { signup: 'x', payment: 'y', adSpend: 'z' },
    });
    for (const tz of ['UTC', 'America/New_York']) {
      const range = resolveRange({ from: '2024-03-05', to: '2024-04-05', tz }, 400);
      const both = async <T>(compute: (store: Store) => Promise<T>) => {
        statements.length = 0;
        const fromRollup = await compute(recording);
        expect(statements.some((text) => text.includes('activity_hours'))).toBe(true);
        expect(fromRollup).toEqual(await compute(events));
        return fromRollup;
      };
      const kpis = await both((s) => computeDashboard(s, TENANT, range, SETTINGS));
      expect(kpis.mau).toBeGreaterThan(0);
      expect(kpis.revenue).toBeGreaterThan(0);
      expect(kpis.signups * kpis.conversion * kpis.newPayingUsers).toBeGreaterThan(0);
      expect(kpis.acquisitionSpend).toBeGreaterThan(0);
      // With the KPIs' names the rollup answers them alone (ad spend, a query of its own, reads
      // the events); with other names the events add the signup and payment times.
      const rollupOnly = () =>
        statements.filter((text) => text.includes('activity_hours')).join('\n');
      expect(rollupOnly()).not.toMatch(/FROM events/);
      expect(await computeDashboard(otherNames, TENANT, range, SETTINGS)).toEqual(kpis);
      for (const name of SERIES_NAMES) {
        for (const interval of ['day', 'week'] as const) {
          await both((s) => computeSeries(s, TENANT, { names: [name], range, interval }));
        }
      }
      for (const interval of ['day', 'week', 'month'] as const) {
        const { cohorts } = await both((s) =>
          computeRetention(s, TENANT, { interval, periods: 4, range }),
        );
        expect(cohorts.length).toBeGreaterThan(0);
        // Cohorts (first activity ever) come from identity_firsts.
        expect(statements.some((text) => text.includes('FROM identity_firsts'))).toBe(true);
      }
      for (const model of ['first_touch', 'last_touch'] as const) {
        const { channels } = await both((s) =>
          computeAttribution(s, TENANT, { range, model, paymentEvent: SETTINGS.paymentEvent }),
        );
        expect(channels.filter((channel) => channel.utmSource !== null).length).toBeGreaterThan(1);
        // First touches ever come from identity_firsts; last touches up to the range's end not.
        expect(statements.some((text) => text.includes('identity_firsts'))).toBe(
          model === 'first_touch',
        );
        expect(channels.some((channel) => channel.conversions > 0)).toBe(true);
        expect(rollupOnly()).not.toMatch(/FROM events/);
        const query = { range, model, paymentEvent: SETTINGS.paymentEvent };
        expect(await computeAttribution(otherNames, TENANT, query)).toEqual({ channels });
      }
    }
  });
});

describe('DAU and revenue totals', () => {
  it('count 0 on a day without activity, and add revenue across identities exactly', async () => {
    const store = await openStore();
    const at = (day: number, hour: number) => Date.UTC(2024, 2, day, hour);
    // Active on March 2 and 4 only (UTC); an anonymous visit linked to the same user on the 4th.
    await store.append([
      makeStoredEvent({ tenant: TENANT, userId: 'u1', event: 'a', timestamp: at(2, 10) }),
      makeStoredEvent({ tenant: TENANT, userId: 'u2', event: 'a', timestamp: at(2, 23) }),
      makeStoredEvent({
        tenant: TENANT,
        userId: 'u1',
        anonymousId: 'anon-1',
        event: 'order',
        timestamp: at(4, 9),
        revenue: 0.1,
      }),
      makeStoredEvent({
        tenant: TENANT,
        anonymousId: 'anon-1',
        event: 'order',
        timestamp: at(4, 11),
        revenue: 0.2,
      }),
      makeStoredEvent({
        tenant: TENANT,
        userId: 'u3',
        event: 'order',
        timestamp: at(4, 12),
        revenue: 2_000_000_000.5,
      }),
    ]);
    const events = wrapStore(store, { activityHours: false });
    for (const tz of ['UTC', 'America/New_York']) {
      const range = resolveRange({ from: '2024-03-01', to: '2024-03-05', tz }, 400);
      const { dau, revenue } = await computeSeries(store, TENANT, {
        names: ['dau', 'revenue'],
        range,
        interval: 'day',
      });
      // In New York u2's 23:00 UTC visit falls on March 2 too; nothing happens on the 3rd or 5th.
      expect(
        dau!.map((point) => point.value),
        tz,
      ).toEqual([0, 2, 0, 2, 0]);
      expect(
        await computeSeries(events, TENANT, { names: ['dau'], range, interval: 'day' }),
      ).toEqual({
        dau,
      });
      expect(revenue![3]!.value, tz).toBe(2_000_000_000.8);
      const kpis = await computeDashboard(store, TENANT, range, SETTINGS);
      expect(kpis.revenue, tz).toBe(2_000_000_000.8);
      expect(await computeDashboard(events, TENANT, range, SETTINGS)).toEqual(kpis);
    }
  });
});
