/** One schema change, applied once per database, in ascending `version` order. */
export interface ClickHouseMigration {
  readonly version: number;
  readonly description: string;
  /**
   * Statements run one by one (one statement per request; ClickHouse has no transactions), each
   * idempotent (`IF NOT EXISTS`) so a migration interrupted half-way completes when run again.
   * A statement with `ifTableExists` runs only while that table exists (18.16 has no
   * `RENAME … IF EXISTS`, and a copy from a table a previous run already renamed must be skipped);
   * when it fails and the table is gone, another collector's run of the same migration removed
   * it meanwhile, and the failure is ignored.
   */
  readonly statements: readonly (string | ConditionalStatement)[];
}

/** A statement run only while `ifTableExists` (a table of the database) exists. */
export interface ConditionalStatement {
  readonly ifTableExists: string;
  readonly statement: string;
}

/** The columns of the events table (versions 1–3: `event_rows`; from 4: `event_rows_v4`). */
const EVENT_COLUMNS = `tenant String,
        day Date,
        message_id String,
        type String,
        event Nullable(String),
        "timestamp" Int64,
        received_at Int64,
        sent_at Nullable(Int64),
        user_id Nullable(String),
        anonymous_id Nullable(String),
        session_id Nullable(String),
        group_id Nullable(String),
        previous_id Nullable(String),
        utm_source Nullable(String),
        utm_medium Nullable(String),
        utm_campaign Nullable(String),
        utm_term Nullable(String),
        utm_content Nullable(String),
        referrer_domain Nullable(String),
        revenue Nullable(Float64),
        currency Nullable(String),
        browser Nullable(String),
        os Nullable(String),
        device_type Nullable(String),
        ip Nullable(String),
        properties String,
        traits String,
        context String,
        seq Int64`;

/**
 * The ClickHouse schema, oldest first. Never edit an applied migration: append a new one.
 *
 * Written for ClickHouse 18.16 and later: no `DateTime64`, so instants are `Int64` Unix
 * milliseconds (UTC), with the UTC `day` stored beside them for partitioning and sorting.
 * Raw tables carry a `_rows` suffix; the names the query compiler reads (`events`,
 * `identity_links`, `daily_usage`) are views that dedupe or merge at read time, so every query
 * is correct before background merges run.
 */
