import { CLICK_IDS } from '@sightline/core';

/**
 * Where one visit came from: its UTM parameters, click ids and external referrer.
 *
 * @example
 * const touch: Touch = { campaign: { source: 'news', name: 'spring' }, landingPage: 'https://shop.io/', at: 0 };
 */
export interface Touch {
  /** Segment field names: `name` is `utm_campaign`. */
  campaign?: { source?: string; medium?: string; name?: string; term?: string; content?: string };
  clickIds?: Record<string, string>;
  /** The full referrer URL, only when it is external (not one of the own domains). */
  referrer?: string;
  /** The referrer's host name without `www.`, as the collector reports it. */
  referringDomain?: string;
  /** The URL the visit landed on, without its hash. */
  landingPage: string;
  /** When the touch was read (ms since the epoch). */
  at: number;
}

/**
 * How touches are read.
 *
 * @example
 * const options: AttributionOptions = { ownDomains: ['shop.io', 'pay.example'] };
 */
export interface AttributionOptions {
  /**
   * Host names whose links are navigation, not referrals; each covers its subdomains
   * (`example.com` covers `app.example.com`). The current page's host name always counts, without
   * `www.`: on `www.shop.io`, links from `shop.io` and `blog.shop.io` are own too.
   */
  ownDomains?: readonly string[];
}

/**
 * The first and last touch of a visitor, kept in storage; made by `createAttribution`.
 *
 * @example
 * attribution.capture(location.href, document.referrer, true);
 * attribution.context(); // { campaign: { source: 'news' }, clickIds: { gclid: 'abc' } }
 */
export interface Attribution {
  /** Called at every session start (and page load); returns nothing. */
  capture(href: string, referrer: string, sessionStarted: boolean): void;
  firstTouch(): Touch | undefined;
  lastTouch(): Touch | undefined;
  /** What events carry: { campaign?, clickIds? } of the last touch (fields absent when empty). */
  context(): { campaign?: Touch['campaign']; clickIds?: Record<string, string> };
}

type TouchStorage = {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
};

const CAMPAIGN_FIELDS = ['source', 'medium', 'name', 'term', 'content'] as const;

const FIRST_KEY = 'sightline.firstTouch';
const LAST_KEY = 'sightline.lastTouch';

/**
 * The touch a page load carries, or undefined when it is direct (no params, no external referrer).
 * Parameter names are matched case-insensitively (`UTM_SOURCE`, `GCLID`), since hand-written
 * campaign links often differ in case; values keep theirs, trimmed and cut like the collector
 * does (256 characters for campaign fields, 512 for click ids). Only http(s) referrers count.
 *
 * @example
 * readTouch('https://shop.io/?utm_source=news&gclid=abc#top', 'https://www.google.com/', Date.now());
 * // { campaign: { source: 'news' }, clickIds: { gclid: 'abc' }, referrer: 'https://www.google.com/',
 * //   referringDomain: 'google.com', landingPage: 'https://shop.io/?utm_source=news&gclid=abc', at }
 */
