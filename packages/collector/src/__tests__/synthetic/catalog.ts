/** `context` of a generated event, as an SDK sends it. */
export interface RawContext {
  page?: { url: string; path: string; referrer: string; title: string };
  campaign?: { source?: string; medium?: string; name?: string };
  userAgent?: string;
  /** Strings from most SDKs; numbers (session start in ms) as Amplitude-style SDKs send them. */
  sessionId?: string | number;
}

/** One event exactly as an SDK posts it in a `/v1/batch` body (Segment spec, no `sentAt`). */
export interface RawEvent {
  type: 'track' | 'page' | 'identify' | 'alias';
  messageId: string;
  /** ISO-8601 with milliseconds and `Z`. */
  timestamp: string;
  anonymousId?: string;
  userId?: string;
  /** `alias` only. */
  previousId?: string;
  /** `track` only. */
  event?: string;
  /** `page` only. */
  name?: string;
  properties?: Record<string, unknown>;
  /** `identify` only. */
  traits?: Record<string, unknown>;
  context?: RawContext;
}

/** A property value as funnels filter and break down on it. */
export type PropertyValue = string | number | boolean | null;

/**
 * The user agents the generator uses, with what the collector stores for each (ua-parser-js
 * names; `desktop` when ua-parser-js reports no device type). The reference reads device fields
 * from this table instead of parsing user agents; an unknown user agent is an error there.
 *
 * @example
 * USER_AGENTS.find((entry) => entry.userAgent === ua)?.browser; // 'Chrome'
 */
export const USER_AGENTS: ReadonlyArray<{
  userAgent: string;
  browser: string;
  os: string;
  deviceType: string;
}> = [
  {
    userAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    browser: 'Chrome',
    os: 'Mac OS',
    deviceType: 'desktop',
  },
  {
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
    browser: 'Firefox',
    os: 'Windows',
    deviceType: 'desktop',
  },
  {
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    browser: 'Mobile Safari',
    os: 'iOS',
    deviceType: 'mobile',
  },
  {
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    browser: 'Chrome',
    os: 'Android',
    deviceType: 'mobile',
  },
  {
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
    browser: 'Edge',
    os: 'Windows',
    deviceType: 'desktop',
  },
  {
    userAgent:
      'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    browser: 'Mobile Safari',
    os: 'iOS',
    deviceType: 'tablet',
  },
];

/** The demo site every generated page belongs to. */
export const SITE = 'https://sightline-demo.app';

/** How a visit arrives: referrer, query string of the landing URL, SDK-set campaign. */
export interface Channel {
  weight: number;
  referrer: string;
  query: string;
  campaign?: { source?: string; medium?: string; name?: string };
}

/**
 * Arrival channels, weighted. Covers direct visits, plain referrers, UTM in the URL only, UTM in
 * `context.campaign` only, both (the context wins, as in the collector), partial UTM and a query
 * string without UTM.
 */
export const CHANNELS: readonly Channel[] = [
  { weight: 30, referrer: '', query: '' },
  { weight: 14, referrer: 'https://www.google.com/search?q=product+analytics', query: '' },
  { weight: 6, referrer: 'https://news.ycombinator.com/', query: '' },
  {
    weight: 6,
    referrer: 'https://t.co/sightline',
    query: '?utm_source=twitter&utm_medium=social&utm_campaign=launch_week',
  },
  {
    weight: 8,
    referrer: '',
    query: '?utm_source=newsletter&utm_medium=email&utm_campaign=weekly_digest',
  },
  {
    weight: 8,
    referrer: 'https://www.google.com/',
    query: '',
    campaign: { source: 'google', medium: 'cpc', name: 'brand_search' },
  },
  {
    weight: 4,
    referrer: 'https://www.facebook.com/',
    query: '?utm_source=partner&utm_medium=referral',
    campaign: { source: 'facebook', medium: 'paid_social', name: 'retargeting' },
  },
  { weight: 4, referrer: '', query: '?utm_source=producthunt' },
  { weight: 4, referrer: 'https://github.com/sightline-analytics/sightline', query: '' },
  { weight: 3, referrer: 'https://duckduckgo.com/', query: '?ref=ddg' },
];

/** Marketing pages, visited before signup. */
export const MARKETING_PAGES = [
  { name: 'Home', path: '/' },
  { name: 'Pricing', path: '/pricing' },
  { name: 'Docs', path: '/docs' },
  { name: 'Blog', path: '/blog/funnels-explained' },
  { name: 'Features', path: '/features' },
] as const;

/** Product pages, visited once signed in. */
export const APP_PAGES = [
  { name: 'Dashboard', path: '/app' },
  { name: 'Reports', path: '/app/reports' },
  { name: 'Settings', path: '/app/settings' },
] as const;

/** Plans and monthly prices (numbers with cents). */
export const PLANS: ReadonlyArray<{ plan: string; prices: readonly number[] }> = [
  { plan: 'pro', prices: [19.9, 29.99] },
  { plan: 'team', prices: [49.5, 99.99] },
];

/** `properties.revenue` values the collector must ignore. */
export const NON_NUMERIC_REVENUE: readonly string[] = ['free', '$19.90', '19,90', 'n/a', ''];
