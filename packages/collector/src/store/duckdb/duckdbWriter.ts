import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBTimestampTZValue,
} from '@duckdb/node-api';
import {
  type ActivityEvent,
  type ActivityEvents,
  type AmountParts,
  activityRows,
} from '../activityRollup';
import { EVENT_COLUMNS as COLUMNS, type ColumnKind } from '../eventColumns';
import type { AppendResult, StoredEvent } from '../store';
import {
  ACTIVITY_STAGING,
  CREATE_ACTIVITY_STAGING_SQL,
  INSERT_STAGED_ACTIVITY_SQL,
  INSERT_STAGED_FIRSTS_SQL,
} from './activityHours';

const STAGING = 'events_staging';
const COLUMN_LIST = `${COLUMNS.map((column) => column.name).join(', ')}, seq`;

const STAGING_TYPES: Record<ColumnKind, string> = {
  text: 'VARCHAR',
  time: 'TIMESTAMPTZ',
  number: 'DOUBLE',
  json: 'VARCHAR',
};

const LINKS_STAGING = 'identity_links_staging';
const USAGE_STAGING = 'daily_usage_staging';

/**
 * Per-connection scratch tables (temporary: not logged to the WAL, so staging costs no disk I/O).
 * `events_staging` serves the slow path only; the others take the small side tables of a batch.
 */
const CREATE_STAGING_SQL = [
  `CREATE OR REPLACE TEMP TABLE ${STAGING} (${COLUMNS.map(
    (column) => `${column.name} ${STAGING_TYPES[column.kind]}`,
  ).join(', ')}, seq BIGINT)`,
  `CREATE OR REPLACE TEMP TABLE ${LINKS_STAGING} (
    tenant VARCHAR, anonymous_id VARCHAR, user_id VARCHAR, first_seen TIMESTAMPTZ)`,
  `CREATE OR REPLACE TEMP TABLE ${USAGE_STAGING} (tenant VARCHAR, day DATE, event VARCHAR, count BIGINT)`,
  CREATE_ACTIVITY_STAGING_SQL,
];

/** A link seen again with an earlier event keeps the earliest time (events arrive out of order). */
const INSERT_STAGED_LINKS_SQL = `INSERT INTO identity_links (tenant, anonymous_id, user_id, first_seen)
  SELECT tenant, anonymous_id, user_id, first_seen FROM ${LINKS_STAGING}
  ON CONFLICT DO UPDATE SET first_seen = least(identity_links.first_seen, excluded.first_seen)`;

const INSERT_STAGED_USAGE_SQL = `INSERT INTO daily_usage (tenant, day, event, count)
  SELECT tenant, day, event, count FROM ${USAGE_STAGING}
  ON CONFLICT DO UPDATE SET count = daily_usage.count + excluded.count`;

/** The slow path's move of the staged batch into events: rows whose key is stored are skipped. */
const INSERT_EVENTS_SQL = `INSERT INTO events (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM ${STAGING}
  ON CONFLICT DO NOTHING
  RETURNING tenant, epoch_ms("timestamp") AS ts, type, event, anonymous_id, user_id, previous_id,
    session_id, revenue, utm_source, utm_medium, utm_campaign, referrer_domain, properties`;

/**
 * How many recently committed (tenant, messageId) keys, and identity links, the writer remembers.
 * Client retries come within seconds to minutes, so a retried event is almost always found here
 * and never reaches DuckDB. About 100 bytes each.
 */
const RECENT_KEYS = 100_000;

const DAY_MS = 86_400_000;

/** The side effects of stored rows: identity links, daily usage counts and activity_hours. */
interface StoredRow extends ActivityEvent {
  event: string | null;
  previousId: string | null;
}

interface Link {
  key: string;
  tenant: string;
  anonymousId: string;
  userId: string;
  firstSeen: number;
}

