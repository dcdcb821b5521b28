import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyStatus,
  DEFAULT_RETRY,
  type DeliveryVerdict,
  parseRetryAfter,
} from '../retry';

const options = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 5000 };
const ALMOST_ONE = 1 - Number.EPSILON;

describe('backoffDelay', () => {
  it('uses full jitter: 0 when random() is 0', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect(backoffDelay(attempt, options, () => 0)).toBe(0);
    }
  });

  it('stays strictly below a ceiling of baseDelayMs * 2^(attempt - 1)', () => {
    expect(backoffDelay(1, options, () => ALMOST_ONE)).toBe(99);
    expect(backoffDelay(2, options, () => ALMOST_ONE)).toBe(199);
    expect(backoffDelay(3, options, () => ALMOST_ONE)).toBe(399);
    expect(backoffDelay(4, options, () => ALMOST_ONE)).toBe(799);
    expect(backoffDelay(3, options, () => 0.5)).toBe(200);
    expect(backoffDelay(1, options, () => 0.25)).toBe(25);
  });

  it('treats attempt 0 like attempt 1', () => {
    expect(backoffDelay(0, options, () => ALMOST_ONE)).toBe(99);
  });

  it('caps the ceiling at maxDelayMs, even for huge attempt numbers', () => {
    expect(backoffDelay(7, options, () => ALMOST_ONE)).toBe(4999); // 100 * 64 = 6400 > 5000
    expect(backoffDelay(7, options, () => 0.5)).toBe(2500);
    expect(backoffDelay(50, options, () => ALMOST_ONE)).toBe(4999);
    expect(backoffDelay(5000, options, () => ALMOST_ONE)).toBe(4999);
  });

  it('stays within [0, ceiling) with the default Math.random', () => {
    for (let index = 0; index < 1000; index++) {
      const delay = backoffDelay(3, options);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(400);
    }
  });

  it('defaults to a 1 s base and a 60 s cap', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, () => ALMOST_ONE)).toBe(999);
    expect(backoffDelay(30, DEFAULT_RETRY, () => ALMOST_ONE)).toBe(59_999);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2015, 9, 21, 7, 27, 55); // 5 s before the dates below

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads decimal seconds, rounded to the millisecond', () => {
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('0.0004', now)).toBe(0);
    expect(parseRetryAfter('2.0006', now)).toBe(2001);
  });

  it('reads an IMF-fixdate HTTP date relative to now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(5000);
  });

  it('reads the obsolete RFC 850 and asctime HTTP date formats as GMT', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:00 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed Oct 21 07:28:00 2015', now)).toBe(5000);
  });

  it('clamps an HTTP date in the past to 0', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now)).toBe(0);
  });

  it('returns undefined for a missing header', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('   ', now)).toBeUndefined();
  });

  it('returns undefined for garbage, including strings the JS date parser would accept', () => {
    for (const garbage of [
      'soon',
      '2 s',
      '1e3',
      '-1',
      '+5',
      '0x10',
      '1.',
      '.5',
      'abc 1',
      '1 2',
      'Infinity',
    ]) {
      expect(parseRetryAfter(garbage, now), garbage).toBeUndefined();
    }
  });
});

describe('classifyStatus', () => {
  const table: Array<[number | undefined, DeliveryVerdict]> = [
    [200, 'delivered'],
    [201, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [undefined, 'retry'],
    [413, 'split'],
    [400, 'reject'],
    [401, 'reject'],
    [403, 'reject'],
    [404, 'reject'],
    [422, 'reject'],
  ];

  it.each(table)('status %s → %s', (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });
});
