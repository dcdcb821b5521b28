import { describe, expect, it } from 'vitest';
import type { RawContext, RawEvent } from './catalog';
import { createReference } from './reference';

let count = 0;
function event(
  type: RawEvent['type'],
  timestamp: string,
  fields: Omit<RawEvent, 'type' | 'timestamp' | 'messageId'>,
): RawEvent {
  return { type, messageId: `hand-${count++}`, timestamp, ...fields };
}
const page = (url: string, referrer = '', sessionId?: string): RawContext => ({
  page: { url: `https://demo.app${url}`, path: url.split('?')[0]!, referrer, title: 'x' },
  ...(sessionId ? { sessionId } : {}),
});

/**
 * Alice browses anonymously (a1), signs up a day later and pays twice; Bob (b1) never signs up;
 * Carol only ever sends her user id; a marketing account reports ad spend.
 */
const EVENTS: RawEvent[] = [
  // Alice
  event('page', '2024-03-01T10:00:00.000Z', {
    name: 'Home',
    anonymousId: 'a1',
    context: page('/', 'https://www.google.com/search?q=x', 's-a1'),
  }),
  event('track', '2024-03-01T10:05:00.000Z', {
    event: 'signup_started',
    anonymousId: 'a1',
    properties: { variant: 'a' },
    context: { sessionId: 's-a1' },
  }),
  event('track', '2024-03-02T09:00:00.000Z', {
    event: 'signup_completed',
    anonymousId: 'a1',
    userId: 'alice',
  }),
  event('identify', '2024-03-02T09:00:01.000Z', { anonymousId: 'a1', userId: 'alice' }),
  event('track', '2024-03-05T08:00:00.000Z', {
    event: 'payment_completed',
    userId: 'alice',
    properties: { plan: 'pro', revenue: 19.9 },
  }),
  event('track', '2024-04-03T08:00:00.000Z', {
    event: 'payment_completed',
    userId: 'alice',
    properties: { plan: 'pro', revenue: '19.90' },
  }),
  event('page', '2024-04-03T09:00:00.000Z', {
    name: 'Dashboard',
    anonymousId: 'a1',
    context: page('/app', 'https://t.co/x', 's-a2'),
  }),
  // Bob, in a session across UTC midnight
  event('page', '2024-03-01T23:50:00.000Z', {
    name: 'Home',
    anonymousId: 'b1',
    context: page('/?utm_source=newsletter&utm_medium=email', '', 's-b1'),
  }),
  event('track', '2024-03-02T00:10:00.000Z', {
    event: 'signup_started',
    anonymousId: 'b1',
    properties: { variant: 'b' },
    context: { sessionId: 's-b1' },
  }),
  event('page', '2024-03-09T12:00:00.000Z', {
    name: 'Pricing',
    anonymousId: 'b1',
    context: page('/pricing', '', 's-b2'),
  }),
  // Carol: the SDK's campaign wins over the URL's
  event('track', '2024-03-03T12:00:00.000Z', {
    event: 'signup_started',
    userId: 'carol',
    properties: { variant: 'a' },
    context: {
      ...page('/signup?utm_source=partner'),
      campaign: { source: 'google', medium: 'cpc', name: 'brand' },
    },
  }),
  event('track', '2024-03-03T12:00:30.000Z', { event: 'signup_completed', userId: 'carol' }),
  event('track', '2024-03-03T12:10:00.000Z', {
    event: 'payment_completed',
    userId: 'carol',
    properties: { plan: 'team', revenue: 'free' },
  }),
  // Marketing (2024-03-01T06:00Z is still February 29th in Los Angeles)
  event('track', '2024-03-01T06:00:00.000Z', {
    event: 'ad_spend',
    userId: 'mk',
    properties: { amount: 100 },
  }),
  event('track', '2024-03-02T06:00:00.000Z', {
    event: 'ad_spend',
    userId: 'mk',
    properties: { amount: 50.5 },
  }),
];
const reference = createReference(EVENTS);
const MARCH = { from: '2024-03-01', to: '2024-03-31' };
const values = (points: Array<{ value: number }>) => points.map((point) => point.value);

