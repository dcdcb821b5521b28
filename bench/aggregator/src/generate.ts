/**
 * A deterministic synthetic dataset for the aggregator bench, generated inside DuckDB.
 *
 * The file is first opened once with the collector's own `openStore('duckdb:<file>')`, so its
 * schema is exactly what the collector migrates to; then a plain `DuckDBInstance` fills it with a
 * few `INSERT … SELECT` statements over `range(…)`. Every "random" draw is `hash(key, salt)` of
 * a row's key: the same parameters give the same rows on every machine and every run.
 *
 * The shape (per user, then per active day, then per session, then per event):
 * - users come in three tiers: heavy (6 %, active on 60–95 % of the days of their lifetime,
 *   up to 4 sessions a day), regular (19 %, 10–40 % of the days) and light (75 %, 1 to 4 days in
 *   all, mostly one). First visits are spread over the 90 days (heavy and regular users mostly
 *   early), so every week has a cohort of new users; lifetimes are drawn per tier (users churn),
 *   so retention decays.
 * - every event carries the browser's `anonymous_id`; users who complete signup carry their
 *   `user_id` from `signup_completed` on, except in some logged-out sessions; some also use a
 *   second device (a second anonymous id). Events before signup and in logged-out sessions have
 *   only the anonymous id: the user-key join through `identity_links` resolves them.
 * - a user's first session holds the signup funnel at fixed positions: `signup_started`,
 *   `signup_completed`, an `identify` call, `project_created`, and for some `payment_completed`;
 *   other payers pay on their second active day (which may be beyond a 7-day funnel window), and
 *   payers renew once per 30 days of activity. The rest are page views and product events.
 * - a session's first event carries its acquisition: UTM columns for paid campaigns, or a
 *   `referrer_domain` for organic and referral traffic.
 * - one `ad_spend` event per channel and day, imported server-side.
 * - session event counts are rescaled so the total is exactly `events`, and `seq` (arrival order)
 *   follows session start times, as a real collector would see them arrive.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openStore } from '@sightline/collector';

export const TENANT = 'bench';
/** First day of the data (a Monday, so weekly cohorts are whole weeks), UTC. */
export const FIRST_DAY = '2026-08-24';
export const DAYS = 90;
/** Ad channels with a daily `ad_spend` event each. */
const AD_CHANNELS = ['google', 'facebook', 'linkedin'] as const;

export interface DatasetOptions {
  /** Events in the file, exactly. */
  events: number;
  /** Users (user keys) to draw from; some light users end up with no events at small sizes. */
  users: number;
  /** Directory the cached file lives in. */
  directory: string;
  /** Generate even when a cached file exists. */
  regenerate: boolean;
}

export interface Dataset {
  file: string;
  /** Seconds generation took, or undefined when the cached file was used. */
  generatedSeconds: number | undefined;
  /** Seconds of each generation step (empty when the cached file was used). */
  stepSeconds: Record<string, number>;
  bytes: number;
}

/**
 * The statements that fill the (empty, migrated) database, in order. `events`/`users` and the
 * dates are numbers and literals of this file, never input.
 */
