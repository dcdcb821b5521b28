import { ConfigurationError, type SightlineError } from '@sightline/core';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  type AmplitudeDestinationOptions,
  amplitudeDestination,
} from '../../destinations/amplitude';
import type { ForwardingError } from '../../destinations/forwardingError';
import { amplitudeAccepts, interceptProviders } from './providerServer';
import {
  aliasEvent,
  groupEvent,
  identifyEvent,
  pageEvent,
  TIME_MS,
  trackEvent,
} from './sampleEvents';
import { createTestClock, until } from './testClock';

const US = 'https://api2.amplitude.com/2/httpapi';
const EU = 'https://api.eu.amplitude.com/2/httpapi';
const PROXY = 'https://proxy.example.com/amplitude/2/httpapi';
const amplitude = interceptProviders({
  [US]: amplitudeAccepts,
  [EU]: amplitudeAccepts,
  [PROXY]: amplitudeAccepts,
});
const { requests } = amplitude;

interface AmplitudeBody {
  api_key: string;
  events: Array<Record<string, unknown>>;
  options?: Record<string, unknown>;
}
const bodies = () => requests.map((request) => request.body as AmplitudeBody);
const insertIds = () => bodies().flatMap((body) => body.events.map((event) => event.insert_id));

/** A destination on a test clock, collecting what reaches onError. */
function destination(options: Partial<AmplitudeDestinationOptions> = {}) {
  const clock = createTestClock();
  const errors: ForwardingError[] = [];
  const forwarder = amplitudeDestination({
    apiKey: 'amp-key-123',
    scheduler: clock.scheduler,
    onError: (error: SightlineError) => errors.push(error as ForwardingError),
    ...options,
  });
  return { forwarder, clock, errors };
}