export function readTouch(
  href: string,
  referrer: string,
  now: number,
  options: AttributionOptions = {},
): Touch | undefined {
  try {
    const url = new URL(href);
    const params: Record<string, string> = {};
    // The first non-empty value of a repeated parameter wins, as URLSearchParams.get would pick it.
    url.searchParams.forEach((value, name) => {
      params[name.toLowerCase()] ||= value.trim();
    });
    url.hash = '';
    const touch = toTouch(
      (field) => params[`utm_${field === 'name' ? 'campaign' : field}`],
      (id) => params[id],
      isExternal(referrer, [url.hostname, ...(options.ownDomains ?? [])]) ? referrer : undefined,
      url.href,
      now,
    );
    return touch.campaign || touch.clickIds || touch.referrer ? touch : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps the first touch forever and the last touch per session. A session that starts with
 * campaign params or an external referrer replaces the last touch; a direct one keeps it, as GA4
 * and Amplitude do, so a visitor who comes back by typing the URL is still credited to the ad
 * that brought them. Storage failures never throw: touches then live in memory for the page.
 *
 * @example
 * const attribution = createAttribution(window.localStorage, Date.now, { ownDomains: ['shop.io'] });
 * attribution.capture(location.href, document.referrer, session.isNew);
 * event.context = { ...event.context, ...attribution.context() };
 */
export function createAttribution(
  storage: TouchStorage,
  now: () => number,
  options?: AttributionOptions,
): Attribution {
  let first: Touch | undefined;
  let last: Touch | undefined;
  // Another tab may have stored a touch since this one loaded; it must not be overwritten.
  const reload = () => {
    first = load(storage, FIRST_KEY) ?? first;
    last = load(storage, LAST_KEY) ?? last;
  };
  const save = (key: string, touch: Touch) => {
    try {
      storage.setItem(key, JSON.stringify(touch));
    } catch {
      // Quota or Safari private mode: the in-memory touch still serves this page.
    }
    return touch;
  };
  reload();
  return {
    capture(href, referrer, sessionStarted) {
      reload();
      const touch = readTouch(href, referrer, now(), options);
      if (!touch) return;
      if (!first) first = save(FIRST_KEY, touch);
      // Without a last touch, a mid-session one is still better than none (and matches the first).
      if (sessionStarted || !last) last = save(LAST_KEY, touch);
    },
    firstTouch: () => first,
    lastTouch: () => last,
    context() {
      const context: ReturnType<Attribution['context']> = {};
      // Copies, so pipeline steps that edit an event's context cannot edit the stored touch.
      if (last?.campaign) context.campaign = { ...last.campaign };
      if (last?.clickIds) context.clickIds = { ...last.clickIds };
      return context;
    },
  };
}

/** A stored touch, rebuilt through the same checks as a URL, so hostile JSON cannot inject junk. */
function load(storage: TouchStorage, key: string): Touch | undefined {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: untrusted JSON, every field is checked below.
    const stored: any = JSON.parse(storage.getItem(key)!);
    if (typeof stored.landingPage === 'string' && typeof stored.at === 'number') {
      return toTouch(
        (field) => stored.campaign?.[field],
        (id) => stored.clickIds?.[id],
        typeof stored.referrer === 'string' ? stored.referrer : undefined,
        stored.landingPage,
        stored.at,
      );
    }
  } catch {
    // Absent, unreadable or not JSON: no touch.
  }
  return undefined;
}

/** Builds a touch, leaving out what is empty, so JSON and `context()` never carry `undefined`. */
function toTouch(
  campaignField: (field: string) => unknown,
  clickId: (id: string) => unknown,
  referrer: string | undefined,
  landingPage: string,
  at: number,
): Touch {
  const touch: Touch = { landingPage, at };
  const campaign = pick(CAMPAIGN_FIELDS, campaignField, 256);
  const clickIds = pick(CLICK_IDS, clickId, 512);
  if (campaign) touch.campaign = campaign;
  if (clickIds) touch.clickIds = clickIds;
  if (referrer) {
    touch.referrer = referrer;
    touch.referringDomain = new URL(referrer).hostname.replace(/^www\./, '');
  }
  return touch;
}

function pick(
  keys: readonly string[],
  get: (key: string) => unknown,
  maxLength: number,
): Record<string, string> | undefined {
  let picked: Record<string, string> | undefined;
  for (const key of keys) {
    const value = get(key);
    if (typeof value === 'string' && value.trim()) {
      picked ??= {};
      picked[key] = value.trim().slice(0, maxLength);
    }
  }
  return picked;
}

/** Whether a referrer is an http(s) page outside the own domains and their subdomains. */
function isExternal(referrer: string, ownDomains: readonly string[]): boolean {
  try {
    const { protocol, hostname } = new URL(referrer);
    return (
      /^https?:$/.test(protocol) &&
      !ownDomains.some((own) => {
        // `www.example.com` stands for the whole site: `example.com` and its subdomains.
        const domain = own.toLowerCase().replace(/^www\./, '');
        return hostname === domain || hostname.endsWith(`.${domain}`);
      })
    );
  } catch {
    return false;
  }
}
