/**
 * OpenAPI 3.1 path items of the events and privacy endpoints (`eventRoutes.ts`,
 * `privacyRoutes.ts`), to merge into the collector's document (`openapi.ts`): every schema is
 * inline except `#/components/schemas/Error`, which that document defines. The tests validate real
 * responses against them (src/__tests__/privacyOpenApi.test.ts).
 */
import { errorContent, readKeyErrors } from '../openapiParts';

const nullableString = { type: ['string', 'null'] } as const;
const instant = { type: 'string', format: 'date-time' } as const;

const apiEventProperties = {
  messageId: { type: 'string' },
  type: { enum: ['track', 'identify', 'page', 'screen', 'group', 'alias'] },
  event: {
    ...nullableString,
    description: '`event` of a track call, `name` of a page/screen call.',
  },
  timestamp: { ...instant, description: 'When it happened, corrected for client clock skew.' },
  receivedAt: instant,
  sentAt: { type: ['string', 'null'], format: 'date-time' },
  userId: nullableString,
  anonymousId: nullableString,
  sessionId: nullableString,
  groupId: nullableString,
  previousId: nullableString,
  utmSource: nullableString,
  utmMedium: nullableString,
  utmCampaign: nullableString,
  utmTerm: nullableString,
  utmContent: nullableString,
  referrerDomain: nullableString,
  revenue: { type: ['number', 'null'] },
  currency: nullableString,
  browser: nullableString,
  os: nullableString,
  deviceType: nullableString,
  ip: { ...nullableString, description: 'The client IP as stored (anonymised by default).' },
  properties: { type: 'object' },
  traits: { type: 'object' },
  context: { type: 'object' },
} as const;

/** One event as the read API returns it (`ApiEvent` in apiEvent.ts): every field, always present. */
const apiEvent = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(apiEventProperties),
  properties: apiEventProperties,
} as const;

/** Errors every read route can answer. */
const readErrors = readKeyErrors;

const badParameter = {
  description:
    'A parameter is invalid or unknown (`invalid_parameter`, with `parameter` naming it), or an admin key did not name a tenant (`tenant_required`).',
  content: errorContent,
} as const;

function query(name: string, description: string, schema: Record<string, unknown>) {
  return { name, in: 'query', required: false, description, schema } as const;
}

const tenantParameter = query(
  'tenant',
  'The tenant, for admin read keys (required with them; a tenant key may only name its own).',
  { type: 'string' },
);
const filterParameters = [
  tenantParameter,
  query(
    'from',
    'Start: a date `YYYY-MM-DD` (UTC day, inclusive) or an ISO timestamp with a zone (inclusive).',
    { type: 'string' },
  ),
  query(
    'to',
    'End: a date `YYYY-MM-DD` (UTC day, inclusive) or an ISO timestamp with a zone (exclusive). With `from`, at most `read.maxRangeDays` days (default 400).',
    { type: 'string' },
  ),
  query('type', 'Only events of this type.', {
    enum: ['track', 'identify', 'page', 'screen', 'group', 'alias'],
  }),
  query('event', 'Only events with this name (track `event`, page/screen `name`).', {
    type: 'string',
    minLength: 1,
    maxLength: 256,
  }),
  query(
    'userId',
    'Only events whose user key (docs/metrics.md) is this: its userId, else the userId its anonymousId is linked to (earliest link), else its anonymousId.',
    { type: 'string', minLength: 1, maxLength: 1024 },
  ),
] as const;

const userIdPath = {
  name: 'id',
  in: 'path',
  required: true,
  description:
    'The user id (URL-encoded); a visitor who never identified is known by their anonymous id.',
  schema: { type: 'string', minLength: 1, maxLength: 1024 },
} as const;

const security = [{ bearerReadKey: [] }] as const;

const identityLink = {
  type: 'object',
  additionalProperties: false,
  required: ['anonymousId', 'userId', 'firstSeen'],
  properties: {
    anonymousId: { type: 'string' },
    userId: { type: 'string' },
    firstSeen: { ...instant, description: 'Time of the earliest event carrying both ids.' },
  },
} as const;

/**
 * Path items of `GET /v1/events`, `GET /v1/export.csv`, `GET /v1/users/{id}/export`,
 * `DELETE /v1/users/{id}` and `GET /v1/audit/erasures`.
 *
 * @example
 * const document = { ...openApiDocument, paths: { ...openApiDocument.paths, ...eventsAndPrivacyPaths } };
 */
