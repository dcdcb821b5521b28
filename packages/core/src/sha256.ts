/**
 * SHA-256 (FIPS 180-4), synchronous, over the UTF-8 bytes of a string. The PII filter's `hash`
 * action needs it inside a synchronous pipeline step, where WebCrypto (async, and missing on
 * plain-http pages) cannot serve. About 1 KB minified instead of a 5 KB general hashing library;
 * tested against node:crypto.
 *
 * @example
 * sha256Hex('abc'); // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function sha256Hex(text: string): string {
  if (ROUND.length === 0) computeConstants();
  const bytes = new TextEncoder().encode(text);
  const length = bytes.length;
  // Message, a 0x80 byte, zero padding and the 64-bit bit length, in whole 64-byte blocks.
  const words = new Uint32Array(((length + 72) >> 6) << 4);
  for (let index = 0; index < length; index++) {
    words[index >> 2]! |= bytes[index]! << (24 - (index % 4) * 8);
  }
  words[length >> 2]! |= 0x80 << (24 - (length % 4) * 8);
  words[words.length - 2] = length / 0x20000000; // the high word of length * 8
  words[words.length - 1] = length << 3;

  const hash = INITIAL.slice() as WorkingWords;
  const schedule = new Uint32Array(64);
  for (let block = 0; block < words.length; block += 16) {
    let [a, b, c, d, e, f, g, h] = hash;
    for (let t = 0; t < 64; t++) {
      if (t < 16) schedule[t] = words[block + t]!;
      else {
        const w15 = schedule[t - 15]!;
        const w2 = schedule[t - 2]!;
        schedule[t] =
          schedule[t - 16]! +
          (rotate(w15, 7) ^ rotate(w15, 18) ^ (w15 >>> 3)) +
          schedule[t - 7]! +
          (rotate(w2, 17) ^ rotate(w2, 19) ^ (w2 >>> 10));
      }
      const t1 =
        h +
        (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) +
        ((e & f) ^ (~e & g)) +
        ROUND[t]! +
        schedule[t]!;
      const t2 = (rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let index = 0; index < 8; index++) hash[index] = (hash[index]! + next[index]!) | 0;
  }
  let hex = '';
  for (const word of hash) hex += (word >>> 0).toString(16).padStart(8, '0');
  return hex;
}

/** The eight 32-bit words a..h of the hash state. */
type WorkingWords = [number, number, number, number, number, number, number, number];

function rotate(value: number, bits: number): number {
  return (value >>> bits) | (value << (32 - bits));
}

/** First 32 bits of the fractional parts of the square roots of the first 8 primes. */
const INITIAL: number[] = [];
/** First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const ROUND: number[] = [];

/**
 * Computes the constants instead of shipping 72 literal words. The fraction bits beyond the 32
 * kept are at least 2^-7.5 away from rounding up or down, far beyond the few-ulp error of
 * `Math.sqrt`/`Math.cbrt`, so every engine gets the exact FIPS values (the tests check them).
 */
function computeConstants(): void {
  for (let candidate = 2; ROUND.length < 64; candidate++) {
    let prime = true;
    for (let divisor = 2; divisor * divisor <= candidate; divisor++) {
      if (candidate % divisor === 0) prime = false;
    }
    if (!prime) continue;
    if (INITIAL.length < 8) INITIAL.push((Math.sqrt(candidate) * 2 ** 32) | 0);
    ROUND.push((Math.cbrt(candidate) * 2 ** 32) | 0);
  }
}
