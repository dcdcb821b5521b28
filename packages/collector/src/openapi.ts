import { tenantsPaths, tenantsSchemas } from './dashboard/tenantsOpenApi';
import { errorContent, methodNotAllowed, retryAfter } from './openapiParts';
import { metricsPaths, metricsSchemas } from './read/metricsOpenApi';
import { modelPaths, modelSchemas } from './read/modelsOpenApi';
import { eventsAndPrivacyPaths } from './read/privacyOpenApi';
import { reportsPaths, reportsSchemas } from './reports/reportsOpenApi';

/**
 * OpenAPI 3.1 description of the collector's HTTP API, served at `/openapi.json`. Response
 * schemas are checked against real responses in the tests (src/__tests__/openapi.test.ts).
 */
const errorBody = {
  type: 'object',
  required: ['success', 'error'],
  properties: {
    success: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable, machine-readable reason.',
          examples: [
            'invalid_json',
            'invalid_body',
            'invalid_batch',
            'invalid_events',
            'empty_body',
            'too_deep',
            'invalid_utf8',
            'invalid_compression',
            'incomplete_body',
            'missing_write_key',
            'invalid_write_key',
            'body_too_large',
            'batch_too_large',
            'unsupported_content_type',
            'unsupported_encoding',
            'method_not_allowed',
            'rate_limited',
            'store_unavailable',
            'overloaded',
            'shutting_down',
            'admin_key_required',
            'quota_exceeded',
            'missing_read_key',
            'invalid_read_key',
            'forbidden_tenant',
            'tenant_required',
            'invalid_parameter',
          ],
        },
        message: { type: 'string', description: 'What went wrong and how to fix it.' },
        limitBytes: {
          type: 'integer',
          description: '`body_too_large`: the request size limit after decompression.',
        },
        limitEvents: {
          type: 'integer',
          description: '`batch_too_large`: the most events in one batch.',
        },
        limitDepth: {
          type: 'integer',
          description: '`too_deep`: the deepest array/object nesting of a body.',
        },
      },
    },
  },
} as const;

const rejection = {
  type: 'object',
  required: ['index', 'field', 'reason', 'message'],
  properties: {
    index: { type: 'integer', minimum: 0, description: 'Position of the event in the batch.' },
    messageId: { type: 'string' },
    field: { type: 'string', examples: ['properties.__proto__', 'event', 'timestamp'] },
    reason: {
      type: 'string',
      examples: [
        'invalid',
        'event_too_large',
        'forbidden_key',
        'too_deep',
        'number_out_of_range',
        'not_an_object',
      ],
    },
    message: { type: 'string' },
  },
} as const;

const event = {
  type: 'object',
  description:
    'A Segment-spec event. `type` is set by the path for single-event endpoints. `messageId` is the dedupe key: an event whose messageId is already stored for the tenant is acknowledged and not stored again.',
  required: ['type'],
  properties: {
    type: { enum: ['track', 'identify', 'page', 'screen', 'group', 'alias'] },
    messageId: { type: 'string', maxLength: 255 },
    timestamp: { type: 'string', format: 'date-time' },
    sentAt: { type: 'string', format: 'date-time' },
    userId: { type: ['string', 'number'] },
    anonymousId: { type: ['string', 'number'] },
    event: { type: 'string', description: 'track: the event name.' },
    name: { type: 'string', description: 'page/screen: the page name.' },
    properties: { type: 'object' },
    traits: { type: 'object' },
    groupId: { type: ['string', 'number'] },
    previousId: { type: ['string', 'number'] },
    context: { type: 'object' },
    integrations: { type: 'object' },
  },
} as const;

const ingestResponses = {
  '200': {
    description:
      'The valid events are committed (durable). When some events were refused, `stored` counts the stored ones and `rejected` names each refused one; do not retry those.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['success'],
          dependentRequired: { rejected: ['stored'] },
          properties: {
            success: { const: true },
            stored: {
              type: 'integer',
              minimum: 1,
              description: 'Valid events, when some were rejected.',
            },
            rejected: {
              type: 'array',
              minItems: 1,
              items: { $ref: '#/components/schemas/Rejection' },
            },
          },
        },
      },
    },
  },
  '400': {
    description:
      'Malformed body (`invalid_json`, `invalid_body`, `invalid_batch`, `empty_body`, `too_deep`, `invalid_utf8`, `invalid_compression`, `incomplete_body`), or every event was invalid (`invalid_events`, with `rejected` naming each field and reason).',
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Error' },
            {
              type: 'object',
              properties: {
                rejected: {
                  type: 'array',
                  minItems: 1,
                  items: { $ref: '#/components/schemas/Rejection' },
                },
              },
            },
          ],
        },
      },
    },
  },
  '401': { description: 'Missing or unknown write key.', content: errorContent },
  '405': methodNotAllowed('POST, OPTIONS'),
  '413': {
    description:
      'Over 500 KB per request after decompression (`body_too_large`) or over 2,500 events per batch (`batch_too_large`). Events over 32 KB are refused one by one in `rejected` (reason `event_too_large`).',
    content: errorContent,
  },
  '415': { description: 'Unsupported content type or content encoding.', content: errorContent },
  '429': {
    description:
      'The write key is over its rate limit (`rate_limited`), or every event of the request is over its daily quota in hard quota mode (`quota_exceeded`, with `rejected`).',
    headers: retryAfter,
    content: errorContent,
  },
  '503': {
    description:
      'The store is unavailable (`store_unavailable`), the write queue is full (`overloaded`) or the collector is shutting down (`shutting_down`): nothing was stored; retry.',
    headers: retryAfter,
    content: errorContent,
  },
} as const;

