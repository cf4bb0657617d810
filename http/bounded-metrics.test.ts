import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BoundedCounter, BoundedHistogram, OTHER, SeriesBudget } from './bounded-metrics.ts';

const METHODS = ['GET', 'POST'];

/** Series lines of one family in the registry's text, `name{labels} value`. */
async function seriesOf(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`));
}

function counter(maxSeries: number, now: () => number = () => 0, idleMs?: number) {
  const registry = new Registry();
  const metric = new BoundedCounter({
    name: 'test_requests_total',
    help: 'test',
    registry,
    series: new SeriesBudget({
      labels: { route: 'free', method: METHODS },
      maxSeries,
      now,
      idleMs,
    }),
  });
  return { registry, metric };
}

describe('SeriesBudget and the bounded families', () => {
  it('admits combinations up to the budget, then folds free labels into other and counts the fold', async () => {
    const { registry, metric } = counter(5);
    // Overflow series are GET, POST, other: 3 slots reserved, 2 left for regular series.
    for (const route of ['/a', '/b', '/c', '/d']) metric.inc({ route, method: 'GET' });
    metric.inc({ route: '/a', method: 'GET' });
    metric.inc({ route: '/e', method: 'PROPFIND' });
    const lines = await seriesOf(registry, 'test_requests_total');
    expect(lines).toEqual(
      expect.arrayContaining([
        'test_requests_total{route="/a",method="GET"} 2',
        'test_requests_total{route="/b",method="GET"} 1',
        'test_requests_total{route="other",method="GET"} 2',
        'test_requests_total{route="other",method="other"} 1',
      ]),
    );
    expect(lines).toHaveLength(4);
    const text = await registry.metrics();
    expect(text).toContain('vigil_metric_series_folded_total{metric="test_requests_total"} 3');
  });

  it('holds at most maxSeries series whatever the input (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: 40 }),
        fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('GET', 'POST', 'PUT', 'x')), {
          maxLength: 300,
        }),
        async (maxSeries, updates) => {
          const { registry, metric } = counter(maxSeries);
          for (const [route, method] of updates) metric.inc({ route, method });
          const lines = await seriesOf(registry, 'test_requests_total');
          expect(lines.length).toBeLessThanOrEqual(maxSeries);
          // Nothing recorded is lost: the values add up to the number of updates.
          const total = lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
          expect(total).toBe(updates.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('expires idle series and frees their slots for new ones', async () => {
    let now = 0;
    const { registry, metric } = counter(5, () => now, 1000);
    metric.inc({ route: '/a', method: 'GET' });
    metric.inc({ route: '/b', method: 'GET' });
    now = 600;
    metric.inc({ route: '/b', method: 'GET' });
    now = 1200;
    // /a is idle for 1200 ms and goes; /b was touched 600 ms ago and stays; /c takes /a's slot.
    metric.inc({ route: '/c', method: 'POST' });
    const lines = await seriesOf(registry, 'test_requests_total');
    expect(lines.sort()).toEqual([
      'test_requests_total{route="/b",method="GET"} 2',
      'test_requests_total{route="/c",method="POST"} 1',
    ]);
  });

  it('sweeps on collect too, so an idle family empties without new updates', async () => {
    let now = 0;
    const { registry, metric } = counter(5, () => now, 1000);
    metric.inc({ route: '/a', method: 'GET' });
    now = 5000;
    expect(await seriesOf(registry, 'test_requests_total')).toEqual([]);
  });

  it('shares one budget between families: a pair is admitted or folded alike in each', async () => {
    const registry = new Registry();
    const series = new SeriesBudget({ labels: { page: 'free' }, maxSeries: 3, now: () => 0 });
    const lcp = new BoundedHistogram({ name: 'test_lcp', help: 't', registry, series, buckets: [1] });
    const fcp = new BoundedHistogram({ name: 'test_fcp', help: 't', registry, series, buckets: [1] });
    for (const page of ['/a', '/b', '/c', '/d']) {
      lcp.observe({ page }, 0.5);
      fcp.observe({ page }, 0.5);
    }
    for (const name of ['test_lcp_count', 'test_fcp_count']) {
      expect((await seriesOf(registry, name)).sort()).toEqual([
        `${name}{page="/a"} 1`,
        `${name}{page="/b"} 1`,
        `${name}{page="${OTHER}"} 2`,
      ]);
    }
  });

  it('refuses a budget that the overflow series alone would fill', () => {
    expect(() => new SeriesBudget({ labels: { route: 'free', method: METHODS }, maxSeries: 3 })).toThrow(
      /leaves no room/,
    );
  });

  it('keeps label values that look alike apart (length-prefixed keys)', async () => {
    const registry = new Registry();
    const metric = new BoundedCounter({
      name: 'test_pairs_total',
      help: 't',
      registry,
      series: new SeriesBudget({ labels: { a: 'free', b: 'free' }, maxSeries: 10, now: () => 0 }),
    });
    metric.inc({ a: '1:2', b: '3' });
    metric.inc({ a: '1', b: '2:3' });
    expect(await seriesOf(registry, 'test_pairs_total')).toHaveLength(2);
  });
});
