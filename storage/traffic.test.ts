import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketQuantile, latencyBucket } from './traffic.table.ts';

describe('latency buckets', () => {
  it('give quantiles within 8 % of the exact ones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 200_000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (values) => {
          const buckets = new Map<number, number>();
          for (const v of values) buckets.set(latencyBucket(v), (buckets.get(latencyBucket(v)) ?? 0) + 1);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of [0.5, 0.95]) {
            const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
            const approx = bucketQuantile(buckets, q);
            expect(Math.abs(approx / exact - 1)).toBeLessThan(0.08);
          }
        },
      ),
    );
  });

  it('put zero, sub-millisecond and absurd latencies in the end buckets', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.4)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(1e12)).toBe(100);
    expect(bucketQuantile(new Map(), 0.95)).toBe(0);
  });
});
