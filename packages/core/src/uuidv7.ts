const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const POOL_SIZE = 4096;

/** Random bytes drawn in blocks: one `getRandomValues` call per 400 ids instead of one per id. */
let pool = new Uint8Array(0);
let poolOffset = POOL_SIZE;
let lastMillis = -1;
let counter = 0;

function randomBytes(count: number): Uint8Array {
  if (poolOffset + count > pool.length) {
    pool = new Uint8Array(POOL_SIZE);
    globalThis.crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + count);
  poolOffset += count;
  return bytes;
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
    const seed = randomBytes(2);
    counter = ((seed[0]! & 0x07) << 8) | seed[1]!; // start low so the counter rarely overflows
  } else {
    millis = lastMillis;
    counter++;
    if (counter > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond to stay ordered.
      lastMillis = ++millis;
      counter = 0;
    }
  }
  const random = randomBytes(8);
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
    HEX[0x80 | (random[0]! & 0x3f)]! +
    HEX[random[1]!]! +
    '-' +
    HEX[random[2]!]! +
    HEX[random[3]!]! +
    HEX[random[4]!]! +
    HEX[random[5]!]! +
    HEX[random[6]!]! +
    HEX[random[7]!]!
  );
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether `value` is a lowercase UUID version 7 string. */
export function isUuidv7(value: string): boolean {
  return UUID_V7.test(value);
}

/** The Unix milliseconds encoded in a UUIDv7. */
export function uuidv7Timestamp(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
