import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCollector, openStore } from '@sightline/collector';
import { createNodeListener } from '@sightline/collector/node';
import {
  createAnalytics,
  defineEventCatalog,
  type SightlineError,
  type TrackEvent,
  ValidationError,
} from '@sightline/core';
import { describe, expect, it } from 'vitest';
import {
  EXPERIMENT_EXPOSURE_EVENT,
  experimentExposureSchema,
  trackExperimentExposure,
} from '../experimentExposure';
import {
  MODEL_REQUEST_EVENT,
  type ModelRequestMetrics,
  modelRequestSchema,
  trackModelRequest,
} from '../modelRequest';
import { createNodeAnalytics, type NodeAnalyticsOptions } from '../nodeAnalytics';
import { runWithContext } from '../requestContext';

/** The real Node client over a transport that keeps what the collector would receive. */
function recordingClient(options: Partial<NodeAnalyticsOptions> = {}) {
  const events: TrackEvent[] = [];
  const analytics = createNodeAnalytics({
    writeKey: 'wk_test',
    transport: {
      async send(batch) {
        for (const json of batch.events) events.push(JSON.parse(json) as TrackEvent);
        return { status: 200 };
      },
    },
    ...options,
  });
  return {
    analytics,
    async delivered(): Promise<TrackEvent[]> {
      await analytics.flush();
      return events;
    },
  };
}

const GOOD: ModelRequestMetrics = {
  inputTokens: 1500,
  outputTokens: 800,
  latencyMs: 2300,
  success: true,
  confidence: 0.92,
  costUsd: 0.0041,
};

describe('trackModelRequest', () => {
  it('tracks model_request with the fixed snake_case properties', async () => {
    const { analytics, delivered } = recordingClient();
    trackModelRequest(analytics, 'legal-analysis', '1.0.0', GOOD, { userId: 'u-42' });
    const [event, ...rest] = await delivered();
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ type: 'track', event: MODEL_REQUEST_EVENT, userId: 'u-42' });
    expect(event!.properties).toEqual({
      model: 'legal-analysis',
      model_version: '1.0.0',
      input_tokens: 1500,
      output_tokens: 800,
      latency_ms: 2300,
      success: true,
      confidence: 0.92,
      cost_usd: 0.0041,
    });
  });

  it('sends a failure with its error type, leaves out what was not given, and takes the user from the request context', async () => {
    const { analytics, delivered } = recordingClient();
    runWithContext({ userId: 'u-7' }, () =>
      trackModelRequest(analytics, 'summarizer', '0.9', {
        inputTokens: 0,
        outputTokens: 0,
        latencyMs: 30_000.5,
        success: false,
        errorType: 'timeout',
      }),
    );
    const [event] = await delivered();
    expect(event).toMatchObject({ userId: 'u-7' });
    expect(event!.properties).toEqual({
      model: 'summarizer',
      model_version: '0.9',
      input_tokens: 0,
      output_tokens: 0,
      latency_ms: 30_000.5,
      success: false,
      error_type: 'timeout',
    });
  });

  it.each<[string, unknown[], string]>([
    ['model', ['', '1.0.0', GOOD], 'model'],
    ['version', ['m', 42, GOOD], 'version'],
    ['metrics', ['m', '1', undefined], 'metrics'],
    ['fractional tokens', ['m', '1', { ...GOOD, inputTokens: 1.5 }], 'inputTokens'],
    ['negative tokens', ['m', '1', { ...GOOD, outputTokens: -1 }], 'outputTokens'],
    ['a missing latency', ['m', '1', { ...GOOD, latencyMs: undefined }], 'latencyMs'],
    ['a NaN latency', ['m', '1', { ...GOOD, latencyMs: Number.NaN }], 'latencyMs'],
    ['latency in µs', ['m', '1', { ...GOOD, latencyMs: 1e9 }], 'latencyMs'],
    ['success as text', ['m', '1', { ...GOOD, success: 'yes' }], 'success'],
    ['confidence over 1', ['m', '1', { ...GOOD, confidence: 92 }], 'confidence'],
    ['negative cost', ['m', '1', { ...GOOD, costUsd: -0.01 }], 'costUsd'],
    ['an error type on success', ['m', '1', { ...GOOD, errorType: 'timeout' }], 'errorType'],
  ])(
    'reports %s to onError naming the field, sends nothing, never throws',
    async (_what, args, field) => {
      const errors: SightlineError[] = [];
      const { analytics, delivered } = recordingClient();
      const [model, version, metrics] = args as [string, string, ModelRequestMetrics];
      expect(() =>
        trackModelRequest(analytics, model, version, metrics, {
          onError: (error) => errors.push(error),
        }),
      ).not.toThrow();
      expect(await delivered()).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(ValidationError);
      expect((errors[0] as ValidationError).field).toBe(field);
      expect(errors[0]!.message).toMatch(
        new RegExp(`^Invalid event field \`${field}\`: (use|pass|leave)`),
      );
    },
  );

  it('drops bad input quietly without onError, and survives a throwing onError', async () => {
    const { analytics, delivered } = recordingClient();
    expect(() =>
      trackModelRequest(analytics, 'm', '1', { ...GOOD, inputTokens: -5 }),
    ).not.toThrow();
    expect(() =>
      trackModelRequest(
        analytics,
        'm',
        '1',
        { ...GOOD, inputTokens: -5 },
        {
          onError: () => {
            throw new Error('hook failed');
          },
        },
      ),
    ).not.toThrow();
    expect(await delivered()).toEqual([]);
  });

  it('reports a closed client through onError instead of throwing', async () => {
    const errors: SightlineError[] = [];
    const { analytics } = recordingClient({ onError: (error) => errors.push(error) });
    await analytics.close();
    expect(() => trackModelRequest(analytics, 'm', '1', GOOD, { userId: 'u' })).not.toThrow();
  });
});

