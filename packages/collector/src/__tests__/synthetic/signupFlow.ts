/**
 * The signup → project → payment funnel of a person: drop-off, delays from seconds to weeks,
 * identify or alias links, a second account on the same browser, renewals and refunds.
 */
import { NON_NUMERIC_REVENUE, PLANS } from './catalog';
import {
  browserContext,
  DAY,
  HOUR,
  idsAt,
  MINUTE,
  type Person,
  SECOND,
  withVariant,
} from './person';

/** When each funnel step happens; undefined from the step where the person drops off. */
export interface Milestones {
  started: number;
  completed: number | undefined;
  project: number | undefined;
  payment: number | undefined;
}

/** Funnel times, with drop-off at each step and delays from seconds to weeks. */
export function planFunnel(person: Person, sessionStart: number, end: number): Milestones {
  const { r, role } = person;
  const { forced } = person;
  const payer =
    role === 'junkRevenue' ||
    role === 'stringRevenue' ||
    role === 'slowPayer' ||
    (forced && role === 'alias');
  const delay = (choices: Array<[number, number, number]>) => {
    let x = r.next();
    for (const [p, min, max] of choices) {
      if (x < p) return r.int(min, max) + r.int(0, 999);
      x -= p;
    }
    return r.int(SECOND, MINUTE);
  };
  const within = (t: number | undefined) => (t !== undefined && t < end ? t : undefined);
  const started = sessionStart + r.int(30, 180) * SECOND + r.int(0, 999);
  const completed = within(
    forced || r.chance(0.8)
      ? started +
          delay([
            [0.7, 20 * SECOND, 10 * MINUTE],
            [0.18, HOUR, 20 * HOUR],
            [0.09, 25 * HOUR, 60 * HOUR],
            [0.03, 8 * DAY, 9 * DAY],
          ])
      : undefined,
  );
  const project = within(
    completed !== undefined && (payer || r.chance(0.65))
      ? completed +
          delay([
            [0.6, MINUTE, 30 * MINUTE],
            [0.25, 2 * HOUR, 2 * DAY],
            [0.15, 3 * DAY, 12 * DAY],
          ])
      : undefined,
  );
  const payment = within(
    project !== undefined && (payer || r.chance(0.5))
      ? project +
          (role === 'slowPayer'
            ? r.int(8 * DAY, 12 * DAY)
            : delay([
                [0.4, 10 * MINUTE, DAY],
                [0.35, DAY, 6 * DAY],
                [0.25, 8 * DAY, 20 * DAY],
              ]))
      : undefined,
  );
  return { started, completed, project, payment };
}

/** The funnel's events, links included (identify, alias, a tie, a second account), and payments. */
export function emitFunnel(person: Person, m: Milestones, end: number): void {
  const { r, timeline, anonymousId, userId } = person;
  const method = r.pick(['email', 'google', 'github']);
  timeline.add(m.started, {
    type: 'track',
    event: 'signup_started',
    anonymousId,
    properties: withVariant(person, { method }),
    context: browserContext(person, m.started, '/signup', 'Signup'),
  });
  const { completed } = m;
  if (completed === undefined) return;
  const completedContext = () => browserContext(person, completed, '/signup/done', 'Welcome');
  const properties = { method, plan: 'free', trial: r.chance(0.5) };
  if (person.role === 'alias' || person.role === 'tieLink') {
    // The link comes only from the alias (a tie with an identify for tieLink): the signup itself
    // is reported by the server, with the user id alone.
    const alias = timeline.add(completed, {
      type: 'alias',
      previousId: anonymousId,
      userId,
      context: completedContext(),
    });
    if (person.role === 'tieLink') {
      // Same instant, linked to another user id first in the stream: the smaller user id wins.
      timeline.addTwin(alias, {
        type: 'identify',
        anonymousId,
        userId: userId.replace(/-a$/, '-b'),
        traits: { signup_method: method },
      });
    }
    timeline.add(completed + 1500, {
      type: 'track',
      event: 'signup_completed',
      userId,
      properties,
    });
  } else {
    timeline.add(completed, {
      type: 'track',
      event: 'signup_completed',
      anonymousId,
      userId,
      properties,
      context: completedContext(),
    });
    timeline.add(completed + 1500, {
      type: 'identify',
      anonymousId,
      userId,
      traits: { signup_method: method, plan: 'free' },
      context: completedContext(),
    });
  }
  if (person.role === 'doubleLink') emitSecondAccount(person, completed, end);
  if (m.project === undefined) return;
  timeline.add(m.project, {
    type: 'track',
    event: 'project_created',
    ...idsAt(person, m.project, 'main'),
    properties: withVariant(person, { template: r.pick(['blank', 'saas', 'ecommerce']) }),
    context: browserContext(person, m.project, '/app/projects/new', 'New project'),
  });
  if (m.payment !== undefined) emitPayments(person, m.payment, end);
}

