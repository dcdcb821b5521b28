import type { ResolvedCollectorOptions } from '../options';
import type { ReadRoute } from './readApi';

/** `/v1/metrics`, `/v1/dashboard`, `/v1/funnel`, `/v1/retention`, `/v1/attribution`, `/v1/usage`, `/v1/quotas`. */
export function metricsRoutes(_settings: ResolvedCollectorOptions): ReadRoute[] {
  return [];
}
