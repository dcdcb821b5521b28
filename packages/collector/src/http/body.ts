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
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
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
      if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw tooLarge(maxBytes);
      }
      throw new HttpError(400, 'invalid_compression', `the ${encoding} body could not be decompressed`);
    }
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpError(400, 'invalid_utf8', 'the body is not valid UTF-8: send UTF-8 encoded JSON');
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
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
 * `JSON.parse` with an error that says where the JSON broke.
 *
 * @example
 * parseJson('{"batch":[]}');
 */
export function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw new HttpError(400, 'empty_body', 'the body is empty: send a JSON object');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'invalid_json',
      `the body is not valid JSON (${(error as Error).message}): send a JSON object`,
    );
  }
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
