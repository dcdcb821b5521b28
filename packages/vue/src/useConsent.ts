import type { ConsentCategory, ConsentState } from '@sightline/core';
import { computed, type Ref } from 'vue';
import { injectSightline } from './sightlineContext';

/**
 * A consent category of the client as a ref: it follows every change (from `optOut()`, another
 * component, storage), and writing it records the choice (`consent.set`, persisted).
 *
 * @example
 * const consent = useConsent(); // 'granted' | 'denied' | 'pending'
 * consent.value = 'denied'; // the same as analytics.optOut()
 */
export function useConsent(category: ConsentCategory = 'analytics'): Ref<ConsentState> {
  const { analytics, consent } = injectSightline('useConsent');
  return computed({
    get: () => consent.value[category] ?? analytics.consent.get(category),
    set: (state) => analytics.consent.set({ [category]: state }),
  });
}
