import type { ConsentCategory, ConsentState } from '@sightline/core';
import { useSyncExternalStore } from 'react';
import { useAnalytics } from './AnalyticsProvider';

/** What the server renders, and hydration with it: nothing is collected on the server. */
const onServer = (): ConsentState => 'denied';

/**
 * The client's consent state for `category` (default `analytics`); the component re-renders when
 * it changes. `'denied'` during server rendering and hydration. Change it with
 * `useAnalytics().consent.set(…)`, `optIn()` or `optOut()`.
 *
 * @example
 * const analytics = useAnalytics();
 * if (useConsent() !== 'pending') return null;
 * return <button onClick={analytics.optIn}>Allow analytics</button>;
 */
export function useConsent(category: ConsentCategory = 'analytics'): ConsentState {
  const { consent } = useAnalytics();
  return useSyncExternalStore(consent.subscribe, () => consent.get(category), onServer);
}
