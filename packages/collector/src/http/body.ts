import { gunzipSync, inflateSync } from 'node:zlib';
import { HttpError } from './errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request body of at most `maxBytes` (after decompression), as strict UTF-8 text.
 * gzip and deflate bodies are inflated with an output cap, so a zip bomb costs at most `maxBytes`.
 *
 * @example
 * const text = await readBody(request, 500 * 1024);
 */
export async function readBody(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  const encoding =
    (request.headers.get('content-encoding') ?? '').trim().toLowerCase() || 'identity';
  if (!['identity', 'gzip', 'x-gzip', 'deflate'].includes(encoding)) {
    throw new HttpError(
      415,
      'unsupported_encoding',
      `content-encoding "${encoding}" is not supported: send the body as is, gzip or deflate`,
    );
  }
  if (encoding === 'identity' && declared > maxBytes) throw tooLarge(maxBytes);
  const raw = await readLimited(request, encoding === 'identity' ? maxBytes : maxBytes * 4);
  let bytes: Uint8Array = raw;
  if (encoding !== 'identity') {
    try {
      const inflate = encoding === 'deflate' ? inflateSync : gunzipSync;
      bytes = inflate(raw, { maxOutputLength: maxBytes });
    } catch (error) {
      if (
        error instanceof RangeError ||
        (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      ) {
        throw tooLarge(maxBytes);
      }
      throw new HttpError(
        400,
        'invalid_compression',
        `the ${encoding} body could not be decompressed`,
      );
    }
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(
      400,
      'invalid_utf8',
      'the body is not valid UTF-8: send UTF-8 encoded JSON',
    );
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away or the stream broke (fewer bytes than Content-Length, reset socket).
      throw new HttpError(
        400,
        'incomplete_body',
        'the request body ended before it was complete: send the whole body (and a matching Content-Length)',
      );
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'body_too_large',
    `the request body is over ${Math.round(maxBytes / 1024)} KB: split the batch into smaller requests`,
    {},
    { limitBytes: maxBytes },
  );
}

/**
 * Deepest nesting of arrays and objects accepted in a request body. Twice the per-event limit
 * (`MAX_DEPTH`, checked per event by `inspectEvent`), so an event nested a little too deep is still
 * rejected on its own, naming the field, while a body nested thousands of levels deep is refused
 * before anything recursive (`JSON.stringify`, schema checks, the PII filter) walks it and
 * overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * `JSON.parse` with an error that says where the JSON broke, after a cheap scan of the raw text
 * that refuses nesting deeper than {@link MAX_JSON_DEPTH}.
 *
 * Lone UTF-16 surrogates written as escapes (`"\ud800"`, what `JSON.stringify` emits for a string
 * cut in the middle of an emoji) are valid JSON but not valid Unicode, and the store cannot keep
 * them: they are replaced with U+FFFD (the replacement character), in keys and values, so the
 * event is stored rather than lost. Raw invalid UTF-8 bytes are refused earlier (`invalid_utf8`).
 *
 * @example
 * parseJson('{"batch":[]}');
 * parseJson('{"name":"\\ud83d"}'); // { name: '\ufffd' }
 */
export function parseJson(text: string): unknown {
  if (!NON_WHITESPACE.test(text)) {
    throw new HttpError(400, 'empty_body', 'the body is empty: send a JSON object');
  }
  if (nestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new HttpError(
      400,
      'too_deep',
      `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep: flatten it`,
      {},
      { limitDepth: MAX_JSON_DEPTH },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'invalid_json',
      `the body is not valid JSON (${(error as Error).message}): send a JSON object`,
    );
  }
  return SURROGATE_ESCAPE.test(text) ? wellFormed(value) : value;
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Any character but JSON whitespace: finds the first one without copying the body as trim() would. */
const NON_WHITESPACE = /[^ \t\n\r]/;

/**
 * Whether `text` nests `{`/`[` more than `limit` deep outside strings. Strings, most of a JSON
 * body, are skipped with `indexOf` (a fast native search) to their closing quote; only the
 * characters between strings are looked at one by one. No allocation; tolerant of invalid JSON
 * (JSON.parse reports that afterwards).
 */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      let end = text.indexOf('"', index + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return false; // an unterminated string: invalid JSON
      index = end + 1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
    index++;
  }
  return false;
}

/** Whether the quote at `index` is escaped: preceded by an odd number of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(index - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** A `\uD800`–`\uDFFF` escape in the raw text: only then can parsed strings hold lone surrogates. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormedString(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * `value` with lone surrogates replaced in every string and key. Recursion is bounded by
 * {@link MAX_JSON_DEPTH}. Keys are written with `defineProperty`, so a `__proto__` key stays an
 * own property (for `inspectEvent` to refuse) instead of replacing the prototype.
 */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return wellFormedString(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(wellFormed);
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(result, wellFormedString(key), {
      value: wellFormed(item),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

/** Content types the ingest API accepts: JSON, or text/plain carrying JSON (no CORS preflight). */
export function assertJsonContentType(request: Request): void {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === 'text/plain' || type === '') return;
  throw new HttpError(
    415,
    'unsupported_content_type',
    `content-type "${type}" is not accepted: send application/json (or text/plain from browsers)`,
  );
}