export function generationSteps(options: {
  events: number;
  users: number;
}): Array<{ step: string; sql: string }> {
  const adEvents = AD_CHANNELS.length * DAYS;
  const sessionEvents = options.events - adEvents;
  if (sessionEvents < options.users) throw new Error('--events: use at least as many as users');
  const start = `TIMESTAMPTZ '${FIRST_DAY} 00:00:00+00'`;
  return [
    // Sessions always look at times in UTC (daily_usage days are UTC days).
    { step: 'settings', sql: `SET TimeZone = 'UTC'` },

    // rnd(key, salt): a uniform draw in [0, 1), always the same for the same key and salt.
    {
      step: 'settings',
      sql: `CREATE OR REPLACE TEMP MACRO rnd(key, salt) AS (hash(key, salt) % 1000000) / 1000000.0`,
    },
    // pick(list, r): the element of a list at draw r (each element equally likely).
    {
      step: 'settings',
      sql: `CREATE OR REPLACE TEMP MACRO pick(list, r) AS list[1 + floor(r * len(list))::INTEGER]`,
    },
    // A UUID-shaped id from any text (message ids, anonymous ids).
    {
      step: 'settings',
      sql: `CREATE OR REPLACE TEMP MACRO uuid_of(text) AS CAST(CAST(md5(text) AS UUID) AS VARCHAR)`,
    },

    // ── 1. Users: tier, first visit, how many days active, how far down the funnel, device. ──
    {
      step: 'users',
      sql: `CREATE OR REPLACE TEMP TABLE gen_users AS
    WITH tiered AS (
      SELECT u,
        CASE WHEN rnd(u, 'tier') < 0.06 THEN 'heavy'
             WHEN rnd(u, 'tier') < 0.25 THEN 'regular'
             ELSE 'light' END AS tier
      FROM range(${options.users}) t(u)
    ),
    firsts AS (
      SELECT *,
        -- Heavy and regular users mostly arrived early (r² skews towards day 0); light users
        -- arrive evenly over the 90 days.
        CAST(floor(CASE WHEN tier = 'light' THEN rnd(u, 'first')
                        ELSE rnd(u, 'first') * rnd(u, 'first') END * ${DAYS}) AS INTEGER) AS first_day
      FROM tiered
    ),
    funnel AS (
      SELECT *,
        -- Days from the first visit to the last one (users churn): heavy users mostly stay to
        -- the end; regular users ~40 days on average, light users ~10 (exponential tails).
        least(${DAYS} - first_day, CAST(CASE tier
          WHEN 'heavy' THEN 60 + rnd(u, 'lifetime') * 90
          WHEN 'regular' THEN 7 - ln(1 - rnd(u, 'lifetime')) * 40
          ELSE 1 - ln(1 - rnd(u, 'lifetime')) * 10 END AS INTEGER)) AS span,
        rnd(u, 'signup') < CASE tier WHEN 'heavy' THEN 0.95 WHEN 'regular' THEN 0.75 ELSE 0.2 END
          AS identified,
        rnd(u, 'activate') < CASE tier WHEN 'heavy' THEN 0.9 WHEN 'regular' THEN 0.7 ELSE 0.4 END
          AS would_activate,
        rnd(u, 'pay') < CASE tier WHEN 'heavy' THEN 0.5 WHEN 'regular' THEN 0.25 ELSE 0.1 END
          AS would_pay
      FROM firsts
    )
    SELECT u, tier, first_day, span,
      -- Days with activity, the first one being first_day.
      CAST(CASE tier
        WHEN 'heavy' THEN greatest(1, round(span * (0.6 + 0.35 * rnd(u, 'days'))))
        WHEN 'regular' THEN greatest(1, round(span * (0.1 + 0.3 * rnd(u, 'days'))))
        ELSE least(span, 1 + floor(pow(rnd(u, 'days'), 3) * 4))
      END AS INTEGER) AS active_days,
      identified,
      -- signup_started: everyone who completes it, and a quarter of the others (abandoned).
      identified OR rnd(u, 'start') < 0.25 AS starts_signup,
      identified AND would_activate AS activated,
      identified AND would_activate AND would_pay AS paying,
      -- Half the payers pay in their first session, the others on their second active day.
      rnd(u, 'pay_later') < 0.5 AS pays_later,
      CASE WHEN identified AND would_activate AND would_pay
           THEN pick(['starter', 'pro', 'pro', 'team'], rnd(u, 'plan')) ELSE 'free' END AS plan,
      format('usr_{:06d}', u) AS user_id,
      uuid_of('anon-' || u) AS anonymous_id,
      -- A second device (phone) for some identified users: its own anonymous id.
      identified AND rnd(u, 'mobile') < 0.4 AS has_phone,
      uuid_of('phone-' || u) AS phone_anonymous_id,
      CASE WHEN rnd(u, 'browser') < 0.62 THEN 'Chrome' WHEN rnd(u, 'browser') < 0.82 THEN 'Safari'
           WHEN rnd(u, 'browser') < 0.92 THEN 'Firefox' ELSE 'Edge' END AS browser,
      CASE WHEN rnd(u, 'browser') BETWEEN 0.62 AND 0.82 THEN 'macOS'
           WHEN rnd(u, 'os') < 0.55 THEN 'Windows' WHEN rnd(u, 'os') < 0.85 THEN 'macOS'
           ELSE 'Linux' END AS os,
      pick(['en-US', 'en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'pt-BR', 'ja-JP'], rnd(u, 'locale'))
        AS locale,
      format('{}.{}.{}.0', 1 + u % 223, (u // 223) % 256, (u // 57088) % 256) AS ip,
      -- How the user first came: a paid campaign (UTM), organic or referral (a referrer), direct.
      rnd(u, 'channel') AS channel_draw
    FROM funnel`,
    },

    // ── 2. Sessions: per active day 1 to 4 of them, each with its start time and event count. ──
    {
      step: 'sessions',
      sql: `CREATE OR REPLACE TEMP TABLE gen_sessions AS
    WITH days AS (
      SELECT *, unnest(range(active_days)) AS j FROM gen_users
    ),
    placed AS (
      SELECT *,
        -- The j-th active day: the user's span cut in active_days slices, one day in each.
        first_day + CASE WHEN j = 0 THEN 0 ELSE CAST(floor((j + 0.99 * rnd(u * 100 + j, 'day'))
          * span / active_days) AS INTEGER) END AS day
      FROM days
    ),
    renewals AS (
      SELECT *,
        -- A payer renews on the first active day of each further 30 days after its first visit.
        paying AND j > 0 AND (day - first_day) // 30
          > coalesce((lag(day) OVER (PARTITION BY u ORDER BY j) - first_day) // 30, 0) AS renews
      FROM placed
    ),
    sessions AS (
      SELECT *, unnest(range(CASE tier
          WHEN 'heavy' THEN 1 + CAST(floor(pow(rnd(u * 100 + j, 'sessions'), 2) * 4) AS INTEGER)
          WHEN 'regular' THEN 1 + CAST(rnd(u * 100 + j, 'sessions') < 0.3 AS INTEGER)
          ELSE 1 END)) AS s
      FROM renewals
    ),
    drawn AS (
      SELECT *,
        (u * 100 + j) * 10 + s AS sid,
        j = 0 AND s = 0 AS first_session
      FROM sessions
    )
    SELECT *,
      -- Sessions of a day start between 07:00 and 23:00 UTC, in order, 4 h slices at most.
      ${start} + to_days(day) + to_seconds(CAST(
        (7 * 3600 + (s + rnd(sid, 'start')) * 16 * 3600 / 4) AS BIGINT)) AS start_ts,
      -- Seconds between two events of the session.
      10 + CAST(rnd(sid, 'gap') * 110 AS INTEGER) AS gap,
      -- Events: 5 and an exponential tail (mean ~11.5); the first session holds the whole funnel.
      CASE WHEN first_session AND starts_signup THEN 10 ELSE 0 END AS min_events,
      least(80, 5 + CAST(floor(-ln(1 - rnd(sid, 'length')) * 7) AS INTEGER)) AS raw_events,
      has_phone AND NOT first_session AND rnd(sid, 'phone') < 0.35 AS on_phone,
      identified AND NOT first_session AND rnd(sid, 'logged_out') < 0.15 AS logged_out,
      -- Acquisition of the session (on its first event): on the user's first session its
      -- channel (35 % paid campaigns, 30 % organic or referral, 35 % direct); afterwards mostly
      -- direct (5 % paid, 20 % referred).
      CASE WHEN first_session THEN
             CASE WHEN channel_draw < 0.35 THEN 'paid' WHEN channel_draw < 0.65 THEN 'referred'
                  ELSE 'direct' END
           WHEN rnd(sid, 'channel') < 0.05 THEN 'paid'
           WHEN rnd(sid, 'channel') < 0.25 THEN 'referred'
           ELSE 'direct' END AS acquisition
    FROM drawn
    ORDER BY start_ts, sid`,
    },

    // ── 3. Exact total: rescale session lengths so they sum to exactly the events wanted, and
    //       give each session its first seq (arrival order follows session starts). ──
    {
      step: 'exact total',
      sql: `CREATE OR REPLACE TEMP TABLE gen_scaled AS
    WITH counted AS (
      SELECT *, greatest(raw_events, min_events) AS wanted FROM gen_sessions
    ),
    cumulative AS (
      SELECT *,
        sum(wanted) OVER (ORDER BY start_ts, sid ROWS UNBOUNDED PRECEDING) AS cum_end,
        sum(wanted) OVER () AS total
      FROM counted
    ),
    bounds AS (
      SELECT *,
        CAST((cum_end - wanted) * ${sessionEvents} // total AS BIGINT) AS seq_before,
        CAST(cum_end * ${sessionEvents} // total AS BIGINT) AS seq_last
      FROM cumulative
    )
    SELECT * EXCLUDE (cum_end, total), seq_last - seq_before AS n, total AS raw_total
    FROM bounds
    WHERE seq_last > seq_before
    ORDER BY start_ts, sid`,
    },

    // ── 4. Events: one row per event of each session, in seq order. ──
    {
      step: 'events',
      sql: `INSERT INTO events (tenant, message_id, type, event, "timestamp", received_at, sent_at,
      user_id, anonymous_id, session_id, group_id, previous_id,
      utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer_domain,
      revenue, currency, browser, os, device_type, ip, properties, traits, context, seq)
    WITH expanded AS (
      SELECT *, unnest(range(n)) AS k FROM gen_scaled
    ),
    kinds AS (
      SELECT *,
        seq_before + k + 1 AS seq,
        start_ts + to_seconds(k * gap + CAST(rnd(seq_before + k, 'jitter') * gap AS INTEGER)) AS ts,
        -- What event k of the session is: funnel steps at fixed positions, else a page view
        -- (always the first event) or a product event.
        CASE
          WHEN first_session AND starts_signup AND k = 1 THEN 'signup_started'
          WHEN first_session AND identified AND k = 3 THEN 'signup_completed'
          WHEN first_session AND identified AND k = 4 THEN '$identify'
          WHEN first_session AND activated AND k = 6 THEN 'project_created'
          WHEN first_session AND paying AND NOT pays_later AND k = 8 THEN 'payment_completed'
          WHEN paying AND pays_later AND j = 1 AND s = 0 AND k = 1 THEN 'payment_completed'
          WHEN renews AND s = 0 AND k = 2 THEN 'payment_completed'
          WHEN k = 0 OR rnd(seq_before + k, 'kind') < 0.45 THEN '$page'
          ELSE pick(['feature_used', 'feature_used', 'button_clicked', 'button_clicked',
                     'search_performed', 'project_viewed', 'project_viewed', 'report_exported',
                     'dashboard_viewed', 'invite_sent', 'settings_changed', 'file_uploaded'],
                    rnd(seq_before + k, 'track'))
        END AS kind,
        -- The page the event happens on (page views: the page viewed).
        CAST(floor(rnd(seq_before + k, 'page') * 8) AS INTEGER) + 1 AS page,
        -- Users are identified from signup_completed on, except in logged-out sessions.
        identified AND NOT logged_out AND (NOT first_session OR k >= 3) AS with_user,
        k = 0 AND acquisition = 'paid' AS paid,
        k = 0 AND acquisition = 'referred' AS referred,
        CASE WHEN plan = 'starter' THEN 19.0 WHEN plan = 'pro' THEN 49.0 ELSE 199.0 END AS price
      FROM expanded
    ),
    pages AS (
      SELECT *,
        ['Home', 'Pricing', 'Docs', 'Dashboard', 'Projects', 'Project', 'Settings', 'Blog'][page]
          AS page_name,
        ['/', '/pricing', '/docs/getting-started', '/app/dashboard', '/app/projects',
         '/app/projects/p-' || (u % 97), '/app/settings', '/blog/product-analytics-101'][page]
          AS path,
        CASE WHEN paid THEN pick(['google', 'facebook', 'linkedin', 'newsletter'], rnd(u, 'source')) END
          AS utm_source,
        CASE WHEN referred THEN pick(['google.com', 'google.com', 'bing.com', 'github.com',
          'news.ycombinator.com', 'reddit.com', 't.co', 'duckduckgo.com'], rnd(sid, 'referrer')) END
          AS referrer
      FROM kinds
    )
    SELECT '${TENANT}',
      uuid_of('msg-' || seq),
      CASE kind WHEN '$page' THEN 'page' WHEN '$identify' THEN 'identify' ELSE 'track' END,
      CASE kind WHEN '$page' THEN page_name WHEN '$identify' THEN NULL ELSE kind END,
      ts,
      ts + to_milliseconds(200 + CAST(rnd(seq, 'received') * 2800 AS INTEGER)),
      ts + to_milliseconds(100 + CAST(rnd(seq, 'sent') * 100 AS INTEGER)),
      CASE WHEN with_user THEN user_id END,
      CASE WHEN on_phone THEN phone_anonymous_id ELSE anonymous_id END,
      substr(md5('session-' || sid), 1, 16),
      NULL,
      NULL,
      utm_source,
      CASE WHEN utm_source = 'newsletter' THEN 'email' WHEN utm_source = 'google' THEN 'cpc'
           WHEN utm_source IS NOT NULL THEN 'paid_social' END,
      CASE WHEN paid THEN pick(['spring_launch', 'retargeting', 'brand', 'dev_tools_q3'],
                               rnd(sid, 'campaign')) END,
      CASE WHEN utm_source = 'google' THEN pick(['product analytics', 'funnel analysis',
                                                 'segment alternative'], rnd(sid, 'term')) END,
      CASE WHEN paid THEN pick(['banner_a', 'banner_b', 'text'], rnd(sid, 'content')) END,
      referrer,
      CASE WHEN kind = 'payment_completed' THEN price END,
      CASE WHEN kind = 'payment_completed' THEN 'USD' END,
      CASE WHEN on_phone THEN (CASE WHEN u % 2 = 0 THEN 'Mobile Safari' ELSE 'Chrome' END) ELSE browser END,
      CASE WHEN on_phone THEN (CASE WHEN u % 2 = 0 THEN 'iOS' ELSE 'Android' END) ELSE os END,
      CASE WHEN on_phone THEN 'mobile' ELSE 'desktop' END,
      ip,
      -- properties: what the event is about.
      CAST(CASE kind
        WHEN '$page' THEN json_object('path', path, 'title', page_name || ' · Sightline',
                                      'url', 'https://sightline.dev' || path)
        WHEN '$identify' THEN json_object()
        WHEN 'signup_started' THEN json_object('method', pick(['email', 'google', 'github'], rnd(u, 'method')))
        WHEN 'signup_completed' THEN json_object('method', pick(['email', 'google', 'github'], rnd(u, 'method')),
                                                 'plan', 'free')
        WHEN 'project_created' THEN json_object('template', pick(['blank', 'saas', 'ecommerce'], rnd(u, 'template')),
                                                'plan', plan)
        WHEN 'payment_completed' THEN json_object('plan', plan, 'revenue', price, 'currency', 'USD')
        ELSE json_object('plan', plan, 'feature', pick(['funnels', 'retention', 'dashboards', 'export'],
                                                       rnd(seq, 'feature')))
      END AS VARCHAR),
      -- traits: only on identify calls.
      CASE WHEN kind = '$identify'
        THEN CAST(json_object('email', user_id || '@example.com', 'plan', plan,
                              'createdAt', strftime(ts, '%Y-%m-%dT%H:%M:%SZ')) AS VARCHAR)
        ELSE '{}' END,
      -- context: what a browser SDK sends (~200 bytes).
      CAST(json_object(
        'library', json_object('name', '@sightline/browser', 'version', '1.4.2'),
        'locale', locale,
        'page', json_object('path', path, 'referrer', CASE WHEN referrer IS NOT NULL THEN 'https://' || referrer || '/' ELSE '' END),
        'userAgent', CASE WHEN on_phone THEN 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148'
                          ELSE 'Mozilla/5.0 (' || os || ') ' || browser || '/131.0' END,
        'timezone', 'Europe/Paris'
      ) AS VARCHAR),
      seq
    -- No ORDER BY: gen_scaled is in seq order and DuckDB keeps insertion order, so rows are
    -- stored in arrival order, as the collector stores them (checked after generation).
    FROM pages`,
    },

    // ── 5. Ad spend: one server-side event per channel and day, imported at the end of the day. ──
    {
      step: 'ad spend',
      sql: `INSERT INTO events (tenant, message_id, type, event, "timestamp", received_at, user_id,
      properties, traits, context, seq)
    SELECT '${TENANT}', uuid_of('ad-' || day || '-' || channel), 'track', 'ad_spend',
      ${start} + to_days(day) + to_hours(23),
      ${start} + to_days(day) + to_hours(23) + to_seconds(1),
      'ads-importer',
      CAST(json_object('channel', channel,
        'amount', round(200 + rnd(day * 10 + channel_index, 'spend') * 1800, 2)) AS VARCHAR),
      '{}',
      CAST(json_object('library', json_object('name', '@sightline/node', 'version', '1.4.2')) AS VARCHAR),
      ${sessionEvents} + day * ${AD_CHANNELS.length} + channel_index + 1
    FROM range(${DAYS}) d(day),
      (SELECT unnest([${AD_CHANNELS.map((channel) => `'${channel}'`).join(', ')}]) AS channel,
              unnest(range(${AD_CHANNELS.length})) AS channel_index)
    ORDER BY day, channel_index`,
    },

    // ── 6. Identity links, as the collector records them: every (anonymous id, user id) pair
    //       seen on one event, first seen at the earliest such event. ──
    {
      step: 'identity links',
      sql: `INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
    SELECT tenant, anonymous_id, user_id, min("timestamp")
    FROM events WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
    GROUP BY ALL`,
    },

    // ── 7. Daily usage rollup: per UTC day and name (track/page name, else the type). ──
    {
      step: 'daily usage',
      sql: `INSERT INTO daily_usage (tenant, day, event, count)
    SELECT tenant, CAST("timestamp" AS DATE), coalesce(event, type), count(*)
    FROM events GROUP BY ALL`,
    },

    { step: 'cleanup', sql: `DROP TABLE gen_scaled` },
    { step: 'cleanup', sql: `DROP TABLE gen_sessions` },
    { step: 'cleanup', sql: `DROP TABLE gen_users` },
    { step: 'checkpoint', sql: `CHECKPOINT` },
  ];
}

