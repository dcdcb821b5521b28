import { describe, expect, it } from 'vitest';
import { LIMITS, utf8ByteLength } from '../limits';

const encoded = (text: string) => new TextEncoder().encode(text).length;

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['ascii only', 10],
    ['naïve', 6],
    ['€', 3],
    ['😀', 4],
    ['\ud83d', 3],
    ['a\ud83db', 5],
  ])('counts %j as %i bytes', (text, bytes) => {
    expect(utf8ByteLength(text)).toBe(bytes);
  });

  it('matches TextEncoder on random text, short and past the scratch-buffer size', () => {
    const alphabet = ['a', 'é', '€', '😀', '\n', '"', '\ud800', '中'];
    for (const length of [1, 17, 400, 5000, 70_000]) {
      let text = '';
      for (let index = 0; index < length; index++) {
        text += alphabet[(index * 7919 + length) % alphabet.length];
      }
      expect(utf8ByteLength(text)).toBe(encoded(text));
    }
  });

  it('keeps Segment limits', () => {
    expect(LIMITS).toEqual({
      maxEventBytes: 32_768,
      maxRequestBytes: 512_000,
      maxBatchEvents: 2500,
    });
  });
});