/**
 * The write side of the DuckDB store: one connection, used by one `append` at a time (the caller
 * serialises), each append one transaction that also records identity links, daily usage and
 * the `activity_hours` rollup.
 *
 * Dedupe in two layers. Keys committed lately are remembered in memory, so a client's retry is
 * counted as a duplicate without touching DuckDB. The rest are appended straight into `events`
 * (the fast path: no staging copy, no `ON CONFLICT`), where the primary key still guards every
 * row: if one of them was stored before the writer's memory begins (an old retry, a restart), the
 * append fails with a key violation, the transaction is rolled back, and the batch takes the slow
 * path, staging plus `INSERT … ON CONFLICT DO NOTHING`, which skips exactly the stored rows.
 */
export class DuckDbWriter {
  readonly #connection: DuckDBConnection;
  /** (tenant, messageId) keys committed lately. */
  readonly #recentKeys = createRecentMap<true>(RECENT_KEYS);
  /** Identity links committed lately, with the first_seen recorded for them. */
  readonly #recentLinks = createRecentMap<number>(RECENT_KEYS);
  /**
   * `identity_firsts` of pairs committed lately: a first hour and touch time at or after the
   * table's (the table keeps the minimum of every write), so a batch that is not earlier for any
   * of its pairs changes nothing there and skips the statement.
   */
  readonly #recentFirsts = createRecentMap<Firsts>(RECENT_KEYS);
  /** The signup and payment event names `activity_hours` keeps times of. */
  readonly #activityEvents: ActivityEvents;
  /** `seq` of the next stored row: arrival order, for stable pagination. */
  #nextSeq: number;

  private constructor(
    connection: DuckDBConnection,
    activityEvents: ActivityEvents,
    nextSeq: number,
  ) {
    this.#connection = connection;
    this.#activityEvents = activityEvents;
    this.#nextSeq = nextSeq;
  }

  /**
   * Prepares `connection` (scratch tables, next `seq`); the schema must be migrated and
   * `activity_hours` hold `activityEvents` (ensureActivityEvents).
   */
  static async create(
    connection: DuckDBConnection,
    activityEvents: ActivityEvents,
  ): Promise<DuckDbWriter> {
    for (const sql of CREATE_STAGING_SQL) await connection.run(sql);
    const reader = await connection.runAndReadAll('SELECT coalesce(max(seq), 0) FROM events');
    return new DuckDbWriter(
      connection,
      activityEvents,
      Number(reader.getRowsJS()[0]?.[0] ?? 0) + 1,
    );
  }

  /** Forgets remembered keys, links and firsts, after rows were deleted (erasure, retention). */
  forget(): void {
    this.#recentKeys.clear();
    this.#recentLinks.clear();
    this.#recentFirsts.clear();
  }

  async append(events: readonly StoredEvent[]): Promise<AppendResult> {
    const result: AppendResult = { stored: new Map(), duplicates: new Map() };
    if (events.length === 0) return result;
    const received = new Map<string, number>();
    // The first row of each (tenant, messageId) not known to be stored; later copies are duplicates.
    const seen = new Set<string>();
    const fresh: StoredEvent[] = [];
    const keys: string[] = [];
    for (const event of events) {
      received.set(event.tenant, (received.get(event.tenant) ?? 0) + 1);
      const key = `${event.tenant}\u0000${event.messageId}`;
      if (seen.has(key) || this.#recentKeys.has(key)) continue;
      seen.add(key);
      fresh.push(event);
      keys.push(key);
    }

    if (fresh.length > 0) {
      const firstSeq = this.#nextSeq;
      const stored =
        (await this.#appendFast(fresh, firstSeq)) ?? (await this.#appendStaged(fresh, firstSeq));
      this.#nextSeq = firstSeq + fresh.length;
      for (const row of stored)
        result.stored.set(row.tenant, (result.stored.get(row.tenant) ?? 0) + 1);
      for (const key of keys) this.#recentKeys.set(key, true);
    }
    for (const [tenant, count] of received) {
      const stored = result.stored.get(tenant) ?? 0;
      result.stored.set(tenant, stored);
      result.duplicates.set(tenant, count - stored);
    }
    return result;
  }

  /**
   * Appends rows the batch holds once each straight into `events`, with their side tables, in one
   * transaction. Resolves with the stored rows, or undefined (everything rolled back) when a row's
   * key is already stored.
   */
  async #appendFast(
    events: readonly StoredEvent[],
    firstSeq: number,
  ): Promise<readonly StoredRow[] | undefined> {
    const connection = this.#connection;
    const links = this.#newLinks(events);
    let firsts: Map<string, Firsts>;
    await connection.run('BEGIN TRANSACTION');
    try {
      await this.#appendRows('events', undefined, events, firstSeq);
      firsts = await this.#recordSideTables(links, events);
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => {});
      if (isKeyViolation(error)) return undefined;
      throw error;
    }
    for (const link of links) this.#recentLinks.set(link.key, link.firstSeen);
    this.#rememberFirsts(firsts);
    return events;
  }

