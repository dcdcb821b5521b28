import {
  type AnalyticsEvent,
  type Transport,
  type TransportResponse,
  withBatchContext,
} from '../index';

/**
 * A transport that records every batch it is handed, as the collector would store its events
 * (batch context merged), and answers with `respond`.
 */
export function createRecordingTransport(
  respond: (events: AnalyticsEvent[]) => TransportResponse | Promise<TransportResponse> = () => ({
    status: 200,
  }),
) {
  const batches: AnalyticsEvent[][] = [];
  const transport: Transport = {
    async send(batch) {
      const events = batch.events.map((json) => withBatchContext(json, batch));
      batches.push(events);
      return respond(events);
    },
  };
  return {
    transport,
    batches,
    events: () => batches.flat(),
  };
}

export const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
