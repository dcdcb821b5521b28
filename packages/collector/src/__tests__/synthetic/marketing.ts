import type { Random } from './random';
import { Timeline } from './timeline';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The account that reports ad spend (server-side events, `userId` only). */
export const MARKETING_USER_ID = 'marketing-ops';

/**
 * `ad_spend` track events of a marketing account: on most days a Google Ads line in the morning
 * (UTC) and on some days a Facebook line a few minutes before UTC midnight. `properties.amount`
 * is a number with cents.
 *
 * @example
 * simulateMarketing(createRandom(7), { seed: 7, days: 30 }, Date.UTC(2024, 2, 1)).finish();
 */
export function simulateMarketing(
  r: Random,
  options: { seed: number; days: number },
  origin: number,
): Timeline {
  const timeline = new Timeline(`syn-${options.seed}-ads`);
  const amount = () => Math.round(r.float(40, 400) * 100) / 100;
  for (let day = 0; day < options.days; day++) {
    const dayStart = origin + day * DAY;
    if (r.chance(0.7)) {
      timeline.add(dayStart + 6 * 60 * MINUTE + r.int(0, 30 * MINUTE), {
        type: 'track',
        event: 'ad_spend',
        userId: MARKETING_USER_ID,
        properties: { amount: amount(), channel: 'google', currency: 'USD' },
      });
    }
    if (r.chance(0.4)) {
      timeline.add(dayStart + DAY - r.int(1, 5 * MINUTE), {
        type: 'track',
        event: 'ad_spend',
        userId: MARKETING_USER_ID,
        properties: { amount: amount(), channel: 'facebook', currency: 'USD' },
      });
    }
  }
  return timeline;
}