  /** The slow path: stages the rows, then moves those not stored yet into events. */
  async #appendStaged(events: readonly StoredEvent[], firstSeq: number): Promise<StoredRow[]> {
    const connection = this.#connection;
    await connection.run('BEGIN TRANSACTION');
    try {
      await this.#appendRows(STAGING, 'temp', events, firstSeq);
      const inserted = await connection.runAndReadAll(INSERT_EVENTS_SQL);
      const text = (value: unknown) => (value === null ? null : String(value));
      const stored: StoredRow[] = inserted.getRowsJS().map((row) => ({
        tenant: String(row[0]),
        timestamp: Number(row[1]),
        type: String(row[2]),
        event: text(row[3]),
        anonymousId: text(row[4]),
        userId: text(row[5]),
        previousId: text(row[6]),
        sessionId: text(row[7]),
        revenue: row[8] === null ? null : Number(row[8]),
        utmSource: text(row[9]),
        utmMedium: text(row[10]),
        utmCampaign: text(row[11]),
        referrerDomain: text(row[12]),
        properties: String(row[13]),
      }));
      await connection.run(`DELETE FROM ${STAGING}`);
      // Links of duplicates too: a link is a fact about ids, true whichever copy carried it.
      const firsts = await this.#recordSideTables(this.#newLinks(events), stored);
      await connection.run('COMMIT');
      this.#rememberFirsts(firsts);
      return stored;
    } catch (error) {
      // Undoes the staging rows too. Fails harmlessly when a failed COMMIT already rolled back.
      await connection.run('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  /**
   * Records identity links and adds the stored rows to daily usage, `activity_hours` and
   * `identity_firsts`, in the caller's transaction. Resolves with the batch's firsts per pair, for
   * {@link DuckDbWriter.#rememberFirsts} once committed.
   */
  async #recordSideTables(
    links: readonly Link[],
    stored: readonly StoredRow[],
  ): Promise<Map<string, Firsts>> {
    const connection = this.#connection;
    if (links.length > 0) {
      await this.#appendTo(
        LINKS_STAGING,
        (appender) => {
          for (const link of links) {
            appender.appendVarchar(link.tenant);
            appender.appendVarchar(link.anonymousId);
            appender.appendVarchar(link.userId);
            appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(link.firstSeen)));
            appender.endRow();
          }
        },
        'temp',
      );
      await connection.run(INSERT_STAGED_LINKS_SQL);
      await connection.run(`DELETE FROM ${LINKS_STAGING}`);
    }
    const firsts = new Map<string, Firsts>();
    if (stored.length > 0) {
      const activity = activityRows(stored, this.#activityEvents);
      for (const row of activity) {
        const key = `${row.tenant}\u0000${row.userId}\u0000${row.anonymousId}`;
        const touchAt = row.firstTouch?.at;
        const batch = firsts.get(key);
        if (batch === undefined) firsts.set(key, { hour: row.hour, touchAt });
        else {
          if (row.hour < batch.hour) batch.hour = row.hour;
          if (touchAt !== undefined && (batch.touchAt === undefined || touchAt < batch.touchAt))
            batch.touchAt = touchAt;
        }
      }
      let earlier = false;
      for (const [key, batch] of firsts) {
        const recorded = this.#recentFirsts.get(key);
        if (recorded === undefined || isEarlier(batch, recorded)) {
          earlier = true;
          break;
        }
      }
      const usage = dailyUsage(stored);
      await this.#appendTo(
        USAGE_STAGING,
        (appender) => {
          for (const entry of usage) {
            appender.appendVarchar(entry.tenant);
            appender.appendDate(new DuckDBDateValue(entry.day));
            appender.appendVarchar(entry.event);
            appender.appendBigInt(BigInt(entry.count));
            appender.endRow();
          }
        },
        'temp',
      );
      await connection.run(INSERT_STAGED_USAGE_SQL);
      await connection.run(`DELETE FROM ${USAGE_STAGING}`);
      await this.#appendTo(
        ACTIVITY_STAGING,
        (appender) => {
          const appendAmount = (parts: AmountParts) => {
            appender.appendBigInt(BigInt(parts.count));
            appender.appendHugeInt(parts.micros);
            appender.appendDouble(parts.large);
          };
          const appendInstant = (ms: number | undefined) => {
            if (ms === undefined) appender.appendNull();
            else appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(ms)));
          };
          for (const row of activity) {
            appender.appendVarchar(row.tenant);
            appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(row.hour)));
            appender.appendVarchar(row.userId);
            appender.appendVarchar(row.anonymousId);
            appender.appendVarchar(row.sessionId);
            appender.appendBigInt(BigInt(row.events));
            appendAmount(row.revenue);
            for (const touch of [row.firstTouch, row.lastTouch]) {
              appendInstant(touch?.at);
              for (const value of [
                touch?.utmSource,
                touch?.utmMedium,
                touch?.utmCampaign,
                touch?.referrerDomain,
              ]) {
                if (value === undefined || value === null) appender.appendNull();
                else appender.appendVarchar(value);
              }
            }
            appendInstant(row.signupFirstAt);
            appender.appendBigInt(BigInt(row.payments));
            appendInstant(row.paymentFirstAt);
            appendInstant(row.paymentLastAt);
            appendAmount(row.adSpend);
            appender.endRow();
          }
        },
        'temp',
      );
      await connection.run(INSERT_STAGED_ACTIVITY_SQL);
      if (earlier) await connection.run(INSERT_STAGED_FIRSTS_SQL);
      await connection.run(`DELETE FROM ${ACTIVITY_STAGING}`);
    }
    return firsts;
  }

  /** After a commit: remembers each pair's firsts as the earlier of the batch's and the known. */
  #rememberFirsts(firsts: ReadonlyMap<string, Firsts>): void {
    for (const [key, batch] of firsts) {
      const recorded = this.#recentFirsts.get(key);
      if (recorded === undefined) this.#recentFirsts.set(key, batch);
      else if (isEarlier(batch, recorded)) {
        this.#recentFirsts.set(key, {
          hour: Math.min(batch.hour, recorded.hour),
          touchAt:
            recorded.touchAt === undefined || (batch.touchAt ?? Infinity) < recorded.touchAt
              ? batch.touchAt
              : recorded.touchAt,
        });
      }
    }
  }

  /**
   * The identity links `events` carry, once each with the earliest event time of the batch, that
   * the writer has not recorded lately with that time or an earlier one: anonymousId → userId,
   * and previousId → userId of aliases.
   */
  #newLinks(events: readonly StoredRow[]): Link[] {
    const links = new Map<string, Link>();
    const add = (event: StoredRow, anonymousId: string, userId: string) => {
      const key = `${event.tenant}\u0000${anonymousId}\u0000${userId}`;
      const recorded = this.#recentLinks.get(key);
      if (recorded !== undefined && recorded <= event.timestamp) return;
      const known = links.get(key);
      if (known) known.firstSeen = Math.min(known.firstSeen, event.timestamp);
      else
        links.set(key, {
          key,
          tenant: event.tenant,
          anonymousId,
          userId,
          firstSeen: event.timestamp,
        });
    };
    for (const event of events) {
      if (event.userId === null) continue;
      if (event.anonymousId !== null) add(event, event.anonymousId, event.userId);
      if (event.type === 'alias' && event.previousId !== null)
        add(event, event.previousId, event.userId);
    }
    return [...links.values()];
  }

  /** Appends `events` (with `seq` from `firstSeq`) to `table`, in the caller's transaction. */
  async #appendRows(
    table: string,
    catalog: 'temp' | undefined,
    events: readonly StoredEvent[],
    firstSeq: number,
  ): Promise<void> {
    let seq = firstSeq;
    await this.#appendTo(
      table,
      (appender) => {
        for (const event of events) {
          for (const column of COLUMNS) appendValue(appender, column.kind, event[column.field]);
          appender.appendBigInt(BigInt(seq++));
          appender.endRow();
        }
      },
      catalog,
    );
  }

  async #appendTo(
    table: string,
    fill: (appender: DuckDBAppender) => void,
    catalog: 'temp' | undefined,
  ): Promise<void> {
    const appender = await this.#connection.createAppender(table, 'main', catalog);
    try {
      fill(appender);
      appender.flushSync();
    } catch (error) {
      appender.clear(); // drop unflushed rows so closing does not try to flush them again
      throw error;
    } finally {
      appender.closeSync();
    }
  }
}

