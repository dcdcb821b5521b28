import { isIP } from 'node:net';
import { CLICK_IDS } from '@sightline/core';
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
/** Client-hint brands and platforms under the names ua-parser-js gives, so both paths group together. */
const HINT_BROWSERS: Record<string, string> = {
  'google chrome': 'Chrome',
  'microsoft edge': 'Edge',
  'samsung internet': 'Samsung Browser',
  'opera gx': 'Opera GX',
  yandex: 'Yandex',
};
const HINT_PLATFORMS: Record<string, string> = {
  macos: 'Mac OS',
  'chrome os': 'Chromium OS',
  chromeos: 'Chromium OS',
};
/** Crawlers, link previewers and headless browsers: stored with deviceType `bot`. */
const BOT_PATTERN =
  /(?<!cu)bot\b|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|bingpreview|headlesschrome|phantomjs|lighthouse|pingdom|uptimerobot/i;
const BOT_NAME = /([a-z][\w-]*?(?:bot|crawler|spider))\b/i;
const MAX_UA_LENGTH = 512;
const deviceCache = new Map<string, Device>();

/**
 * Parses the user agent with ua-parser-js (v1, MIT), or Segment's `context.userAgentData`
 * (User-Agent Client Hints) when the UA string is missing or frozen. Crawlers get deviceType
 * `bot` (ua-parser-js v1 does not detect them). Client-hint names are mapped to ua-parser-js's
 * (`Google Chrome` → `Chrome`, `macOS` → `Mac OS`). Results are cached per UA string, since a
 * site sees few distinct ones.
 *
 * @example
 * parseDevice('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) …');
 * // { browser: 'Mobile Safari', os: 'iOS', deviceType: 'mobile' }
 */
export function parseDevice(userAgent: unknown, hints: unknown): Device {
  const fromHints = parseHints(hints as ClientHints | undefined);
  if (typeof userAgent !== 'string' || userAgent.trim() === '') {
    return fromHints ?? { browser: null, os: null, deviceType: null };
  }
  // Cache on the truncated string, so a client sending 30 KB user agents cannot fill memory.
  const ua = userAgent.slice(0, MAX_UA_LENGTH);
  let device = deviceCache.get(ua);
  if (!device) {
    device = parseUserAgent(ua);
    if (deviceCache.size >= 10_000) deviceCache.clear();
    deviceCache.set(ua, device);
  }
  if (device.deviceType === 'bot') return device;
  return {
    browser: device.browser ?? fromHints?.browser ?? null,
    os: device.os ?? fromHints?.os ?? null,
    deviceType:
      fromHints?.deviceType === 'mobile'
        ? 'mobile'
        : (device.deviceType ?? fromHints?.deviceType ?? null),
  };
}

function parseUserAgent(ua: string): Device {
  const result = new UAParser(ua).getResult();
  if (BOT_PATTERN.test(ua)) {
    return {
      browser: BOT_NAME.exec(ua)?.[1] ?? result.browser.name ?? null,
      os: result.os.name ?? null,
      deviceType: 'bot',
    };
  }
  return {
    browser: result.browser.name ?? null,
    os: result.os.name ?? null,
    // ua-parser-js leaves `type` undefined for desktops.
    deviceType: result.device.type ?? (result.os.name || result.browser.name ? 'desktop' : null),
  };
}

function parseHints(hints: ClientHints | undefined): Device | undefined {
  if (!hints || typeof hints !== 'object') return undefined;
  const brand = Array.isArray(hints.brands)
    ? hints.brands.find(
        (entry) =>
          typeof entry?.brand === 'string' &&
          entry.brand !== '' &&
          !IGNORED_BRANDS.test(entry.brand),
      )?.brand
    : undefined;
  const platform =
    typeof hints.platform === 'string' && hints.platform.trim() ? hints.platform.trim() : undefined;
  return {
    browser: brand ? (HINT_BROWSERS[brand.toLowerCase()] ?? brand).slice(0, 64) : null,
    os: platform ? (HINT_PLATFORMS[platform.toLowerCase()] ?? platform).slice(0, 64) : null,
    deviceType: hints.mobile === true ? 'mobile' : hints.mobile === false ? 'desktop' : null,
  };
}

/** What to do with client IP addresses. */
export type IpPolicy = 'anonymize' | 'drop' | 'keep';

/**
 * Anonymises an IP address: IPv4 keeps its first three octets (last one zeroed), IPv6 its first
 * 48 bits (the last 80 zeroed), as Google Analytics and Matomo do. IPv4-mapped IPv6 addresses
 * (`::ffff:a.b.c.d`, what dual-stack sockets report for IPv4 clients) are treated as the IPv4
 * address they carry. IPv6 results are in canonical form (RFC 5952). Returns null for anything
 * that is not an IP address.
 *
 * @example
 * anonymizeIp('203.0.113.77'); // '203.0.113.0'
 * anonymizeIp('2001:db8:85a3:1234:5678::1'); // '2001:db8:85a3::'
 * anonymizeIp('::ffff:203.0.113.77'); // '203.0.113.0'
 */
