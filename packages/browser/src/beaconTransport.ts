import {
  batchUrl,
  type OutgoingBatch,
  postBatch,
  serializeBatch,
  type Transport,
} from '@sightline/core';
import type { FlushLock } from './flushLock';

const BEACON_INTERVAL_MS = 30_000;

/** A CORS-safelisted content type: a cross-origin collector needs no preflight. */
const TEXT_PLAIN = 'text/plain';

/** Browsers refuse keepalive bodies past 64 KB in flight per page; batches stay under it. */
export const KEEPALIVE_BYTES = 60_000;

/**
 * The browser's transport to the collector's `POST /v1/batch`: `text/plain` with the write key
 * in the body, so a cross-origin collector needs no CORS preflight.
 *
 * - While the browser is offline, a send waits for the `online` event instead of failing (core
 *   would count each failure towards giving up).
 * - Once the page is hidden (tab switch, navigation, close), a send uses `fetch` with
 *   `keepalive` so it outlives the page, or `navigator.sendBeacon` when keepalive is refused.
 *   A beacon returns no answer, so its events count as not yet acknowledged: they stay queued
 *   (and stored) and are sent again later; the collector's dedupe makes that harmless.
 *
 * @example
 * createAnalytics({ writeKey, transport: createBeaconTransport('https://c.example.com', writeKey) });
 */
export function createBeaconTransport(
  host: string,
  writeKey: string,
  options: {
    timeoutMs?: number;
    /** Whether the page is going away (then sends use keepalive). Default: the document is hidden. */
    hidden?: () => boolean;
    /** Held while a request is out, so one tab sends at a time (not once the page is hidden). */
    lock?: FlushLock;
  } = {},
): Transport {
  const hidden = options.hidden ?? (() => document.visibilityState === 'hidden');
  const url = batchUrl(host);
  const online = () =>
    navigator.onLine
      ? undefined
      : new Promise<void>((resolve) => addEventListener('online', () => resolve(), { once: true }));

  let lastBeacon = -Infinity;
  const post = async (batch: OutgoingBatch) => {
    const keepalive = hidden();
    const body = serializeBatch(batch, writeKey);
    try {
      // Core's request: timeout, Retry-After, error bodies.
      return await postBatch(
        fetch,
        url,
        { headers: { 'content-type': TEXT_PLAIN }, body, keepalive },
        options.timeoutMs ?? 10_000,
      );
    } catch (error) {
      // One beacon per 30 s: retries of a page that stays hidden must not resend it each time.
      const now = Date.now();
      if (
        keepalive &&
        now - lastBeacon > BEACON_INTERVAL_MS &&
        navigator.sendBeacon?.(url, new Blob([body], { type: TEXT_PLAIN }))
      ) {
        lastBeacon = now;
        throw new Error('sent with sendBeacon: kept until the collector acknowledges it');
      }
      throw error;
    }
  };

  return {
    async send(batch) {
      await online();
      if (hidden() || !options.lock) return post(batch);
      return options.lock(() => post(batch));
    },
  };
}
