import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backlogRetryAfterSeconds } from './admission.ts';

describe('the Retry-After of a full event backlog', () => {
  it('says about as long as the last apply transaction took, spread by a quarter either way', () => {
    expect(backlogRetryAfterSeconds(8, 1, 0)).toBe(6);
    expect(backlogRetryAfterSeconds(8, 1, 0.5)).toBe(8);
    expect(backlogRetryAfterSeconds(8, 1, 0.999)).toBe(10);
  });

  it('never says less than the floor, and never more than 30 s', () => {
    expect(backlogRetryAfterSeconds(0, 1, 0.3)).toBe(1);
    expect(backlogRetryAfterSeconds(0.2, 2, 0.9)).toBe(2);
    expect(backlogRetryAfterSeconds(600, 1, 0)).toBe(30);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (last, floor, random) => {
          const seconds = backlogRetryAfterSeconds(last, floor, random);
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(floor);
          expect(seconds).toBeLessThanOrEqual(30);
          expect(seconds).toBeGreaterThanOrEqual(Math.min(30, Math.ceil(last * 0.75)));
        },
      ),
    );
  });
});
