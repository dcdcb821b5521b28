import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../../reports/forecast';
import { createRandom } from '../synthetic/random';

/** A standard normal draw (Box–Muller) from a seeded source. */
function gaussian(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

const WEEKLY = [12, 18, 20, 19, 17, -30, -36];

/** Noiseless truth at day t: level, slope and a weekly pattern that sums to 0. */
function truth(t: number): number {
  return 500 + 2.5 * t + WEEKLY[t % 7]!;
}

describe('forecastSeries', () => {
  it('forecasts a pure linear trend near-exactly, with a near-zero interval', () => {
    const values = Array.from({ length: 42 }, (_, t) => 100 + 3 * t);
    const model = forecastSeries(values, { horizon: 14 });
    expect(model.method).toBe('holt_winters_additive');
    for (const point of model.points) {
      const expected = 100 + 3 * (41 + point.step);
      expect(Math.abs(point.value - expected)).toBeLessThan(1e-6);
      expect(point.upper - point.lower).toBeLessThan(1e-4);
    }
  });

  it("falls back to Holt's linear trend with fewer than two seasons", () => {
    const values = Array.from({ length: 10 }, (_, t) => 40 - 2 * t);
    const model = forecastSeries(values, { horizon: 3 });
    expect(model.method).toBe('holt_linear');
    expect(model.points.map((point) => point.value)).toEqual([
      expect.closeTo(20, 6),
      expect.closeTo(18, 6),
      expect.closeTo(16, 6),
    ]);
  });

  it('recovers a weekly pattern: the forecast of a noiseless trend + season is exact', () => {
    const values = Array.from({ length: 56 }, (_, t) => truth(t));
    const model = forecastSeries(values, { horizon: 14 });
    for (const point of model.points) {
      expect(point.value).toBeCloseTo(truth(55 + point.step), 6);
    }
  });

  it('tracks trend + weekly season + Gaussian noise of known σ, and ~95 % of held-out truths fall in the intervals', () => {
    const sigma = 8;
    const horizon = 14;
    let inside = 0;
    let total = 0;
    let absoluteError = 0;
    let sigmaSum = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const random = createRandom(seed);
      const observed = Array.from(
        { length: 70 + horizon },
        (_, t) => truth(t) + sigma * gaussian(random.next),
      );
      const model = forecastSeries(observed.slice(0, 70), { horizon });
      sigmaSum += model.sigma;
      for (const point of model.points) {
        const actual = observed[69 + point.step]!;
        if (actual >= point.lower && actual <= point.upper) inside++;
        total++;
        absoluteError += Math.abs(point.value - truth(69 + point.step));
      }
    }
    const coverage = inside / total;
    expect(coverage).toBeGreaterThan(0.92);
    expect(coverage).toBeLessThan(0.985);
    // The residual σ (one-step errors: the noise plus the model's own estimation error) is near
    // the noise, and the forecast is close to the noiseless truth.
    expect(sigmaSum / 200).toBeGreaterThan(sigma * 0.85);
    expect(sigmaSum / 200).toBeLessThan(sigma * 1.2);
    expect(absoluteError / total).toBeLessThan(sigma);
  });

  it('refuses fewer than 3 values and non-finite values', () => {
    expect(() => forecastSeries([1, 2], { horizon: 3 })).toThrow(RangeError);
    expect(() => forecastSeries([1, Number.NaN, 3], { horizon: 3 })).toThrow(RangeError);
  });
});