export const eventsAndPrivacyPaths = {
  '/v1/events': {
    get: {
      summary: 'List events, newest first by arrival, with keyset pagination',
      operationId: 'listEvents',
      security,
      parameters: [
        ...filterParameters,
        query('limit', 'Events per page. Default 100.', {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
        }),
        query(
          'cursor',
          '`nextCursor` of the previous page. Pages stay stable while events arrive: no event is repeated or skipped.',
          { type: 'string' },
        ),
      ],
      responses: {
        '200': {
          description: 'One page of events.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['events', 'nextCursor'],
                properties: {
                  events: { type: 'array', items: apiEvent },
                  nextCursor: {
                    type: ['string', 'null'],
                    description: 'Pass as `cursor` for the next page; null on the last page.',
                  },
                },
              },
            },
          },
        },
        '400': badParameter,
        ...readErrors,
      },
    },
  },
  '/v1/export.csv': {
    get: {
      summary: 'Export events as CSV (streamed, row-capped)',
      description:
        "Columns are the fields of an event, in the order of `/v1/events`; times in ISO 8601, `properties`/`traits`/`context` as JSON text. RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF quoted, quotes doubled. A text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so spreadsheets do not run it as a formula. Newest first; the events stored when the export began.",
      operationId: 'exportEventsCsv',
      security,
      parameters: [
        ...filterParameters,
        query('limit', 'Most rows. Default and maximum: `read.exportRowCap` (default 50,000).', {
          type: 'integer',
          minimum: 1,
        }),
      ],
      responses: {
        '200': {
          description: 'A CSV attachment with a header row.',
          headers: {
            'Content-Disposition': {
              description: '`attachment; filename="sightline-events-<tenant>-<date>.csv"`.',
              required: true,
              schema: { type: 'string' },
            },
            'X-Sightline-Truncated': {
              description:
                '`true` when more events matched than the export holds (cap or `limit`).',
              required: true,
              schema: { enum: ['true', 'false'] },
            },
            'X-Sightline-Row-Limit': {
              description:
                'The most rows this export could hold: `limit`, else `read.exportRowCap`.',
              required: true,
              schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
            },
          },
          content: { 'text/csv': { schema: { type: 'string' } } },
        },
        '400': badParameter,
        ...readErrors,
      },
    },
  },
  '/v1/users/{id}/export': {
    get: {
      summary: 'Everything stored about one user (right of access)',
      description:
        'Events with this userId; events without a userId whose anonymousId is this id or is linked to it by any identity link; the identity links to it (and of it as an anonymous id). Exactly what `DELETE /v1/users/{id}` erases.',
      operationId: 'exportUser',
      security,
      parameters: [userIdPath, tenantParameter],
      responses: {
        '200': {
          description: 'The user’s data; empty lists for an unknown user.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['userId', 'anonymousIds', 'events', 'identityLinks'],
                properties: {
                  userId: { type: 'string' },
                  anonymousIds: {
                    type: 'array',
                    items: { type: 'string' },
                    description:
                      'Anonymous ids (and alias previous ids) linked to the user, sorted.',
                  },
                  events: { type: 'array', items: apiEvent, description: 'Oldest first.' },
                  identityLinks: { type: 'array', items: identityLink },
                },
              },
            },
          },
        },
        '400': badParameter,
        ...readErrors,
      },
    },
  },
  '/v1/users/{id}': {
    delete: {
      summary: 'Erase one user (right to erasure), audited',
      description:
        'Deletes what `GET /v1/users/{id}/export` returns, in one transaction, and records who (the key’s `actor`), when and how many rows in the erasure audit (the subject as SHA-256 of `<tenant>:<id>`). An anonymous id linked to two users loses its anonymous events with either (privacy first); the other user’s own events and link stay. Daily usage counts (no user data) are kept.',
      operationId: 'eraseUser',
      security,
      parameters: [userIdPath, tenantParameter],
      responses: {
        '200': {
          description: 'Erased (zero counts when nothing was stored; still audited).',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['erased'],
                properties: {
                  erased: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['events', 'identityLinks'],
                    properties: {
                      events: { type: 'integer', minimum: 0 },
                      identityLinks: { type: 'integer', minimum: 0 },
                    },
                  },
                },
              },
            },
          },
        },
        '400': badParameter,
        ...readErrors,
      },
    },
  },
  '/v1/audit/erasures': {
    get: {
      summary: 'The erasure audit (admin keys only)',
      operationId: 'listErasures',
      security,
      parameters: [
        query('tenant', 'Only this tenant’s erasures (default: every tenant).', { type: 'string' }),
        query('subjectHash', 'Only erasures of this subject: SHA-256 hex of `<tenant>:<userId>`.', {
          type: 'string',
          pattern: '^[0-9a-f]{64}$',
        }),
        query('limit', 'Most entries. Default 1,000.', {
          type: 'integer',
          minimum: 1,
          maximum: 10000,
        }),
      ],
      responses: {
        '200': {
          description: 'Erasures, newest first.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['erasures'],
                properties: {
                  erasures: {
                    type: 'array',
                    items: {
                      type: 'object',
                      additionalProperties: false,
                      required: [
                        'tenant',
                        'subjectHash',
                        'actor',
                        'erasedAt',
                        'eventsDeleted',
                        'linksDeleted',
                      ],
                      properties: {
                        tenant: { type: 'string' },
                        subjectHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
                        actor: {
                          type: 'string',
                          description:
                            'The read key that erased: `rk_` and 8 hex characters of its SHA-256, never the key.',
                        },
                        erasedAt: instant,
                        eventsDeleted: { type: 'integer', minimum: 0 },
                        linksDeleted: { type: 'integer', minimum: 0 },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        '400': badParameter,
        '401': readErrors['401'],
        '403': {
          description: 'Not an admin read key (`admin_key_required`).',
          content: errorContent,
        },
        '503': readErrors['503'],
      },
    },
  },
} as const;
