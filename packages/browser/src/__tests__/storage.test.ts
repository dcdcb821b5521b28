import { createMemoryStorage } from '@sightline/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cookieStorage, createBrowserStorage } from '../storage';

function clearCookies() {
  for (const part of document.cookie.split('; ')) {
    const name = part.split('=')[0];
    // biome-ignore lint/suspicious/noDocumentCookie: clearing what the code under test wrote.
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
  localStorage.clear();
  clearCookies();
});

describe('browser storage', () => {
  it('uses localStorage by default', () => {
    const storage = createBrowserStorage();
    storage.setItem('sightline.anonymousId', 'anon-1');
    expect(localStorage.getItem('sightline.anonymousId')).toBe('anon-1');
    expect(document.cookie).not.toContain('sightline');
  });

  it('falls back to cookies when localStorage throws (privacy modes, sandboxed frames)', () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    const storage = createBrowserStorage();
    storage.setItem('sightline.anonymousId', 'anon-2');
    expect(document.cookie).toContain('sightline.anonymousId=anon-2');
    expect(storage.getItem('sightline.anonymousId')).toBe('anon-2');
    storage.removeItem('sightline.anonymousId');
    expect(storage.getItem('sightline.anonymousId')).toBeNull();
  });

  it('keeps only the ids in cookies on cookieDomain, everything else in localStorage', () => {
    const written: string[] = [];
    let owner: object | null = document;
    while (owner && !Object.getOwnPropertyDescriptor(owner, 'cookie')) {
      owner = Object.getPrototypeOf(owner);
    }
    const cookie = Object.getOwnPropertyDescriptor(owner!, 'cookie')!;
    vi.spyOn(document, 'cookie', 'set').mockImplementation((value: string) => {
      written.push(value);
      // happy-dom's host is localhost: let the cookie through without the domain to read it back.
      cookie.set!.call(document, value.replace(/;domain=[^;]*/, ''));
    });
    const storage = createBrowserStorage({ cookieDomain: 'example.com' });
    storage.setItem('sightline.anonymousId', 'anon-3');
    storage.setItem('sightline.session', '{"id":1}');
    expect(written).toEqual([expect.stringContaining('sightline.anonymousId=anon-3;path=/;')]);
    expect(written[0]).toContain(';domain=example.com');
    expect(written[0]).toContain(';samesite=lax');
    expect(localStorage.getItem('sightline.session')).toBe('{"id":1}');
    expect(localStorage.getItem('sightline.anonymousId')).toBeNull();
    expect(storage.getItem('sightline.anonymousId')).toBe('anon-3');
  });

  it('keeps nothing beyond the page in memory (cookieless) mode', () => {
    const storage = createBrowserStorage({ persistence: 'memory' });
    storage.setItem('sightline.anonymousId', 'anon-4');
    expect(storage.getItem('sightline.anonymousId')).toBe('anon-4');
    expect(localStorage.length).toBe(0);
    expect(document.cookie).not.toContain('anon-4');
  });

  it('cookie storage encodes keys and values and reads back exactly what was written', () => {
    const storage = cookieStorage();
    storage.setItem('a key', 'value; with=odd, chars');
    expect(storage.getItem('a key')).toBe('value; with=odd, chars');
    expect(storage.getItem('missing')).toBeNull();
  });

  it('memory storage forgets on removeItem', () => {
    const storage = createMemoryStorage();
    storage.setItem('k', 'v');
    storage.removeItem('k');
    expect(storage.getItem('k')).toBeNull();
  });
});
