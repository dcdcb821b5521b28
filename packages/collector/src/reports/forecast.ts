/**
 * Additive Holt-Winters (ETS(A,A,A) in error-correction form, Hyndman et al., "Forecasting with
 * Exponential Smoothing", 2008, ch. 6) with a weekly season, fitted by minimising the one-step
 * squared errors over a small parameter grid. Prediction intervals come from the residuals'
 * standard deviation and the model's h-step variance multiplier.
 */

export interface ForecastPoint {
  /** Steps after the last observation, 1 = the next period. */
  step: number;
  value: number;
  /** Bounds of the 95 % prediction interval. */
  lower: number;
  upper: number;
}

export interface ForecastModel {
  method: 'holt_winters_additive' | 'holt_linear';
  /** Season length in periods (7 for daily data); 1 when there is no season. */
  seasonLength: number;
  alpha: number;
  beta: number;
  gamma: number;
  /** Standard deviation of the one-step residuals. */
  sigma: number;
  points: ForecastPoint[];
}

export interface ForecastOptions {
  /** Periods to forecast. */
  horizon: number;
  /** Season length; default 7 (weekly season of daily values). */
  seasonLength?: number;
  /** Two-sided coverage of the intervals; default 0.95. */
  level?: 0.8 | 0.9 | 0.95 | 0.99;
}

const Z: Record<NonNullable<ForecastOptions['level']>, number> = {
  0.8: 1.2816,
  0.9: 1.6449,
  0.95: 1.96,
  0.99: 2.5758,
};
const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9];
const BETAS = [0, 0.01, 0.03, 0.05, 0.1, 0.2];
const GAMMAS = [0, 0.05, 0.1, 0.2, 0.3, 0.5];

interface State {
  level: number;
  trend: number;
  season: number[];
}

interface Fit {
  alpha: number;
  beta: number;
  gamma: number;
  sse: number;
  /** Squared errors and count after the burn-in, for the residual σ. */
  settledSse: number;
  settled: number;
  state: State;
}

/**
 * Forecasts `values` (equally spaced, oldest first) `horizon` periods ahead with 95 % intervals.
 * With at least two full seasons the model is additive Holt-Winters; with fewer, Holt's linear
 * trend (no season). Needs at least 3 values.
 *
 * @example
 * const model = forecastSeries([120, 130, 128, 90, 85, 125, 131, 122, 133], { horizon: 7 });
 * model.points[0]; // { step: 1, value: …, lower: …, upper: … }
 */
export function forecastSeries(values: readonly number[], options: ForecastOptions): ForecastModel {
  if (values.length < 3) throw new RangeError('a forecast needs at least 3 values');
  if (!values.every(Number.isFinite)) throw new RangeError('a forecast needs finite values');
  const seasonal = values.length >= 2 * (options.seasonLength ?? 7);
  const m = seasonal ? (options.seasonLength ?? 7) : 1;
  let best: Fit | undefined;
  for (const alpha of ALPHAS) {
    for (const beta of BETAS) {
      // The admissible region of ETS(A,A,A): 0 ≤ β ≤ α, 0 ≤ γ ≤ 1 − α.
      if (beta > alpha) continue;
      for (const gamma of seasonal ? GAMMAS : [0]) {
        if (gamma > 1 - alpha) continue;
        const fit = fitWith(values, m, alpha, beta, gamma);
        if (!best || fit.sse < best.sse - 1e-9) best = fit;
      }
    }
  }
  const fit = best!;
  // σ from the residuals after one season of burn-in (the initial state's own error fades there),
  // over their degrees of freedom: the count minus the fitted smoothing parameters.
  const parameters = seasonal ? 3 : 2;
  const sigma =
    fit.settled > parameters
      ? Math.sqrt(fit.settledSse / (fit.settled - parameters))
      : Math.sqrt(fit.sse / Math.max(1, values.length - 1 - parameters));
  const z = Z[options.level ?? 0.95];
  const points: ForecastPoint[] = [];
  let varianceFactor = 1;
  for (let step = 1; step <= options.horizon; step++) {
    if (step > 1) {
      const j = step - 1;
      const c = fit.alpha + fit.beta * j + (seasonal && j % m === 0 ? fit.gamma : 0);
      varianceFactor += c * c;
    }
    const seasonIndex = (step - 1) % m;
    const value = fit.state.level + step * fit.state.trend + (fit.state.season[seasonIndex] ?? 0);
    const half = z * sigma * Math.sqrt(varianceFactor);
    points.push({ step, value, lower: value - half, upper: value + half });
  }
  return {
    method: seasonal ? 'holt_winters_additive' : 'holt_linear',
    seasonLength: m,
    alpha: fit.alpha,
    beta: fit.beta,
    gamma: fit.gamma,
    sigma,
    points,
  };
}

/**
 * Initial state from the first season (seasonal) or the first values (linear): level and trend
 * of a least-squares line, seasonal indexes as the first season's deviations from it.
 */
function initialState(values: readonly number[], m: number): { state: State; start: number } {
  if (m === 1) {
    const span = Math.min(values.length - 1, 3);
    return {
      state: { level: values[0]!, trend: (values[span]! - values[0]!) / span, season: [0] },
      start: 1,
    };
  }
  const first = mean(values.slice(0, m));
  const second = mean(values.slice(m, 2 * m));
  const trend = (second - first) / m;
  const middle = (m - 1) / 2;
  const raw = values.slice(0, m).map((value, index) => value - first - trend * (index - middle));
  const offset = mean(raw);
  // season[i] is the index of the period i steps after the state's time (rotated as time moves).
  const season = raw.map((value) => value - offset);
  return { state: { level: first + trend * middle, trend, season }, start: m };
}

/** Runs the error-correction recursions over `values`, returning the SSE and the final state. */
function fitWith(values: readonly number[], m: number, alpha: number, beta: number, gamma: number) {
  const { state, start } = initialState(values, m);
  let { level, trend } = state;
  const season = [...state.season];
  let sse = 0;
  let settledSse = 0;
  let settled = 0;
  const burnIn = start + Math.max(m, 3);
  for (let t = start; t < values.length; t++) {
    const seasonal = season.shift()!;
    const error = values[t]! - (level + trend + seasonal);
    sse += error * error;
    if (t >= burnIn) {
      settledSse += error * error;
      settled++;
    }
    level = level + trend + alpha * error;
    trend = trend + beta * error;
    season.push(seasonal + gamma * error);
  }
  return {
    alpha,
    beta,
    gamma,
    sse,
    settledSse,
    settled,
    state: { level, trend, season },
  } satisfies Fit;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