describe('reference series', () => {
  const days = { from: '2024-03-01', to: '2024-03-03', interval: 'day' as const, tz: 'UTC' };

  it('counts an anonymous visitor who signs up as one user, from the first page view on', () => {
    expect(reference.series('dau', days)).toEqual([
      { date: '2024-03-01', value: 3 },
      { date: '2024-03-02', value: 3 },
      { date: '2024-03-03', value: 1 },
    ]);
    // a1 and alice are one user: WAU on the 2nd is alice, bob, mk.
    expect(values(reference.series('wau', days))).toEqual([3, 3, 4]);
    expect(values(reference.series('new_users', days))).toEqual([3, 0, 1]);
    expect(values(reference.series('stickiness', days))).toEqual([1, 1, 0.25]);
  });

  it('moves events across midnight with the time zone', () => {
    const kolkata = { ...days, to: '2024-03-02', tz: 'Asia/Kolkata' };
    expect(values(reference.series('dau', kolkata))).toEqual([2, 3]);
    expect(values(reference.series('events', kolkata))).toEqual([3, 5]);
    const losAngeles = { ...days, from: '2024-02-29', to: '2024-03-02', tz: 'America/Los_Angeles' };
    expect(values(reference.series('dau', losAngeles))).toEqual([1, 3, 1]);
  });

  it('sums or averages daily values per ISO week and month, dated by the period start', () => {
    const weeks = { from: '2024-03-01', to: '2024-03-10', interval: 'week' as const, tz: 'UTC' };
    expect(reference.series('dau', weeks)).toEqual([
      { date: '2024-02-26', value: 7 / 3 },
      { date: '2024-03-04', value: 2 / 7 },
    ]);
    expect(values(reference.series('events', weeks))).toEqual([11, 2]);
    expect(values(reference.series('events', { ...weeks, event: 'signup_started' }))).toEqual([
      3, 0,
    ]);
    const months = { from: '2024-03-01', to: '2024-04-30', interval: 'month' as const, tz: 'UTC' };
    // Numbers and decimal strings count; 'free' does not.
    expect(reference.series('revenue', months)).toEqual([
      { date: '2024-03-01', value: 19.9 },
      { date: '2024-04-01', value: 19.9 },
    ]);
  });
});

describe('reference funnel', () => {
  const steps = [
    { event: 'signup_started' },
    { event: 'signup_completed' },
    { event: 'payment_completed' },
  ];
  const base = { steps, windowSeconds: 7 * 86_400, ...MARCH, tz: 'UTC' };

  it('follows one user from anonymous entry to identified steps, with medians', () => {
    expect(reference.funnel(base).steps).toEqual([
      {
        event: 'signup_started',
        users: 3,
        conversionFromStart: 1,
        conversionFromPrevious: 1,
        medianSecondsFromPrevious: null,
      },
      {
        event: 'signup_completed',
        users: 2,
        conversionFromStart: 2 / 3,
        conversionFromPrevious: 2 / 3,
        medianSecondsFromPrevious: (82_500 + 30) / 2,
      },
      {
        event: 'payment_completed',
        users: 2,
        conversionFromStart: 2 / 3,
        conversionFromPrevious: 1,
        medianSecondsFromPrevious: (255_600 + 570) / 2,
      },
    ]);
  });

  it('drops steps outside the window and events failing a where filter', () => {
    const day = reference.funnel({ ...base, windowSeconds: 86_400 }).steps;
    expect(day.map((step) => step.users)).toEqual([3, 2, 1]);
    expect(day[2]!.medianSecondsFromPrevious).toBe(570);
    const pro = reference.funnel({
      ...base,
      steps: [steps[0]!, steps[1]!, { event: 'payment_completed', where: { plan: 'pro' } }],
    }).steps;
    expect(pro.map((step) => step.users)).toEqual([3, 2, 1]);
    expect(pro[2]!.medianSecondsFromPrevious).toBe(255_600);
  });

  it('takes the entry in the range of the time zone', () => {
    const oneDay = { ...base, from: '2024-03-01', to: '2024-03-01' };
    expect(reference.funnel(oneDay).steps[0]!.users).toBe(1);
    expect(reference.funnel({ ...oneDay, tz: 'America/Los_Angeles' }).steps[0]!.users).toBe(2);
  });

  it('breaks down by the entry event, by users desc, then value, null last', () => {
    const variant = reference.funnel({ ...base, breakdown: 'properties.variant' }).breakdown;
    expect(variant?.map((group) => [group.value, group.steps.map((step) => step.users)])).toEqual([
      ['a', [2, 2, 2]],
      ['b', [1, 0, 0]],
    ]);
    const source = reference.funnel({ ...base, breakdown: 'utm_source' }).breakdown;
    expect(source?.map((group) => [group.value, group.steps[0]!.users])).toEqual([
      [null, 2],
      ['google', 1],
    ]);
  });
});