describe('modelRequestSchema', () => {
  it('accepts the properties trackModelRequest sends and names the bad property otherwise', () => {
    const validate = modelRequestSchema['~standard'].validate;
    const good = {
      model: 'm',
      model_version: '1',
      input_tokens: 1,
      output_tokens: 2,
      latency_ms: 3,
      success: true,
    };
    expect(validate(good)).toEqual({ value: good });
    expect(validate({ ...good, latency_ms: '3' })).toEqual({
      issues: [{ message: expect.stringMatching(/^use a number/), path: ['latency_ms'] }],
    });
    expect(validate(null)).toMatchObject({ issues: [{ message: 'pass a properties object' }] });
  });

  it('types and checks a core event catalog entry, as a browser or core app sends the event', async () => {
    const catalog = defineEventCatalog(
      {
        [MODEL_REQUEST_EVENT]: modelRequestSchema,
        [EXPERIMENT_EXPOSURE_EVENT]: experimentExposureSchema,
      },
      { validate: true },
    );
    const sent: TrackEvent[] = [];
    const drops: string[] = [];
    const analytics = createAnalytics({
      writeKey: 'wk_test',
      catalog,
      transport: {
        async send(batch) {
          for (const json of batch.events) sent.push(JSON.parse(json) as TrackEvent);
          return { status: 200 };
        },
      },
      onDrop: (report) => drops.push(`${report.reason}: ${report.detail}`),
    });
    const options = { userId: 'u' };
    // @ts-expect-error model_version and the other required properties are missing
    analytics.track(MODEL_REQUEST_EVENT, { model: 'm' }, options);
    analytics.track(EXPERIMENT_EXPOSURE_EVENT, { experiment: 'e', variant: 'b' }, options);
    await analytics.flush();
    expect(sent.map((event) => event.event)).toEqual([EXPERIMENT_EXPOSURE_EVENT]);
    expect(drops).toEqual([expect.stringMatching(/^invalid: properties\.model_version: use/)]);
  });
});

describe('trackExperimentExposure', () => {
  it('tracks experiment_exposure { experiment, variant }, and reports a bad variant', async () => {
    const errors: SightlineError[] = [];
    const { analytics, delivered } = recordingClient();
    trackExperimentExposure(analytics, 'new-prompt', 'treatment', { anonymousId: 'a-1' });
    trackExperimentExposure(analytics, 'new-prompt', '', {
      userId: 'u',
      onError: (error) => errors.push(error),
    });
    const events = await delivered();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: EXPERIMENT_EXPOSURE_EVENT,
      anonymousId: 'a-1',
      properties: { experiment: 'new-prompt', variant: 'treatment' },
    });
    expect((errors[0] as ValidationError).field).toBe('variant');
  });
});

describe('model requests through the real collector', () => {
  it('GET /v1/models reports what trackModelRequest sent', async () => {
    const store = await openStore('duckdb::memory:');
    const collector = createCollector({
      store,
      writeKeys: ['wk_node_models_123=acme'],
      readKeys: ['rk_node_models_123=acme'],
      rateLimit: false,
    });
    await collector.ready();
    const server = createServer(createNodeListener(collector));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const analytics = createNodeAnalytics({ writeKey: 'wk_node_models_123', host: url });
      // Recent: the client gives up on events older than its maximum age.
      const timestamp = new Date();
      const day = (offset: number) =>
        new Date(timestamp.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
      for (const latencyMs of [100, 300, 200]) {
        trackModelRequest(
          analytics,
          'legal-analysis',
          '1.0.0',
          { ...GOOD, latencyMs },
          {
            userId: 'u-1',
            timestamp,
          },
        );
      }
      trackModelRequest(
        analytics,
        'legal-analysis',
        '1.0.0',
        {
          ...GOOD,
          success: false,
          errorType: 'timeout',
        },
        { userId: 'u-1', timestamp },
      );
      await analytics.close();
      const response = await fetch(`${url}/v1/models?from=${day(-1)}&to=${day(1)}`, {
        headers: { authorization: 'Bearer rk_node_models_123' },
      });
      const body = (await response.json()) as { models: Array<{ totals: unknown }> };
      expect(body.models).toHaveLength(1);
      expect(body.models[0]).toMatchObject({
        model: 'legal-analysis',
        version: '1.0.0',
        totals: {
          requests: 4,
          errors: 1,
          errorRate: 0.25,
          latencyMs: { p50: 200, p95: 2300, p99: 2300 },
          inputTokens: 6000,
          outputTokens: 3200,
          costUsd: 0.0164,
          meanConfidence: 0.92,
        },
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await collector.close();
    }
  });
});
