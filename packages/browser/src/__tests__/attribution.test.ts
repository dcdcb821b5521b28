import { CLICK_IDS } from '@sightline/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAttribution, readTouch } from '../attribution';

const NOW = Date.UTC(2025, 0, 15);
const PAGE = 'https://shop.io/pricing';
const GOOGLE = 'https://www.google.com/search?q=shoes';

describe('readTouch', () => {
  it('maps utm parameters to Segment campaign fields, utm_campaign becoming name', () => {
    const touch = readTouch(
      `${PAGE}?utm_source=news&utm_medium=email&utm_campaign=spring&utm_term=shoes&utm_content=hero`,
      '',
      NOW,
    );
    expect(touch?.campaign).toEqual({
      source: 'news',
      medium: 'email',
      name: 'spring',
      term: 'shoes',
      content: 'hero',
    });
  });

  it('matches parameter names case-insensitively and keeps the case of values', () => {
    const touch = readTouch(`${PAGE}?UTM_SOURCE=NewsLetter&Utm_Campaign=Spring&GCLID=AbC`, '', NOW);
    expect(touch?.campaign).toEqual({ source: 'NewsLetter', name: 'Spring' });
    expect(touch?.clickIds).toEqual({ gclid: 'AbC' });
  });

  it.each([
    'gclid',
    'fbclid',
    'msclkid',
    'ttclid',
    'li_fat_id',
    'twclid',
    'dclid',
    'gbraid',
    'wbraid',
  ])('captures the %s click id', (id) => {
    expect(readTouch(`${PAGE}?${id}=x1`, '', NOW)?.clickIds).toEqual({ [id]: 'x1' });
  });

  it("captures every click id of core's CLICK_IDS list (the collector's too), and only those", () => {
    const ids = CLICK_IDS;
    expect(ids.length).toBeGreaterThanOrEqual(15);
    const query = [...ids, 'unknown_clid'].map((id, index) => `${id}=v${index}`).join('&');
    const touch = readTouch(`${PAGE}?${query}`, '', NOW);
    expect(touch?.clickIds).toEqual(Object.fromEntries(ids.map((id, index) => [id, `v${index}`])));
  });

  it('trims values and leaves out parameters that are empty or blank', () => {
    const touch = readTouch(
      `${PAGE}?utm_source=%20news%20&utm_medium=&utm_term=%20%20&gclid=`,
      '',
      NOW,
    );
    expect(touch?.campaign).toEqual({ source: 'news' });
    expect(touch?.clickIds).toBeUndefined();
  });

  it('keeps the first non-empty value of a repeated parameter', () => {
    const touch = readTouch(`${PAGE}?utm_source=&utm_source=first&UTM_SOURCE=second`, '', NOW);
    expect(touch?.campaign).toEqual({ source: 'first' });
  });

  it('cuts campaign fields at 256 characters and click ids at 512, like the collector', () => {
    const touch = readTouch(
      `${PAGE}?utm_source=${'s'.repeat(300)}&gclid=${'g'.repeat(600)}`,
      '',
      NOW,
    );
    expect(touch?.campaign?.source).toBe('s'.repeat(256));
    expect(touch?.clickIds?.gclid).toBe('g'.repeat(512));
  });

  it('records the landing page without its hash, and the time', () => {
    const touch = readTouch(`${PAGE}?utm_source=news#plans`, '', NOW);
    expect(touch).toEqual({
      campaign: { source: 'news' },
      landingPage: `${PAGE}?utm_source=news`,
      at: NOW,
    });
  });

  it('makes a touch of an external referrer alone, naming its domain without www', () => {
    expect(readTouch(PAGE, GOOGLE, NOW)).toEqual({
      referrer: GOOGLE,
      referringDomain: 'google.com',
      landingPage: PAGE,
      at: NOW,
    });
  });

  it('is direct (undefined) without parameters or referrer', () => {
    expect(readTouch(PAGE, '', NOW)).toBeUndefined();
    expect(readTouch(`${PAGE}?page=2&ref=nav`, '', NOW)).toBeUndefined();
  });

  it("is direct when the referrer is the current page's host, a subdomain of it, or its www-less site", () => {
    expect(readTouch(PAGE, 'https://shop.io/', NOW)).toBeUndefined();
    expect(readTouch('https://www.shop.io/', 'https://shop.io/cart', NOW)).toBeUndefined();
    expect(readTouch('https://www.shop.io/', 'https://blog.shop.io/post', NOW)).toBeUndefined();
  });

  it('is direct when the referrer is an own domain or any subdomain of one', () => {
    const options = { ownDomains: ['checkout.example', 'Example.COM'] };
    expect(readTouch(PAGE, 'https://checkout.example/done', NOW, options)).toBeUndefined();
    expect(readTouch(PAGE, 'https://example.com/', NOW, options)).toBeUndefined();
    expect(readTouch(PAGE, 'https://app.example.com/', NOW, options)).toBeUndefined();
    expect(readTouch(PAGE, 'https://deep.app.example.com:8443/', NOW, options)).toBeUndefined();
  });

  it('does not mistake look-alike domains for own ones', () => {
    const options = { ownDomains: ['example.com'] };
    for (const referrer of ['https://notexample.com/', 'https://example.com.evil.io/']) {
      expect(readTouch(PAGE, referrer, NOW, options)?.referrer).toBe(referrer);
    }
    expect(readTouch(PAGE, 'https://myshop.io/', NOW)?.referringDomain).toBe('myshop.io');
  });

  it('keeps the campaign of a link from an own domain but not the referrer', () => {
    const touch = readTouch(`${PAGE}?utm_source=blog`, 'https://shop.io/blog', NOW);
    expect(touch).toEqual({
      campaign: { source: 'blog' },
      landingPage: `${PAGE}?utm_source=blog`,
      at: NOW,
    });
  });

  it.each([
    'android-app://com.google.android.gm/',
    'file:///home/me/page.html',
    'about:blank',
    'chrome-extension://abcdef/popup.html',
    'ftp://files.example.org/',
    'not a url',
  ])('ignores the non-http referrer %s', (referrer) => {
    expect(readTouch(PAGE, referrer, NOW)).toBeUndefined();
  });

  it('returns undefined instead of throwing for a page URL that does not parse', () => {
    expect(readTouch('not a url?utm_source=x', GOOGLE, NOW)).toBeUndefined();
  });
});