/** Days later, the same browser signs up a second account: its anonymous id gets a 2nd link. */
function emitSecondAccount(person: Person, completed: number, end: number): void {
  const { r, timeline, anonymousId } = person;
  const second = `${person.userId}-second`;
  let t = completed + r.int(3, 10) * DAY + r.int(0, 6 * HOUR);
  if (t + HOUR >= end) return;
  const context = (at: number) => browserContext(person, at, '/signup', 'Signup');
  timeline.add(t, { type: 'track', event: 'signup_started', anonymousId, context: context(t) });
  t += r.int(30, 90) * SECOND;
  timeline.add(t, {
    type: 'track',
    event: 'signup_completed',
    anonymousId,
    userId: second,
    context: context(t),
  });
  timeline.add(t + 1200, {
    type: 'identify',
    anonymousId,
    userId: second,
    traits: { plan: 'free' },
  });
  for (let i = 0; i < 2; i++) {
    t += r.int(2, 20) * MINUTE;
    timeline.add(t, { type: 'track', event: 'feature_used', userId: second, properties: {} });
  }
}

/** First payment, then monthly renewals while the user stays; some refunds. */
function emitPayments(person: Person, first: number, end: number): void {
  const { r, timeline, role } = person;
  let plan = r.pick(PLANS);
  let t = first;
  for (let n = 0; t < end; n++) {
    const price = r.pick(plan.prices);
    const revenue: unknown =
      n === 0 && role === 'junkRevenue'
        ? r.pick(NON_NUMERIC_REVENUE)
        : (n === 0 && role === 'stringRevenue') || r.chance(0.08)
          ? r.chance(0.2)
            ? ` ${price.toFixed(2)} `
            : price.toFixed(2)
          : r.chance(0.03)
            ? r.pick(NON_NUMERIC_REVENUE)
            : price;
    const properties = { plan: plan.plan, revenue, currency: 'USD' };
    if (r.chance(0.3)) {
      timeline.add(t - r.int(20, 90) * SECOND, {
        type: 'page',
        name: 'Checkout',
        ...idsAt(person, t, 'main'),
        // Page events carry no revenue for the collector: this one must be ignored.
        properties: { path: '/checkout', revenue: price },
        context: browserContext(person, t, '/checkout', 'Checkout'),
      });
      timeline.add(t, {
        type: 'track',
        event: 'payment_completed',
        ...idsAt(person, t, 'main'),
        properties,
        context: browserContext(person, t, '/checkout/done', 'Thank you'),
      });
    } else {
      timeline.add(t, {
        type: 'track',
        event: 'payment_completed',
        userId: person.userId,
        properties,
      });
    }
    if (r.chance(0.04) || (n === 0 && role === 'slowPayer')) {
      timeline.add(t + r.int(1, 3) * DAY, {
        type: 'track',
        event: 'refund_issued',
        userId: person.userId,
        properties: { plan: plan.plan, revenue: -price, currency: 'USD' },
      });
    }
    if (!r.chance(0.8)) return;
    if (r.chance(0.1)) plan = r.pick(PLANS);
    t += r.int(28, 31) * DAY + r.int(-6 * HOUR, 6 * HOUR);
  }
}
