import type { Store } from '../store/store';
import { dialectOf } from './dialect';
import { render, sql } from './sql';

export interface UsageRow {
  /** UTC day, `YYYY-MM-DD`. */
  date: string;
  event: string;
  count: number;
}

/**
 * Daily event counts of a tenant from the `daily_usage` rollup (kept when raw events are
 * pruned), per UTC day of the event time and event name, days `from`–`to` included.
 *
 * @example
 * await dailyUsage(store, 'acme', '2024-01-01', '2024-01-31');
 */
export async function dailyUsage(
  store: Store,
  tenant: string,
  from: string,
  to: string,
): Promise<UsageRow[]> {
  const dialect = dialectOf(store.kind);
  const rows = await store.query(
    render(sql`SELECT ${dialect.text(sql`day`)} AS date, event, count FROM daily_usage
      WHERE tenant = ${tenant} AND day >= ${dialect.date(from)} AND day <= ${dialect.date(to)}
      ORDER BY day, event`),
  );
  return rows.map((row) => ({
    date: String(row.date),
    event: String(row.event),
    count: Number(row.count),
  }));
}

/** Today's (UTC) count of each of `events` for a tenant. */
export async function usageOn(
  store: Store,
  tenant: string,
  day: string,
  events: readonly string[],
): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  const dialect = dialectOf(store.kind);
  const rows = await store.query(
    render(sql`SELECT event, count FROM daily_usage
      WHERE tenant = ${tenant} AND day = ${dialect.date(day)} AND ${dialect.inList(sql`event`, events)}`),
  );
  return new Map(rows.map((row) => [String(row.event), Number(row.count)]));
}
