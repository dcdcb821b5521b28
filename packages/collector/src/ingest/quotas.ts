import { usageOn } from '../query/usage';
import type { ResolvedReadOptions } from '../readOptions';
import type { Store, StoredEvent } from '../store/store';

const DAY_MS = 86_400_000;

/** What {@link QuotaTracker.admit} decided for one request's rows. */
export interface QuotaDecision {
  /** Indexes (into the rows given) of rows over their quota that hard mode refuses. */
  refused: Set<number>;
  /** Give back the counts of the admitted rows when their write failed (nothing was stored). */
  release(): void;
}

/**
 * Daily quotas per tenant and event name (UTC day of the event time, as `daily_usage` counts).
 * Counts start from the store's `daily_usage` the first time a (tenant, day) is seen and grow as
 * rows are admitted. Soft mode admits everything and counts what is over; hard mode refuses rows
 * over their limit. A retried request is counted again before dedupe can tell (quotas may run
 * slightly ahead of stored usage under retries, never behind).
 *
 * @example
 * const quotas = createQuotaTracker(settings.quotas, storePromise, (tenant, event) => metric.inc(...));
 * const { refused } = await quotas.admit('acme', rows);
 */
export function createQuotaTracker(
  settings: ResolvedReadOptions['quotas'],
  store: Promise<Store>,
  onExceeded: (tenant: string, event: string, count: number) => void,
) {
  /** `tenant\0day` → event → count. */
  const counts = new Map<string, Promise<Map<string, number>>>();

  function countsOf(tenant: string, day: string, events: string[]): Promise<Map<string, number>> {
    const key = `${tenant}\u0000${day}`;
    let found = counts.get(key);
    if (!found) {
      found = store.then((opened) => usageOn(opened, tenant, day, events));
      found.catch(() => counts.delete(key));
      counts.set(key, found);
      // Yesterday's counts are never needed again.
      if (counts.size > 64) counts.delete(counts.keys().next().value!);
    }
    return found;
  }

  return {
    /** Counts `rows` against their quotas; in hard mode, which of them are refused. */
    async admit(tenant: string, rows: readonly StoredEvent[]): Promise<QuotaDecision> {
      const limits = settings.limits[tenant];
      const refused = new Set<number>();
      const admitted: Array<{ map: Map<string, number>; event: string }> = [];
      const release = () => {
        for (const { map, event } of admitted) map.set(event, (map.get(event) ?? 1) - 1);
      };
      if (!limits) return { refused, release };
      const events = Object.keys(limits);
      const over = new Map<string, number>();
      for (const [index, row] of rows.entries()) {
        const event = row.event ?? row.type;
        const limit = limits[event];
        if (limit === undefined) continue;
        const day = new Date(Math.floor(row.timestamp / DAY_MS) * DAY_MS)
          .toISOString()
          .slice(0, 10);
        const map = await countsOf(tenant, day, events);
        const current = map.get(event) ?? 0;
        if (current >= limit) {
          over.set(event, (over.get(event) ?? 0) + 1);
          if (settings.mode === 'hard') {
            refused.add(index);
            continue;
          }
        }
        map.set(event, current + 1);
        admitted.push({ map, event });
      }
      for (const [event, count] of over) onExceeded(tenant, event, count);
      return { refused, release };
    },
  };
}

export type QuotaTracker = ReturnType<typeof createQuotaTracker>;
