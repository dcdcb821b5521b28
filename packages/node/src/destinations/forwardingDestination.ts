import { type AnalyticsEvent, type Destination, utf8ByteLength } from '@sightline/core';
import {
  type Batcher,
  type BatchLimits,
  createBatcher,
  type DeliveryAnswer,
  type ForwardingStats,
  type QueuedItem,
} from './batcher';
import { ForwardingError } from './forwardingError';
import type { ResolvedForwardingOptions } from './forwardingOptions';

/** One provider endpoint: its documented limits and how to post a batch to it. */
export interface Endpoint {
  limits: BatchLimits;
  send(items: readonly QueuedItem[]): Promise<DeliveryAnswer>;
}

/**
 * What becomes of one Sightline event at a provider: payloads for its endpoints, a `skip` by
 * design (the provider has no equivalent; counted, not reported), or a `refuse` (the event lacks
 * something the provider requires; reported through `onError`).
 */
export type Mapping<Queue extends string> =
  | { send: ReadonlyArray<{ queue: Queue; payload: object }> }
  | { skip: string }
  | { refuse: string };

/**
 * A destination that batches and retries on its own, with counters.
 *
 * @example
 * const amplitude: ForwardingDestination = amplitudeDestination({ apiKey });
 * await amplitude.flush();
 * amplitude.stats().delivered;
 */
export interface ForwardingDestination extends Destination {
  /** Resolves once everything sent before the call is delivered or given up (and reported). */
  flush(): Promise<void>;
  /** Flushes for up to `closeTimeoutMs`, then drops (and reports) the rest; later events are refused. */
  close(): Promise<void>;
  /** Counters summed over the destination's endpoints. */
  stats(): ForwardingStats;
}

/**
 * Builds a destination from a provider's mapping and endpoints: one batcher per endpoint, each
 * with that endpoint's limits, sharing the destination's settings. `send` never throws and never
 * returns a promise, so core's router has nothing to wait for or catch.
 *
 * @example
 * return createForwardingDestination({
 *   name: 'amplitude', settings,
 *   endpoints: { events: { limits, send: postEvents } },
 *   map: (event) => ({ send: [{ queue: 'events', payload: toAmplitude(event) }] }),
 * });
 */
export function createForwardingDestination<Queue extends string>(spec: {
  name: string;
  settings: ResolvedForwardingOptions;
  endpoints: Record<Queue, Endpoint>;
  map(event: AnalyticsEvent): Mapping<Queue>;
}): ForwardingDestination {
  const { name, settings } = spec;
  const skipped: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const report = (error: ForwardingError) => {
    try {
      settings.onError(error);
    } catch {
      // A throwing onError stays here.
    }
  };

  const batchers = {} as Record<Queue, Batcher>;
  for (const queue of Object.keys(spec.endpoints) as Queue[]) {
    const endpoint = spec.endpoints[queue];
    batchers[queue] = createBatcher({
      destination: name,
      limits: endpoint.limits,
      send: endpoint.send,
      report,
      flushIntervalMs: settings.flushIntervalMs,
      flushAt: Math.min(settings.flushAt ?? endpoint.limits.maxItems, settings.maxQueuedEvents),
      maxQueued: settings.maxQueuedEvents,
      retry: settings.retry,
      closeTimeoutMs: settings.closeTimeoutMs,
      scheduler: settings.scheduler,
    });
  }
  const all = Object.values<Batcher>(batchers);

  function refuse(event: AnalyticsEvent, reason: string, detail: string) {
    refused[reason] = (refused[reason] ?? 0) + 1;
    report(new ForwardingError(name, reason, [event.messageId], detail));
  }

  return {
    name,
    category: settings.category,
    send(event) {
      try {
        const mapping = spec.map(event);
        if ('skip' in mapping) {
          skipped[mapping.skip] = (skipped[mapping.skip] ?? 0) + 1;
          return;
        }
        if ('refuse' in mapping) return refuse(event, 'unmappable', mapping.refuse);
        for (const { queue, payload } of mapping.send) {
          const json = JSON.stringify(payload);
          batchers[queue].add({ messageId: event.messageId, json, bytes: utf8ByteLength(json) });
        }
      } catch (error) {
        refuse(event, 'invalid', error instanceof Error ? error.message : String(error));
      }
    },
    async flush() {
      await Promise.all(all.map((batcher) => batcher.flush()));
    },
    async close() {
      await Promise.all(all.map((batcher) => batcher.close()));
    },
    stats() {
      const total: ForwardingStats = {
        queued: 0,
        inFlight: 0,
        delivered: 0,
        retried: 0,
        dropped: { ...refused },
        skipped: { ...skipped },
      };
      for (const batcher of all) {
        const stats = batcher.stats();
        total.queued += stats.queued;
        total.inFlight += stats.inFlight;
        total.delivered += stats.delivered;
        total.retried += stats.retried;
        for (const [reason, count] of Object.entries(stats.dropped)) {
          total.dropped[reason] = (total.dropped[reason] ?? 0) + count;
        }
      }
      return total;
    },
  };
}
