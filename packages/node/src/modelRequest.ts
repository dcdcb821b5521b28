import { type StandardSchemaV1, ValidationError } from '@sightline/core';
import {
  boolean,
  type FieldSpec,
  type FixedEventOptions,
  firstIssue,
  fixedEventSchema,
  numberIn,
  report,
  sendFixedEvent,
  text,
} from './fixedEvent';
import type { NodeAnalytics } from './nodeAnalytics';

/** The event name of every model request; the collector's `GET /v1/models` reads these. */
export const MODEL_REQUEST_EVENT = 'model_request';

/** What one request to a model did (the input of {@link trackModelRequest}). */
export interface ModelRequestMetrics {
  /** Prompt tokens: a whole number ≥ 0. */
  inputTokens: number;
  /** Completion tokens: a whole number ≥ 0. */
  outputTokens: number;
  /** Wall time of the request in milliseconds, ≥ 0. */
  latencyMs: number;
  /** false counts the request as an error. */
  success: boolean;
  /** Why it failed (`timeout`, `rate_limited`…); only with `success: false`. */
  errorType?: string;
  /** The model's confidence in its answer, from 0 to 1. */
  confidence?: number;
  /** What the request cost in US dollars, ≥ 0 (summed exactly to the billionth). */
  costUsd?: number;
}

/** The properties of a `model_request` event as the collector receives them. */
export interface ModelRequestProperties {
  [key: string]: unknown;
  model: string;
  model_version: string;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  success: boolean;
  error_type?: string;
  confidence?: number;
  cost_usd?: number;
}

const MAX_TOKENS = Number.MAX_SAFE_INTEGER;
/** A day: anything longer is a unit mistake (seconds or microseconds passed as ms). */
const MAX_LATENCY_MS = 86_400_000;

/** The schema of `model_request`, declared once: the helper's input and the wire properties. */
const MODEL_REQUEST_FIELDS: readonly FieldSpec[] = [
  { input: 'model', property: 'model', required: true, check: text(256, 'legal-analysis') },
  { input: 'version', property: 'model_version', required: true, check: text(256, '1.0.0') },
  {
    input: 'inputTokens',
    property: 'input_tokens',
    required: true,
    check: numberIn(0, MAX_TOKENS, 1500, true),
  },
  {
    input: 'outputTokens',
    property: 'output_tokens',
    required: true,
    check: numberIn(0, MAX_TOKENS, 800, true),
  },
  {
    input: 'latencyMs',
    property: 'latency_ms',
    required: true,
    check: numberIn(0, MAX_LATENCY_MS, 2300),
  },
  { input: 'success', property: 'success', required: true, check: boolean },
  { input: 'errorType', property: 'error_type', required: false, check: text(256, 'timeout') },
  { input: 'confidence', property: 'confidence', required: false, check: numberIn(0, 1, 0.92) },
  { input: 'costUsd', property: 'cost_usd', required: false, check: numberIn(0, 1e6, 0.0041) },
];

/**
 * The Standard Schema of `model_request` properties, for a typed event catalog: browser and core
 * users send the same event with `track('model_request', …)`.
 *
 * @example
 * const catalog = defineEventCatalog({ [MODEL_REQUEST_EVENT]: modelRequestSchema }, { validate: true });
 */
export const modelRequestSchema: StandardSchemaV1<ModelRequestProperties> =
  fixedEventSchema<ModelRequestProperties>(MODEL_REQUEST_FIELDS);

/**
 * The `model_request` properties of a request, or the first problem with the input (the field as
 * the caller named it, and the fix).
 *
 * @example
 * modelRequestProperties('legal-analysis', '1.0.0', { inputTokens: 1500, outputTokens: 800, latencyMs: 2300, success: true });
 * // { properties: { model: 'legal-analysis', model_version: '1.0.0', input_tokens: 1500, … } }
 */
export function modelRequestProperties(
  model: string,
  version: string,
  metrics: ModelRequestMetrics,
): { properties: ModelRequestProperties } | { error: ValidationError } {
  if (metrics === null || typeof metrics !== 'object') {
    return {
      error: new ValidationError(
        'metrics',
        'pass { inputTokens, outputTokens, latencyMs, success } as the third argument',
      ),
    };
  }
  const input: Record<string, unknown> = { ...metrics, model, version };
  const issue = firstIssue(MODEL_REQUEST_FIELDS, input, 'input');
  if (issue) return { error: new ValidationError(issue.field, issue.fix) };
  if (metrics.success && metrics.errorType !== undefined) {
    return {
      error: new ValidationError('errorType', 'leave it out when success is true'),
    };
  }
  const properties: Record<string, unknown> = {};
  for (const field of MODEL_REQUEST_FIELDS) {
    if (input[field.input] !== undefined) properties[field.property] = input[field.input];
  }
  return { properties: properties as ModelRequestProperties };
}

/**
 * Tracks one request to an AI model as a `model_request` event with a fixed schema (model,
 * model_version, input_tokens, output_tokens, latency_ms, success, error_type, confidence,
 * cost_usd), which the collector's `GET /v1/models` aggregates. Never throws: bad input is
 * reported to `options.onError` as a `ValidationError` naming the field and the fix, and the
 * event is not sent. Who made the request comes from `options` or the request context.
 *
 * @example
 * trackModelRequest(analytics, 'legal-analysis', '1.0.0', {
 *   inputTokens: 1500, outputTokens: 800, latencyMs: 2300, success: true, confidence: 0.92, costUsd: 0.0041,
 * }, { userId: user.id, onError: (error) => logger.warn(error.message) });
 */
export function trackModelRequest(
  analytics: NodeAnalytics,
  model: string,
  version: string,
  metrics: ModelRequestMetrics,
  options: FixedEventOptions = {},
): void {
  const result = modelRequestProperties(model, version, metrics);
  if ('error' in result) {
    report(options?.onError, result.error);
    return;
  }
  sendFixedEvent(analytics, MODEL_REQUEST_EVENT, result.properties, options ?? {});
}
