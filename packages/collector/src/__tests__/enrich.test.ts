import { afterEach, describe, expect, it } from 'vitest';
import { type Collector, createCollector } from '../collector';
import {
  anonymizeIp,
  applyIpPolicy,
  campaignFromUrl,
  canonicalIp,
  clientAddress,
  parseDevice,
  referrerDomain,
} from '../ingest/enrich';
import { createDuckDbStore } from '../store/duckdb/duckdbStore';
import type { Store } from '../store/store';

const UA = {
  iPhoneSafari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  androidChrome:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  windowsChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  macFirefox: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0',
  iPadSafari:
    'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  googlebotChrome:
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/120.0.6099.71 Safari/537.36',
  cubotPhone:
    'Mozilla/5.0 (Linux; Android 9; CUBOT KING KONG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
};

describe('parseDevice', () => {
  it.each([
    [
      'iPhone Safari',
      UA.iPhoneSafari,
      { browser: 'Mobile Safari', os: 'iOS', deviceType: 'mobile' },
    ],
    [
      'Android Chrome',
      UA.androidChrome,
      { browser: 'Chrome', os: 'Android', deviceType: 'mobile' },
    ],
    [
      'Windows Chrome',
      UA.windowsChrome,
      { browser: 'Chrome', os: 'Windows', deviceType: 'desktop' },
    ],
    ['macOS Firefox', UA.macFirefox, { browser: 'Firefox', os: 'Mac OS', deviceType: 'desktop' }],
    ['iPad Safari', UA.iPadSafari, { browser: 'Mobile Safari', os: 'iOS', deviceType: 'tablet' }],
    [
      'a CUBOT phone (not a bot)',
      UA.cubotPhone,
      { browser: 'Chrome', os: 'Android', deviceType: 'mobile' },
    ],
  ])('reads %s', (_name, userAgent, expected) => {
    expect(parseDevice(userAgent, undefined)).toEqual(expected);
  });

  it('marks crawlers as deviceType bot, named after the bot', () => {
    expect(parseDevice(UA.googlebot, undefined)).toEqual({
      browser: 'Googlebot',
      os: null,
      deviceType: 'bot',
    });
    // A crawler dressed as desktop Chrome is still a bot, not a desktop visit.
    expect(parseDevice(UA.googlebotChrome, undefined)).toEqual({
      browser: 'Googlebot',
      os: null,
      deviceType: 'bot',
    });
  });

  it('falls back to client hints when the user agent is empty, under ua-parser-js names', () => {
    const hints = {
      brands: [{ brand: 'Google Chrome', version: '120' }],
      mobile: true,
      platform: 'Android',
    };
    expect(parseDevice('', hints)).toEqual({
      browser: 'Chrome',
      os: 'Android',
      deviceType: 'mobile',
    });
    expect(parseDevice(undefined, hints)).toEqual({
      browser: 'Chrome',
      os: 'Android',
      deviceType: 'mobile',
    });
  });

  it('skips GREASE and Chromium brands in client hints and maps macOS to Mac OS', () => {
    const hints = {
      brands: [
        { brand: 'Not_A Brand', version: '8' },
        { brand: 'Chromium', version: '120' },
        { brand: 'Microsoft Edge', version: '120' },
      ],
      mobile: false,
      platform: 'macOS',
    };
    expect(parseDevice('', hints)).toEqual({
      browser: 'Edge',
      os: 'Mac OS',
      deviceType: 'desktop',
    });
  });

  it('takes the UA string over client hints, except that hints can say mobile', () => {
    const hints = { brands: [{ brand: 'Brave', version: '1' }], mobile: true, platform: 'Android' };
    expect(parseDevice(UA.windowsChrome, hints)).toEqual({
      browser: 'Chrome',
      os: 'Windows',
      deviceType: 'mobile',
    });
  });

  it('answers nulls when there is neither a user agent nor hints', () => {
    expect(parseDevice(undefined, undefined)).toEqual({
      browser: null,
      os: null,
      deviceType: null,
    });
    expect(parseDevice(42, 'not hints')).toEqual({ browser: null, os: null, deviceType: null });
  });

  it('parses only the first 512 characters of an oversized user agent', () => {
    const padded = `${UA.macFirefox}${' x'.repeat(20_000)}`;
    expect(parseDevice(padded, undefined)).toEqual({
      browser: 'Firefox',
      os: 'Mac OS',
      deviceType: 'desktop',
    });
  });
});

