import { computeSeries, type SeriesName, type SeriesPoint } from '../query/series';
import { addDays, type TimeRange } from '../query/time';
import type { Store } from '../store/store';
import { forecastSeries } from './forecast';

/** A metric's daily history and its forecast, as `GET /v1/forecast` answers. */
export interface MetricForecast {
  name: SeriesName;
  event?: string;
  method: 'holt_winters_additive' | 'holt_linear';
  seasonLength: number;
  parameters: { alpha: number; beta: number; gamma: number };
  /** Standard deviation of the one-step residuals. */
  sigma: number;
  level: 0.95;
  history: SeriesPoint[];
  forecast: Array<{ date: string; value: number; lower: number; upper: number }>;
}

/**
 * Forecasts the daily series `name` (optionally filtered by `event`) `horizon` days past the end
 * of `range`, fitted on the days of `range` (forecast.ts).
 *
 * @example
 * await forecastMetric(store, 'acme', { name: 'dau', range, horizon: 14 });
 */
export async function forecastMetric(
  store: Store,
  tenant: string,
  query: { name: SeriesName; range: TimeRange; horizon: number; event?: string },
): Promise<MetricForecast> {
  const series = await computeSeries(store, tenant, {
    names: [query.name],
    range: query.range,
    interval: 'day',
    event: query.event,
  });
  const history = series[query.name] ?? [];
  const model = forecastSeries(
    history.map((point) => point.value),
    { horizon: query.horizon },
  );
  return {
    name: query.name,
    ...(query.event === undefined ? {} : { event: query.event }),
    method: model.method,
    seasonLength: model.seasonLength,
    parameters: { alpha: model.alpha, beta: model.beta, gamma: model.gamma },
    sigma: model.sigma,
    level: 0.95,
    history,
    forecast: model.points.map((point) => ({
      date: addDays(query.range.toDay, point.step),
      value: point.value,
      lower: point.lower,
      upper: point.upper,
    })),
  };
}
