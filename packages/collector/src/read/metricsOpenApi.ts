/**
 * OpenAPI 3.1 path items and schemas of the metrics read routes (`metricsRoutes.ts`), merged into
 * the collector's document by `openapi.ts`. Checked against real responses in openapi.test.ts.
 */
import { errorContent, methodNotAllowed, readKeyErrors } from '../openapiParts';

/** Responses every read route may give besides its 200. */
export const readErrorResponses = {
  '400': {
    description:
      'A parameter is missing or invalid (`invalid_parameter`, naming it in `parameter`), an admin key did not name a tenant (`tenant_required`), or the body is not JSON.',
    content: errorContent,
  },
  ...readKeyErrors,
} as const;

const security = [{ bearerReadKey: [] }] as const;

function parameter(
  name: string,
  description: string,
  required = false,
  schema: object = { type: 'string' },
) {
  return { name, in: 'query', required, description, schema } as const;
}

const rangeParameters = [
  parameter('from', 'First day `YYYY-MM-DD` (in `tz`, included) or an ISO timestamp.', true),
  parameter('to', 'Last day `YYYY-MM-DD` (included) or an ISO timestamp (excluded).', true),
  parameter('tz', 'IANA time zone the days are counted in. Default `UTC`.'),
  parameter('tenant', 'Admin keys only: the tenant to read.'),
];

function json(schema: object) {
  return { 'application/json': { schema } } as const;
}

function ok(description: string, schemaName: string) {
  return { description, content: json({ $ref: `#/components/schemas/${schemaName}` }) } as const;
}

const nullableNumber = { type: ['number', 'null'] } as const;
const stepResult = {
  type: 'object',
  required: [
    'event',
    'users',
    'conversionFromStart',
    'conversionFromPrevious',
    'medianSecondsFromPrevious',
  ],
  additionalProperties: false,
  properties: {
    event: { type: 'string' },
    users: { type: 'integer', minimum: 0 },
    conversionFromStart: { type: 'number', minimum: 0, maximum: 1 },
    conversionFromPrevious: { type: 'number', minimum: 0, maximum: 1 },
    medianSecondsFromPrevious: nullableNumber,
  },
} as const;
const rangeBody = {
  from: { type: 'string' },
  to: { type: 'string' },
  tz: { type: 'string' },
} as const;