describe('amplitudeDestination', () => {
  it('posts { api_key, events } to the HTTP V2 API with insert_id = messageId and time in ms', async () => {
    const { forwarder } = destination();
    const event = trackEvent(
      'Order Completed',
      { total: 42.5, items: ['a', 'b'] },
      { context: { ip: '203.0.113.7', sessionId: 1767323000000 } },
    );
    forwarder.send(event);
    await forwarder.flush();

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.url.href).toBe(US);
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(request?.headers.get('authorization')).toBeNull(); // the key travels in the body
    expect(request?.gzipped).toBe(false);
    expect(JSON.parse(request!.text)).toStrictEqual({
      api_key: 'amp-key-123',
      events: [
        {
          user_id: 'user-0042',
          device_id: 'anon-0001',
          time: TIME_MS,
          insert_id: event.messageId,
          session_id: 1767323000000,
          ip: '203.0.113.7',
          event_type: 'Order Completed',
          event_properties: { total: 42.5, items: ['a', 'b'] },
        },
      ],
    });
  });

  it('maps page, screen, identify and group the way Amplitude’s SDKs send them, and skips alias', async () => {
    const { forwarder } = destination();
    const page = pageEvent();
    const screen = pageEvent({
      type: 'screen',
      name: 'Settings',
      category: undefined,
      context: {},
    });
    const identify = identifyEvent({ email: 'ada@example.com', plan: 'pro' });
    const group = groupEvent('org-77', { type: 'workspace', name: 'Acme', seats: 12 });
    const bareGroup = groupEvent('org-78', {});
    for (const event of [page, screen, identify, group, bareGroup, aliasEvent()])
      forwarder.send(event);
    await forwarder.flush();

    const ids = { user_id: 'user-0042', device_id: 'anon-0001', time: TIME_MS };
    expect(bodies().flatMap((body) => body.events)).toStrictEqual([
      {
        ...ids,
        insert_id: page.messageId,
        event_type: '[Sightline] Page Viewed',
        event_properties: {
          url: 'https://example.com/pricing?ref=nav',
          path: '/pricing',
          search: '?ref=nav',
          title: 'Pricing',
          referrer: 'https://google.com/',
          plan: 'pro',
          name: 'Pricing',
          category: 'marketing',
        },
      },
      {
        ...ids,
        insert_id: screen.messageId,
        event_type: '[Sightline] Screen Viewed',
        event_properties: { plan: 'pro', name: 'Settings' },
      },
      {
        ...ids,
        insert_id: identify.messageId,
        event_type: '$identify',
        user_properties: { $set: { email: 'ada@example.com', plan: 'pro' } },
      },
      {
        ...ids,
        insert_id: group.messageId,
        event_type: '$identify',
        groups: { workspace: 'org-77' },
        user_properties: { $set: { workspace: 'org-77' } },
      },
      {
        ...ids,
        insert_id: `${group.messageId}-group`,
        event_type: '$groupidentify',
        groups: { workspace: 'org-77' },
        group_properties: { $set: { name: 'Acme', seats: 12 } },
      },
      {
        ...ids,
        insert_id: bareGroup.messageId,
        event_type: '$identify',
        groups: { company: 'org-78' },
        user_properties: { $set: { company: 'org-78' } },
      },
    ]);
    expect(forwarder.stats().skipped).toEqual({ alias_unsupported: 1 });
  });

  it("posts to the EU endpoint, or a proxy URL, and sends min_id_length in the body's options", async () => {
    const eu = destination({ endpoint: 'eu', minIdLength: 1 }).forwarder;
    eu.send(trackEvent('a', {}, { userId: 'u1', anonymousId: undefined }));
    await eu.flush();
    const proxy = destination({ endpoint: PROXY }).forwarder;
    proxy.send(trackEvent('b'));
    await proxy.flush();

    expect(requests.map((request) => request.url.href)).toEqual([EU, PROXY]);
    expect(bodies()[0]).toStrictEqual({
      api_key: 'amp-key-123',
      events: [expect.objectContaining({ user_id: 'u1', event_type: 'a' })],
      options: { min_id_length: 1 },
    });
    expect(bodies()[0]?.events[0]).not.toHaveProperty('device_id');
  });

  it('sends 2,001 events as 2,000 + 1 (at most 2,000 events per request), each insert_id once', async () => {
    const { forwarder } = destination();
    const events = Array.from({ length: 2001 }, (_, index) => trackEvent('bulk', { index }));
    for (const event of events) forwarder.send(event);
    await forwarder.flush();

    expect(bodies().map((body) => body.events.length)).toEqual([2000, 1]);
    expect(insertIds()).toEqual(events.map((event) => event.messageId));
  });

  it('keeps every request under 1 MB, splitting large events across requests', async () => {
    const { forwarder } = destination();
    const blob = 'x'.repeat(300_000);
    for (let index = 0; index < 7; index++) forwarder.send(trackEvent('big', { index, blob }));
    await forwarder.flush();

    expect(requests.map((request) => request.text.length)).toSatisfy((sizes: number[]) =>
      sizes.every((size) => size < 1_000_000),
    );
    expect(bodies().map((body) => body.events.length)).toEqual([3, 3, 1]);
  });

  it('waits for Retry-After on 429, then resends the same body', async () => {
    const { forwarder, clock } = destination();
    amplitude.answerNext(US, () =>
      HttpResponse.json(
        { code: 429, error: 'Too many requests for some devices and users', throttled_events: [0] },
        { status: 429, headers: { 'Retry-After': '1' } },
      ),
    );
    forwarder.send(trackEvent('throttled'));
    const flushing = forwarder.flush();
    await until(() => clock.pending().length === 1, 'the throttle wait');
    expect(clock.pending()).toEqual([1000]);
    clock.advance(1000);
    await flushing;

    expect(requests).toHaveLength(2);
    expect(requests[1]?.text).toBe(requests[0]?.text);
    expect(forwarder.stats()).toMatchObject({ delivered: 1, retried: 1 });
  });

  it('pauses 30 s on a 429 without Retry-After, as Amplitude asks throttled senders to', async () => {
    const { forwarder, clock } = destination();
    amplitude.answerNext(US, () =>
      HttpResponse.json({ code: 429, error: 'Too many requests' }, { status: 429 }),
    );
    forwarder.send(trackEvent('throttled'));
    const flushing = forwarder.flush();
    await until(() => clock.pending().length === 1);
    expect(clock.pending()).toEqual([30_000]);
    clock.advance(30_000);
    await flushing;
    expect(requests).toHaveLength(2);
  });

  it('retries a 500 with backoff without resending a batch that already succeeded', async () => {
    const { forwarder, clock } = destination({ flushAt: 2 });
    const first = [trackEvent('one'), trackEvent('two')];
    const second = [trackEvent('three'), trackEvent('four')];
    for (const event of first) forwarder.send(event);
    await until(() => requests.length === 1, 'the first batch');
    amplitude.answerNext(US, () => HttpResponse.json({ code: 500 }, { status: 500 }));
    for (const event of second) forwarder.send(event);
    const flushing = forwarder.flush();
    await until(() => clock.pending().length === 1, 'the backoff');
    expect(clock.pending()[0]).toBeLessThan(1000); // full jitter below the first 1 s ceiling
    clock.advance(1000);
    await flushing;

    expect(insertIds()).toEqual([...first, ...second, ...second].map((event) => event.messageId));
    expect(forwarder.stats()).toMatchObject({ delivered: 4, retried: 2 });
  });

  it('drops the events a 400 names, reports them, and resends the rest', async () => {
    const { forwarder, errors } = destination();
    amplitude.answerNext(US, () =>
      HttpResponse.json(
        {
          code: 400,
          error: 'Request missing required field',
          events_with_missing_fields: { event_type: [1] },
          events_with_invalid_fields: { time: [2] },
        },
        { status: 400 },
      ),
    );
    const events = [trackEvent('ok'), trackEvent(''), trackEvent('late'), trackEvent('fine')];
    for (const event of events) forwarder.send(event);
    await forwarder.flush();

    expect(bodies().map((body) => body.events.map((event) => event.event_type))).toEqual([
      ['ok', '', 'late', 'fine'],
      ['ok', 'fine'],
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.name).toBe('ForwardingError');
    expect(errors[0]?.destination).toBe('amplitude');
    expect(errors[0]?.messageIds).toEqual([events[1]?.messageId, events[2]?.messageId]);
    expect(errors[0]?.message).toContain('destination "amplitude"');
    expect(errors[0]?.message).toContain('Request missing required field');
  });

  it('drops a whole batch on a 400 that names no event, without retrying, and reports it', async () => {
    const { forwarder, errors, clock } = destination();
    amplitude.answerNext(US, () =>
      HttpResponse.json(
        { code: 400, error: 'Invalid API key', missing_field: null },
        { status: 400 },
      ),
    );
    forwarder.send(trackEvent('a'));
    await forwarder.flush();
    expect(requests).toHaveLength(1);
    expect(clock.pending()).toEqual([]);
    expect(errors.map((error) => [error.reason, error.eventCount])).toEqual([['http_400', 1]]);
    expect(forwarder.stats().dropped).toEqual({ http_400: 1 });
  });

  it('refuses, with a report, an event with neither userId nor anonymousId', async () => {
    const { forwarder, errors } = destination();
    forwarder.send(trackEvent('nobody', {}, { userId: undefined, anonymousId: undefined }));
    await forwarder.flush();
    expect(requests).toEqual([]);
    expect(errors.map((error) => error.reason)).toEqual(['unmappable']);
  });

  it('throws at once, naming the option, when the API key or endpoint is missing or malformed', () => {
    expect(() => amplitudeDestination({ apiKey: '' })).toThrow(ConfigurationError);
    expect(() => amplitudeDestination({ apiKey: 'k', endpoint: 'mars' })).toThrow(/`endpoint`/);
    expect(() => amplitudeDestination({ apiKey: 'k', minIdLength: 0 })).toThrow(/`minIdLength`/);
    expect(() => amplitudeDestination({ apiKey: 'k', flushIntervalMs: -1 })).toThrow(
      /`flushIntervalMs`/,
    );
  });
});
