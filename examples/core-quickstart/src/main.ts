/**
 * The 30-second tour of @sightline/core, in sandbox mode (events are printed, not sent):
 * a typed event catalog, the PII filter, consent, and the counters every drop lands in.
 *
 *   pnpm --filter @sightline/example-core-quickstart start
 */
import { createAnalytics, defineEventCatalog } from '@sightline/core';
import { z } from 'zod';

// Seed 000's taxonomy, declared once: names and properties are checked by TypeScript and,
// with `validate: true`, at runtime.
const catalog = defineEventCatalog(
  {
    signup_completed: z.object({ method: z.enum(['email', 'google']) }),
    generation_started: z.object({ model: z.string() }),
    generation_completed: z.object({ model: z.string(), duration_ms: z.number().int() }),
    payment_completed: z.object({ plan: z.string(), revenue: z.number(), currency: z.string() }),
  },
  { validate: true },
);

const analytics = createAnalytics({
  writeKey: 'wk_demo',
  sandbox: true, // seed 000's SANDBOX_MODE: log instead of send
  catalog,
  consent: { require: true }, // nothing leaves before the visitor chooses
  onError: (error) => console.warn(`onError → ${error.message}`),
});

analytics.identify('user_42', { plan: 'free', email: 'ada@example.com' }); // email is redacted
analytics.track('signup_completed', { method: 'email' });
analytics.track('generation_started', { model: 'fast' });
analytics.track('generation_completed', { model: 'fast', duration_ms: 840 });
// Invalid at runtime (TypeScript would reject it too); dropped with reason `invalid`:
(analytics.track as (name: string, properties: object) => void)('payment_completed', {
  plan: 'pro',
});
analytics.track('payment_completed', { plan: 'pro', revenue: 29, currency: 'USD' });

console.log('Before consent:', analytics.stats().pendingConsent, 'events wait in memory');
analytics.consent.set({ analytics: 'granted', marketing: 'denied' });
await analytics.flush();

console.log('\nstats():', analytics.stats());
await analytics.close();
