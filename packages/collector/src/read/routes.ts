import type { ResolvedCollectorOptions } from '../options';
import { eventRoutes } from './eventRoutes';
import { metricsRoutes } from './metricsRoutes';
import { privacyRoutes } from './privacyRoutes';
import type { ReadRoute } from './readApi';

/** Every read endpoint of the collector. */
export function readRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  return [...metricsRoutes(settings), ...eventRoutes(settings), ...privacyRoutes(settings)];
}
