import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeAttribution } from '../../query/attribution';
import { computeDashboards, previousRange } from '../../query/kpis';
import { postgresDialect } from '../../query/postgresDialect';
import { computeRetention } from '../../query/retention';
import { computeSeries, SERIES_NAMES } from '../../query/series';
import { raw, render, sql } from '../../query/sql';
import { resolveRange } from '../../query/time';
import { type ActivityEvents, activityRows } from '../../store/activityRollup';
import { triggerFunctionBody } from '../../store/postgres/activityHours';
import { createPostgresStore } from '../../store/postgres/postgresStore';
import type { Store, StoredEvent } from '../../store/store';
import { generatedStoredEvents, makeStoredEvent } from '../storedEvent';
import { wrapStore } from '../wrapStore';
import { type PostgresServer, startPostgres } from './postgresServer';

/**
 * The PostgreSQL store's `activity_hours` rollup (kept by a trigger on `events`): equal to the
 * rollup the DuckDB writer's JavaScript computes from the stored events, through appends by two
 * stores at once, re-sent events, erasure and retention; rebuilt for other KPI event names; and the
 * metrics read from it equal the same metrics read from the events.
 */

const TENANT = 'acme';
const SETTINGS = {
  signupEvent: 'signup_completed',
  paymentEvent: 'payment_completed',
  adSpendEvent: 'ad_spend',
  acquisitionSpend: undefined,
};
const NAMES: ActivityEvents = {
  signup: SETTINGS.signupEvent,
  payment: SETTINGS.paymentEvent,
  adSpend: SETTINGS.adSpendEvent,
};

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

/** Generated events as the collector stores them (normalised, tenant `acme`). */
function storedEvents(seed: number, users: number): StoredEvent[] {
  return generatedStoredEvents(seed, users, TENANT);
}

/**
 * The rollup computed in JavaScript (`activityRows`, the DuckDB writer's code) from every event
 * the store holds, and the store's table, both as sorted JSON lines of the same shape.
 */
async function rollups(
  store: Store,
  names: ActivityEvents = NAMES,
): Promise<{ fresh: string[]; kept: string[] }> {
  const events = await store.query(
    render(sql`SELECT tenant, epoch_ms("timestamp") AS ts, type, event, user_id, anonymous_id,
        session_id, revenue, utm_source, utm_medium, utm_campaign, referrer_domain,
        CAST(properties AS TEXT) AS properties
      FROM events`),
  );
  const text = (value: unknown) => (value === null ? null : String(value));
  const fresh = activityRows(
    events.map((row) => ({
      tenant: String(row.tenant),
      timestamp: Number(row.ts),
      type: String(row.type),
      event: text(row.event),
      userId: text(row.user_id),
      anonymousId: text(row.anonymous_id),
      sessionId: text(row.session_id),
      revenue: row.revenue === null ? null : Number(row.revenue),
      utmSource: text(row.utm_source),
      utmMedium: text(row.utm_medium),
      utmCampaign: text(row.utm_campaign),
      referrerDomain: text(row.referrer_domain),
      properties: String(row.properties),
    })),
    names,
  ).map((row) =>
    JSON.stringify([
      row.tenant,
      row.hour,
      row.userId,
      row.anonymousId,
      row.sessionId,
      row.events,
      row.revenue.count,
      String(row.revenue.micros),
      row.revenue.large,
      row.firstTouch ?? null,
      row.lastTouch ?? null,
      row.signupFirstAt ?? null,
      row.payments,
      row.paymentFirstAt ?? null,
      row.paymentLastAt ?? null,
      row.adSpend.count,
      String(row.adSpend.micros),
      row.adSpend.large,
    ]),
  );
  const ms = (column: string) => `epoch_ms(${column}) AS ${column}`;
  const table = await store.query(
    render(sql`SELECT tenant, epoch_ms(hour) AS hour, user_id, anonymous_id, session_id, events,
        revenue_count, CAST(revenue_micros AS TEXT) AS revenue_micros, revenue_large,
        ${raw(`${ms('first_touch_at')}, first_touch, ${ms('last_touch_at')}, last_touch,`)}
        ${raw(`${ms('signup_first_at')}, payments, ${ms('payment_first_at')}, ${ms('payment_last_at')},`)}
        ad_spend_count, CAST(ad_spend_micros AS TEXT) AS ad_spend_micros, ad_spend_large
      FROM activity_hours`),
  );
  const touch = (at: unknown, channel: unknown) => {
    if (at === null) return null;
    const fields = channel as Record<string, string | null>;
    return {
      at: Number(at),
      utmSource: fields.utm_source,
      utmMedium: fields.utm_medium,
      utmCampaign: fields.utm_campaign,
      referrerDomain: fields.referrer_domain,
    };
  };
  const instant = (value: unknown) => (value === null ? null : Number(value));
  const kept = table.map((row) =>
    JSON.stringify([
      row.tenant,
      Number(row.hour),
      row.user_id,
      row.anonymous_id,
      row.session_id,
      Number(row.events),
      Number(row.revenue_count),
      row.revenue_micros,
      Number(row.revenue_large),
      touch(row.first_touch_at, row.first_touch),
      touch(row.last_touch_at, row.last_touch),
      instant(row.signup_first_at),
      Number(row.payments),
      instant(row.payment_first_at),
      instant(row.payment_last_at),
      Number(row.ad_spend_count),
      row.ad_spend_micros,
      Number(row.ad_spend_large),
    ]),
  );
  return { fresh: fresh.sort(), kept: kept.sort() };
}

