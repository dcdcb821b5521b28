const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const POOL_SIZE = 4096;

/** Random bytes drawn in blocks: one `getRandomValues` call per 400 ids instead of one per id. */
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;
let lastMillis = -1;
let counter = 0;

/** Offset in `pool` of `count` fresh random bytes (read by index: no per-call view allocation). */
function takeRandom(count: number): number {
  if (poolOffset + count > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += count;
  return offset;
}

/**
 * A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter seeded randomly
 * each millisecond (method 1 of §6.2), then 62 random bits. Ids created in one process sort in
 * creation order, which keeps database indexes and dedupe windows cheap.
 *
 * @example
 * const messageId = uuidv7(); // '01928f6e-8c3a-7b21-9f4d-3a5e0c1b2d4f'
 */
export function uuidv7(now: number = Date.now()): string {
  let millis = now;
  if (millis > lastMillis) {
    lastMillis = millis;
    const seed = takeRandom(2);
    counter = ((pool[seed]! & 0x07) << 8) | pool[seed + 1]!; // start low so it rarely overflows
  } else {
    millis = lastMillis;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond to stay ordered.
      lastMillis = ++millis;
      counter = 0;
    }
  }
  const r = takeRandom(8);
  const high = Math.floor(millis / 0x1000000);
  const low = millis % 0x1000000;
  return (
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    '-' +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (pool[r + 0]! & 0x3f)]! +
    HEX[pool[r + 1]!]! +
    '-' +
    HEX[pool[r + 2]!]! +
    HEX[pool[r + 3]!]! +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]!
  );
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Whether `value` is a lowercase UUID version 7 string.
 *
 * @example
 * isUuidv7(uuidv7()); // true
 */
export function isUuidv7(value: string): boolean {
  return UUID_V7.test(value);
}

/**
 * The Unix milliseconds encoded in a UUIDv7.
 *
 * @example
 * new Date(uuidv7Timestamp(event.messageId)); // when the event was created
 */
export function uuidv7Timestamp(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
