/** The plans on the pricing page, in US dollars per month. */
export const PLANS = [
  { id: 'free', name: 'Free', price: 0 },
  { id: 'pro', name: 'Pro', price: 20 },
  { id: 'team', name: 'Team', price: 60 },
] as const;

export type Plan = (typeof PLANS)[number];

/**
 * The plan with this id, or undefined.
 *
 * @example
 * findPlan('pro')?.price; // 20
 */
export function findPlan(id: string): Plan | undefined {
  return PLANS.find((plan) => plan.id === id);
}
