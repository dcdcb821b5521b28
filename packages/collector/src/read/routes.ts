import type { ResolvedCollectorOptions } from '../options';
import { metricsRoutes } from './metricsRoutes';
import type { ReadRoute } from './readApi';

/** Every read endpoint of the collector. */
export function readRoutes(settings: ResolvedCollectorOptions): ReadRoute[] {
  return [...metricsRoutes(settings)];
}
