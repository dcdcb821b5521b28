import { ConfigurationError } from './errors';
import type { AnalyticsEvent, EventContext } from './event';
import type { Logger } from './logger';

/** A batch ready to leave: events already serialized once, at enqueue time. */
export interface OutgoingBatch {
  /** Each event's JSON text. */
  events: readonly string[];
  /**
   * Each event's JSON as UTF-8 bytes, when the queue keeps events as bytes (the Node SDK does):
   * a transport can build the body from these without decoding `events`, which is then computed
   * only if read.
   */
  utf8?: readonly Uint8Array[];
  /** ISO time the batch is sent; the collector corrects clock skew with it. */
  sentAt: string;
  /**
   * Context shared by every event of the batch (Segment batch semantics: the collector merges it
   * under each event's own context). Core sends `library` here once per request, not per event.
   */
  context?: EventContext;
  /** Ask the platform to let the request outlive the page (fetch keepalive / sendBeacon). */
  keepalive?: boolean;
}

/** What came back. A network failure rejects instead. */
export interface TransportResponse {
  status: number;
  /** The raw `Retry-After` header, if any. */
  retryAfter?: string | null;
  /** Up to 1,000 characters of the body of an error response, for dead-letter reasons. */
  body?: string;
}

/**
 * Sends batches. Platforms implement it (fetch, sendBeacon, node:http); core ships
 * {@link createFetchTransport}, usable wherever `fetch` exists.
 *
 * @example
 * const noop: Transport = { send: async () => ({ status: 200 }) };
 */
export interface Transport {
  send(batch: OutgoingBatch): Promise<TransportResponse>;
}

/**
 * The `POST /v1/batch` body: `{"batch":[…],"sentAt":"…"}`, with `writeKey` when it travels in the
 * body (beacons cannot set headers).
 *
 * @example
 * serializeBatch({ events: ['{"type":"track"}'], sentAt: '2026-01-01T00:00:00.000Z' });
 */
export function serializeBatch(batch: OutgoingBatch, writeKey?: string): string {
  const key = writeKey === undefined ? '' : `,"writeKey":${JSON.stringify(writeKey)}`;
  const context = batch.context === undefined ? '' : `,"context":${JSON.stringify(batch.context)}`;
  return `{"batch":[${batch.events.join(',')}],"sentAt":"${batch.sentAt}"${context}${key}}`;
}

/** Options of {@link createFetchTransport}. */
export interface FetchTransportOptions {
  /** Collector base URL, e.g. `https://example.com/analytics`; `/v1/batch` is appended. */
  host: string;
  writeKey: string;
  /**
   * `header` sends HTTP Basic auth as Segment does; `body` puts the key in the JSON and sends
   * `text/plain`, which browsers post cross-origin without a CORS preflight. Default `header`.
   */
  writeKeyIn?: 'header' | 'body';
  /** Abort a request after this long and retry it. Default 10,000 ms. */
  timeoutMs?: number;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /**
   * Compresses request bodies (the platform brings the codec: gzip on Node). `encode` answers
   * `undefined` to send a body as it is (too small to gain); otherwise the request carries
   * `content-encoding: <encoding>`.
   */
  compress?: {
    encoding: string;
    encode(body: string | Uint8Array): Promise<Uint8Array | undefined>;
  };
  /** Builds the request body; default {@link serializeBatch}. */
  serialize?: (batch: OutgoingBatch, writeKey: string | undefined) => string | Uint8Array;
}

function base64(text: string): string {
  // btoa exists in browsers, workers, Deno, Bun and Node >= 16. It throws on characters above
  // U+00FF, so the key goes through UTF-8 first (a no-op for the usual ASCII keys).
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The collector's batch endpoint under `host`, which must be an http(s) URL.
 *
 * @example
 * batchUrl('https://example.com/analytics/'); // 'https://example.com/analytics/v1/batch'
 */
export function batchUrl(host: string): string {
  if (!/^https?:\/\//.test(host)) {
    throw new ConfigurationError('host', 'pass the collector URL, e.g. "http://127.0.0.1:8787"');
  }
  return `${host.replace(/\/+$/, '')}/v1/batch`;
}

/**
 * One `POST` of a request body, aborted after `timeoutMs`: the status, the `Retry-After` header
 * and up to 1,000 characters of an error body, for the dead-letter reason. The part of
 * {@link createFetchTransport} that platforms with their own body and headers reuse.
 *
 * @example
 * await postBatch(fetch, batchUrl(host), { headers: { 'content-type': 'text/plain' }, body }, 10_000);
 */
export async function postBatch(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<TransportResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await doFetch(url, { ...init, method: 'POST', signal: controller.signal });
    const ok = response.ok;
    // An unread body pins the connection (undici keeps the socket until the body is
    // garbage-collected), so a success body is cancelled, without waiting: some stream
    // implementations never settle `cancel()`. An error body is read for the reason.
    if (ok) response.body?.cancel().catch(() => undefined);
    const body = ok ? undefined : (await response.text().catch(() => '')).slice(0, 1000);
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A transport over `fetch`. Times out, reads `Retry-After`, and keeps up to 1,000 characters of
 * an error body for the dead-letter reason.
 *
 * @example
 * const transport = createFetchTransport({ host: 'http://127.0.0.1:8787', writeKey: 'wk_dev' });
 */
export function createFetchTransport(options: FetchTransportOptions): Transport {
  const url = batchUrl(options.host);
  const inBody = options.writeKeyIn === 'body';
  const headers: Record<string, string> = {
    'content-type': inBody ? 'text/plain' : 'application/json',
    ...(inBody ? {} : { authorization: `Basic ${base64(`${options.writeKey}:`)}` }),
    ...options.headers,
  };

  return {
    async send(batch) {
      const text = (options.serialize ?? serializeBatch)(
        batch,
        inBody ? options.writeKey : undefined,
      );
      const packed = await options.compress?.encode(text);
      return postBatch(
        options.fetch ?? globalThis.fetch,
        url,
        {
          headers: packed
            ? { ...headers, 'content-encoding': options.compress!.encoding }
            : headers,
          body: (packed ?? text) as BodyInit,
          keepalive: batch.keepalive ?? false,
        },
        options.timeoutMs ?? 10_000,
      );
    },
  };
}

/**
 * Sandbox mode (seed 000's `SANDBOX_MODE`): every event is written to the logger instead of
 * being sent, and the batch counts as delivered.
 *
 * @example
 * createAnalytics({ writeKey: 'dev', sandbox: true });
 */
export function createSandboxTransport(logger: Logger): Transport {
  return {
    async send(batch) {
      for (const json of batch.events) logger.info('sandbox event', withBatchContext(json, batch));
      return { status: 200 };
    },
  };
}

/**
 * One event of a batch as the collector stores it: its JSON parsed, with the batch's shared
 * `context` merged under the event's own.
 *
 * @example
 * withBatchContext('{"type":"track","context":{}}', { events: [], sentAt, context: { library } });
 */
export function withBatchContext(json: string, batch: OutgoingBatch): AnalyticsEvent {
  const event = JSON.parse(json) as AnalyticsEvent;
  if (batch.context) event.context = { ...batch.context, ...event.context };
  return event;
}