export function anonymizeIp(ip: string): string | null {
  const version = isIP(ip);
  if (version === 4) return ip.replace(/\.\d+$/, '.0');
  if (version !== 6) return null;
  const groups = parseIpv6(ip);
  const mapped = mappedIpv4(groups);
  if (mapped) return mapped.replace(/\.\d+$/, '.0');
  return formatIpv6([...groups.slice(0, 3), 0, 0, 0, 0, 0]);
}

/**
 * An IP address in one spelling per address: IPv4 as is, IPv4-mapped IPv6 as its IPv4 address,
 * other IPv6 in canonical form (lower case, zeros compressed, zone id removed); null when `ip` is
 * not an IP address.
 *
 * @example
 * canonicalIp('2001:DB8:0:0::1'); // '2001:db8::1'
 */
export function canonicalIp(ip: string): string | null {
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) return null;
  const groups = parseIpv6(ip);
  return mappedIpv4(groups) ?? formatIpv6(groups);
}

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 and zone id allowed). */
function parseIpv6(ip: string): number[] {
  let text = ip.split('%')[0]!.toLowerCase();
  const tail: number[] = [];
  const embedded = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (embedded) {
    const [a, b, c, d] = embedded.slice(1).map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, embedded.index);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const hex = (part: string) =>
    part ? part.split(':').map((group) => Number.parseInt(group, 16)) : [];
  const at = text.indexOf('::');
  if (at < 0) return [...hex(text), ...tail];
  const left = hex(text.slice(0, at));
  const right = [...hex(text.slice(at + 2)), ...tail];
  return [...left, ...Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

function mappedIpv4(groups: readonly number[]): string | undefined {
  if (groups.slice(0, 5).some((group) => group !== 0) || groups[5] !== 0xffff) return undefined;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let index = 0; index < groups.length; ) {
    if (groups[index] !== 0) {
      index++;
      continue;
    }
    let end = index;
    while (end < groups.length && groups[end] === 0) end++;
    if (end - index > bestLength) {
      bestStart = index;
      bestLength = end - index;
    }
    index = end;
  }
  const hex = (list: readonly number[]) => list.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Applies the IP policy. */
export function applyIpPolicy(ip: string | undefined, policy: IpPolicy): string | null {
  if (!ip || policy === 'drop') return null;
  if (policy === 'keep') return canonicalIp(ip);
  return anonymizeIp(ip);
}

/**
 * The client address of a request: the socket address, or with `trustProxy` the address that
 * the trusted proxies put in `X-Forwarded-For` (`true`: the left-most; a number n: the n-th from
 * the right, skipping the n-1 proxies in front of the collector, or the left-most when there are
 * fewer entries). Entries with a port (`203.0.113.7:5100`, `[2001:db8::1]:443`) count without it;
 * an entry that is not an IP address falls back to the socket address.
 */
export function clientAddress(
  forwardedFor: string | null,
  socketAddress: string | undefined,
  trustProxy: boolean | number,
): string | undefined {
  if (!trustProxy || !forwardedFor) return socketAddress;
  if (typeof trustProxy === 'number' && !(trustProxy >= 1)) return socketAddress;
  const hops = forwardedFor
    .split(',')
    .map((part) => withoutPort(part.trim()))
    .filter(Boolean);
  if (hops.length === 0) return socketAddress;
  const pick =
    trustProxy === true ? hops[0] : hops[Math.max(0, hops.length - Math.floor(trustProxy))];
  return pick && isIP(pick) ? pick : socketAddress;
}

function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const ipv4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return ipv4 ? ipv4[1]! : hop;
}

/** UTM parameters and advertising click ids. */
export interface Campaign {
  source?: string;
  medium?: string;
  name?: string;
  term?: string;
  content?: string;
}

/**
 * UTM parameters and click ids from a page URL, for events whose `context.campaign` is missing.
 *
 * @example
 * campaignFromUrl('https://x.io/?utm_source=news&gclid=abc');
 * // { campaign: { source: 'news' }, clickIds: { gclid: 'abc' } }
 */
export function campaignFromUrl(url: unknown): {
  campaign?: Campaign;
  clickIds?: Record<string, string>;
} {
  if (typeof url !== 'string' || !url.includes('?')) return {};
  return cached(campaignCache, url, parseCampaign);
}

function parseCampaign(url: string): {
  campaign?: Campaign;
  clickIds?: Record<string, string>;
} {
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
  return cached(referrerCache, referrer, parseReferrerDomain);
}

function parseReferrerDomain(referrer: string): string | null {
  try {
    return new URL(referrer).hostname.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
}

/**
 * URL parsing costs microseconds and a site sends the same few page and referrer URLs over and
 * over: results are kept per string (frozen, since they are shared), up to 5,000 entries.
 */
const campaignCache = new Map<string, ReturnType<typeof parseCampaign>>();
const referrerCache = new Map<string, string | null>();

function cached<T>(cache: Map<string, T>, key: string, compute: (key: string) => T): T {
  let value = cache.get(key);
  if (value === undefined && !cache.has(key)) {
    value = compute(key);
    if (value !== null && typeof value === 'object') deepFreeze(value);
    if (cache.size >= 5000) cache.clear();
    if (key.length <= 2048) cache.set(key, value);
  }
  return value as T;
}

function deepFreeze(value: object): void {
  Object.freeze(value);
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child);
  }
}
