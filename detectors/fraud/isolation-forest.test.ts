import { describe, expect, it } from 'vitest';
import { loadOdds, oddsReference } from '../../eval/odds.ts';
import { hasReferenceData } from '../../eval/reference-data.ts';
import { rocAuc } from './evaluation.ts';
import {
  averagePathLength,
  FeatureError,
  IsolationForest,
  type Matrix,
  toMatrix,
} from './isolation-forest.ts';

/** A seeded standard normal sample (Box–Muller over a linear congruential generator). */
function gaussian(rows: number, cols: number, seed: number, mean = 0): Matrix {
  let state = seed;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i += 1) {
    data[i] = mean + Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  return { rows, cols, data };
}

describe('the isolation forest', () => {
  it('computes c(n) as the paper defines it', () => {
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(256)).toBeCloseTo(10.2448, 3);
  });

  it('gives the same forest for the same seed, and another for another seed', () => {
    const x = gaussian(2000, 4, 1);
    const a = IsolationForest.fit(x, { seed: 7 });
    const b = IsolationForest.fit(x, { seed: 7 });
    const c = IsolationForest.fit(x, { seed: 8 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(Array.from(a.scoreAll(x))).toEqual(Array.from(b.scoreAll(x)));
    expect(JSON.stringify(a.toJSON())).not.toBe(JSON.stringify(c.toJSON()));
  });

  it('scores an outlier near 1 and a typical point well under 0.5', () => {
    const forest = IsolationForest.fit(gaussian(5000, 3, 2), { seed: 1 });
    expect(forest.score([0, 0, 0])).toBeLessThan(0.45);
    expect(forest.score([6, -6, 6])).toBeGreaterThan(0.7);
  });

  it('scores the same point alike whether trained on 256 or 100,000 rows of one distribution', () => {
    const small = IsolationForest.fit(gaussian(256, 2, 3), { seed: 1 });
    const large = IsolationForest.fit(gaussian(100_000, 2, 4), { seed: 1 });
    for (const point of [
      [0, 0],
      [0.5, -0.5],
      [3.5, 3.5],
    ]) {
      expect(Math.abs(small.score(point) - large.score(point)), String(point)).toBeLessThan(0.05);
    }
  });

  it('is replaced whole by a refit: a model of new data knows nothing of the old', () => {
    const before = IsolationForest.fit(gaussian(3000, 2, 5, 0), { seed: 1 });
    const after = IsolationForest.fit(gaussian(3000, 2, 6, 10), { seed: 1 });
    expect(before.score([10, 10])).toBeGreaterThan(0.7);
    expect(after.score([10, 10])).toBeLessThan(0.45);
    expect(after.score([0, 0])).toBeGreaterThan(0.7);
  });

  it('serialises parameters only: no training value, and a size that does not grow with the data', () => {
    const x = gaussian(20_000, 2, 9, 1000);
    const forest = IsolationForest.fit(x, { seed: 3 });
    const json = forest.toJSON();
    const thresholds = new Float64Array(new Uint8Array(Buffer.from(json.threshold, 'base64')).buffer);
    const training = new Set(x.data);
    expect(Array.from(thresholds).some((t) => t !== 0 && training.has(t))).toBe(false);
    const text = JSON.stringify(json);
    expect(text.length).toBeLessThan(100 * (2 * 256 - 1) * 40);
    const small = JSON.stringify(IsolationForest.fit(gaussian(300, 2, 9, 1000), { seed: 3 }).toJSON());
    expect(Math.abs(text.length - small.length) / small.length).toBeLessThan(0.5);
    const restored = IsolationForest.fromJSON(JSON.parse(text));
    expect(Array.from(restored.scoreAll(x).slice(0, 500))).toEqual(
      Array.from(forest.scoreAll(x).slice(0, 500)),
    );
  });

  it('refuses NaN, infinite and missing features, naming the feature', () => {
    const names = ['clicks', 'conversionRate'];
    expect(() =>
      IsolationForest.fit(
        toMatrix([
          [1, 2],
          [3, Number.NaN],
          [4, 5],
        ]),
        { featureNames: names },
      ),
    ).toThrow(/conversionRate \(feature 1\) of row 1 is NaN/);
    const forest = IsolationForest.fit(gaussian(500, 2, 1), { featureNames: names });
    expect(() => forest.score([1, Number.POSITIVE_INFINITY])).toThrow(FeatureError);
    expect(() => forest.score([1])).toThrow(/expected 2/);
    expect(() => forest.score([Number.NaN, 0])).toThrow(/clicks/);
    expect(() => IsolationForest.fromJSON({ ...forest.toJSON(), kind: 'other' } as never)).toThrow();
  });

  it('explains which feature isolates a point', () => {
    const forest = IsolationForest.fit(gaussian(4000, 4, 11), {
      seed: 2,
      featureNames: ['a', 'b', 'c', 'd'],
    });
    const shares = forest.explain([0, 0, 7, 0]);
    expect(Object.values(shares).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    expect(Object.entries(shares).sort((p, q) => q[1] - p[1])[0]?.[0]).toBe('c');
    expect(shares.c).toBeGreaterThan(0.4);
  });

  // Needs the ODDS sets of the reference data (eval/reference-data.ts); a clone without them skips it.
  it.skipIf(!hasReferenceData('odds/reference.json'))(
    'matches scikit-learn on every ODDS set: mean ROC AUC over seeds 0–4 within 0.02',
    () => {
      for (const set of oddsReference()) {
        const { x, labels } = loadOdds(set);
        let sum = 0;
        for (let seed = 0; seed < 5; seed += 1)
          sum += rocAuc(IsolationForest.fit(x, { seed }).scoreAll(x), labels);
        expect(Math.abs(sum / 5 - set.sklearnAuc), set.name).toBeLessThanOrEqual(0.02);
      }
    },
    60_000,
  );
});

describe('rocAuc', () => {
  it('handles ties as half', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
  });
});
