import * as z from 'zod';
import { json } from '../http/errors';
import { SERIES_NAMES } from '../query/series';
import { badParameter, resolveRange } from '../query/time';
import type { ReadRoute } from '../read/readApi';
import { parseParams, type ReadContext } from '../read/readContext';
import { computeReport, type ReportSource } from './computeReport';
import { forecastMetric } from './metricForecast';
import { renderReport } from './renderReport';
import { REPORT_FORMATS, REPORT_TEMPLATES } from './reportConfig';
import type { ReportsRuntime } from './reportsRuntime';

const bound = z.string({ error: 'use a date YYYY-MM-DD or an ISO timestamp' }).max(40);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use a date YYYY-MM-DD');
const eventName = z.string().min(1, 'use a non-empty event name').max(256);
const seriesName = z.enum(SERIES_NAMES, { error: `use one of ${SERIES_NAMES.join(', ')}` });

const forecastQuery = z.object({
  name: seriesName,
  from: bound,
  to: bound,
  tz: z.string().max(64).optional(),
  event: eventName.optional(),
  horizon: z
    .string()
    .regex(/^\d{1,3}$/, 'use a whole number of days from 1 to 90')
    .transform(Number)
    .pipe(z.number().int().min(1, 'use at least 1 day').max(90, 'use at most 90 days'))
    .default(14),
  tenant: z.string().optional(),
});

const runsQuery = z.object({
  name: z.string().max(64).optional(),
  status: z.enum(['ok', 'failed'], { error: "use 'ok' or 'failed'" }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'use a whole number from 1 to 1000')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000, 'use at most 1000'))
    .default(100),
  tenant: z.string().optional(),
});

const generateQuery = z
  .object({
    template: z.enum(REPORT_TEMPLATES, { error: `use one of ${REPORT_TEMPLATES.join(', ')}` }),
    format: z
      .enum(REPORT_FORMATS, { error: `use one of ${REPORT_FORMATS.join(', ')}` })
      .default('json'),
    from: day.optional(),
    to: day.optional(),
    tz: z.string().max(64).optional(),
    metrics: z
      .string()
      .transform((value) => value.split(',').map((name) => name.trim()))
      .pipe(z.array(seriesName).min(1))
      .optional(),
    event: eventName.optional(),
    tenant: z.string().optional(),
  })
  .refine((query) => (query.from === undefined) === (query.to === undefined), {
    message: 'give both from and to, or neither (the template picks the period)',
    path: ['to'],
  });

function searchParams(context: ReadContext): Record<string, string> {
  return Object.fromEntries(context.url.searchParams);
}

/**
 * `GET /v1/reports/generate` (a report rendered now), `GET /v1/reports/runs` (the run history of
 * the caller's tenant) and `GET /v1/forecast` (a metric's forecast with 95 % intervals).
 *
 * @example
 * createReadApi({ routes: [...readRoutes(settings), ...reportRoutes(source, runtime)], ... });
 */
export function reportRoutes(
  source: Omit<ReportSource, 'store'>,
  runtime: Pick<ReportsRuntime, 'history'>,
): ReadRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/reports/runs',
      async handle(context) {
        const query = parseParams(runsQuery, searchParams(context));
        return json(200, {
          runs: runtime.history.list(context.caller.tenant, {
            name: query.name,
            status: query.status,
            limit: query.limit,
          }),
        });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/reports/generate',
      async handle(context) {
        const query = parseParams(generateQuery, searchParams(context));
        if (query.from !== undefined && query.to !== undefined) {
          // Checks the dates, the time zone and the range limit, as every read route does.
          resolveRange({ from: query.from, to: query.to, tz: query.tz }, source.maxRangeDays);
        } else if (query.tz !== undefined) {
          resolveRange({ from: '2000-01-01', to: '2000-01-01', tz: query.tz }, source.maxRangeDays);
        }
        const report = await computeReport(
          { ...source, store: context.store },
          {
            template: query.template,
            tenant: context.caller.tenant,
            now: context.now,
            tz: query.tz,
            from: query.from,
            to: query.to,
            custom:
              query.template === 'custom'
                ? {
                    metrics: query.metrics ?? ['dau', 'events'],
                    event: query.event,
                    funnels: [],
                    days: 7,
                  }
                : undefined,
          },
        );
        const rendered = renderReport(report, query.format);
        return new Response(rendered.body, {
          status: 200,
          headers: { 'content-type': rendered.contentType },
        });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/forecast',
      async handle(context) {
        const query = parseParams(forecastQuery, searchParams(context));
        const range = resolveRange(query, source.maxRangeDays);
        try {
          return json(
            200,
            await forecastMetric(context.store, context.caller.tenant, {
              name: query.name,
              range,
              horizon: query.horizon,
              event: query.event,
            }),
          );
        } catch (error) {
          // Fewer than 3 days of history.
          if (error instanceof RangeError)
            throw badParameter('from', `${error.message}: widen the range`);
          throw error;
        }
      },
    },
  ];
}
