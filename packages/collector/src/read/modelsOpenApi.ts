/**
 * OpenAPI 3.1 path items and schemas of `/v1/models` and `/v1/experiments/{name}`
 * (`modelRoutes.ts`), merged into the collector's document by `openapi.ts`. Checked against real
 * responses in modelsOpenApi.test.ts.
 */
import { methodNotAllowed } from '../openapiParts';
import { readErrorResponses } from './metricsOpenApi';

const security = [{ bearerReadKey: [] }] as const;

function parameter(name: string, description: string, required = false, schema: object = {}) {
  return {
    name,
    in: 'query',
    required,
    description,
    schema: { type: 'string', ...schema },
  } as const;
}

const rangeParameters = [
  parameter('from', 'First day `YYYY-MM-DD` (in `tz`, included) or an ISO timestamp.', true),
  parameter('to', 'Last day `YYYY-MM-DD` (included) or an ISO timestamp (excluded).', true),
  parameter('tz', 'IANA time zone the days are counted in. Default `UTC`.'),
  parameter('tenant', 'Admin keys only: the tenant to read.'),
];

const nullableNumber = { type: ['number', 'null'] } as const;
const statsProperties = {
  requests: { type: 'integer', minimum: 0 },
  errors: { type: 'integer', minimum: 0, description: 'Requests with `success: false`.' },
  errorRate: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  latencyMs: {
    type: 'object',
    additionalProperties: false,
    required: ['p50', 'p95', 'p99'],
    description: 'Nearest-rank percentiles of `latency_ms` (docs/metrics.md).',
    properties: { p50: nullableNumber, p95: nullableNumber, p99: nullableNumber },
  },
  inputTokens: { type: 'number' },
  outputTokens: { type: 'number' },
  costUsd: { type: 'number', description: 'Sum of `cost_usd`, exact to the billionth.' },
  meanConfidence: nullableNumber,
} as const;
const statsRequired = Object.keys(statsProperties);

export const modelSchemas = {
  ModelStats: {
    type: 'object',
    additionalProperties: false,
    required: statsRequired,
    properties: statsProperties,
  },
  Models: {
    type: 'object',
    additionalProperties: false,
    required: ['interval', 'tz', 'models'],
    properties: {
      interval: { enum: ['day', 'week', 'month'] },
      tz: { type: 'string' },
      models: {
        type: 'array',
        description: 'One entry per model version, by model then version.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['model', 'version', 'totals', 'series'],
          properties: {
            model: { type: 'string' },
            version: { type: ['string', 'null'] },
            totals: { $ref: '#/components/schemas/ModelStats' },
            series: {
              type: 'array',
              description: 'One point per period of the range, oldest first.',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['date', ...statsRequired],
                properties: { date: { type: 'string', format: 'date' }, ...statsProperties },
              },
            },
          },
        },
      },
    },
  },
  Experiment: {
    type: 'object',
    additionalProperties: false,
    required: ['experiment', 'goal', 'windowDays', 'control', 'variants'],
    properties: {
      experiment: { type: 'string' },
      goal: { type: 'string' },
      windowDays: { type: 'integer', minimum: 1, maximum: 90 },
      control: { type: ['string', 'null'] },
      variants: {
        type: 'array',
        description: 'The control first, then the other variants by name.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: [
            'variant',
            'exposedUsers',
            'convertedUsers',
            'conversionRate',
            'usersInSeveralVariants',
            'difference',
            'lift',
            'zScore',
            'pValue',
            'confidenceInterval',
          ],
          properties: {
            variant: { type: 'string' },
            exposedUsers: { type: 'integer', minimum: 1 },
            convertedUsers: { type: 'integer', minimum: 0 },
            conversionRate: { type: 'number', minimum: 0, maximum: 1 },
            usersInSeveralVariants: { type: 'integer', minimum: 0 },
            difference: nullableNumber,
            lift: nullableNumber,
            zScore: nullableNumber,
            pValue: { type: ['number', 'null'], minimum: 0, maximum: 1 },
            confidenceInterval: {
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  additionalProperties: false,
                  required: ['lower', 'upper'],
                  properties: { lower: { type: 'number' }, upper: { type: 'number' } },
                },
              ],
            },
          },
        },
      },
    },
  },
} as const;

function get(operationId: string, summary: string, parameters: readonly object[], schema: string) {
  return {
    get: {
      operationId,
      summary,
      security,
      parameters,
      responses: {
        '200': {
          description: 'The results.',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } },
        },
        ...readErrorResponses,
        '405': methodNotAllowed('GET'),
      },
    },
  } as const;
}

export const modelPaths = {
  '/v1/models': get(
    'models',
    'Requests, errors, latency percentiles, tokens, cost and confidence per model version (`model_request` events)',
    [
      ...rangeParameters,
      parameter('interval', 'day (default), week (from Monday) or month.', false, {
        enum: ['day', 'week', 'month'],
      }),
      parameter('model', 'Only this model (`properties.model`).'),
      parameter('version', 'Only this version (`properties.model_version`).'),
    ],
    'Models',
  ),
  '/v1/experiments/{name}': get(
    'experiment',
    'Per-variant exposed and converted users, lift, two-proportion z-test and 95 % interval (`experiment_exposure` events)',
    [
      {
        name: 'name',
        in: 'path',
        required: true,
        description: 'The experiment (`properties.experiment`), URL-encoded.',
        schema: { type: 'string' },
      },
      parameter('goal', 'The event that counts as a conversion.', true),
      ...rangeParameters,
      parameter('windowDays', 'Days after the first exposure a goal counts. Default 7.', false, {
        pattern: '^[0-9]{1,3}$',
      }),
      parameter('control', 'The variant compared with. Default `control`, else the first by name.'),
    ],
    'Experiment',
  ),
} as const;