describe('reference retention', () => {
  it('puts an anonymous-then-identified user in one cohort, from its first event', () => {
    const weeks = reference.retention({
      interval: 'week',
      periods: 3,
      from: '2024-02-26',
      to: '2024-03-31',
      tz: 'UTC',
    });
    expect(weeks.cohorts).toEqual([
      { cohort: '2024-02-26', size: 4, retained: [4, 2, 0], percent: [100, 50, 0] },
    ]);
    const months = reference.retention({ interval: 'month', periods: 2, ...MARCH, tz: 'UTC' });
    expect(months.cohorts.map((cohort) => cohort.retained)).toEqual([[4, 1]]);
  });

  it('uses start and return events', () => {
    const result = reference.retention({
      interval: 'week',
      periods: 2,
      startEvent: 'signup_started',
      returnEvent: 'payment_completed',
      from: '2024-02-26',
      to: '2024-03-31',
      tz: 'UTC',
    });
    expect(result.cohorts).toEqual([
      { cohort: '2024-02-26', size: 3, retained: [3, 1], percent: [100, (1 / 3) * 100] },
    ]);
  });

  it('reads cohorts and returns as days of the time zone', () => {
    const query = { interval: 'day' as const, periods: 2, from: '2024-03-01', to: '2024-03-01' };
    expect(reference.retention({ ...query, tz: 'UTC' }).cohorts[0]!.retained).toEqual([3, 3]);
    expect(reference.retention({ ...query, tz: 'Asia/Kolkata' }).cohorts[0]!.retained).toEqual([
      2, 2,
    ]);
  });
});

describe('reference dashboard', () => {
  it('reports March: no churn without February activity, CAC from ad spend', () => {
    const march = reference.dashboard({ ...MARCH, tz: 'UTC' });
    expect(march).toEqual({
      dau: 0,
      wau: 0,
      mau: 4,
      newUsers: 4,
      revenue: 19.9,
      signups: 2,
      conversion: 1,
      churn: null,
      arpu: 19.9 / 4,
      ltv: null,
      cac: 150.5 / 2,
      ltvCac: null,
      acquisitionSpend: 150.5,
      newPayingUsers: 2,
    });
    expect(reference.dashboard({ ...MARCH, tz: 'UTC', acquisitionSpend: 300 }).cac).toBe(150);
  });

  it('reports churn, ARPU, LTV and LTV/CAC of the last month of the range', () => {
    const both = reference.dashboard({ from: '2024-03-01', to: '2024-04-30', tz: 'UTC' });
    expect(both.churn).toBe(0.75);
    expect(both.arpu).toBeCloseTo(19.9, 10);
    expect(both.ltv).toBeCloseTo(19.9 / 0.75, 10);
    expect(both.cac).toBe(75.25);
    expect(both.ltvCac).toBeCloseTo(19.9 / 0.75 / 75.25, 10);
    expect(both.revenue).toBeCloseTo(39.8, 10);
    const april = reference.dashboard({ from: '2024-04-01', to: '2024-04-30', tz: 'UTC' });
    expect([april.mau, april.signups, april.conversion, april.cac]).toEqual([1, 0, 0, null]);
  });
});

