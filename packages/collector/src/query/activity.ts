import type { Store } from '../store/store';
import { raw, type Sql, sql } from './sql';
import { offsetSegments } from './time';

const HOUR_MS = 3_600_000;

/**
 * Whether a query may read the `activity_hours` rollup of the DuckDB and PostgreSQL stores (events
 * per tenant, UTC hour and userId/anonymousId/sessionId, see store/activityRollup.ts) instead of
 * `events`, and get the same answer: the store keeps it, every instant the query compares event times with is a
 * whole UTC hour, and so is every offset `tz` takes over `span` and every instant it changes.
 * Then an hour's events all fall on the same side of each bound and in the same local day.
 * Zones with half- or quarter-hour offsets (Asia/Kolkata, Asia/Kathmandu) and ranges given as
 * instants within an hour read the events.
 *
 * @example
 * usesActivityHours(store, 'Europe/Paris', range, [range.startMs, range.endMs]); // true but on ClickHouse
 */
export function usesActivityHours(
  store: Store,
  tz: string,
  span: { startMs: number; endMs: number },
  instants: readonly number[],
): boolean {
  if (store.activityHours !== true) return false;
  const whole = (ms: number) => ms % HOUR_MS === 0;
  return (
    whole(span.startMs) &&
    whole(span.endMs) &&
    instants.every(whole) &&
    offsetSegments(tz, span.startMs, span.endMs).every(
      (segment) =>
        whole(segment.offsetMs) && (segment.untilMs === undefined || whole(segment.untilMs)),
    )
  );
}

/**
 * Whether the store's rollup keeps the figures of these event names (the KPIs' signup, payment
 * or ad spend event, see Store.activityEvents): queries read them from it only then.
 *
 * @example
 * rollupKeeps(store, { payment: 'payment_completed' }); // true with the collector's defaults
 */
export function rollupKeeps(
  store: Store,
  names: Partial<Record<'signup' | 'payment' | 'adSpend', string>>,
): boolean {
  const kept = store.activityEvents;
  return (
    kept !== undefined &&
    Object.entries(names).every(([kind, name]) => kept[kind as keyof typeof kept] === name)
  );
}

/** A rollup row's ids as `events` has them (the rollup stores a missing id as `''`). */
export const ACTIVITY_IDS = sql`nullif(user_id, '') AS user_id, nullif(anonymous_id, '') AS anonymous_id`;

/**
 * Aggregate over rollup rows matching `filter`: the track revenue of their events (or, with
 * `amount` `ad_spend`, the `properties.amount` of their ad spend events), exactly as
 * `SqlDialect.sumAmounts` over those events' amounts gives it (NULL when none has one).
 */
export function activityRevenue(
  filter: Sql = sql`true`,
  amount: 'revenue' | 'ad_spend' = 'revenue',
): Sql {
  const column = (part: string) => raw(`${amount}_${part}`);
  return sql`CASE WHEN coalesce(sum(${column('count')}) FILTER (WHERE ${filter}), 0) = 0 THEN NULL ELSE
    CAST(coalesce(sum(${column('micros')}) FILTER (WHERE ${filter}), 0) AS DOUBLE PRECISION) / 1000000
    + coalesce(sum(${column('large')}) FILTER (WHERE ${filter}), 0) END`;
}
