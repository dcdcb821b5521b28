import type { EventType } from '@sightline/core';

/**
 * One event as stored. Typed columns hold what queries filter and group on; the rest of the event
 * stays as JSON text. Times are Unix milliseconds (UTC). `properties`, `traits` and `context` must
 * be `JSON.stringify` output of well-formed strings (the collector's normaliser makes them so):
 * stores append them as they are, without parsing them again.
 */
export interface StoredEvent {
  tenant: string;
  messageId: string;
  type: EventType;
  /** `event` of a track call, `name` of a page/screen call; null otherwise. */
  event: string | null;
  /** When it happened, corrected for client clock skew. */
  timestamp: number;
  receivedAt: number;
  sentAt: number | null;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  groupId: string | null;
  previousId: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  referrerDomain: string | null;
  /** Numeric `properties.revenue` of track events. */
  revenue: number | null;
  currency: string | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  /** The client IP after anonymisation, or null when dropped. */
  ip: string | null;
  /** JSON text of `properties` (track/page/screen) or `{}`. */
  properties: string;
  /** JSON text of `traits` (identify/group) or `{}`. */
  traits: string;
  /** JSON text of `context`. */
  context: string;
}

/** What one `append` did, per tenant. */
export interface AppendResult {
  /** Events newly stored, by tenant. */
  stored: Map<string, number>;
  /** Events skipped because their `messageId` was already stored for the tenant, by tenant. */
  duplicates: Map<string, number>;
}

/**
 * What a store holds beside its events that `append` cannot rebuild from them: for moving a
 * store's contents to another (`sightline-collector migrate`). Times are Unix ms; days UTC
 * `YYYY-MM-DD`.
 */
export interface StoreHistory {
  identityLinks: ReadonlyArray<{
    tenant: string;
    anonymousId: string;
    userId: string;
    firstSeen: number;
  }>;
  /** `daily_usage` counts, which outlive the pruned events behind them. */
  dailyUsage: ReadonlyArray<{ tenant: string; day: string; event: string; count: number }>;
  erasureAudit: ReadonlyArray<{
    tenant: string;
    subjectHash: string;
    actor: string;
    erasedAt: number;
    eventsDeleted: number;
    linksDeleted: number;
  }>;
}

/** A value bound to a statement parameter; arrays bind as lists of text. */
export type SqlValue = string | number | boolean | null | readonly string[];

/**
 * A read-only SQL statement in the store's dialect, with its values bound positionally (never
 * spliced into the text). Built by the query compiler (`src/query`).
 */
export interface SqlStatement {
  readonly text: string;
  readonly values: readonly SqlValue[];
}

/** A result row: column name → value (integers as numbers, times as Date). */
export type Row = Record<string, unknown>;

/**
 * Where the collector keeps events. Designed for SQL engines (DuckDB, ClickHouse, PostgreSQL):
 * the collector hands over batches, the store commits them atomically, dedupes on
 * (tenant, messageId) and records identity links; aggregation is pushed down as SQL by query
 * methods added alongside the aggregator. Engine-specific code stays inside each adapter.
 *
 * @example
 * const store = await createDuckDbStore({ path: '.sightline/events.duckdb' });
 * await store.append(rows); // resolves once committed (durable)
 */
export interface Store {
  /** `duckdb`, `clickhouse` or `postgres`. */
  readonly kind: string;
  /**
   * True when the store keeps the `activity_hours` rollup in step with `events` (DuckDB and
   * PostgreSQL: see store/activityRollup.ts); activity metrics then read it where it gives the
   * same answer.
   */
  readonly activityHours?: boolean;
  /**
   * True when the store also keeps `identity_firsts` (DuckDB: each (userId, anonymousId)'s first
   * active hour and first touch, from the rollup): retention's cohorts and first-touch
   * attribution read it where they read the rollup.
   */
  readonly identityFirsts?: boolean;
  /**
   * The signup, payment and ad spend event names the rollup keeps figures of: the
   * dashboard's KPIs and attribution's conversions read them from it when they are the KPIs'.
   */
  readonly activityEvents?: {
    readonly signup: string;
    readonly payment: string;
    readonly adSpend: string;
  };
  /**
   * Commits `events` in one transaction. Resolves only after the commit, so a 200 that waits on
   * it means the events survive a crash. Events whose (tenant, messageId) is already stored, or
   * repeated within `events`, are not stored again. Events carrying both `anonymousId` and
   * `userId`, and alias events (`previousId` → `userId`), record identity links.
   */
  append(events: readonly StoredEvent[]): Promise<AppendResult>;
  /**
   * Runs a read-only statement compiled for this store's `kind`, on a connection that sees only
   * committed writes. Aggregation happens here, in the engine.
   */
  query(statement: SqlStatement): Promise<Row[]>;
  /**
   * Writes the rows of a read-only statement to a new file at `path` as CSV records, with the
   * engine's own CSV writer (rows never pass through JavaScript): RFC 4180 (comma-separated,
   * CRLF-terminated, a field quoted when it holds a comma, quote, CR or LF, quotes doubled), no
   * header record, NULL as an empty field and empty text as `""`. The statement's select list
   * decides each field's text. The file is the caller's to delete.
   *
   * @example
   * await store.writeCsv(render(sql`SELECT message_id FROM events WHERE tenant = ${t}`), path);
   */
  writeCsv(statement: SqlStatement, path: string): Promise<void>;
  /** Which of `messageIds` are stored for `tenant`. */
  findMessageIds(tenant: string, messageIds: readonly string[]): Promise<Set<string>>;
  /** Number of stored events of `tenant`. */
  countEvents(tenant: string): Promise<number>;
  /** Identity links of `tenant`: anonymous id (or alias previousId) → user id. */
  identityLinks(tenant: string): Promise<Array<{ anonymousId: string; userId: string }>>;
  /**
   * Erases one data subject of `tenant` (see `privacy/subject.ts`: events with that `userId`,
   * anonymous events of the anonymous ids linked to it, and its identity links) and records one
   * `erasure_audit` row (who: `actor`; the subject as a salted hash, never the raw id), all in one
   * transaction on the write side, serialised with appends. `daily_usage` (counts per event name
   * and day, no user data) is kept. Resolves with the rows deleted.
   *
   * @example
   * await store.eraseUser('acme', 'u-1', 'rk_1a2b3c4d'); // { events: 12, identityLinks: 2 }
   */
  eraseUser(
    tenant: string,
    userId: string,
    actor: string,
  ): Promise<{ events: number; identityLinks: number }>;
  /**
   * Retention, for every tenant at once: deletes events whose `timestamp` is before
   * `olderThanMs` (a cutoff instant, Unix ms), then identity links first seen before the cutoff
   * that no remaining event's `anonymousId` refers to. Never touches `daily_usage`, the rollup
   * that outlives raw events. One transaction on the write side, serialised with appends.
   *
   * @example
   * await store.prune(Date.now() - 90 * 86_400_000); // { events: 1042, identityLinks: 17 }
   */
  prune(olderThanMs: number): Promise<{ events: number; identityLinks: number }>;
  /**
   * Imports `history` from another store, after its events were appended, in one transaction
   * where the engine has them. Idempotent: a link already known keeps the earlier `firstSeen`, a
   * usage count is raised to at least the imported one (never added twice), an audit row already
   * present is not written again.
   *
   * @example
   * await target.importHistory(await readHistory(source));
   */
  importHistory(history: StoreHistory): Promise<void>;
  /** Throws when the store cannot serve requests. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
