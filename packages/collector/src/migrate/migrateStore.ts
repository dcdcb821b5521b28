import type { EventType } from '@sightline/core';
import { dialectOf } from '../query/dialect';
import { raw, render, type Sql, sql } from '../query/sql';
import type { Row, Store, StoredEvent, StoreHistory } from '../store/store';

/** How far a migration has come: events read from the source so far, of `total`. */
export interface MigrateProgress {
  copied: number;
  total: number;
}

/** What a migration did. */
export interface MigrateResult {
  /** Events read from the source. */
  events: number;
  /** Of those, events the target stored; the rest it already had (a resumed run). */
  stored: number;
  identityLinks: number;
  dailyUsage: number;
  erasureAudit: number;
}

const TEXT_COLUMNS = [
  'tenant',
  'message_id',
  'type',
  'event',
  'user_id',
  'anonymous_id',
  'session_id',
  'group_id',
  'previous_id',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'referrer_domain',
  'currency',
  'browser',
  'os',
  'device_type',
  'ip',
] as const;

/**
 * Copies every tenant's events from `source` to `target` in batches of `batchSize`, in the
 * source's arrival order (so the target's `seq` keeps it), then the identity links, daily usage
 * and erasure audit the events alone cannot rebuild. The target dedupes on (tenant, messageId),
 * so a run that was interrupted can simply be run again.
 *
 * @example
 * await migrateStore(await openStore('duckdb:./events.duckdb'), await openStore('clickhouse://localhost:8123/sightline'), {
 *   onProgress: ({ copied, total }) => console.log(`${copied}/${total}`),
 * });
 */
export async function migrateStore(
  source: Store,
  target: Store,
  options: { batchSize?: number; onProgress?: (progress: MigrateProgress) => void } = {},
): Promise<MigrateResult> {
  const batchSize = options.batchSize ?? 5000;
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 100_000)) {
    throw new RangeError(`batchSize: use a whole number from 1 to 100000 (got ${batchSize})`);
  }
  const dialect = dialectOf(source.kind);
  const [counted] = await source.query(render(sql`SELECT count(*) AS n FROM events`));
  const total = Number(counted?.n ?? 0);
  const columns = sql`${raw(TEXT_COLUMNS.join(', '))},
    ${dialect.epochMs(sql`"timestamp"`)} AS ts, ${dialect.epochMs(sql`received_at`)} AS received,
    ${dialect.epochMs(sql`sent_at`)} AS sent, ${dialect.double(sql`revenue`)} AS revenue_value,
    ${dialect.text(sql`properties`)} AS properties_text, ${dialect.text(sql`traits`)} AS traits_text,
    ${dialect.text(sql`context`)} AS context_text, seq`;
  let copied = 0;
  let stored = 0;
  let after: { seq: number; tenant: string; messageId: string } | undefined;
  options.onProgress?.({ copied, total });
  for (;;) {
    const position = after
      ? // `seq` as a BIGINT, like the column, and first as a plain range (implied by the rest):
        // the store can skip the rows before it by zone maps or an index.
        sql`WHERE seq >= ${seqValue(after.seq)} AND (seq > ${seqValue(after.seq)}
          OR (seq = ${seqValue(after.seq)} AND (tenant > ${after.tenant}
            OR (tenant = ${after.tenant} AND message_id > ${after.messageId}))))`
      : sql``;
    // The batch's last `seq` first, from the sort key alone: a sort of every remaining row with
    // all its columns took 6 s per batch at 10M events in DuckDB, which sorts a wide LIMIT fully.
    const order = sql`ORDER BY seq, tenant, message_id`;
    const [edge] = await source.query(
      render(
        sql`SELECT seq FROM events ${position} ${order} LIMIT 1 OFFSET ${raw(String(batchSize - 1))}`,
      ),
    );
    const upTo = edge
      ? sql`${after ? sql`AND` : sql`WHERE`} seq <= ${seqValue(Number(edge.seq))}`
      : sql``;
    const rows = await source.query(
      render(sql`SELECT ${columns} FROM events ${position} ${upTo}
        ${order} LIMIT ${raw(String(batchSize))}`),
    );
    if (rows.length === 0) break;
    // What the target already holds is skipped here rather than left to its dedupe, which on
    // ClickHouse is exact only within a collector's recent window (a resumed run starts afresh).
    const events = rows.map(toStoredEvent);
    const fresh = await withoutStored(target, events);
    if (fresh.length > 0) await target.append(fresh);
    stored += fresh.length;
    copied += rows.length;
    const last = rows[rows.length - 1]!;
    after = {
      seq: Number(last.seq),
      tenant: String(last.tenant),
      messageId: String(last.message_id),
    };
    options.onProgress?.({ copied, total: Math.max(total, copied) });
    if (rows.length < batchSize) break;
  }
  const history = await readHistory(source);
  await target.importHistory(history);
  return {
    events: copied,
    stored,
    identityLinks: history.identityLinks.length,
    dailyUsage: history.dailyUsage.length,
    erasureAudit: history.erasureAudit.length,
  };
}