export const metricsSchemas = {
  Series: {
    type: 'object',
    required: ['series'],
    properties: {
      series: {
        type: 'object',
        additionalProperties: {
          type: 'array',
          items: {
            type: 'object',
            required: ['date', 'value'],
            additionalProperties: false,
            properties: { date: { type: 'string', format: 'date' }, value: { type: 'number' } },
          },
        },
      },
    },
  },
  Dashboard: {
    type: 'object',
    additionalProperties: false,
    required: [
      'from',
      'to',
      'tz',
      'dau',
      'wau',
      'mau',
      'newUsers',
      'revenue',
      'signups',
      'conversion',
      'churn',
      'arpu',
      'ltv',
      'cac',
      'ltvCac',
      'acquisitionSpend',
      'newPayingUsers',
    ],
    properties: {
      from: { type: 'string' },
      to: { type: 'string' },
      tz: { type: 'string' },
      dau: { type: 'number' },
      wau: { type: 'number' },
      mau: { type: 'number' },
      newUsers: { type: 'number' },
      revenue: { type: 'number' },
      signups: { type: 'integer' },
      conversion: { type: 'number', minimum: 0, maximum: 1 },
      churn: nullableNumber,
      arpu: nullableNumber,
      ltv: nullableNumber,
      cac: nullableNumber,
      ltvCac: nullableNumber,
      acquisitionSpend: { type: 'number' },
      newPayingUsers: { type: 'integer' },
      previous: {
        description:
          'With `compare=previous`: the same KPIs over the range just before, as long (as many days, ending the day before `from`).',
        $ref: '#/components/schemas/Dashboard',
      },
    },
  },
  FunnelQuery: {
    type: 'object',
    required: ['steps', 'windowSeconds', 'from', 'to'],
    properties: {
      steps: {
        type: 'array',
        minItems: 2,
        maxItems: 10,
        items: {
          type: 'object',
          required: ['event'],
          properties: {
            event: { type: 'string' },
            where: {
              type: 'object',
              additionalProperties: { type: ['string', 'number', 'boolean'] },
            },
          },
        },
      },
      windowSeconds: { type: 'integer', minimum: 1 },
      breakdown: {
        type: 'string',
        description:
          'utm_source, utm_medium, utm_campaign, referrer_domain, browser, os, device_type or properties.<name>',
      },
      ...rangeBody,
    },
  },
  Funnel: {
    type: 'object',
    required: ['steps'],
    additionalProperties: false,
    properties: {
      steps: { type: 'array', items: stepResult },
      breakdown: {
        type: 'array',
        items: {
          type: 'object',
          required: ['value', 'steps'],
          properties: {
            value: { type: ['string', 'number', 'boolean', 'null'] },
            steps: { type: 'array', items: stepResult },
          },
        },
      },
    },
  },
  RetentionQuery: {
    type: 'object',
    required: ['interval', 'periods', 'from', 'to'],
    properties: {
      interval: { enum: ['day', 'week', 'month'] },
      periods: { type: 'integer', minimum: 1, maximum: 60 },
      startEvent: { type: 'string' },
      returnEvent: { type: 'string' },
      ...rangeBody,
    },
  },
  Retention: {
    type: 'object',
    required: ['interval', 'cohorts'],
    properties: {
      interval: { enum: ['day', 'week', 'month'] },
      cohorts: {
        type: 'array',
        items: {
          type: 'object',
          required: ['cohort', 'size', 'retained', 'percent'],
          additionalProperties: false,
          properties: {
            cohort: { type: 'string', format: 'date' },
            size: { type: 'integer', minimum: 1 },
            retained: { type: 'array', items: { type: 'integer', minimum: 0 } },
            percent: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 } },
          },
        },
      },
    },
  },
  Attribution: {
    type: 'object',
    required: ['model', 'channels'],
    properties: {
      model: { enum: ['first_touch', 'last_touch'] },
      channels: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: [
            'utmSource',
            'utmMedium',
            'utmCampaign',
            'referrerDomain',
            'users',
            'sessions',
            'conversions',
            'revenue',
          ],
          properties: {
            utmSource: { type: ['string', 'null'] },
            utmMedium: { type: ['string', 'null'] },
            utmCampaign: { type: ['string', 'null'] },
            referrerDomain: { type: ['string', 'null'] },
            users: { type: 'integer' },
            sessions: { type: 'integer' },
            conversions: { type: 'integer' },
            revenue: { type: 'number' },
          },
        },
      },
    },
  },
  Usage: {
    type: 'object',
    required: ['usage'],
    properties: {
      usage: {
        type: 'array',
        items: {
          type: 'object',
          required: ['date', 'event', 'count'],
          additionalProperties: false,
          properties: {
            date: { type: 'string', format: 'date' },
            event: { type: 'string' },
            count: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  },
  Quotas: {
    type: 'object',
    required: ['day', 'mode', 'quotas'],
    properties: {
      day: { type: 'string', format: 'date' },
      mode: { enum: ['soft', 'hard'] },
      quotas: {
        type: 'array',
        items: {
          type: 'object',
          required: ['event', 'limit', 'current', 'exceeded'],
          additionalProperties: false,
          properties: {
            event: { type: 'string' },
            limit: { type: 'integer' },
            current: { type: 'integer' },
            exceeded: { type: 'boolean' },
          },
        },
      },
    },
  },
} as const;

function get(
  operationId: string,
  summary: string,
  parameters: readonly object[],
  response: object,
) {
  return {
    get: {
      operationId,
      summary,
      security,
      parameters,
      responses: { '200': response, ...readErrorResponses, '405': methodNotAllowed('GET') },
    },
  } as const;
}

function post(operationId: string, summary: string, request: string, response: object) {
  return {
    post: {
      operationId,
      summary,
      security,
      parameters: [parameter('tenant', 'Admin keys only: the tenant to read.')],
      requestBody: { required: true, content: json({ $ref: `#/components/schemas/${request}` }) },
      responses: {
        '200': response,
        ...readErrorResponses,
        '405': methodNotAllowed('POST'),
        '413': { description: 'The query body is over 64 KB.', content: errorContent },
      },
    },
  } as const;
}

export const metricsPaths = {
  '/v1/metrics': get(
    'metrics_series',
    'Time series of dau, wau, mau, stickiness, new_users, events, revenue (docs/metrics.md)',
    [
      parameter('names', 'Comma-separated series names.', true),
      ...rangeParameters,
      parameter('interval', 'day (default), week (from Monday) or month.', false, {
        enum: ['day', 'week', 'month'],
      }),
      parameter('event', '`events` only: count events of this name.'),
    ],
    ok('One point per period, oldest first.', 'Series'),
  ),
  '/v1/dashboard': get(
    'dashboard',
    'KPI summary of a range',
    [
      ...rangeParameters,
      parameter(
        'compare',
        '`previous`: also the KPIs of the range just before, as long, in `previous` (one pass over the data for both).',
        false,
        { enum: ['previous'] },
      ),
    ],
    ok('The KPIs.', 'Dashboard'),
  ),
  '/v1/funnel': post(
    'funnel',
    'Ordered-step funnel within a conversion window',
    'FunnelQuery',
    ok('Per-step users and conversion.', 'Funnel'),
  ),
  '/v1/retention': post(
    'retention',
    'Cohort retention matrix',
    'RetentionQuery',
    ok('Cohorts, oldest first.', 'Retention'),
  ),
  '/v1/attribution': get(
    'attribution',
    'Users, sessions, conversions and revenue by channel, first or last touch',
    [
      ...rangeParameters,
      parameter('model', 'first_touch (default) or last_touch.', false, {
        enum: ['first_touch', 'last_touch'],
      }),
    ],
    ok('Channels by users, most first.', 'Attribution'),
  ),
  '/v1/usage': get(
    'usage',
    'Daily event counts per event name (UTC days), from the rollup that outlives raw events',
    [
      parameter('from', 'First UTC day, YYYY-MM-DD.', true),
      parameter('to', 'Last UTC day, YYYY-MM-DD.', true),
      parameter('tenant', 'Admin keys only: the tenant to read.'),
    ],
    ok('Counts by day, then event.', 'Usage'),
  ),
  '/v1/quotas': get(
    'quotas',
    "Today's usage against the tenant's daily quotas",
    [parameter('tenant', 'Admin keys only: the tenant to read.')],
    ok('One entry per configured quota.', 'Quotas'),
  ),
} as const;
