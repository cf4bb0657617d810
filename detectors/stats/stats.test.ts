import { describe, expect, it } from 'vitest';
import { binomialLowerTail, binomialTail, quantile, robust } from './index.ts';

/** P(X = k) for X ~ Binomial(n, p), by direct products: slow, but plainly right. */
function binomialTerm(k: number, n: number, p: number): number {
  let term = 1;
  for (let i = 0; i < k; i += 1) term *= ((n - i) / (k - i)) * p;
  return term * (1 - p) ** (n - k);
}

describe('the chance test', () => {
  it('gives the binomial upper tail', () => {
    expect(binomialTail(0, 10, 0.3)).toBe(1);
    expect(binomialTail(11, 10, 0.3)).toBe(0);
    expect(binomialTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialTail(2, 8, 0.05)).toBeCloseTo(1 - 0.95 ** 8 - 8 * 0.05 * 0.95 ** 7, 12);
    expect(binomialTail(120, 100_000, 0.001)).toBeGreaterThan(0.01);
    expect(binomialTail(300, 100_000, 0.001)).toBeLessThan(1e-40);
    expect(binomialLowerTail(10, 10, 0.3)).toBe(1);
    expect(binomialLowerTail(-1, 10, 0.3)).toBe(0);
    expect(binomialLowerTail(0, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialLowerTail(3, 1235, 0.011)).toBeCloseTo(
      [0, 1, 2, 3].reduce((sum, k) => sum + binomialTerm(k, 1235, 0.011), 0),
      12,
    );
    for (const k of [0, 5, 17, 40]) {
      expect(binomialLowerTail(k, 60, 0.3) + binomialTail(k + 1, 60, 0.3)).toBeCloseTo(1, 12);
    }
  });
});

describe('robust statistics', () => {
  it('give the median and the MAD scale, unmoved by a few extremes', () => {
    expect(robust([1, 2, 3, 4, 100])).toEqual({ median: 3, scale: 1.4826 });
    expect(robust([])).toEqual({ median: 0, scale: 0 });
    expect(quantile([10, 20, 30], 0.25)).toBe(15);
  });
});
