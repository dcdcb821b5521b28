import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { parseRetryAfter } from '@sightline/core';

const compress = promisify(gzip);

/** Bodies smaller than this go as they are: gzip would cost more than it saves. */
const GZIP_MIN_BYTES = 1024;

/** How to post one request. */
export interface PostOptions {
  headers?: Record<string, string>;
  /** gzip bodies of 1 KB or more (only for endpoints documented to accept `Content-Encoding: gzip`). */
  gzip?: boolean;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** The parts of an answer the providers look at. */
export interface PostAnswer {
  status: number;
  /** `Retry-After` in ms, when the provider sent one. */
  retryAfterMs?: number;
  /** The response body (first 10,000 characters): providers explain refusals there. */
  text: string;
}

/**
 * POSTs a JSON body with a timeout, gzipped when asked and worth it. Network errors and
 * timeouts reject, which the batcher retries; every HTTP answer resolves.
 *
 * @example
 * const answer = await postJson('https://api2.amplitude.com/2/httpapi', body, { timeoutMs: 10_000, fetch });
 */
export async function postJson(
  url: string,
  body: string,
  options: PostOptions,
): Promise<PostAnswer> {
  const zipped = options.gzip === true && body.length >= GZIP_MIN_BYTES;
  const response = await options.fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(zipped ? { 'content-encoding': 'gzip' } : {}),
      ...options.headers,
    },
    body: zipped ? await compress(body) : body,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const text = (await response.text().catch(() => '')).slice(0, 10_000);
  return {
    status: response.status,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
    text,
  };
}

/**
 * Parses a JSON answer body, or `undefined` when it is not JSON.
 *
 * @example
 * parseJsonBody('{"code":200}'); // { code: 200 }
 * parseJsonBody('<html>'); // undefined
 */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
