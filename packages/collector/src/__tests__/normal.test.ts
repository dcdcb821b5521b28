import { describe, expect, it } from 'vitest';
import { compareProportions } from '../query/experiments';
import { erfc, twoSidedPValue, Z_95 } from '../query/normal';

/** erfc and the two-sided p-value against reference values (C's erfc as CPython exposes it; normal tables). */

function expectRelative(actual: number, expected: number, tolerance = 1e-13): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

describe('erfc', () => {
  it.each([
    [0, 1],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [1.5, 0.033894853524689274],
    [2, 0.004677734981047265],
    [2.9, 4.109787809945886e-5],
    [3, 2.2090496998585438e-5],
    [4, 1.541725790028002e-8],
    [6, 2.1519736712498916e-17],
    [-1, 1.8427007929497148],
  ])('erfc(%d) = %d', (x, expected) => {
    expectRelative(erfc(x), expected);
  });

  it('is continuous where the series hands over to the continued fraction', () => {
    expectRelative(erfc(1.5 - 1e-12), erfc(1.5), 1e-10);
  });
});

describe('twoSidedPValue', () => {
  it.each([
    [Z_95, 0.05],
    [1.96, 0.04999579029644087],
    [2.5758293035489004, 0.01],
    [3.2905267314919255, 0.001],
    [-1.6448536269514722, 0.1],
    [0, 1],
  ])('z = %d gives p = %d', (z, p) => {
    expectRelative(twoSidedPValue(z), p, 1e-12);
  });
});

describe('compareProportions', () => {
  it('10 % vs 15 % of 1,000 each: pooled z, p and the Wald interval by hand', () => {
    const result = compareProportions(
      { exposed: 1000, converted: 100 },
      { exposed: 1000, converted: 150 },
    );
    const pooled = 250 / 2000;
    const z = 0.05 / Math.sqrt(pooled * (1 - pooled) * (2 / 1000));
    const half = Z_95 * Math.sqrt((0.1 * 0.9 + 0.15 * 0.85) / 1000);
    expect(result.difference).toBeCloseTo(0.05, 15);
    expect(result.lift).toBeCloseTo(0.5, 14);
    expect(result.zScore).toBeCloseTo(z, 12);
    expect(result.zScore).toBeCloseTo(3.380617018914066, 12);
    expect(result.pValue).toBeCloseTo(0.000723, 6);
    expect(result.confidenceInterval!.lower).toBeCloseTo(0.05 - half, 14);
    expect(result.confidenceInterval!.upper).toBeCloseTo(0.05 + half, 14);
  });

  it('has no z or p when nobody (or everybody) converted, and no lift over a zero control', () => {
    const none = compareProportions({ exposed: 10, converted: 0 }, { exposed: 10, converted: 0 });
    expect(none).toMatchObject({ zScore: null, pValue: null, lift: null, difference: 0 });
    const all = compareProportions({ exposed: 10, converted: 10 }, { exposed: 5, converted: 5 });
    expect(all).toMatchObject({ zScore: null, pValue: null, lift: 0 });
  });
});
