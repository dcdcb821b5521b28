import { ConfigurationError, LIMITS, utf8ByteLength } from '@sightline/core';
import type { BatchLimits, DeliveryAnswer, QueuedItem } from './batcher';
import { createForwardingDestination, type ForwardingDestination } from './forwardingDestination';
import { type ForwardingOptions, resolveForwardingOptions } from './forwardingOptions';
import { postJson } from './postJson';

/**
 * Options of {@link segmentDestination}.
 *
 * @example
 * const options: SegmentDestinationOptions = { writeKey: 'WRITE_KEY', host: 'https://collector.example.com' };
 */
export interface SegmentDestinationOptions extends ForwardingOptions {
  /** The source's write key, sent as HTTP Basic auth username with an empty password. */
  writeKey: string;
  /**
   * Base URL of a Segment-compatible endpoint; `/v1/batch` is appended. E.g.
   * `https://api.segment.io`, `https://eu1.api.segmentapis.com` for EU workspaces, RudderStack,
   * or another Sightline collector.
   */
  host: string;
  /** gzip request bodies of 1 KB or more. Default true. */
  gzip?: boolean;
  /** Name in error reports and stats, to tell two such destinations apart. Default `segment`. */
  name?: string;
}

/** What `sentAt` adds to the envelope: an ISO 8601 timestamp is always 24 characters. */
const ENVELOPE_SAMPLE = '{"batch":[],"sentAt":"2000-01-01T00:00:00.000Z"}';

/**
 * Segment's HTTP Tracking API limits: 500 KB per batch request, 32 KB per event
 * (https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/server/http-api),
 * and our collector's 2,500 events per batch.
 */
const SEGMENT_LIMITS: BatchLimits = {
  maxItems: LIMITS.maxBatchEvents,
  maxBytes: LIMITS.maxRequestBytes,
  maxItemBytes: LIMITS.maxEventBytes,
  envelopeBytes: utf8ByteLength(ENVELOPE_SAMPLE),
};

/**
 * Forwards events to any endpoint speaking Segment's HTTP Tracking API
 * (https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/server/http-api): Segment
 * itself, a Segment-compatible CDP, or another Sightline collector. Events are Segment-spec
 * already, so every type (track, identify, page, screen, group, alias) goes as it is, in
 * `POST {host}/v1/batch` bodies `{ batch, sentAt }` with HTTP Basic auth `writeKey:`, gzipped
 * from 1 KB, at most 500 KB per request and 32 KB per event. `messageId` is kept, which Segment
 * uses to deduplicate the copies a retry creates. `sentAt` is set on every attempt, so the
 * receiver can correct clock skew.
 *
 * @example
 * import { segmentDestination } from '@sightline/node/destinations';
 * const mirror = segmentDestination({ writeKey: process.env.SEGMENT_WRITE_KEY!, host: 'https://api.segment.io' });
 * createNodeAnalytics({ writeKey, host, destinations: [mirror] });
 */
export function segmentDestination(options: SegmentDestinationOptions): ForwardingDestination {
  if (typeof options?.writeKey !== 'string' || options.writeKey === '') {
    throw new ConfigurationError('writeKey', "pass the receiving source's write key");
  }
  if (!/^https?:\/\//.test(options.host ?? '')) {
    throw new ConfigurationError(
      'host',
      'pass the endpoint base URL, e.g. "https://api.segment.io"',
    );
  }
  const settings = resolveForwardingOptions(options);
  const url = `${options.host.replace(/\/+$/, '')}/v1/batch`;
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;

  async function send(items: readonly QueuedItem[]): Promise<DeliveryAnswer> {
    const sentAt = JSON.stringify(new Date(settings.scheduler.now()).toISOString());
    const body = `{"batch":[${items.map((item) => item.json).join(',')}],"sentAt":${sentAt}}`;
    const answer = await postJson(url, body, {
      headers: { authorization },
      gzip: options.gzip !== false,
      timeoutMs: settings.requestTimeoutMs,
      fetch: settings.fetch,
    });
    return {
      status: answer.status,
      retryAfterMs: answer.retryAfterMs,
      detail: answer.text.slice(0, 300),
    };
  }

  return createForwardingDestination({
    name: options.name ?? 'segment',
    settings,
    endpoints: { batch: { limits: SEGMENT_LIMITS, send } },
    map: (event) => ({ send: [{ queue: 'batch', payload: event }] }),
  });
}
