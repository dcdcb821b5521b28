import { expect, vi } from 'vitest';
import { createNodeAnalytics } from '../nodeAnalytics';

/**
 * What the Express, Fastify and Hono middleware tests share: a client that records what it sends,
 * and a request body that arrives late.
 */

/** A track event as the client sent it. */
export interface SentEvent {
  event: string;
  userId?: string;
  anonymousId?: string;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

export const SLEEP_MS = 50;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A request body that leaves after the headers, so the server reads it from later socket events
 * (which Node emits outside the request's async context) rather than from its first buffer.
 */
export function slowBody(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async start(controller) {
      await sleep(20);
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
}

/** A client whose transport records what it sends. */
export function recordingAnalytics() {
  const events: SentEvent[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk_test',
    transport: {
      send: async (batch) => {
        events.push(...batch.events.map((json) => JSON.parse(json) as SentEvent));
        return { status: 200 };
      },
    },
  });
  /** Flushes until `count` events named `name` were sent; the response can beat the tracking. */
  const sent = async (name: string, count: number): Promise<SentEvent[]> => {
    await vi.waitFor(async () => {
      await analytics.flush();
      expect(events.filter((event) => event.event === name)).toHaveLength(count);
    });
    return events.filter((event) => event.event === name);
  };
  return { analytics, events, sent };
}
