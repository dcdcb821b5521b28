/** The read requests the store parity test sends to every store, each with a readable name. */
export interface ParityCase {
  name: string;
  path: string;
  body?: unknown;
}

export const SERIES = 'dau,wau,mau,stickiness,new_users,events,revenue';

const FUNNEL_STEPS = [
  { event: 'signup_started' },
  { event: 'signup_completed' },
  { event: 'project_created' },
  { event: 'payment_completed', where: { plan: 'pro' } },
];

const query = (parameters: Record<string, string>) => new URLSearchParams(parameters).toString();

/**
 * Every metric endpoint over the golden dataset (generateEvents seed 7, January–mid-March 2024):
 * series for every name and interval in three time zones, funnels with filters and every kind of
 * breakdown, retention with and without start/return events, the dashboard, attribution with both
 * models, usage, event listings with each filter, and CSV exports.
 */
export const PARITY_CASES: ParityCase[] = [
  ...['UTC', 'America/Los_Angeles', 'Asia/Kolkata'].flatMap((tz) =>
    ['day', 'week', 'month'].map((interval) => ({
      name: `series by ${interval} in ${tz}`,
      path: `/v1/metrics?${query({ names: SERIES, from: '2024-01-20', to: '2024-03-10', interval, tz })}`,
    })),
  ),
  {
    name: 'series over instants (ISO from/to)',
    path: `/v1/metrics?${query({ names: SERIES, from: '2024-02-03T05:30:00Z', to: '2024-02-20T17:00:00.500Z', tz: 'Europe/Paris' })}`,
  },
  {
    name: 'events of one name',
    path: `/v1/metrics?${query({ names: 'events', event: 'page_viewed', from: '2024-01-01', to: '2024-03-15', interval: 'week', tz: 'Europe/Paris' })}`,
  },
  ...['UTC', 'America/Los_Angeles'].flatMap((tz) => [
    {
      name: `funnel with a where filter and a breakdown by utm_source in ${tz}`,
      path: '/v1/funnel',
      body: {
        steps: FUNNEL_STEPS,
        windowSeconds: 7 * 86_400,
        from: '2024-01-01',
        to: '2024-02-29',
        tz,
        breakdown: 'utm_source',
      },
    },
    {
      name: `funnel broken down by a property in ${tz}`,
      path: '/v1/funnel',
      body: {
        steps: [{ event: 'signup_completed' }, { event: 'payment_completed' }],
        windowSeconds: 30 * 86_400,
        from: '2024-01-01',
        to: '2024-03-15',
        tz,
        breakdown: 'properties.plan',
      },
    },
    ...['day', 'week', 'month'].map((interval) => ({
      name: `retention by ${interval} in ${tz}`,
      path: '/v1/retention',
      body: {
        interval,
        periods: interval === 'month' ? 3 : 8,
        from: '2024-01-01',
        to: '2024-02-20',
        tz,
      },
    })),
    {
      name: `retention from a start to a return event in ${tz}`,
      path: '/v1/retention',
      body: {
        interval: 'week',
        periods: 6,
        from: '2024-01-01',
        to: '2024-02-20',
        tz,
        startEvent: 'signup_completed',
        returnEvent: 'project_created',
      },
    },
    {
      name: `dashboard KPIs and the previous range's in ${tz}`,
      path: `/v1/dashboard?${query({ from: '2024-02-01', to: '2024-03-12', tz, compare: 'previous' })}`,
    },
    ...['first_touch', 'last_touch'].map((model) => ({
      name: `attribution, ${model}, in ${tz}`,
      path: `/v1/attribution?${query({ from: '2024-01-15', to: '2024-03-01', tz, model })}`,
    })),
  ]),
  ...['browser', 'os', 'device_type', 'referrer_domain', 'utm_campaign'].map((breakdown) => ({
    name: `funnel broken down by ${breakdown}, a short window`,
    path: '/v1/funnel',
    body: {
      steps: [{ event: 'signup_started' }, { event: 'signup_completed' }],
      windowSeconds: 3_600,
      from: '2024-01-10',
      to: '2024-03-01',
      breakdown,
    },
  })),
  {
    name: 'funnel of three steps, no breakdown, a filter on a missing property',
    path: '/v1/funnel',
    body: {
      steps: [
        { event: 'signup_started' },
        { event: 'signup_completed' },
        { event: 'payment_completed', where: { coupon: 'none' } },
      ],
      windowSeconds: 14 * 86_400,
      from: '2024-01-01',
      to: '2024-03-15',
    },
  },
  {
    name: 'funnel with a numeric property filter',
    path: '/v1/funnel',
    body: {
      steps: [
        { event: 'payment_completed' },
        { event: 'payment_completed', where: { revenue: 29.99 } },
      ],
      windowSeconds: 60 * 86_400,
      from: '2024-01-01',
      to: '2024-03-15',
    },
  },
  {
    name: 'retention by day over one period',
    path: '/v1/retention',
    body: { interval: 'day', periods: 1, from: '2024-02-01', to: '2024-02-10' },
  },
  {
    name: 'dashboard of a range ending mid-month in Asia/Kolkata',
    path: `/v1/dashboard?${query({ from: '2024-01-01', to: '2024-02-14', tz: 'Asia/Kolkata' })}`,
  },
  { name: 'usage', path: '/v1/usage?from=2024-01-01&to=2024-03-31' },
  { name: 'events listing', path: '/v1/events?limit=200' },
  {
    name: 'events listing filtered by name and time',
    path: '/v1/events?event=payment_completed&from=2024-02-01&to=2024-02-29&limit=100',
  },
  {
    name: 'events listing filtered by type and instants',
    path: '/v1/events?type=identify&from=2024-01-05T12:00:00Z&to=2024-02-05T00:00:00.001Z&limit=1000',
  },
  { name: 'CSV export', path: '/v1/export.csv' },
  { name: 'CSV export, filtered', path: '/v1/export.csv?type=identify&limit=50' },
  { name: 'CSV export of one name', path: '/v1/export.csv?event=payment_completed' },
];