async function expectRollupInStep(store: Store, names?: ActivityEvents): Promise<number> {
  const { fresh, kept } = await rollups(store, names);
  expect(kept).toEqual(fresh);
  return kept.length;
}

describe('PostgreSQL activity_hours', () => {
  it('stays equal to the rollup of the stored events through appends by two stores, re-sent events, erasure and retention', async () => {
    const url = await server.createDatabase('activity_steps');
    const [one, two] = [await createPostgresStore({ url }), await createPostgresStore({ url })];
    try {
      const events = storedEvents(7, 120);
      // Two collectors on one database, appending interleaved batches at once (several share
      // rollup rows): the trigger merges both, without a deadlock.
      const batches: StoredEvent[][] = [];
      for (let at = 0; at < events.length; at += 150) batches.push(events.slice(at, at + 150));
      await Promise.all([
        (async () => {
          for (const batch of batches.filter((_, i) => i % 2 === 0)) await one.append(batch);
        })(),
        (async () => {
          for (const batch of batches.filter((_, i) => i % 2 === 1)) await two.append(batch);
        })(),
      ]);
      // Revenue of both sizes and two events of one hour in separate appends (their rows merge);
      // ad spend amounts as the query reads them; U+0000 in ids (stored as U+FFFD).
      await one.append([
        makeStoredEvent({
          tenant: TENANT,
          anonymousId: 'rich\u0000',
          sessionId: 's-rich',
          timestamp: Date.UTC(2024, 2, 10, 12, 5),
          event: SETTINGS.paymentEvent,
          revenue: 2.5e9,
          utmSource: 'late',
        }),
      ]);
      await two.append([
        makeStoredEvent({
          tenant: TENANT,
          anonymousId: 'rich\u0000',
          sessionId: 's-rich',
          timestamp: Date.UTC(2024, 2, 10, 12, 1),
          event: SETTINGS.paymentEvent,
          revenue: 0.1,
          referrerDomain: 'early.example',
        }),
      ]);
      const amounts: unknown[] = [12.5, '7', ' 3.25 ', '1e3', 'abc', true, { n: 1 }, -4, '\t8'];
      await one.append(
        amounts.map((amount, index) =>
          makeStoredEvent({
            tenant: TENANT,
            userId: 'marketing',
            sessionId: 's-spend',
            type: index === 1 ? 'page' : 'track',
            event: SETTINGS.adSpendEvent,
            timestamp: Date.UTC(2024, 2, 12, 9, index),
            properties: JSON.stringify({ amount }),
          }),
        ),
      );
      const [merged] = await one.query(
        render(sql`SELECT events, revenue_count, CAST(revenue_micros AS TEXT) AS micros,
            revenue_large, first_touch ->> 'referrer_domain' AS first,
            last_touch ->> 'utm_source' AS last, payments
          FROM activity_hours WHERE anonymous_id = ${'rich\uFFFD'}`),
      );
      expect(merged).toEqual({
        events: 2,
        revenue_count: 2,
        micros: '100000',
        revenue_large: 2.5e9,
        first: 'early.example',
        last: 'late',
        payments: 2,
      });
      const [spend] = await one.query(
        render(sql`SELECT ad_spend_count AS count, CAST(ad_spend_micros AS TEXT) AS micros
          FROM activity_hours WHERE user_id = 'marketing'`),
      );
      // 12.5, ' 3.25 ', '1e3' not (exponent), -4 ('7' is on a page event; '\t8' has a tab).
      expect(spend).toEqual({ count: 3, micros: '11750000' });
      expect(await expectRollupInStep(one)).toBeGreaterThan(100);

      // Re-sent events are not stored again, so nothing is added twice.
      const before = await rollups(one);
      await two.append(events.slice(0, 400));
      expect((await rollups(one)).kept).toEqual(before.kept);

      // Erasure drops the subject's rows; retention drops the pruned hours and rebuilds the hour
      // the cutoff falls in.
      const subject = events.find((event) => event.userId !== null)!.userId!;
      await one.eraseUser(TENANT, subject, 'rk_test');
      await expectRollupInStep(one);
      await two.prune(Date.UTC(2024, 2, 15, 10, 30));
      const [{ hours = 0 } = {}] = await one.query(
        render(sql`SELECT count(*) AS hours FROM activity_hours
          WHERE hour < ${postgresDialect.instant(Date.UTC(2024, 2, 15, 10))}`),
      );
      expect(hours).toBe(0);
      expect(await expectRollupInStep(one)).toBeGreaterThan(50);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  }, 120_000);

  it('takes appends of four stores at once that share links, usage and rollup rows, without a deadlock', async () => {
    const url = await server.createDatabase('activity_concurrent');
    const writers = await Promise.all(
      Array.from({ length: 4 }, () => createPostgresStore({ url })),
    );
    try {
      // Every batch links the same 40 users, half of them in ascending and half in descending
      // user order: rows locked in batch order would cross. Batches of a day share its usage and
      // rollup rows; other days' batches share only the links.
      const users = Array.from({ length: 40 }, (_, index) => `u-${String(index).padStart(2, '0')}`);
      const batches = Array.from({ length: 24 }, (_, batch) =>
        (batch % 2 === 0 ? users : [...users].reverse()).map((user) =>
          makeStoredEvent({
            tenant: TENANT,
            messageId: `m-${batch}-${user}`,
            userId: user,
            anonymousId: `a-${user}`,
            sessionId: `s-${user}`,
            event: SETTINGS.paymentEvent,
            timestamp: Date.UTC(2024, 2, 1 + (batch % 12), 12),
          }),
        ),
      );
      await Promise.all(
        writers.map(async (writer, index) => {
          for (const batch of batches.filter((_, b) => b % writers.length === index)) {
            await writer.append(batch);
          }
        }),
      );
      const [row] = await writers[0]!.query(
        render(sql`SELECT sum(events) AS events, sum(payments) AS payments, count(*) AS rows
          FROM activity_hours WHERE tenant = ${TENANT}`),
      );
      expect(row).toEqual({ events: 24 * 40, payments: 24 * 40, rows: 12 * 40 });
      await expectRollupInStep(writers[0]!);
    } finally {
      await Promise.all(writers.map((writer) => writer.close()));
    }
  }, 120_000);

  it('rebuilds for other event names, and keeps them when opened without names', async () => {
    const url = await server.createDatabase('activity_names');
    const first = await createPostgresStore({ url });
    await first.append(storedEvents(11, 40));
    await first.close();
    const renamed = { signup: 'project_created', payment: 'signup_completed', adSpend: 'page' };
    const second = await createPostgresStore({ url, activityEvents: renamed });
    try {
      expect(second.activityEvents).toEqual(renamed);
      await expectRollupInStep(second, renamed);
      // Appends after the rebuild use the recorded names too (the trigger reads them).
      await second.append(storedEvents(12, 10));
      await expectRollupInStep(second, renamed);
    } finally {
      await second.close();
    }
    const third = await createPostgresStore({ url });
    try {
      expect(third.activityEvents).toEqual(renamed);
    } finally {
      await third.close();
    }
  }, 120_000);

  it('sees names another collector rebuilt the rollup for, so its queries stop reading them', async () => {
    const url = await server.createDatabase('activity_refresh');
    const running = await createPostgresStore({ url, activityEventsRefreshMs: 50 });
    try {
      expect(running.activityEvents).toEqual(NAMES);
      const renamed = { signup: 'project_created', payment: 'signup_completed', adSpend: 'page' };
      await (await createPostgresStore({ url, activityEvents: renamed })).close();
      const deadline = Date.now() + 5_000;
      while (running.activityEvents?.signup !== renamed.signup && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(running.activityEvents).toEqual(renamed);
    } finally {
      await running.close();
    }
  }, 60_000);

  it('gives the metrics the events give, reading the rollup', async () => {
    const url = await server.createDatabase('activity_metrics');
    const store = await createPostgresStore({ url });
    try {
      await store.append(storedEvents(21, 150));
      const statements: string[] = [];
      const rollup = wrapStore(store, {});
      const query = rollup.query.bind(rollup);
      rollup.query = (statement) => {
        statements.push(statement.text);
        return query(statement);
      };
      const events = wrapStore(store, { activityHours: false });
      for (const tz of ['UTC', 'America/Los_Angeles']) {
        const range = resolveRange({ from: '2024-03-05', to: '2024-04-02', tz }, 400);
        const answers = async (target: Store) => ({
          dashboards: await computeDashboards(
            target,
            TENANT,
            [range, previousRange(range)],
            SETTINGS,
          ),
          firstTouch: await computeAttribution(target, TENANT, {
            range,
            model: 'first_touch',
            paymentEvent: SETTINGS.paymentEvent,
          }),
          lastTouch: await computeAttribution(target, TENANT, {
            range,
            model: 'last_touch',
            paymentEvent: SETTINGS.paymentEvent,
          }),
          retention: await computeRetention(target, TENANT, {
            interval: 'week',
            periods: 4,
            range,
          }),
          series: await computeSeries(target, TENANT, {
            names: [...SERIES_NAMES],
            range,
            interval: 'day',
          }),
        });
        statements.length = 0;
        const fromRollup = await answers(rollup);
        expect(statements.some((text) => text.includes('activity_hours'))).toBe(true);
        expect(fromRollup).toEqual(await answers(events));
      }
    } finally {
      await store.close();
    }
  }, 120_000);

  it('runs the trigger function this code writes (a change needs a migration)', async () => {
    const url = await server.createDatabase('activity_trigger');
    const store = await createPostgresStore({ url });
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ body: string }>(
        `SELECT prosrc AS body FROM pg_proc WHERE proname = 'sightline_activity_hours'`,
      );
      expect(rows).toEqual([{ body: triggerFunctionBody() }]);
    } finally {
      await client.end();
    }
  }, 60_000);
});