/**
 * The cached dataset for `options`, generating it first when missing (or when asked). The cache
 * key holds the event and user counts and a hash of the generation SQL, so editing the generator
 * never serves a stale file.
 */
export async function ensureDataset(options: DatasetOptions): Promise<Dataset> {
  const steps = generationSteps(options);
  const version = createHash('sha256')
    .update(steps.map((step) => step.sql).join('\n'))
    .digest('hex')
    .slice(0, 10);
  mkdirSync(options.directory, { recursive: true });
  const file = join(
    options.directory,
    `events-${options.events}-${options.users}-${version}.duckdb`,
  );
  if (existsSync(file) && !options.regenerate) {
    return { file, generatedSeconds: undefined, stepSeconds: {}, bytes: statSync(file).size };
  }

  // Generated under a temporary name and renamed at the end: an interrupted run leaves no file
  // that looks complete.
  const partial = `${file}.partial`;
  for (const path of [file, partial, `${partial}.wal`]) rmSync(path, { force: true });
  const started = performance.now();

  // The collector creates the schema (its migrations), as it does on its first start.
  const store = await openStore(`duckdb:${partial}`);
  await store.close();

  // A shared 2-core machine: bounded memory (DuckDB spills past it), both cores.
  const instance = await DuckDBInstance.create(partial, { memory_limit: '4GB' });
  const connection = await instance.connect();
  const stepSeconds: Record<string, number> = {};
  try {
    for (const { step, sql } of steps) {
      const stepStarted = performance.now();
      await connection.run(sql);
      const seconds = (performance.now() - stepStarted) / 1000;
      stepSeconds[step] = (stepSeconds[step] ?? 0) + seconds;
      if (seconds >= 0.5) process.stderr.write(`  generate: ${step} ${seconds.toFixed(1)} s\n`);
    }
    // Exactly `events` rows, seq 1..events, stored in seq order (row i holds seq i + 1).
    const [row] = (
      await connection.runAndReadAll(
        `SELECT count(*) AS events, count(DISTINCT seq) AS seqs, max(seq) AS max_seq,
           count(*) FILTER (WHERE seq <> rowid + 1) AS out_of_order
         FROM events`,
      )
    ).getRowObjectsJS();
    const [events, seqs, maxSeq, outOfOrder] = [
      row?.events,
      row?.seqs,
      row?.max_seq,
      row?.out_of_order,
    ].map(Number);
    if (events !== options.events || seqs !== events || maxSeq !== events || outOfOrder !== 0) {
      throw new Error(
        `generated ${events} events (${seqs} distinct seq, max ${maxSeq}, ${outOfOrder} not in seq order), wanted ${options.events}`,
      );
    }
    // The rows went into `events` behind the store's back, so its `activity_hours` rollup is
    // still empty: forget the event names it was built for, and the store rebuilds it from the
    // events when it opens, as after an upgrade (ensureActivityEvents).
    await connection.run('DELETE FROM activity_events');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const rollupStarted = performance.now();
  await (await openStore(`duckdb:${partial}`)).close();
  stepSeconds.rollup = (performance.now() - rollupStarted) / 1000;
  rmSync(`${partial}.wal`, { force: true });
  renameSync(partial, file);
  const generatedSeconds = (performance.now() - started) / 1000;
  return { file, generatedSeconds, stepSeconds, bytes: statSync(file).size };
}
