import { erasureSubjectHash } from '../../privacy/subject';
import type { AppendResult, Row, SqlStatement, Store, StoredEvent, StoreHistory } from '../store';
import { ClickHouseConnection, parseClickHouseUrl } from './clickhouseConnection';
import { writeClickHouseCsv } from './clickhouseCsv';
import { runClickHouseMigrations } from './clickhouseMigrate';
import { deleteRows } from './clickhouseMutations';
import { bindStatement, encodeLiteral, encodeNumber, encodeString } from './literal';
import { RecentIds } from './recentIds';

/** Ids per `IN` list: keeps statements well under the server's query size limit. */
const CHUNK = 1000;
/** Message ids each collector process remembers for exact dedupe (about 25 MB). */
const RECENT_IDS = 300_000;
const DAY_MS = 86_400_000;

/**
 * Opens (creating and migrating when needed) a ClickHouse store at `url`
 * (`clickhouse://host:8123/db`). Needs the optional peer `@clickhouse/client`.
 *
 * @example
 * const store = await createClickHouseStore({ url: 'clickhouse://localhost:8123/sightline' });
 */
export async function createClickHouseStore(options: { url: string }): Promise<Store> {
  const location = parseClickHouseUrl(options.url);
  const { createClient } = await import('@clickhouse/client');
  const admin = createClient({
    url: location.httpUrl,
    username: location.username,
    password: location.password,
  });
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${location.database}` });
  } finally {
    await admin.close();
  }
  const connection = new ClickHouseConnection(
    createClient({
      url: location.httpUrl,
      username: location.username,
      password: location.password,
      database: location.database,
      // Long values are written as literals (no query parameters on 18.16): allow 16 MiB
      // statements instead of the default 256 KiB.
      clickhouse_settings: { max_query_size: '16777216' },
    }),
  );
  try {
    await runClickHouseMigrations(connection);
    const [last] = await connection.rows('SELECT max(seq) AS seq FROM event_rows_v4');
    return new ClickHouseStore(connection, Number(last?.seq ?? 0));
  } catch (error) {
    await connection.client.close();
    throw error;
  }
}

class ClickHouseStore implements Store {
  readonly kind = 'clickhouse';
  readonly #connection: ClickHouseConnection;
  /** Appends, erasures and prunes run one at a time, in call order. */
  #writes: Promise<unknown> = Promise.resolve();
  /** The last `seq` this process gave out (or the largest stored when it opened the store). */
  #lastSeq: number;
  /**
   * Dedupe is exact within this window and eventual beyond it: a lookup in ClickHouse would
   * read every message id of the events' days on each append, which grows with the day's volume.
   */
  readonly #recent = new RecentIds(RECENT_IDS);

  constructor(connection: ClickHouseConnection, lastSeq: number) {
    this.#connection = connection;
    this.#lastSeq = lastSeq;
  }

  /**
   * The first of `count` consecutive `seq` values: the arrival time in microseconds, kept
   * increasing within this process. Several collector processes write to one ClickHouse without
   * coordinating, so two of them can give out the same `seq`; reads order and page by
   * (`seq`, `message_id`), which is unique per tenant.
   */
  #takeSeqs(count: number): number {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const first = Math.max(now, this.#lastSeq + 1);
    this.#lastSeq = first + count - 1;
    return first;
  }

  append(events: readonly StoredEvent[]): Promise<AppendResult> {
    return this.#serialised(() => this.#append(events));
  }

  async #append(events: readonly StoredEvent[]): Promise<AppendResult> {
    const result: AppendResult = { stored: new Map(), duplicates: new Map() };
    const byTenant = new Map<string, StoredEvent[]>();
    for (const event of events) {
      const list = byTenant.get(event.tenant) ?? [];
      list.push(event);
      byTenant.set(event.tenant, list);
    }
    const fresh: StoredEvent[] = [];
    for (const [tenant, list] of byTenant) {
      const seen = new Set<string>();
      for (const event of list) {
        if (this.#recent.has(tenant, event.messageId) || seen.has(event.messageId)) continue;
        seen.add(event.messageId); // later copies in the batch are duplicates
        fresh.push(event);
      }
      result.stored.set(tenant, seen.size);
      result.duplicates.set(tenant, list.length - seen.size);
    }
    // Links of duplicates too: a link is a fact about ids, whichever copy carried it.
    const links = identityLinkRows(events);
    const seq = this.#takeSeqs(fresh.length);
    // Events first: a failure leaves at worst links without events, which are harmless and
    // written again with the retry.
    await this.#connection.insert(
      'event_rows_v4',
      fresh.map((event, index) => eventRow(event, seq + index)),
    );
    await this.#connection.insert('identity_link_rows', links);
    // Remembered only once stored: a failed insert is retried by the client and must go through.
    for (const event of fresh) this.#recent.add(event.tenant, event.messageId);
    return result;
  }

  query(statement: SqlStatement): Promise<Row[]> {
    return this.#connection.rows(bindStatement(statement));
  }

  writeCsv(statement: SqlStatement, path: string): Promise<void> {
    return writeClickHouseCsv(this.#connection, statement, path);
  }

  /** Reads every message id of the tenant once per 1,000 asked: for bulk work, not per request. */
  async findMessageIds(tenant: string, messageIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let start = 0; start < messageIds.length; start += CHUNK) {
      const ids = [...new Set(messageIds.slice(start, start + CHUNK))];
      const rows = await this.#connection.rows(
        `SELECT DISTINCT message_id FROM event_rows_v4
         WHERE tenant = ${encodeString(tenant)} AND message_id IN (${ids.map(encodeString).join(', ')})`,
      );
      for (const row of rows) found.add(String(row.message_id));
    }
    return found;
  }

  async countEvents(tenant: string): Promise<number> {
    const [row] = await this.#connection.rows(
      `SELECT count() AS n FROM events WHERE tenant = ${encodeString(tenant)}`,
    );
    return Number(row?.n ?? 0);
  }

  async identityLinks(tenant: string): Promise<Array<{ anonymousId: string; userId: string }>> {
    const rows = await this.#connection.rows(
      `SELECT anonymous_id, user_id FROM identity_links WHERE tenant = ${encodeString(tenant)}
       ORDER BY anonymous_id, user_id`,
    );
    return rows.map((row) => ({
      anonymousId: String(row.anonymous_id),
      userId: String(row.user_id),
    }));
  }

  eraseUser(
    tenant: string,
    userId: string,
    actor: string,
  ): Promise<{ events: number; identityLinks: number }> {
    return this.#serialised(async () => {
      const connection = this.#connection;
      const t = encodeString(tenant);
      const u = encodeString(userId);
      // The subject's definition (privacy/subject.ts), with the linked anonymous ids read first:
      // mutations on old servers cannot run subqueries.
      const linked = await connection.rows(
        `SELECT DISTINCT anonymous_id FROM identity_link_rows WHERE tenant = ${t} AND user_id = ${u}`,
      );
      const anonymousIds = [userId, ...linked.map((row) => String(row.anonymous_id))];
      const eventsWhere = `tenant = ${t} AND (user_id = ${u}
        OR (isNull(user_id) AND has(${encodeLiteral(anonymousIds)}, assumeNotNull(anonymous_id))))`;
      const linksWhere = `tenant = ${t} AND (user_id = ${u} OR anonymous_id = ${u})`;
      const events = await count(connection, 'events', eventsWhere);
      const identityLinks = await count(connection, 'identity_links', linksWhere);
      await deleteRows(connection, 'event_rows_v4', eventsWhere);
      await deleteRows(connection, 'event_seq_rows', eventsWhere);
      await deleteRows(connection, 'identity_link_rows', linksWhere);
      await connection.insert('erasure_audit', [
        {
          tenant,
          subject_hash: erasureSubjectHash(tenant, userId),
          actor,
          erased_at: Date.now(),
          events_deleted: events,
          links_deleted: identityLinks,
        },
      ]);
      // Remembered ids may name deleted rows: a resent event must be stored again (as on DuckDB).
      this.#recent.clear();
      return { events, identityLinks };
    });
  }

  prune(olderThanMs: number): Promise<{ events: number; identityLinks: number }> {
    if (!Number.isFinite(olderThanMs)) {
      return Promise.reject(new RangeError(`prune needs a cutoff in Unix ms, got ${olderThanMs}`));
    }
    return this.#serialised(async () => {
      const connection = this.#connection;
      const cutoff = encodeNumber(Math.floor(olderThanMs));
      const eventsWhere = `"timestamp" < ${cutoff}`;
      const events = await count(connection, 'events', eventsWhere);
      await deleteRows(connection, 'event_rows_v4', eventsWhere);
      await deleteRows(connection, 'event_seq_rows', eventsWhere);
      const stale = await connection.rows(
        `SELECT tenant, anonymous_id, user_id FROM identity_links
         WHERE first_seen < ${cutoff} AND (tenant, anonymous_id) NOT IN (
           SELECT tenant, assumeNotNull(anonymous_id) FROM event_rows_v4 WHERE isNotNull(anonymous_id))`,
      );
      for (let start = 0; start < stale.length; start += CHUNK) {
        const keys = stale
          .slice(start, start + CHUNK)
          .map(
            (row) =>
              `(${encodeString(String(row.tenant))}, ${encodeString(String(row.anonymous_id))}, ${encodeString(String(row.user_id))})`,
          );
        await deleteRows(
          connection,
          'identity_link_rows',
          `(tenant, anonymous_id, user_id) IN (${keys.join(', ')})`,
        );
      }
      this.#recent.clear();
      return { events, identityLinks: stale.length };
    });
  }

  importHistory(history: StoreHistory): Promise<void> {
    return this.#serialised(async () => {
      const connection = this.#connection;
      // identity_links keeps the earliest first_seen of the rows written for a link.
      await connection.insert(
        'identity_link_rows',
        history.identityLinks.map((link) => ({
          tenant: link.tenant,
          anonymous_id: link.anonymousId,
          user_id: link.userId,
          first_seen: Math.round(link.firstSeen),
        })),
      );
      for (let start = 0; start < history.dailyUsage.length; start += CHUNK) {
        await importUsage(connection, history.dailyUsage.slice(start, start + CHUNK));
      }
      const audit = history.erasureAudit.map((row) => ({
        tenant: row.tenant,
        subject_hash: row.subjectHash,
        actor: row.actor,
        erased_at: Math.round(row.erasedAt),
        events_deleted: row.eventsDeleted,
        links_deleted: row.linksDeleted,
      }));
      const known = new Set<string>();
      for (let start = 0; start < audit.length; start += CHUNK) {
        const keys = audit
          .slice(start, start + CHUNK)
          .map(
            (row) =>
              `(${encodeString(row.tenant)}, ${encodeString(row.subject_hash)}, ${encodeNumber(row.erased_at)})`,
          );
        const rows = await connection.rows(
          `SELECT tenant, subject_hash, erased_at FROM erasure_audit
           WHERE (tenant, subject_hash, erased_at) IN (${keys.join(', ')})`,
        );
        for (const row of rows)
          known.add(`${row.tenant}\u0000${row.subject_hash}\u0000${row.erased_at}`);
      }
      await connection.insert(
        'erasure_audit',
        audit.filter(
          (row) => !known.has(`${row.tenant}\u0000${row.subject_hash}\u0000${row.erased_at}`),
        ),
      );
    });
  }

  async ping(): Promise<void> {
    await this.#connection.rows('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    await this.#writes.catch(() => {});
    await this.#connection.client.close();
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(work, work);
    this.#writes = run.catch(() => {});
    return run;
  }
}

async function count(
  connection: ClickHouseConnection,
  table: string,
  where: string,
): Promise<number> {
  const [row] = await connection.rows(`SELECT count() AS n FROM ${table} WHERE ${where}`);
  return Number(row?.n ?? 0);
}

/**
 * Raises each usage count to at least the imported one: the shortfall against what the stored
 * message ids and other sources give is written as the `import` source's extra count (replaced,
 * not added, when imported again).
 */
async function importUsage(
  connection: ClickHouseConnection,
  rows: StoreHistory['dailyUsage'],
): Promise<void> {
  const keys = rows.map(
    (row) =>
      `(${encodeString(row.tenant)}, toDate(${encodeString(row.day)}), ${encodeString(row.event)})`,
  );
  const current = await connection.rows(
    `SELECT tenant, toString(day) AS day, event, sum(count) AS count FROM (
       SELECT tenant, day, event, toUInt64(uniqExactMerge(ids)) AS count FROM daily_usage_ids
       WHERE (tenant, day, event) IN (${keys.join(', ')}) GROUP BY tenant, day, event
       UNION ALL
       SELECT tenant, day, event, count FROM daily_usage_extra FINAL
       WHERE (tenant, day, event) IN (${keys.join(', ')}) AND source != 'import'
     ) GROUP BY tenant, day, event`,
  );
  const have = new Map(
    current.map((row) => [`${row.tenant}\u0000${row.day}\u0000${row.event}`, Number(row.count)]),
  );
  await connection.insert(
    'daily_usage_extra',
    rows.map((row) => ({
      tenant: row.tenant,
      day: row.day,
      event: row.event,
      source: 'import',
      count: Math.max(
        0,
        row.count - (have.get(`${row.tenant}\u0000${row.day}\u0000${row.event}`) ?? 0),
      ),
    })),
  );
}

/** One `event_rows_v4` row; `day` is sent, as 18.16 fills omitted JSON fields with zero values. */
function eventRow(event: StoredEvent, seq: number): Record<string, unknown> {
  return {
    tenant: event.tenant,
    day: utcDay(event.timestamp),
    message_id: event.messageId,
    type: event.type,
    event: event.event,
    timestamp: Math.round(event.timestamp),
    received_at: Math.round(event.receivedAt),
    sent_at: event.sentAt === null ? null : Math.round(event.sentAt),
    user_id: event.userId,
    anonymous_id: event.anonymousId,
    session_id: event.sessionId,
    group_id: event.groupId,
    previous_id: event.previousId,
    utm_source: event.utmSource,
    utm_medium: event.utmMedium,
    utm_campaign: event.utmCampaign,
    utm_term: event.utmTerm,
    utm_content: event.utmContent,
    referrer_domain: event.referrerDomain,
    revenue: event.revenue === null ? null : exactFloatText(event.revenue),
    currency: event.currency,
    browser: event.browser,
    os: event.os,
    device_type: event.deviceType,
    ip: event.ip,
    properties: event.properties,
    traits: event.traits,
    context: event.context,
    seq,
  };
}

/** Identity links carried by `events`, once each with the earliest event time of the batch. */
function identityLinkRows(events: readonly StoredEvent[]): Array<Record<string, unknown>> {
  const links = new Map<string, Record<string, unknown> & { first_seen: number }>();
  const add = (event: StoredEvent, anonymousId: string, userId: string) => {
    const key = `${event.tenant}\u0000${anonymousId}\u0000${userId}`;
    const known = links.get(key);
    const at = Math.round(event.timestamp);
    if (known) known.first_seen = Math.min(known.first_seen, at);
    else
      links.set(key, {
        tenant: event.tenant,
        anonymous_id: anonymousId,
        user_id: userId,
        first_seen: at,
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

/**
 * A double as text that ClickHouse 18.16 parses back to the same double. Its decimal parser is not
 * correctly rounded (`1.757` is read as `1.7570000000000001`), but an integer mantissa with an
 * exponent (`1757e-3`) is. Sent as a JSON string, which `JSONEachRow` reads into a Float64.
 *
 * @example
 * exactFloatText(1.757); // '1757e-3'
 */
function exactFloatText(value: number): string {
  const [digits = '', exponent = '0'] = String(value).split('e');
  const [whole = '', fraction = ''] = digits.split('.');
  const mantissa = `${whole}${fraction}`.replace(/^(-?)0+(?=\d)/, '$1');
  const power = Number(exponent) - fraction.length;
  return power === 0 ? mantissa : `${mantissa}e${power}`;
}

function utcDay(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Invalid timestamp: ${ms}.`);
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}
