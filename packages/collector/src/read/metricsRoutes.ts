import * as z from 'zod';
import { json } from '../http/errors';
import type { ResolvedCollectorOptions } from '../options';
import { computeAttribution } from '../query/attribution';
import { BREAKDOWN_COLUMNS, computeFunnel } from '../query/funnel';
import { computeDashboards, previousRange } from '../query/kpis';
import { computeRetention } from '../query/retention';
import { computeSeries, SERIES_NAMES, type SeriesName } from '../query/series';
import { resolveRange } from '../query/time';
import { dailyUsage, usageOn } from '../query/usage';
import type { ReadRoute } from './readApi';
import { parseParams, type ReadContext, readJsonBody } from './readContext';

const eventName = z
  .string({ error: 'use an event name' })
  .min(1, 'use a non-empty event name')
  .max(256, 'use at most 256 characters');
const bound = z.string({ error: 'use a date YYYY-MM-DD or an ISO timestamp' }).max(40);
const tz = z.string().max(64).optional();
const rangeShape = { from: bound, to: bound, tz };
const interval = z.enum(['day', 'week', 'month'], { error: "use 'day', 'week' or 'month'" });

const metricsQuery = z.object({
  names: z
    .string({ error: `list series names, e.g. names=dau,mau (${SERIES_NAMES.join(', ')})` })
    .transform((value) => value.split(',').map((name) => name.trim()))
    .pipe(
      z
        .array(z.enum(SERIES_NAMES, { error: `use names among ${SERIES_NAMES.join(', ')}` }))
        .min(1)
        .max(SERIES_NAMES.length),
    ),
  ...rangeShape,
  interval: interval.default('day'),
  event: eventName.optional(),
  tenant: z.string().optional(),
});

const dashboardQuery = z.object({
  ...rangeShape,
  tenant: z.string().optional(),
  compare: z.enum(['previous'], { error: "use 'previous' or leave compare out" }).optional(),
});

const propertyValue = z.union([z.string().max(1024), z.number(), z.boolean()], {
  error: 'use a string, number or boolean',
});
const funnelBody = z.object({
  steps: z
    .array(
      z.object({
        event: eventName,
        where: z.record(z.string().min(1).max(256), propertyValue).optional(),
      }),
      { error: 'use an array of steps { event, where? }' },
    )
    .min(2, 'a funnel needs at least 2 steps')
    .max(10, 'a funnel has at most 10 steps'),
  windowSeconds: z
    .number({ error: 'use a number of seconds' })
    .int('use a whole number of seconds')
    .min(1)
    .max(366 * 86_400, 'use at most a year'),
  ...rangeShape,
  breakdown: z
    .string()
    .refine(
      (value) =>
        (BREAKDOWN_COLUMNS as readonly string[]).includes(value) ||
        /^properties\.[^.]{1,256}$/.test(value),
      `use one of ${BREAKDOWN_COLUMNS.join(', ')} or properties.<name>`,
    )
    .optional(),
});

const retentionBody = z.object({
  interval,
  periods: z.number({ error: 'use a number of periods' }).int().min(1).max(60, 'use at most 60'),
  startEvent: eventName.optional(),
  returnEvent: eventName.optional(),
  ...rangeShape,
});

const attributionQuery = z.object({
  ...rangeShape,
  model: z
    .enum(['first_touch', 'last_touch'], { error: "use 'first_touch' or 'last_touch'" })
    .default('first_touch'),
  tenant: z.string().optional(),
});

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use a UTC date YYYY-MM-DD');
const usageQuery = z.object({ from: day, to: day, tenant: z.string().optional() });

export function searchParams(context: ReadContext): Record<string, string> {
  return Object.fromEntries(context.url.searchParams);
}

/** Cache key of a request: its route and canonical parameters. */
export function cacheKey(route: string, parameters: unknown): string {
  return `${route} ${JSON.stringify(parameters, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  )}`;
}

export function cached<T>(
  context: ReadContext,
  key: string,
  compute: () => Promise<T>,
): Promise<T> {
  return context.cache.get(context.caller.tenant, key, compute, context.now);
}

/**
 * `/v1/metrics`, `/v1/dashboard`, `/v1/funnel`, `/v1/retention`, `/v1/attribution`, `/v1/usage`
 * and `/v1/quotas`: the metrics of docs/metrics.md, computed in the store.
 *
 * @example
 * createReadApi({ routes: metricsRoutes(settings), ... });
 */
export function metricsRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  const maxDays = settings.read.maxRangeDays;
  return [
    {
      method: 'GET',
      pattern: '/v1/metrics',
      async handle(context) {
        const query = parseParams(metricsQuery, searchParams(context));
        const range = resolveRange(query, maxDays);
        const series = await cached(context, cacheKey('metrics', query), () =>
          computeSeries(context.store, context.caller.tenant, {
            names: [...new Set(query.names)] as SeriesName[],
            range,
            interval: query.interval,
            event: query.event,
          }),
        );
        return json(200, { series });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/dashboard',
      async handle(context) {
        const query = parseParams(dashboardQuery, searchParams(context));
        const range = resolveRange(query, maxDays);
        const { tenant } = context.caller;
        const ranges = query.compare === 'previous' ? [range, previousRange(range)] : [range];
        const dashboard = await cached(context, cacheKey('dashboard', query), async () => {
          const [current, previous] = await computeDashboards(context.store, tenant, ranges, {
            ...settings.kpis,
            acquisitionSpend: settings.kpis.acquisitionSpend[tenant],
          });
          return previous ? { ...current!, previous } : current!;
        });
        return json(200, dashboard);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/funnel',
      async handle(context) {
        const body = parseParams(funnelBody, await readJsonBody(context.request));
        const range = resolveRange(body, maxDays);
        const funnel = await cached(context, cacheKey('funnel', body), () =>
          computeFunnel(context.store, context.caller.tenant, { ...body, range }),
        );
        return json(200, funnel);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/retention',
      async handle(context) {
        const body = parseParams(retentionBody, await readJsonBody(context.request));
        const range = resolveRange(body, maxDays);
        const retention = await cached(context, cacheKey('retention', body), () =>
          computeRetention(context.store, context.caller.tenant, { ...body, range }),
        );
        return json(200, { interval: body.interval, ...retention });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/attribution',
      async handle(context) {
        const query = parseParams(attributionQuery, searchParams(context));
        const range = resolveRange(query, maxDays);
        const attribution = await cached(context, cacheKey('attribution', query), () =>
          computeAttribution(context.store, context.caller.tenant, {
            range,
            model: query.model,
            paymentEvent: settings.kpis.paymentEvent,
          }),
        );
        return json(200, { model: query.model, ...attribution });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/usage',
      async handle(context) {
        const query = parseParams(usageQuery, searchParams(context));
        resolveRange({ from: query.from, to: query.to }, maxDays);
        const usage = await cached(context, cacheKey('usage', query), () =>
          dailyUsage(context.store, context.caller.tenant, query.from, query.to),
        );
        return json(200, { usage });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/quotas',
      async handle(context) {
        const { tenant } = context.caller;
        const limits = settings.quotas.limits[tenant] ?? {};
        const today = new Date(context.now).toISOString().slice(0, 10);
        const current = await usageOn(context.store, tenant, today, Object.keys(limits));
        return json(200, {
          day: today,
          mode: settings.quotas.mode,
          quotas: Object.entries(limits).map(([event, limit]) => {
            const count = current.get(event) ?? 0;
            return { event, limit, current: count, exceeded: count >= limit };
          }),
        });
      },
    },
  ];
}