/** `events` without those `target` already stores (by tenant and messageId). */
/** A `seq` value typed as BIGINT, as the column is. */
function seqValue(seq: number): Sql {
  return sql`CAST(${seq} AS BIGINT)`;
}

async function withoutStored(target: Store, events: StoredEvent[]): Promise<StoredEvent[]> {
  const byTenant = new Map<string, string[]>();
  for (const event of events) {
    const ids = byTenant.get(event.tenant) ?? [];
    ids.push(event.messageId);
    byTenant.set(event.tenant, ids);
  }
  const stored = new Map<string, Set<string>>();
  for (const [tenant, ids] of byTenant)
    stored.set(tenant, await target.findMessageIds(tenant, ids));
  return events.filter((event) => !stored.get(event.tenant)?.has(event.messageId));
}

/** The identity links, daily usage and erasure audit of every tenant of `store`. */
export async function readHistory(store: Store): Promise<StoreHistory> {
  const dialect = dialectOf(store.kind);
  const [links, usage, audit] = await Promise.all([
    store.query(
      render(sql`SELECT tenant, anonymous_id, user_id, ${dialect.epochMs(sql`first_seen`)} AS first_seen
        FROM identity_links ORDER BY tenant, anonymous_id, user_id`),
    ),
    store.query(
      render(sql`SELECT tenant, ${dialect.text(sql`day`)} AS day, event, count FROM daily_usage
        ORDER BY tenant, day, event`),
    ),
    store.query(
      render(sql`SELECT tenant, subject_hash, actor, ${dialect.epochMs(sql`erased_at`)} AS erased_at,
          events_deleted, links_deleted
        FROM erasure_audit ORDER BY tenant, erased_at`),
    ),
  ]);
  return {
    identityLinks: links.map((row) => ({
      tenant: String(row.tenant),
      anonymousId: String(row.anonymous_id),
      userId: String(row.user_id),
      firstSeen: Number(row.first_seen),
    })),
    dailyUsage: usage.map((row) => ({
      tenant: String(row.tenant),
      day: String(row.day),
      event: String(row.event),
      count: Number(row.count),
    })),
    erasureAudit: audit.map((row) => ({
      tenant: String(row.tenant),
      subjectHash: String(row.subject_hash),
      actor: String(row.actor),
      erasedAt: Number(row.erased_at),
      eventsDeleted: Number(row.events_deleted),
      linksDeleted: Number(row.links_deleted),
    })),
  };
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** JSON text as `JSON.stringify` writes it (PostgreSQL's JSONB text has spaces). */
function json(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(JSON.parse(value)) : '{}';
}

function toStoredEvent(row: Row): StoredEvent {
  return {
    tenant: String(row.tenant),
    messageId: String(row.message_id),
    type: String(row.type) as EventType,
    event: text(row.event),
    timestamp: Number(row.ts),
    receivedAt: Number(row.received),
    sentAt: row.sent === null || row.sent === undefined ? null : Number(row.sent),
    userId: text(row.user_id),
    anonymousId: text(row.anonymous_id),
    sessionId: text(row.session_id),
    groupId: text(row.group_id),
    previousId: text(row.previous_id),
    utmSource: text(row.utm_source),
    utmMedium: text(row.utm_medium),
    utmCampaign: text(row.utm_campaign),
    utmTerm: text(row.utm_term),
    utmContent: text(row.utm_content),
    referrerDomain: text(row.referrer_domain),
    revenue:
      row.revenue_value === null || row.revenue_value === undefined
        ? null
        : Number(row.revenue_value),
    currency: text(row.currency),
    browser: text(row.browser),
    os: text(row.os),
    deviceType: text(row.device_type),
    ip: text(row.ip),
    properties: json(row.properties_text),
    traits: json(row.traits_text),
    context: json(row.context_text),
  };
}
