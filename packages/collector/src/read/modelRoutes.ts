import * as z from 'zod';
import { json } from '../http/errors';
import type { ResolvedCollectorOptions } from '../options';
import { computeExperiment } from '../query/experiments';
import { computeModels } from '../query/models';
import { resolveRange } from '../query/time';
import { cached, cacheKey, searchParams } from './metricsRoutes';
import type { ReadRoute } from './readApi';
import { parseParams } from './readContext';

const name = (what: string) =>
  z
    .string({ error: `use ${what}` })
    .min(1, `use a non-empty ${what}`)
    .max(256, 'use at most 256 characters');
const bound = z.string({ error: 'use a date YYYY-MM-DD or an ISO timestamp' }).max(40);
const rangeShape = { from: bound, to: bound, tz: z.string().max(64).optional() };

const modelsQuery = z.object({
  ...rangeShape,
  interval: z
    .enum(['day', 'week', 'month'], { error: "use 'day', 'week' or 'month'" })
    .default('day'),
  model: name('model name, as tracked in properties.model').optional(),
  version: name('model version, as tracked in properties.model_version').optional(),
  tenant: z.string().optional(),
});

const experimentQuery = z.object({
  name: name('experiment name, as tracked in properties.experiment'),
  goal: name('goal event name, e.g. goal=signup_completed'),
  ...rangeShape,
  windowDays: z
    .string()
    .regex(/^\d{1,3}$/, 'use a whole number of days from 1 to 90')
    .transform(Number)
    .pipe(z.number().min(1, 'use at least 1 day').max(90, 'use at most 90 days'))
    .default(7),
  control: name('variant name, as tracked in properties.variant').optional(),
  tenant: z.string().optional(),
});

/**
 * `/v1/models` (usage and performance per model version, seed 001) and
 * `/v1/experiments/:name` (variant conversion with significance), defined in docs/metrics.md.
 *
 * @example
 * createReadApi({ routes: modelRoutes(settings), ... });
 */
export function modelRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  const maxDays = settings.read.maxRangeDays;
  return [
    {
      method: 'GET',
      pattern: '/v1/models',
      async handle(context) {
        const query = parseParams(modelsQuery, searchParams(context));
        const range = resolveRange(query, maxDays);
        const models = await cached(context, cacheKey('models', query), () =>
          computeModels(context.store, context.caller.tenant, { ...query, range }),
        );
        return json(200, { interval: query.interval, tz: range.tz, models });
      },
    },
    {
      method: 'GET',
      pattern: '/v1/experiments/:name',
      async handle(context) {
        const query = parseParams(experimentQuery, {
          ...searchParams(context),
          name: context.params.name,
        });
        const range = resolveRange(query, maxDays);
        const result = await cached(context, cacheKey('experiment', query), () =>
          computeExperiment(context.store, context.caller.tenant, {
            experiment: query.name,
            goal: query.goal,
            range,
            windowDays: query.windowDays,
            control: query.control,
          }),
        );
        return json(200, result);
      },
    },
  ];
}
