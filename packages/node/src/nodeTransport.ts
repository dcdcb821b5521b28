import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { createFetchTransport, type Transport } from '@sightline/core';
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
 * The Node transport to the collector's `POST /v1/batch`: core's fetch transport (HTTP Basic auth
 * as Segment sends it, a request timeout, success bodies discarded so sockets go back to the pool)
 * with gzip bodies and the runtime's fetch (native on Node 18+, keep-alive by default; cross-fetch
 * where there is none).
 *
 * @example
 * const transport = createNodeTransport({ host: 'http://127.0.0.1:8787', writeKey: 'wk_…' });
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  return createFetchTransport({
    host: options.host,
    writeKey: options.writeKey,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch ?? globalThis.fetch ?? crossFetch,
    compress:
      options.gzip === false
        ? undefined
        : {
            encoding: 'gzip',
            encode: async (body) =>
              body.length < GZIP_MIN_BYTES ? undefined : new Uint8Array(await compress(body)),
          },
  });
}
