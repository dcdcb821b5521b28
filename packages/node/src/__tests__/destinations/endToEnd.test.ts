import type { OutgoingBatch, SightlineError } from '@sightline/core';
import { HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { amplitudeDestination } from '../../destinations';
import { createNodeAnalytics } from '../../nodeAnalytics';
import { amplitudeAccepts, interceptProviders } from './providerServer';

const AMPLITUDE = 'https://api2.amplitude.com/2/httpapi';
const amplitude = interceptProviders({ [AMPLITUDE]: amplitudeAccepts });
const { requests } = amplitude;

/** The Node client with a recording transport (our own collector boundary) and Amplitude. */
function client(destinationErrors: SightlineError[] = [], clientErrors: SightlineError[] = []) {
  const batches: OutgoingBatch[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk',
    transport: {
      send: async (batch) => {
        batches.push(batch);
        return { status: 200 };
      },
    },
    destinations: [
      amplitudeDestination({
        apiKey: 'amp-key-123',
        onError: (error) => destinationErrors.push(error),
      }),
    ],
    onError: (error) => clientErrors.push(error),
  });
  const collected = () => batches.flatMap((batch) => batch.events.map((json) => JSON.parse(json)));
  return { analytics, collected };
}

describe('forwarding from createNodeAnalytics', () => {
  it("a track() reaches Amplitude's endpoint with the collector's messageId as insert_id", async () => {
    const { analytics, collected } = client();
    analytics.track({
      userId: 'user-0042',
      event: 'generation_completed',
      properties: { model: 'fast' },
    });
    await analytics.flush();

    const [event] = collected();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url.href).toBe(AMPLITUDE);
    expect(requests[0]?.body).toStrictEqual({
      api_key: 'amp-key-123',
      events: [
        {
          user_id: 'user-0042',
          time: Date.parse(event.timestamp),
          insert_id: event.messageId,
          event_type: 'generation_completed',
          event_properties: { model: 'fast' },
        },
      ],
    });
    await analytics.close();
  });

  it('close() delivers what the destination still holds before it resolves', async () => {
    const { analytics } = client();
    analytics.identify({ userId: 'user-0042', traits: { plan: 'pro' } });
    await analytics.close();
    expect((requests[0]!.body as { events: Array<{ event_type: string }> }).events).toEqual([
      expect.objectContaining({
        event_type: '$identify',
        user_properties: { $set: { plan: 'pro' } },
      }),
    ]);
  });

  it("a refusal reaches the destination's onError, not the client's, and nothing throws", async () => {
    amplitude.answerNext(AMPLITUDE, () =>
      HttpResponse.json({ code: 400, error: 'Invalid API key' }, { status: 400 }),
    );
    const destinationErrors: SightlineError[] = [];
    const clientErrors: SightlineError[] = [];
    const { analytics, collected } = client(destinationErrors, clientErrors);
    expect(() => analytics.track({ userId: 'user-0042', event: 'refused' })).not.toThrow();
    await analytics.close();

    expect(collected()).toHaveLength(1); // the collector still got it
    expect(destinationErrors.map((error) => error.message)).toEqual([
      '1 event(s) not delivered (http_400): destination "amplitude": answered 400: Invalid API key',
    ]);
    expect(clientErrors).toEqual([]);
  });
});
