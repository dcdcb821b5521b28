/**
 * OpenAPI 3.1 description of the collector's HTTP API, served at `/openapi.json`. Response
 * schemas are checked against real responses in the tests.
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
        code: { type: 'string', examples: ['invalid_write_key'] },
        message: { type: 'string', description: 'What went wrong and how to fix it.' },
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
      examples: ['invalid', 'event_too_large', 'forbidden_key', 'too_deep', 'number_out_of_range', 'not_an_object'],
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

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
} as const;

const ingestResponses = {
  '200': {
    description:
      'The valid events are committed (durable). When some events were refused, `rejected` names each one; do not retry those.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['success'],
          properties: {
            success: { const: true },
            stored: { type: 'integer', description: 'Valid events, when some were rejected.' },
            rejected: { type: 'array', items: { $ref: '#/components/schemas/Rejection' } },
          },
        },
      },
    },
  },
  '400': {
    description: 'Malformed body, or every event was invalid (`rejected` names each field and reason).',
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/Error' },
            {
              type: 'object',
              properties: { rejected: { type: 'array', items: { $ref: '#/components/schemas/Rejection' } } },
            },
          ],
        },
      },
    },
  },
  '401': { description: 'Missing or unknown write key.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '413': { description: 'Over 500 KB per request, 32 KB per event (in `rejected`) or 2,500 events per batch.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '415': { description: 'Unsupported content type or encoding.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '429': { description: 'The write key is over its rate limit.', headers: retryAfter, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  '503': { description: 'The store is unavailable or the write queue is full: nothing was stored; retry.', headers: retryAfter, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
} as const;

const security = [{ basicWriteKey: [] }, {}] as const;

function singleEvent(type: string) {
  return {
    post: {
      summary: `Ingest one ${type} event`,
      operationId: `ingest${type[0]!.toUpperCase()}${type.slice(1)}`,
      security,
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Event' }, { type: 'object', properties: { writeKey: { type: 'string' } } }] } },
          'text/plain': { schema: { type: 'string', description: 'The same JSON, sent as text/plain to avoid a CORS preflight.' } },
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
      'Segment-compatible ingest API of the Sightline collector. Bodies may be gzip or deflate encoded (`Content-Encoding`). Limits: 500 KB per request, 32 KB per event, 2,500 events per batch.',
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
                  batch: { type: 'array', maxItems: 2500, items: { $ref: '#/components/schemas/Event' } },
                  sentAt: { type: 'string', format: 'date-time', description: 'Used to correct client clock skew.' },
                  context: { type: 'object', description: 'Merged under each event\'s own context.' },
                  writeKey: { type: 'string', description: 'For clients that cannot set headers (beacons).' },
                },
              },
            },
            'text/plain': { schema: { type: 'string' } },
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
    '/health': {
      get: {
        summary: 'Liveness and store reachability',
        operationId: 'health',
        responses: {
          '200': { description: 'Ready.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } },
          '503': { description: 'The store is unreachable.', headers: retryAfter, content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        operationId: 'metrics',
        security: [{ bearerReadKey: [] }],
        responses: {
          '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } },
          '401': { description: 'An admin read key is required.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      basicWriteKey: { type: 'http', scheme: 'basic', description: 'Username: the write key; password: empty.' },
      bearerReadKey: { type: 'http', scheme: 'bearer', description: 'A read key; `/metrics` needs an admin key (tenant `*`).' },
    },
    schemas: {
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
            properties: { kind: { type: 'string' }, ok: { type: 'boolean' }, error: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;