/** Stored rows counted per tenant, UTC day of their timestamp and name (event, else type). */
function dailyUsage(
  rows: readonly StoredRow[],
): Array<{ tenant: string; day: number; event: string; count: number }> {
  const counts = new Map<string, { tenant: string; day: number; event: string; count: number }>();
  for (const row of rows) {
    const day = Math.floor(row.timestamp / DAY_MS);
    const event = row.event ?? row.type;
    const key = `${row.tenant}\u0000${day}\u0000${event}`;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { tenant: row.tenant, day, event, count: 1 });
  }
  return [...counts.values()];
}

function appendValue(appender: DuckDBAppender, kind: ColumnKind, value: unknown): void {
  if (value === null || value === undefined) {
    appender.appendNull();
    return;
  }
  switch (kind) {
    case 'text':
    case 'json':
      appender.appendVarchar(requireType(value, 'string'));
      return;
    case 'number':
      appender.appendDouble(requireType(value, 'number'));
      return;
    case 'time':
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(millisToMicros(value)));
      return;
  }
}

function requireType<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
): T extends 'string' ? string : number {
  if (typeof value !== type) throw new TypeError(`Expected a ${type}, got ${typeof value}.`);
  return value as T extends 'string' ? string : number;
}

/** A pair's first hour and first touch time (Unix ms), as `identity_firsts` keeps them. */
interface Firsts {
  hour: number;
  touchAt: number | undefined;
}

