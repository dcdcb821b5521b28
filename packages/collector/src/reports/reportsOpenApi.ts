/**
 * OpenAPI 3.1 path items and schemas of the report routes (`reportRoutes.ts`), merged into the
 * collector's document by `openapi.ts`. Checked against real responses in
 * src/__tests__/reports/reportsOpenApi.test.ts.
 */
import { methodNotAllowed } from '../openapiParts';
import { SERIES_NAMES } from '../query/series';
import { readErrorResponses } from '../read/metricsOpenApi';
import { REPORT_FORMATS, REPORT_TEMPLATES } from './reportConfig';

const security = [{ bearerReadKey: [] }] as const;

function parameter(
  name: string,
  description: string,
  required = false,
  schema: object = { type: 'string' },
) {
  return { name, in: 'query', required, description, schema } as const;
}

const tenant = parameter('tenant', 'Admin keys only: the tenant to read.');
const dayRange = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: { from: { type: 'string', format: 'date' }, to: { type: 'string', format: 'date' } },
} as const;
const nullableNumber = { type: ['number', 'null'] } as const;

function get(operationId: string, summary: string, parameters: readonly object[], ok: object) {
  return {
    get: {
      operationId,
      summary,
      security,
      parameters,
      responses: { '200': ok, ...readErrorResponses, '405': methodNotAllowed('GET') },
    },
  } as const;
}

export const reportsPaths = {
  '/v1/reports/generate': get(
    'reports_generate',
    'A report (daily, weekly, monthly or custom) computed now, as JSON, CSV or self-contained HTML (docs/reports.md)',
    [
      parameter('template', 'daily, weekly, monthly or custom.', true, { enum: REPORT_TEMPLATES }),
      parameter('format', 'json (default), csv or html.', false, { enum: REPORT_FORMATS }),
      parameter(
        'from',
        'First day `YYYY-MM-DD`; default: the period the template picks (with `to`).',
      ),
      parameter('to', 'Last day `YYYY-MM-DD` (included).'),
      parameter('tz', 'IANA time zone of the days. Default `UTC`.'),
      parameter('metrics', 'custom only: comma-separated series names. Default `dau,events`.'),
      parameter('event', 'custom only: `events` and `revenue` count events of this name.'),
      tenant,
    ],
    {
      description: 'The report in the asked format.',
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/Report' } },
        'text/csv': { schema: { type: 'string' } },
        'text/html': { schema: { type: 'string' } },
      },
    },
  ),
  '/v1/reports/runs': get(
    'reports_runs',
    "Run history of the tenant's report schedules and alert notifications, newest first",
    [
      parameter('name', 'Only runs of this schedule or alert rule id.'),
      parameter('status', 'ok or failed.', false, { enum: ['ok', 'failed'] }),
      parameter('limit', 'At most this many runs (1–1000). Default 100.', false, {
        type: 'string',
        pattern: '^[0-9]{1,4}$',
      }),
      tenant,
    ],
    {
      description: 'The runs.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ReportRuns' } } },
    },
  ),
  '/v1/forecast': get(
    'forecast',
    "A daily metric's forecast with 95 % prediction intervals (additive Holt-Winters, weekly season)",
    [
      parameter('name', 'The series to forecast.', true, { enum: SERIES_NAMES }),
      parameter('from', 'First day of the history `YYYY-MM-DD` (or an ISO timestamp).', true),
      parameter(
        'to',
        'Last day of the history (included); the forecast starts the day after.',
        true,
      ),
      parameter('tz', 'IANA time zone of the days. Default `UTC`.'),
      parameter('event', '`events`/`revenue` only: events of this name.'),
      parameter('horizon', 'Days to forecast, 1–90. Default 14.', false, {
        type: 'string',
        pattern: '^[0-9]{1,3}$',
      }),
      tenant,
    ],
    {
      description: 'The history the model was fitted on and the forecast.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Forecast' } } },
    },
  ),
} as const;