describe('createAttribution', () => {
  let clock = NOW;
  const now = () => clock;
  beforeEach(() => {
    localStorage.clear();
    clock = NOW;
  });

  const attributionOf = (storage: Storage = localStorage) =>
    createAttribution(storage, now, { ownDomains: ['shop.io'] });

  it('has no touches and an empty context on a fresh storage', () => {
    const attribution = attributionOf();
    expect(attribution.firstTouch()).toBeUndefined();
    expect(attribution.lastTouch()).toBeUndefined();
    expect(attribution.context()).toEqual({});
  });

  it('keeps the first touch across later touches and sessions', () => {
    const attribution = attributionOf();
    clock = NOW;
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    clock = NOW + 1000;
    attribution.capture(`${PAGE}?utm_source=ads&gclid=g1`, GOOGLE, true);
    expect(attribution.firstTouch()).toMatchObject({ campaign: { source: 'news' }, at: NOW });
    expect(attribution.lastTouch()).toMatchObject({ campaign: { source: 'ads' }, at: NOW + 1000 });
  });

  it('replaces the last touch when a session starts with campaign parameters or an external referrer', () => {
    const attribution = attributionOf();
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    attribution.capture(PAGE, GOOGLE, true);
    expect(attribution.lastTouch()).toMatchObject({ referringDomain: 'google.com' });
    expect(attribution.lastTouch()?.campaign).toBeUndefined();
    attribution.capture(`${PAGE}?fbclid=f1`, '', true);
    expect(attribution.lastTouch()?.clickIds).toEqual({ fbclid: 'f1' });
  });

  it('keeps the previous last touch when a session starts direct or from an own domain', () => {
    const attribution = attributionOf();
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    attribution.capture(PAGE, '', true);
    attribution.capture(PAGE, 'https://blog.shop.io/', true);
    expect(attribution.lastTouch()?.campaign).toEqual({ source: 'news' });
  });

  it('does not replace the last touch in the middle of a session', () => {
    const attribution = attributionOf();
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    attribution.capture(`${PAGE}?utm_source=ads`, GOOGLE, false);
    expect(attribution.lastTouch()?.campaign).toEqual({ source: 'news' });
  });

  it('sets both touches from a mid-session touch when there is none yet', () => {
    const attribution = attributionOf();
    attribution.capture(PAGE, '', true);
    attribution.capture(`${PAGE}?utm_source=ads`, '', false);
    expect(attribution.firstTouch()?.campaign).toEqual({ source: 'ads' });
    expect(attribution.lastTouch()?.campaign).toEqual({ source: 'ads' });
  });

  it('gives events the campaign and click ids of the last touch', () => {
    const attribution = attributionOf();
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    attribution.capture(`${PAGE}?utm_source=ads&utm_campaign=spring&gclid=g1`, GOOGLE, true);
    expect(attribution.context()).toEqual({
      campaign: { source: 'ads', name: 'spring' },
      clickIds: { gclid: 'g1' },
    });
  });

  it('leaves context fields out, rather than undefined, when the last touch lacks them', () => {
    const attribution = attributionOf();
    attribution.capture(PAGE, GOOGLE, true);
    const context = attribution.context();
    expect(Object.keys(context)).toEqual([]);
    attribution.capture(`${PAGE}?gclid=g1`, '', true);
    expect(Object.keys(attribution.context())).toEqual(['clickIds']);
  });

  it('hands out context copies that cannot change the stored touch', () => {
    const attribution = attributionOf();
    attribution.capture(`${PAGE}?utm_source=news&gclid=g1`, '', true);
    const context = attribution.context();
    context.campaign!.source = 'edited';
    context.clickIds!.gclid = 'edited';
    expect(attribution.context()).toEqual({
      campaign: { source: 'news' },
      clickIds: { gclid: 'g1' },
    });
  });

  it('persists both touches as JSON under sightline.firstTouch and sightline.lastTouch', () => {
    attributionOf().capture(`${PAGE}?utm_source=news`, '', true);
    attributionOf().capture(`${PAGE}?utm_source=ads`, '', true);
    expect(JSON.parse(localStorage.getItem('sightline.firstTouch')!)).toMatchObject({
      campaign: { source: 'news' },
    });
    expect(JSON.parse(localStorage.getItem('sightline.lastTouch')!)).toMatchObject({
      campaign: { source: 'ads' },
    });
    const reloaded = attributionOf();
    expect(reloaded.firstTouch()?.campaign).toEqual({ source: 'news' });
    expect(reloaded.context()).toEqual({ campaign: { source: 'ads' } });
  });

  it('does not overwrite a first touch that another tab stored after this one loaded', () => {
    const thisTab = attributionOf();
    attributionOf().capture(`${PAGE}?utm_source=other-tab`, '', true);
    thisTab.capture(`${PAGE}?utm_source=this-tab`, '', true);
    expect(thisTab.firstTouch()?.campaign).toEqual({ source: 'other-tab' });
    expect(attributionOf().firstTouch()?.campaign).toEqual({ source: 'other-tab' });
  });

  it.each([
    '{',
    'null',
    '5',
    '"text"',
    '[]',
    '{}',
    '{"landingPage":1,"at":1}',
    '{"landingPage":"https://shop.io/","at":"yesterday"}',
    '{"landingPage":"https://shop.io/","at":1,"referrer":"not a url"}',
  ])('treats the stored value %s as no touch, and captures over it', (stored) => {
    localStorage.setItem('sightline.firstTouch', stored);
    localStorage.setItem('sightline.lastTouch', stored);
    const attribution = attributionOf();
    expect(attribution.firstTouch()).toBeUndefined();
    expect(attribution.lastTouch()).toBeUndefined();
    expect(attribution.context()).toEqual({});
    attribution.capture(`${PAGE}?utm_source=news`, '', false);
    expect(attribution.firstTouch()?.campaign).toEqual({ source: 'news' });
    expect(attribution.lastTouch()?.campaign).toEqual({ source: 'news' });
  });

  it('drops stored fields of the wrong type, unknown keys and over-long values', () => {
    localStorage.setItem(
      'sightline.lastTouch',
      JSON.stringify({
        landingPage: PAGE,
        at: NOW,
        campaign: { source: 42, medium: 'cpc', name: 's'.repeat(300), evil: 'x' },
        clickIds: { gclid: { nested: true }, fbclid: 'f1', not_an_id: 'y' },
        referringDomain: 'forged.example',
      }),
    );
    localStorage.setItem(
      'sightline.firstTouch',
      JSON.stringify({ landingPage: PAGE, at: NOW, campaign: 'news', clickIds: ['g1'] }),
    );
    const attribution = attributionOf();
    expect(attribution.context()).toEqual({
      campaign: { medium: 'cpc', name: 's'.repeat(256) },
      clickIds: { fbclid: 'f1' },
    });
    expect(attribution.lastTouch()?.referringDomain).toBeUndefined();
    expect(attribution.firstTouch()).toEqual({ landingPage: PAGE, at: NOW });
  });

  it('keeps touches in memory when storage refuses writes, and never throws', () => {
    const full = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota exceeded', 'QuotaExceededError');
      },
      removeItem: () => undefined,
    } as unknown as Storage;
    const attribution = attributionOf(full);
    expect(() => attribution.capture(`${PAGE}?utm_source=news`, '', true)).not.toThrow();
    expect(attribution.firstTouch()?.campaign).toEqual({ source: 'news' });
    expect(attribution.context()).toEqual({ campaign: { source: 'news' } });
  });

  it('works without storage at all when reading it throws too', () => {
    const blocked = {
      getItem: () => {
        throw new DOMException('access denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('access denied', 'SecurityError');
      },
      removeItem: () => undefined,
    } as unknown as Storage;
    const attribution = attributionOf(blocked);
    attribution.capture(`${PAGE}?utm_source=news`, '', true);
    attribution.capture(`${PAGE}?utm_source=ads`, '', true);
    expect(attribution.firstTouch()?.campaign).toEqual({ source: 'news' });
    expect(attribution.lastTouch()?.campaign).toEqual({ source: 'ads' });
  });
});