describe('anonymizeIp', () => {
  it('zeroes the last octet of an IPv4 address', () => {
    expect(anonymizeIp('203.0.113.77')).toBe('203.0.113.0');
    expect(anonymizeIp('10.1.2.3')).toBe('10.1.2.0');
  });

  it('zeroes the last 80 bits of an IPv6 address, in canonical form', () => {
    expect(anonymizeIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(anonymizeIp('2001:0DB8:85A3:08D3:1319:8A2E:0370:7348')).toBe('2001:db8:85a3::');
    expect(anonymizeIp('2001:db8::1')).toBe('2001:db8::');
    expect(anonymizeIp('2001::1')).toBe('2001::');
    expect(anonymizeIp('fe80::1%eth0')).toBe('fe80::');
    expect(anonymizeIp('::1')).toBe('::');
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(anonymizeIp('::ffff:203.0.113.77')).toBe('203.0.113.0');
    expect(anonymizeIp('0:0:0:0:0:ffff:203.0.113.77')).toBe('203.0.113.0');
    expect(anonymizeIp('::ffff:cb00:714d')).toBe('203.0.113.0');
  });

  it.each(['', 'localhost', '203.0.113', '203.0.113.256', '1.2.3.4:80', '2001:db8::g', '[::1]'])(
    'answers null for %j',
    (input) => {
      expect(anonymizeIp(input)).toBeNull();
    },
  );
});

describe('applyIpPolicy', () => {
  it('anonymize (the default policy) zeroes the host part', () => {
    expect(applyIpPolicy('198.51.100.23', 'anonymize')).toBe('198.51.100.0');
  });

  it('drop keeps nothing', () => {
    expect(applyIpPolicy('198.51.100.23', 'drop')).toBeNull();
    expect(applyIpPolicy('2001:db8::1', 'drop')).toBeNull();
  });

  it('keep stores the full address in one spelling, and nothing that is not an address', () => {
    expect(applyIpPolicy('198.51.100.23', 'keep')).toBe('198.51.100.23');
    expect(applyIpPolicy('2001:DB8:0:0::1', 'keep')).toBe('2001:db8::1');
    expect(applyIpPolicy('::ffff:198.51.100.23', 'keep')).toBe('198.51.100.23');
    expect(applyIpPolicy('not-an-ip', 'keep')).toBeNull();
    expect(applyIpPolicy(undefined, 'keep')).toBeNull();
  });

  it('canonicalIp compresses the longest run of zero groups', () => {
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
  });
});

describe('clientAddress', () => {
  const socket = '10.0.0.5';

  it('ignores X-Forwarded-For unless trustProxy is set', () => {
    expect(clientAddress('203.0.113.9', socket, false)).toBe(socket);
    expect(clientAddress('203.0.113.9', socket, 0)).toBe(socket);
  });

  it('uses the socket address when there is no X-Forwarded-For', () => {
    expect(clientAddress(null, socket, true)).toBe(socket);
    expect(clientAddress(null, socket, 1)).toBe(socket);
  });

  it('trustProxy true takes the left-most address', () => {
    expect(clientAddress('203.0.113.9, 10.0.0.2', socket, true)).toBe('203.0.113.9');
  });

  it('trustProxy 1 takes the address the one proxy appended, ignoring what the client spoofed', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the address it saw.
    expect(clientAddress('1.1.1.1, 203.0.113.9', socket, 1)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', socket, 1)).toBe('203.0.113.9');
  });

  it('trustProxy 2 skips the proxy in front of the collector', () => {
    expect(clientAddress('1.1.1.1, 203.0.113.9, 10.0.0.2', socket, 2)).toBe('203.0.113.9');
    // Fewer entries than proxies: every entry was written by a trusted proxy; take the left-most.
    expect(clientAddress('203.0.113.9', socket, 2)).toBe('203.0.113.9');
  });

  it('drops ports and brackets, and falls back to the socket for an entry that is no address', () => {
    expect(clientAddress('203.0.113.9:5100', socket, 1)).toBe('203.0.113.9');
    expect(clientAddress('[2001:db8::7]:443', socket, 1)).toBe('2001:db8::7');
    expect(clientAddress('unknown', socket, 1)).toBe(socket);
    expect(clientAddress(' , ', socket, true)).toBe(socket);
  });
});

describe('campaignFromUrl', () => {
  it('reads the five utm parameters and the click ids', () => {
    expect(
      campaignFromUrl(
        'https://shop.example.com/p?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero&gclid=G-1&fbclid=F-2&msclkid=M-3',
      ),
    ).toEqual({
      campaign: { source: 'news', medium: 'email', name: 'spring', term: 'shoes', content: 'hero' },
      clickIds: { gclid: 'G-1', fbclid: 'F-2', msclkid: 'M-3' },
    });
  });

  it('reads a bare query string and decodes values', () => {
    expect(campaignFromUrl('?utm_source=news%20letter&ttclid=T1')).toEqual({
      campaign: { source: 'news letter' },
      clickIds: { ttclid: 'T1' },
    });
  });

  it('answers nothing for URLs without campaign parameters or that are not strings', () => {
    expect(campaignFromUrl('https://x.io/pricing')).toEqual({});
    expect(campaignFromUrl('https://x.io/?plan=pro')).toEqual({
      campaign: undefined,
      clickIds: undefined,
    });
    expect(campaignFromUrl(undefined)).toEqual({});
    expect(campaignFromUrl(42)).toEqual({});
  });

  it('ignores empty values', () => {
    expect(campaignFromUrl('https://x.io/?utm_source=&gclid=')).toEqual({
      campaign: undefined,
      clickIds: undefined,
    });
  });
});

describe('referrerDomain', () => {
  it('answers the host name without www.', () => {
    expect(referrerDomain('https://www.google.com/search?q=x')).toBe('google.com');
    expect(referrerDomain('https://News.YCombinator.com/item?id=1')).toBe('news.ycombinator.com');
    expect(referrerDomain('android-app://com.google.android.gm/')).toBe('com.google.android.gm');
  });

  it('answers null for empty, relative or non-string referrers', () => {
    expect(referrerDomain('')).toBeNull();
    expect(referrerDomain('/pricing')).toBeNull();
    expect(referrerDomain(undefined)).toBeNull();
  });
});

describe('identity links recorded at ingest', () => {
  const WRITE_KEY = 'wk_enrich_12345678';
  let collector: Collector | undefined;

  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  async function ingest(batch: unknown[]): Promise<Store> {
    const store = await createDuckDbStore({ path: ':memory:' });
    collector = createCollector({ store, writeKeys: [WRITE_KEY] });
    const response = await collector.fetch(
      new Request('http://collector.test/v1/batch', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ writeKey: WRITE_KEY, batch }),
      }),
    );
    expect(response.status).toBe(200);
    return store;
  }

  it('links anonymousId to userId for events with both ids, and previousId to userId for alias', async () => {
    const store = await ingest([
      {
        type: 'track',
        event: 'Viewed',
        anonymousId: 'anon-only',
        timestamp: '2024-03-01T10:00:00.000Z',
      },
      {
        type: 'identify',
        anonymousId: 'anon-1',
        userId: 'user-1',
        timestamp: '2024-03-01T10:01:00.000Z',
      },
      {
        type: 'track',
        event: 'Bought',
        anonymousId: 'anon-2',
        userId: 'user-2',
        timestamp: '2024-03-01T10:02:00.000Z',
      },
      {
        type: 'alias',
        previousId: 'old-id',
        userId: 'user-3',
        timestamp: '2024-03-01T10:03:00.000Z',
      },
      {
        type: 'track',
        event: 'Logged In',
        userId: 'user-1',
        timestamp: '2024-03-01T10:04:00.000Z',
      },
    ]);
    expect(await store.identityLinks('default')).toEqual([
      { anonymousId: 'anon-1', userId: 'user-1' },
      { anonymousId: 'anon-2', userId: 'user-2' },
      { anonymousId: 'old-id', userId: 'user-3' },
    ]);
  });
});
