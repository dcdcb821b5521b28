import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  createFetchTransport,
  type OutgoingBatch,
  serializeBatch,
  type Transport,
} from '@sightline/core';
import { httpFetch } from './httpFetch';

const compress = promisify(gzip);

const BATCH_START = Buffer.from('{"batch":[');
const COMMA = Buffer.from(',');

/**
 * The body as bytes, straight from the queue's UTF-8 views when it has them, so a batch of 2,500
 * events is not decoded into strings only to be encoded again.
 */
function serializeBytes(batch: OutgoingBatch, writeKey: string | undefined): string | Uint8Array {
  if (!batch.utf8) return serializeBatch(batch, writeKey);
  // The envelope after the events: `],"sentAt":…}`, from the one serializer.
  // (Fields named, not spread: spreading would read, and so decode, `events`.)
  const empty = serializeBatch(
    { events: [], sentAt: batch.sentAt, context: batch.context },
    writeKey,
  );
  const parts: Uint8Array[] = [BATCH_START];
  batch.utf8.forEach((event, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(event);
  });
  parts.push(Buffer.from(empty.slice(BATCH_START.length)));
  return Buffer.concat(parts);
}

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
  /** A fetch implementation; default {@link httpFetch} (node:http, lighter than undici's fetch). */
  fetch?: typeof fetch;
}

/**
 * The Node transport to the collector's `POST /v1/batch`: core's fetch transport (HTTP Basic auth
 * as Segment sends it, a request timeout, success bodies discarded so sockets go back to the pool)
 * with gzip bodies built straight from the queue's bytes, sent over node:http with keep-alive
 * ({@link httpFetch}).
 *
 * @example
 * const transport = createNodeTransport({ host: 'http://127.0.0.1:8787', writeKey: 'wk_…' });
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  return createFetchTransport({
    host: options.host,
    writeKey: options.writeKey,
    timeoutMs: options.timeoutMs,
    fetch: options.fetch ?? httpFetch,
    serialize: serializeBytes,
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
