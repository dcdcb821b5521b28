import { type ConsentManager, HeldItems } from './consent';
import type { AnalyticsEvent, ConsentCategory } from './event';

/**
 * A destination receives the final events (after consent, PII filter and before-send plugins),
 * e.g. Amplitude or Mixpanel. It declares the consent category it needs; events reach it only
 * while that category is granted, wait while it is pending, and are skipped when it is denied.
 *
 * @example
 * const console: Destination = { name: 'console', category: 'analytics', send: (event) => console.log(event) };
 */
export interface Destination {
  name: string;
  /** Consent category required; default `analytics`. */
  category?: ConsentCategory;
  send(event: AnalyticsEvent): void | Promise<void>;
  flush?(): Promise<void>;
  close?(): Promise<void>;
}

export interface DestinationRouter {
  deliver(event: AnalyticsEvent): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  held(): number;
}

/**
 * Fans events out to destinations, each behind its own consent category.
 *
 * @example
 * const router = createDestinationRouter([amplitude], consent, 1000, { failed: report, dropped: count });
 * router.deliver(event);
 */
export function createDestinationRouter(
  destinations: readonly Destination[],
  consent: ConsentManager,
  maxHeld: number,
  report: {
    failed(destination: string, error: unknown): void;
    dropped(event: AnalyticsEvent, reason: string): void;
  },
): DestinationRouter {
  const inFlight = new Set<Promise<void>>();
  const entries = destinations.map((destination) => ({
    destination,
    category: destination.category ?? 'analytics',
    waiting: new HeldItems<AnalyticsEvent>(maxHeld),
  }));

  function send(destination: Destination, event: AnalyticsEvent): void {
    try {
      const result = destination.send(event);
      if (result instanceof Promise) {
        const tracked: Promise<void> = result
          .catch((error: unknown) => report.failed(destination.name, error))
          .finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
    } catch (error) {
      report.failed(destination.name, error);
    }
  }

  consent.subscribe(() => {
    for (const entry of entries) {
      const state = consent.get(entry.category);
      if (state === 'pending') continue;
      for (const event of entry.waiting.takeAll()) {
        if (state === 'granted') send(entry.destination, event);
        else report.dropped(event, `consent:${entry.destination.name}`);
      }
    }
  });

  return {
    deliver(event) {
      for (const entry of entries) {
        const state = consent.get(entry.category);
        if (state === 'granted') send(entry.destination, event);
        else if (state === 'pending') {
          const evicted = entry.waiting.add(event);
          if (evicted) report.dropped(evicted, `consent_buffer_overflow:${entry.destination.name}`);
        }
      }
    },
    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await Promise.allSettled(entries.map(({ destination }) => destination.flush?.()));
    },
    async close() {
      await this.flush();
      await Promise.allSettled(entries.map(({ destination }) => destination.close?.()));
    },
    held: () => entries.reduce((total, entry) => total + entry.waiting.size, 0),
  };
}