/** Whether `batch` has an earlier hour or touch than `recorded` (a touch beats none). */
function isEarlier(batch: Firsts, recorded: Firsts): boolean {
  return (
    batch.hour < recorded.hour ||
    (batch.touchAt !== undefined &&
      (recorded.touchAt === undefined || batch.touchAt < recorded.touchAt))
  );
}

/** Unix milliseconds (sub-millisecond fractions kept) to the microseconds DuckDB stores. */
function millisToMicros(value: unknown): bigint {
  const millis = requireType(value, 'number');
  if (!Number.isFinite(millis)) throw new RangeError(`Invalid timestamp: ${millis}.`);
  return BigInt(Math.round(millis * 1000));
}

/** DuckDB's error for a row whose primary key is already in the table. */
function isKeyViolation(error: unknown): boolean {
  return error instanceof Error && /violates primary key constraint/i.test(error.message);
}

interface RecentMap<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  /** Sets `key`, forgetting the oldest key once `capacity` are held. */
  set(key: string, value: V): void;
  clear(): void;
}

/**
 * A map of at most `capacity` keys that forgets the oldest first. The order is kept in a ring of
 * slots: evicting through a Map's own iterator would scan the tombstones that deletions leave at
 * the front of V8's hash table, and slow down as they pile up.
 */
function createRecentMap<V>(capacity: number): RecentMap<V> {
  const entries = new Map<string, V>();
  let ring: Array<string | undefined> = new Array(capacity);
  let next = 0;
  return {
    get: (key) => entries.get(key),
    has: (key) => entries.has(key),
    set(key, value) {
      if (entries.has(key)) {
        entries.set(key, value);
        return;
      }
      const oldest = ring[next];
      if (oldest !== undefined) entries.delete(oldest);
      ring[next] = key;
      next = (next + 1) % capacity;
      entries.set(key, value);
    },
    clear() {
      entries.clear();
      ring = new Array(capacity);
      next = 0;
    },
  };
}