export const clickhouseMigrations: readonly ClickHouseMigration[] = [
  {
    version: 1,
    description: 'create events, identity_links, daily_usage and erasure_audit',
    statements: [
      // A re-sent (tenant, messageId) collapses in merges (same key: the store computes `day`
      // from the event's timestamp); `events` applies FINAL so reads never see both copies.
      `CREATE TABLE IF NOT EXISTS event_rows (
        ${EVENT_COLUMNS}
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(day)
      ORDER BY (tenant, day, message_id)`,
      'CREATE VIEW IF NOT EXISTS events AS SELECT * FROM event_rows FINAL',
      // Links may be written more than once (several collectors); the view keeps the earliest.
      `CREATE TABLE IF NOT EXISTS identity_link_rows (
        tenant String,
        anonymous_id String,
        user_id String,
        first_seen Int64
      ) ENGINE = ReplacingMergeTree()
      ORDER BY (tenant, anonymous_id, user_id, first_seen)`,
      `CREATE VIEW IF NOT EXISTS identity_links AS
        SELECT tenant, anonymous_id, user_id, min(first_seen) AS first_seen
        FROM identity_link_rows GROUP BY tenant, anonymous_id, user_id`,
      // Fed at insert time by the materialized view; erasure and retention never touch it.
      `CREATE TABLE IF NOT EXISTS daily_usage_rows (
        tenant String,
        day Date,
        event String,
        count UInt64
      ) ENGINE = SummingMergeTree(count)
      PARTITION BY toYYYYMM(day)
      ORDER BY (tenant, day, event)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS daily_usage_feed TO daily_usage_rows AS
        SELECT tenant, day, ifNull(event, type) AS event, toUInt64(1) AS count FROM event_rows`,
      `CREATE VIEW IF NOT EXISTS daily_usage AS
        SELECT tenant, day, event, sum(count) AS count
        FROM daily_usage_rows GROUP BY tenant, day, event`,
      `CREATE TABLE IF NOT EXISTS erasure_audit (
        tenant String,
        subject_hash String,
        actor String,
        erased_at Int64,
        events_deleted UInt64,
        links_deleted UInt64
      ) ENGINE = MergeTree() ORDER BY (tenant, erased_at)`,
    ],
  },
  {
    version: 2,
    description:
      'daily_usage counts distinct message ids, exact when collectors insert a copy twice',
    statements: [
      // Several collectors dedupe only what each has seen: a batch resent to another instance is
      // inserted twice and collapses in event_rows, but a plain count rollup would count it
      // twice. The rollup keeps, per (tenant, day, event), the exact set of message ids (as
      // 128-bit hashes), so a copy adds nothing, and it still outlives pruned raw events.
      `CREATE TABLE IF NOT EXISTS daily_usage_ids (
        tenant String,
        day Date,
        event String,
        ids AggregateFunction(uniqExact, String)
      ) ENGINE = AggregatingMergeTree()
      PARTITION BY toYYYYMM(day)
      ORDER BY (tenant, day, event)`,
      // Counts with no message ids behind them, one row per (key, source), replaced when written
      // again: version 1's counts of events pruned before this migration, and usage imported by
      // `sightline-collector migrate` for events the source store had already pruned.
      `CREATE TABLE IF NOT EXISTS daily_usage_extra (
        tenant String,
        day Date,
        event String,
        source String,
        count UInt64
      ) ENGINE = ReplacingMergeTree()
      ORDER BY (tenant, day, event, source)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS daily_usage_ids_feed TO daily_usage_ids AS
        SELECT tenant, day, ifNull(event, type) AS event, uniqExactState(message_id) AS ids
        FROM event_rows GROUP BY tenant, day, event`,
      // Events stored before the feed existed; one inserted twice meanwhile is still one id.
      `INSERT INTO daily_usage_ids
        SELECT tenant, day, ifNull(event, type) AS event, uniqExactState(message_id) AS ids
        FROM event_rows GROUP BY tenant, day, event`,
      // The subqueries are named (newer releases require it: joined_subquery_requires_alias),
      // and `counted` is not `count`, which WHERE would read as the outer alias on newer ones.
      `INSERT INTO daily_usage_extra
        SELECT tenant, day, event, 'version 1' AS source, counted - stored AS count FROM (
          SELECT tenant, day, event, sum(count) AS counted FROM daily_usage_rows
          GROUP BY tenant, day, event
        ) AS rolled ANY LEFT JOIN (
          SELECT tenant, day, ifNull(event, type) AS event, uniqExact(message_id) AS stored
          FROM event_rows GROUP BY tenant, day, event
        ) AS kept USING (tenant, day, event)
        WHERE counted > stored`,
      'DROP TABLE IF EXISTS daily_usage_feed',
      'DROP TABLE IF EXISTS daily_usage',
      `CREATE VIEW IF NOT EXISTS daily_usage AS
        SELECT tenant, day, event, sum(count) AS count FROM (
          SELECT tenant, day, event, toUInt64(uniqExactMerge(ids)) AS count
          FROM daily_usage_ids GROUP BY tenant, day, event
          UNION ALL
          SELECT tenant, day, event, count FROM daily_usage_extra FINAL
        ) GROUP BY tenant, day, event`,
    ],
  },
  {
    version: 3,
    description: 'event_seq_rows: the events in seq (arrival) order, for listings and exports',
    statements: [
      // `GET /v1/events` and the CSV export read newest first by seq, but event_rows is sorted by
      // (tenant, day, message_id): a seq range read every row of the table. This copy of the keys
      // only, sorted by seq, finds a range's message ids and days; the rows are then read from
      // event_rows by its sorting key. user_id, anonymous_id and timestamp are here so erasure and
      // retention delete from it with the conditions they use on event_rows (18.16's mutations
      // cannot run subqueries). A row copied twice (an insert between the feed's creation and
      // the copy below) only names the same event twice, and collapses in merges.
      `CREATE TABLE IF NOT EXISTS event_seq_rows (
        tenant String,
        seq Int64,
        day Date,
        message_id String,
        "timestamp" Int64,
        user_id Nullable(String),
        anonymous_id Nullable(String)
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(day)
      ORDER BY (tenant, seq, message_id)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS event_seq_feed TO event_seq_rows AS
        SELECT tenant, seq, day, message_id, "timestamp", user_id, anonymous_id FROM event_rows`,
      `INSERT INTO event_seq_rows
        SELECT tenant, seq, day, message_id, "timestamp", user_id, anonymous_id FROM event_rows`,
    ],
  },
  {
    version: 4,
    description: 'event_rows_v4: the events with an index granule of 1,024 rows instead of 8,192',
    statements: [
      // Event lists and CSV exports read a window of events by their (day, message_id) keys, and
      // a granule is the least ClickHouse reads: a late event (one whose timestamp is days
      // before its arrival) in a window costs a whole granule of every column on its day. At
      // 8,192 rows a 50,000-event export of a 10M-event store read 2.4M rows (7 s); at 1,024
      // rows it reads 0.43M. The metric queries, which scan whole days, take the same time.
      // The index granularity of a table is fixed when it is created, so the events move to a
      // new table:
      `CREATE TABLE IF NOT EXISTS event_rows_v4 (
        ${EVENT_COLUMNS}
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(day)
      ORDER BY (tenant, day, message_id)
      SETTINGS index_granularity = 1024`,
      // 1. Collectors of an older version keep inserting into event_rows until they are
      //    upgraded: this view copies each of their inserts into the new table, within the
      //    insert, so an insert they acknowledge is in event_rows_v4 too.
      {
        ifTableExists: 'event_rows',
        statement: `CREATE MATERIALIZED VIEW IF NOT EXISTS event_rows_v4_forward TO event_rows_v4
          AS SELECT * FROM event_rows`,
      },
      // 2. The events stored so far (one also forwarded meanwhile collapses: same key).
      {
        ifTableExists: 'event_rows',
        statement: 'INSERT INTO event_rows_v4 SELECT * FROM event_rows',
      },
      // 3. Daily usage and the seq index are fed from the new table. Until the old feeds are
      //    dropped below, a forwarded insert feeds them twice: an id set and a key index, where a
      //    second copy adds nothing.
      `CREATE MATERIALIZED VIEW IF NOT EXISTS daily_usage_ids_feed_v4 TO daily_usage_ids AS
        SELECT tenant, day, ifNull(event, type) AS event, uniqExactState(message_id) AS ids
        FROM event_rows_v4 GROUP BY tenant, day, event`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS event_seq_feed_v4 TO event_seq_rows AS
        SELECT tenant, seq, day, message_id, "timestamp", user_id, anonymous_id
        FROM event_rows_v4`,
      'DROP TABLE IF EXISTS events',
      'CREATE VIEW IF NOT EXISTS events AS SELECT * FROM event_rows_v4 FINAL',
      // 4. From here an older collector's insert fails (no table event_rows) and it answers 503:
      //    its clients keep the events and send them again. Renamed rather than dropped, so no
      //    insert can land in it between dropping its views and dropping it.
      { ifTableExists: 'event_rows', statement: 'RENAME TABLE event_rows TO event_rows_v3' },
      'DROP TABLE IF EXISTS event_rows_v4_forward',
      'DROP TABLE IF EXISTS daily_usage_ids_feed',
      'DROP TABLE IF EXISTS event_seq_feed',
      'DROP TABLE IF EXISTS event_rows_v3',
    ],
  },
];
