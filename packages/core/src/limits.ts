/** Segment's HTTP API limits, which the collector enforces and the client batches under. */
export const LIMITS = {
  /** Largest serialized event, in bytes (32 KB). */
  maxEventBytes: 32 * 1024,
  /** Largest request body, in bytes (500 KB). */
  maxRequestBytes: 500 * 1024,
  /** Most events in one `/v1/batch` request. */
  maxBatchEvents: 2500,
} as const;

/** Bytes kept free in a batch for the envelope (`{"batch":[…],"sentAt":…,"writeKey":…}`). */
export const BATCH_ENVELOPE_RESERVE_BYTES = 1024;

// Printable ASCII and whitespace: all JSON.stringify output is this unless the data is not ASCII.
const NON_ASCII = /[^\t\n\r -~]/;

/**
 * UTF-8 length of a string without allocating. `TextEncoder` would copy the whole string, and this
 * runs once per event on the hot path.
 */
export function utf8ByteLength(text: string): number {
  // Most analytics payloads are ASCII; the regex engine checks that far faster than a JS loop.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else {
      // 3 bytes; a surrogate pair is 2 UTF-16 units and 4 bytes, so its low half is skipped.
      bytes += 2;
      const next = text.charCodeAt(index + 1);
      if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index++;
    }
  }
  return bytes;
}