/** Responses every GET route can give besides its own. */
const getRouteResponses = {
  '405': methodNotAllowed('GET'),
  '503': {
    description: 'The collector is shutting down (`shutting_down`): retry.',
    headers: retryAfter,
    content: errorContent,
  },
} as const;

const security = [{ basicWriteKey: [] }, {}] as const;

/** Every ingest path takes the same JSON as text/plain, which browsers send without a preflight. */
const textPlainBody = {
  schema: {
    type: 'string',
    description: 'The same JSON, sent as text/plain to avoid a CORS preflight.',
  },
} as const;

function singleEvent(type: string) {
  return {
    post: {
      summary: `Ingest one ${type} event`,
      operationId: `ingest${type[0]!.toUpperCase()}${type.slice(1)}`,
      security,
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: '#/components/schemas/Event' },
                { type: 'object', properties: { writeKey: { type: 'string' } } },
              ],
            },
          },
          'text/plain': textPlainBody,
        },
      },
      responses: ingestResponses,
    },
  };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Sightline collector',
    version: '1',
    description:
      'Segment-compatible ingest API and read API of the Sightline collector. Read routes take `Authorization: Bearer <readKey>`; metrics are defined in docs/metrics.md. Bodies are UTF-8 JSON (`application/json`, or `text/plain` to avoid a CORS preflight), optionally gzip or deflate encoded (`Content-Encoding`). Limits: 500 KB per request after decompression, 32 KB per event, 2,500 events per batch, arrays and objects nested at most 64 levels per body and 32 per event. Keys `__proto__`, `constructor` and `prototype` are refused (reason `forbidden_key`); numbers must be finite doubles (integers beyond 2^53 lose precision: send them as strings); lone UTF-16 surrogate escapes (`\\ud800`) are stored as U+FFFD.',
  },
  paths: {
    '/v1/batch': {
      post: {
        summary: 'Ingest a batch of events',
        operationId: 'ingestBatch',
        security,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['batch'],
                properties: {
                  batch: {
                    type: 'array',
                    maxItems: 2500,
                    items: { $ref: '#/components/schemas/Event' },
                  },
                  sentAt: {
                    type: 'string',
                    format: 'date-time',
                    description: 'Used to correct client clock skew.',
                  },
                  context: {
                    type: 'object',
                    description: "Merged under each event's own context.",
                  },
                  writeKey: {
                    type: 'string',
                    description: 'For clients that cannot set headers (beacons).',
                  },
                },
              },
            },
            'text/plain': textPlainBody,
          },
        },
        responses: ingestResponses,
      },
    },
    '/v1/track': singleEvent('track'),
    '/v1/identify': singleEvent('identify'),
    '/v1/page': singleEvent('page'),
    '/v1/screen': singleEvent('screen'),
    '/v1/group': singleEvent('group'),
    '/v1/alias': singleEvent('alias'),
    ...metricsPaths,
    ...modelPaths,
    ...eventsAndPrivacyPaths,
    ...reportsPaths,
    ...tenantsPaths,
    '/health': {
      get: {
        summary: 'Liveness and store reachability',
        operationId: 'health',
        responses: {
          '200': {
            description: 'Ready.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } },
          },
          '405': getRouteResponses['405'],
          '503': {
            description: 'The store is unreachable, or the collector is shutting down.',
            headers: retryAfter,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/Health' },
                    { $ref: '#/components/schemas/Error' },
                  ],
                },
              },
            },
          },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        operationId: 'metrics',
        security: [{ bearerReadKey: [] }],
        responses: {
          '200': {
            description: 'Prometheus text format.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          '401': {
            description:
              'An admin read key (tenant `*`) is required, unless the collector runs with `publicMetrics`.',
            content: errorContent,
          },
          ...getRouteResponses,
        },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        operationId: 'openapi',
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 description of the collector.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['openapi', 'paths'],
                  properties: { openapi: { const: '3.1.0' }, paths: { type: 'object' } },
                },
              },
            },
          },
          ...getRouteResponses,
        },
      },
    },
  },
  components: {
    securitySchemes: {
      basicWriteKey: {
        type: 'http',
        scheme: 'basic',
        description: 'Username: the write key; password: empty.',
      },
      bearerReadKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'A read key; `/metrics` needs an admin key (tenant `*`).',
      },
    },
    schemas: {
      ...metricsSchemas,
      ...modelSchemas,
      ...reportsSchemas,
      ...tenantsSchemas,
      Event: event,
      Rejection: rejection,
      Error: errorBody,
      Health: {
        type: 'object',
        required: ['status', 'version', 'store'],
        properties: {
          status: { enum: ['ok', 'unavailable'] },
          version: { type: 'string' },
          store: {
            type: 'object',
            required: ['ok'],
            properties: {
              kind: { type: 'string' },
              ok: { type: 'boolean' },
              error: { type: 'string' },
            },
          },
        },
      },
    },
  },
} as const;