describe('reference attribution', () => {
  it('credits each user to its first touch ever, direct when none', () => {
    const { channels } = reference.attribution({ ...MARCH, tz: 'UTC', model: 'first_touch' });
    expect(channels).toEqual([
      {
        utmSource: 'google',
        utmMedium: 'cpc',
        utmCampaign: 'brand',
        referrerDomain: null,
        users: 1,
        sessions: 0,
        conversions: 1,
        revenue: 0,
      },
      {
        utmSource: 'newsletter',
        utmMedium: 'email',
        utmCampaign: null,
        referrerDomain: null,
        users: 1,
        sessions: 2,
        conversions: 0,
        revenue: 0,
      },
      {
        utmSource: null,
        utmMedium: null,
        utmCampaign: null,
        referrerDomain: 'google.com',
        users: 1,
        sessions: 1,
        conversions: 1,
        revenue: 19.9,
      },
      {
        utmSource: null,
        utmMedium: null,
        utmCampaign: null,
        referrerDomain: null,
        users: 1,
        sessions: 0,
        conversions: 0,
        revenue: 0,
      },
    ]);
  });

  it('credits the last touch up to the end of the range', () => {
    const april = { from: '2024-04-01', to: '2024-04-30', tz: 'UTC' };
    const last = reference.attribution({ ...april, model: 'last_touch' }).channels;
    expect(last.map((channel) => [channel.referrerDomain, channel.users, channel.revenue])).toEqual(
      [['t.co', 1, 19.9]],
    );
    const first = reference.attribution({ ...april, model: 'first_touch' }).channels;
    expect(first.map((channel) => channel.referrerDomain)).toEqual(['google.com']);
    const march = reference.attribution({ ...MARCH, tz: 'UTC', model: 'last_touch' }).channels;
    expect(march.find((channel) => channel.sessions === 1)?.referrerDomain).toBe('google.com');
  });
});

describe('reference usage and user events', () => {
  it('counts stored events per UTC day and name (type for identify)', () => {
    expect(reference.usage({ from: '2024-03-01', to: '2024-03-02' })).toEqual([
      { date: '2024-03-01', event: 'Home', count: 2 },
      { date: '2024-03-01', event: 'ad_spend', count: 1 },
      { date: '2024-03-01', event: 'signup_started', count: 1 },
      { date: '2024-03-02', event: 'ad_spend', count: 1 },
      { date: '2024-03-02', event: 'identify', count: 1 },
      { date: '2024-03-02', event: 'signup_completed', count: 1 },
      { date: '2024-03-02', event: 'signup_started', count: 1 },
    ]);
  });

  it('returns every event of a user key, anonymous ones included', () => {
    expect(reference.userEvents('alice').map((e) => e.messageId)).toEqual(
      EVENTS.slice(0, 7).map((e) => e.messageId),
    );
    expect(reference.userEvents('a1')).toEqual([]);
  });

  it('links an anonymous id to its earliest user id; a tie goes to the smaller user id', () => {
    const links = createReference([
      event('page', '2024-03-01T10:00:00.000Z', { name: 'Home', anonymousId: 'x1' }),
      event('identify', '2024-03-03T10:00:00.000Z', { anonymousId: 'x1', userId: 'zed' }),
      event('identify', '2024-03-05T10:00:00.000Z', { anonymousId: 'x1', userId: 'amy' }),
      event('page', '2024-03-06T10:00:00.000Z', { name: 'Home', anonymousId: 'x1' }),
      event('page', '2024-03-01T11:00:00.000Z', { name: 'Home', anonymousId: 't1' }),
      event('identify', '2024-03-02T11:00:00.000Z', { anonymousId: 't1', userId: 'tb' }),
      event('alias', '2024-03-02T11:00:00.000Z', { previousId: 't1', userId: 'ta' }),
      event('page', '2024-03-02T12:00:00.000Z', { name: 'Home', anonymousId: 't1' }),
    ]);
    const names = (userId: string) =>
      links.userEvents(userId).map((e) => `${e.type}@${e.timestamp.slice(8, 10)}`);
    expect(names('zed')).toEqual(['page@01', 'identify@03', 'page@06']);
    expect(names('amy')).toEqual(['identify@05']);
    expect(names('ta')).toEqual(['page@01', 'alias@02', 'page@02']);
    expect(names('tb')).toEqual(['identify@02']);
    const dau = links.series('dau', {
      from: '2024-03-01',
      to: '2024-03-02',
      interval: 'day',
      tz: 'UTC',
    });
    expect(values(dau)).toEqual([2, 2]);
  });
});
