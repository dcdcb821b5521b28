import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';

/** Browser, OS and device type of an event. */
export interface Device {
  browser: string | null;
  os: string | null;
  deviceType: string | null;
}

interface ClientHints {
  brands?: Array<{ brand?: string; version?: string }>;
  mobile?: boolean;
  platform?: string;
}

const IGNORED_BRANDS = /not.?a.?brand|chromium/i;
const deviceCache = new Map<string, Device>();

/**
 * Parses the user agent with ua-parser-js (v1, MIT), or Segment's `context.userAgentData`
 * (User-Agent Client Hints) when the UA string is missing or frozen. Results are cached per
 * UA string, since a site sees few distinct ones.
 *
 * @example
 * parseDevice('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) …');
 * // { browser: 'Mobile Safari', os: 'iOS', deviceType: 'mobile' }
 */
export function parseDevice(userAgent: unknown, hints: unknown): Device {
  const fromHints = parseHints(hints as ClientHints | undefined);
  if (typeof userAgent !== 'string' || userAgent === '') {
    return fromHints ?? { browser: null, os: null, deviceType: null };
  }
  let device = deviceCache.get(userAgent);
  if (!device) {
    const result = new UAParser(userAgent.slice(0, 512)).getResult();
    device = {
      browser: result.browser.name ?? null,
      os: result.os.name ?? null,
      // ua-parser-js leaves `type` undefined for desktops.
      deviceType: result.device.type ?? (result.os.name || result.browser.name ? 'desktop' : null),
    };
    if (deviceCache.size > 10_000) deviceCache.clear();
    deviceCache.set(userAgent, device);
  }
  return {
    browser: device.browser ?? fromHints?.browser ?? null,
    os: device.os ?? fromHints?.os ?? null,
    deviceType: fromHints?.deviceType === 'mobile' ? 'mobile' : device.deviceType,
  };
}

function parseHints(hints: ClientHints | undefined): Device | undefined {
  if (!hints || typeof hints !== 'object') return undefined;
  const brand = Array.isArray(hints.brands)
    ? hints.brands.find((entry) => entry?.brand && !IGNORED_BRANDS.test(entry.brand))?.brand
    : undefined;
  return {
    browser: brand ?? null,
    os: typeof hints.platform === 'string' && hints.platform ? hints.platform : null,
    deviceType: hints.mobile === true ? 'mobile' : hints.mobile === false ? 'desktop' : null,
  };
}

/** What to do with client IP addresses. */
export type IpPolicy = 'anonymize' | 'drop' | 'keep';

/**
 * Anonymises an IP address: IPv4 keeps its first three octets (last one zeroed), IPv6 its first
 * 48 bits (the last 80 zeroed), as Google Analytics and Matomo do.
 *
 * @example
 * anonymizeIp('203.0.113.77'); // '203.0.113.0'
 * anonymizeIp('2001:db8:85a3:1234:5678::1'); // '2001:db8:85a3::'
 */
export function anonymizeIp(ip: string): string | null {
  const version = isIP(ip);
  if (version === 4) return ip.replace(/\.\d+$/, '.0');
  if (version !== 6) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `::ffff:${anonymizeIp(mapped[1]!)}`;
  const groups = expandIpv6(ip).slice(0, 3).map((group) => group.replace(/^0+(?=.)/, ''));
  return `${groups.join(':')}::`;
}

function expandIpv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  return [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
}

/** Applies the IP policy. */
export function applyIpPolicy(ip: string | undefined, policy: IpPolicy): string | null {
  if (!ip || policy === 'drop') return null;
  if (policy === 'keep') return isIP(ip) ? ip : null;
  return anonymizeIp(ip);
}

/**
 * The client address of a request: the socket address, or with `trustProxy` the address that
 * the trusted proxies put in `X-Forwarded-For` (`true`: the left-most; a number n: the n-th from
 * the right, skipping the n-1 proxies in front of the collector).
 */
export function clientAddress(
  forwardedFor: string | null,
  socketAddress: string | undefined,
  trustProxy: boolean | number,
): string | undefined {
  if (!trustProxy || !forwardedFor) return socketAddress;
  const hops = forwardedFor
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const pick = trustProxy === true ? hops[0] : hops[hops.length - trustProxy];
  return pick && isIP(pick) ? pick : socketAddress;
}

/** UTM parameters and advertising click ids. */
export interface Campaign {
  source?: string;
  medium?: string;
  name?: string;
  term?: string;
  content?: string;
}

const CLICK_IDS = [
  'gclid', 'gbraid', 'wbraid', 'dclid', 'fbclid', 'msclkid', 'ttclid', 'li_fat_id', 'twclid',
  'epik', 'rdt_cid', 'sccid', 'irclickid', 'yclid', 'mc_cid',
];

/**
 * UTM parameters and click ids from a page URL, for events whose `context.campaign` is missing.
 *
 * @example
 * campaignFromUrl('https://x.io/?utm_source=news&gclid=abc');
 * // { campaign: { source: 'news' }, clickIds: { gclid: 'abc' } }
 */
export function campaignFromUrl(url: unknown): { campaign?: Campaign; clickIds?: Record<string, string> } {
  if (typeof url !== 'string' || !url.includes('?')) return {};
  let params: URLSearchParams;
  try {
    params = new URL(url, 'http://placeholder.invalid').searchParams;
  } catch {
    return {};
  }
  const campaign: Campaign = {};
  for (const [param, field] of [
    ['utm_source', 'source'],
    ['utm_medium', 'medium'],
    ['utm_campaign', 'name'],
    ['utm_term', 'term'],
    ['utm_content', 'content'],
  ] as const) {
    const value = params.get(param);
    if (value) campaign[field] = value.slice(0, 256);
  }
  const clickIds: Record<string, string> = {};
  for (const id of CLICK_IDS) {
    const value = params.get(id);
    if (value) clickIds[id] = value.slice(0, 512);
  }
  return {
    campaign: Object.keys(campaign).length > 0 ? campaign : undefined,
    clickIds: Object.keys(clickIds).length > 0 ? clickIds : undefined,
  };
}

/**
 * The host name of a referrer URL, without `www.`.
 *
 * @example
 * referrerDomain('https://www.google.com/search?q=x'); // 'google.com'
 */
export function referrerDomain(referrer: unknown): string | null {
  if (typeof referrer !== 'string' || referrer === '') return null;
  try {
    return new URL(referrer).hostname.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
}
