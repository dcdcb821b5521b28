import { tenantRoutes } from '../dashboard/tenantsRoute';
import type { ResolvedCollectorOptions } from '../options';
import { eventRoutes } from './eventRoutes';
import { metricsRoutes } from './metricsRoutes';
import { modelRoutes } from './modelRoutes';
import { privacyRoutes } from './privacyRoutes';
import type { ReadRoute } from './readApi';

/** Every read endpoint of the collector. */
export function readRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  return [
    ...metricsRoutes(settings),
    ...modelRoutes(settings),
    ...eventRoutes(settings),
    ...privacyRoutes(settings),
    ...tenantRoutes(settings),
  ];
}