export const reportsSchemas = {
  ReportRuns: {
    type: 'object',
    required: ['runs'],
    additionalProperties: false,
    properties: {
      runs: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'id',
            'kind',
            'name',
            'tenant',
            'status',
            'attempts',
            'startedAt',
            'durationMs',
            'destination',
          ],
          additionalProperties: false,
          properties: {
            id: { type: 'string' },
            kind: { enum: ['report', 'alert'] },
            name: { type: 'string', description: 'The schedule or alert rule id.' },
            tenant: { type: 'string' },
            status: { enum: ['ok', 'failed'] },
            attempts: { type: 'integer', minimum: 0 },
            error: { type: 'string' },
            startedAt: { type: 'string', format: 'date-time' },
            durationMs: { type: 'number', minimum: 0 },
            destination: {
              type: 'string',
              examples: [
                'webhook https://hooks.example.com/sightline',
                'directory /srv/reports/weekly_2024-05-06_2024-05-12.html',
              ],
            },
            format: { enum: REPORT_FORMATS },
            period: dayRange,
            alertStatus: { enum: ['firing', 'resolved'] },
          },
        },
      },
    },
  },
  Forecast: {
    type: 'object',
    required: [
      'name',
      'method',
      'seasonLength',
      'parameters',
      'sigma',
      'level',
      'history',
      'forecast',
    ],
    additionalProperties: false,
    properties: {
      name: { enum: SERIES_NAMES },
      event: { type: 'string' },
      method: { enum: ['holt_winters_additive', 'holt_linear'] },
      seasonLength: { type: 'integer', minimum: 1 },
      parameters: {
        type: 'object',
        required: ['alpha', 'beta', 'gamma'],
        properties: {
          alpha: { type: 'number' },
          beta: { type: 'number' },
          gamma: { type: 'number' },
        },
      },
      sigma: {
        type: 'number',
        minimum: 0,
        description: 'Standard deviation of the one-step residuals.',
      },
      level: { const: 0.95 },
      history: {
        type: 'array',
        items: {
          type: 'object',
          required: ['date', 'value'],
          properties: { date: { type: 'string', format: 'date' }, value: { type: 'number' } },
        },
      },
      forecast: {
        type: 'array',
        items: {
          type: 'object',
          required: ['date', 'value', 'lower', 'upper'],
          additionalProperties: false,
          properties: {
            date: { type: 'string', format: 'date' },
            value: { type: 'number' },
            lower: { type: 'number' },
            upper: { type: 'number' },
          },
        },
      },
    },
  },
  Report: {
    type: 'object',
    required: [
      'template',
      'title',
      'tenant',
      'generatedAt',
      'timeZone',
      'period',
      'previousPeriod',
      'kpis',
      'metrics',
      'series',
      'funnels',
    ],
    properties: {
      template: { enum: REPORT_TEMPLATES },
      title: { type: 'string' },
      tenant: { type: 'string' },
      generatedAt: { type: 'string', format: 'date-time' },
      timeZone: { type: 'string' },
      period: dayRange,
      previousPeriod: dayRange,
      event: { type: 'string' },
      kpis: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'value', 'previous', 'changePercent'],
          properties: {
            name: { type: 'string' },
            value: nullableNumber,
            previous: nullableNumber,
            changePercent: nullableNumber,
          },
        },
      },
      metrics: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'aggregate', 'value', 'previous', 'changePercent'],
          properties: {
            name: { enum: SERIES_NAMES },
            aggregate: { enum: ['sum', 'mean'] },
            value: nullableNumber,
            previous: nullableNumber,
            changePercent: nullableNumber,
          },
        },
      },
      series: {
        type: 'object',
        required: ['interval', 'range', 'values'],
        properties: { interval: { const: 'day' }, range: dayRange, values: { type: 'object' } },
      },
      funnels: { type: 'array', items: { type: 'object' } },
      retention: { type: 'object' },
      attribution: { type: 'object' },
      forecast: { $ref: '#/components/schemas/Forecast' },
    },
  },
} as const;
