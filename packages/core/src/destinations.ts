import { type ConsentManager, holdUntilConsent } from './consent';
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

  const entries = destinations.map((destination) => {
    const category = destination.category ?? 'analytics';
    const waiting = holdUntilConsent<AnalyticsEvent>(
      consent,
      category,
      maxHeld,
      (event) => send(destination, event),
      (event, reason) => report.dropped(event, `${reason}:${destination.name}`),
    );
    return { destination, category, waiting };
  });

  return {
    deliver(event) {
      for (const entry of entries) {
        const state = consent.get(entry.category);
        // A denied category skips the destination; the collector still gets the event.
        if (state === 'granted') send(entry.destination, event);
        else if (state === 'pending') entry.waiting.add(event);
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
    held: () => entries.reduce((total, entry) => total + entry.waiting.held.length, 0),
  };
}
