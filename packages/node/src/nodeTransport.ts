import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ConfigurationError, serializeBatch, type Transport } from '@sightline/core';
import crossFetch from 'cross-fetch';

const compress = promisify(gzip);

/** Bodies smaller than this are sent as they are: gzip would cost more than it saves. */
const GZIP_MIN_BYTES = 1024;

export interface NodeTransportOptions {
  /** Collector base URL; `/v1/batch` is appended. */
  host: string;
  writeKey: string;
  /** Abort a request after this long (it is then retried). Default 10,000 ms. */
  timeoutMs?: number;
  /** gzip request bodies of 1 KB or more. Default true. */
  gzip?: boolean;
  /** A fetch implementation; default the native one, else cross-fetch. */
  fetch?: typeof fetch;
}

/**
 * The Node transport to the collector's `POST /v1/batch`: HTTP Basic auth as Segment sends it,
 * gzip bodies, a request timeout, and the runtime's fetch (native on Node 18+, keep-alive by
 * default; cross-fetch where there is none). Response bodies of successes are discarded without
 * being read, so sockets go back to the pool at once.
 *
 * @example
 * const transport = createNodeTransport({ host: 'http://127.0.0.1:8787', writeKey: 'wk_…' });
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  if (!/^https?:\/\//.test(options.host ?? '')) {
    throw new ConfigurationError('host', 'pass the collector URL, e.g. "http://127.0.0.1:8787"');
  }
  const url = `${options.host.replace(/\/+$/, '')}/v1/batch`;
  const doFetch = options.fetch ?? globalThis.fetch ?? crossFetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  return {
    async send(batch) {
      const text = serializeBatch(batch);
      const zipped = options.gzip !== false && text.length >= GZIP_MIN_BYTES;
      const body = zipped ? await compress(text) : text;
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          ...(zipped ? { 'content-encoding': 'gzip' } : {}),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) {
        response.body?.cancel().catch(() => {});
        return { status: response.status };
      }
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.text().catch(() => '')).slice(0, 1000),
      };
    },
  };
}
