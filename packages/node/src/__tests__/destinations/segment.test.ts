import { ConfigurationError, type SightlineError } from '@sightline/core';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import type { ForwardingError } from '../../destinations/forwardingError';
import { type SegmentDestinationOptions, segmentDestination } from '../../destinations/segment';
import { basicCredentials, interceptProviders, segmentAccepts } from './providerServer';
import {
  aliasEvent,
  groupEvent,
  identifyEvent,
  pageEvent,
  TIMESTAMP,
  trackEvent,
} from './sampleEvents';
import { createTestClock, until } from './testClock';

const SEGMENT = 'https://api.segment.io/v1/batch';
const segment = interceptProviders({ [SEGMENT]: segmentAccepts });
const { requests } = segment;

interface SegmentBody {
  batch: Array<Record<string, unknown>>;
  sentAt: string;
}
const bodies = () => requests.map((request) => request.body as SegmentBody);

function destination(options: Partial<SegmentDestinationOptions> = {}) {
  const clock = createTestClock();
  const errors: ForwardingError[] = [];
  const forwarder = segmentDestination({
    writeKey: 'seg-write-key',
    host: 'https://api.segment.io/',
    scheduler: clock.scheduler,
    onError: (error: SightlineError) => errors.push(error as ForwardingError),
    ...options,
  });
  return { forwarder, clock, errors };
}

describe('segmentDestination', () => {
  it('posts { batch, sentAt } to {host}/v1/batch with Basic auth writeKey:, every event type as it is', async () => {
    const { forwarder } = destination();
    const events = [
      trackEvent('Order Completed', { total: 42.5 }),
      identifyEvent({ email: 'ada@example.com' }),
      pageEvent(),
      pageEvent({ type: 'screen', name: 'Settings', context: {} }),
      groupEvent('org-77', { name: 'Acme' }),
      aliasEvent(),
    ];
    for (const event of events) forwarder.send(event);
    await forwarder.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url.href).toBe(SEGMENT);
    expect(basicCredentials(request!)).toBe('seg-write-key:');
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(request?.gzipped).toBe(true); // over 1 KB
    expect(request?.body).toStrictEqual({ batch: events, sentAt: TIMESTAMP });
  });

  it('sends small bodies, or any body with gzip: false, uncompressed', async () => {
    const small = destination().forwarder;
    small.send(trackEvent('a'));
    await small.flush();
    const plain = destination({ gzip: false }).forwarder;
    plain.send(trackEvent('b', { note: 'n'.repeat(2000) }));
    await plain.flush();
    expect(requests.map((request) => request.gzipped)).toEqual([false, false]);
  });

  it('stamps sentAt at each attempt, so a retried batch tells the receiver when it really left', async () => {
    const { forwarder, clock } = destination();
    segment.answerNext(SEGMENT, () => HttpResponse.json({ success: false }, { status: 503 }));
    forwarder.send(trackEvent('a'));
    const flushing = forwarder.flush();
    await until(() => clock.pending().length === 1);
    const wait = clock.pending()[0]!;
    clock.advance(wait);
    await flushing;
    expect(bodies().map((body) => body.sentAt)).toEqual([
      TIMESTAMP,
      new Date(Date.parse(TIMESTAMP) + wait).toISOString(),
    ]);
    expect(bodies()[1]?.batch).toEqual(bodies()[0]?.batch);
  });

  it('keeps requests within 500 KB and drops, with a report, an event over 32 KB', async () => {
    const { forwarder, errors } = destination();
    const events = Array.from({ length: 40 }, (_, index) =>
      trackEvent('sized', { index, blob: 'x'.repeat(30_000) }),
    );
    const oversized = trackEvent('huge', { blob: 'x'.repeat(33 * 1024) });
    for (const event of [...events.slice(0, 20), oversized, ...events.slice(20)]) {
      forwarder.send(event);
    }
    await forwarder.flush();

    expect(requests.length).toBeGreaterThan(2);
    for (const request of requests) expect(request.text.length).toBeLessThanOrEqual(500 * 1024);
    expect(bodies().flatMap((body) => body.batch.map((event) => event.messageId))).toEqual(
      events.map((event) => event.messageId),
    );
    expect(errors.map((error) => [error.reason, error.messageIds])).toEqual([
      ['event_too_large', [oversized.messageId]],
    ]);
  });

  it('names itself as configured in reports, to tell two Segment-style destinations apart', async () => {
    const { forwarder, errors } = destination({ name: 'warehouse-mirror' });
    segment.answerNext(SEGMENT, () => HttpResponse.json({ success: false }, { status: 401 }));
    forwarder.send(trackEvent('a'));
    await forwarder.flush();
    expect(forwarder.name).toBe('warehouse-mirror');
    expect(errors.map((error) => [error.destination, error.reason])).toEqual([
      ['warehouse-mirror', 'http_401'],
    ]);
  });

  it('throws at once, naming the option, without a write key or an http(s) host', () => {
    expect(() => segmentDestination({ writeKey: '', host: 'https://api.segment.io' })).toThrow(
      ConfigurationError,
    );
    expect(() => segmentDestination({ writeKey: 'k', host: 'api.segment.io' })).toThrow(/`host`/);
  });
});
