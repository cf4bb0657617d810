import { describe, expect, it } from 'vitest';
import { type CampaignMinute, detect, type OpenAnomaly, type PageMinute, type RouteMinute } from './core.ts';

const T0 = Math.floor(Date.parse('2026-11-27T12:00:00Z') / 60_000);

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  requests?: (minute: number) => number;
  p95?: (minute: number) => number;
  errors?: (minute: number) => number;
}

/** A route's minutes T0 … T0 + minutes − 1: ~120 requests, p95 ~200 ms, a few errors, with noise. */
function route(route: string, minutes: number, shape: Shape = {}, seed = 1, service = 'shop'): RouteMinute[] {
  const next = random(seed);
  const rows: RouteMinute[] = [];
  for (let i = 0; i < minutes; i += 1) {
    const minute = T0 + i;
    const requests = Math.round(shape.requests?.(i) ?? 120 * (0.85 + 0.3 * next()));
    if (requests === 0) continue;
    rows.push({
      service,
      route,
      minute,
      requests,
      errors: Math.round(shape.errors?.(i) ?? (next() < 0.3 ? 1 : 0)),
      p95: shape.p95?.(i) ?? 200 * (0.85 + 0.3 * next()),
    });
  }
  return rows;
}

const run = (
  routes: RouteMinute[],
  from = 60,
  to = 179,
  extra: { pages?: PageMinute[]; campaigns?: CampaignMinute[] } = {},
) => detect({ routes, pages: extra.pages ?? [], campaigns: extra.campaigns ?? [] }, T0 + from, T0 + to);

describe('the traffic detector core', () => {
  it('stays quiet on steady traffic with noise and single slow minutes', () => {
    const spikes = new Set([75, 110, 140]);
    const routes = [
      ...route('/api/cart', 180, { p95: (i) => (spikes.has(i) ? 2_000 : 200 + 30 * Math.sin(i / 7)) }),
      ...route('/api/search', 180, {}, 2),
    ];
    expect(run(routes)).toEqual([]);
  });

  it('stays quiet on a surge that is served fine, however large', () => {
    const routes = route('/api/products/:id', 180, { requests: (i) => (i >= 100 && i < 140 ? 900 : 150) });
    expect(run(routes)).toEqual([]);
  });

  it('opens one anomaly for a sustained slowdown, from its first minute, and closes it on recovery', () => {
    const routes = [
      ...route('/api/checkout', 180, { p95: (i) => (i >= 100 && i < 130 ? 900 : 200) }),
      ...route('/api/cart', 180, {}, 3),
    ];
    const anomalies = run(routes);
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({
      target: { service: 'shop', route: '/api/checkout' },
      signal: 'latency_p95',
      start: T0 + 100,
      end: T0 + 130,
      observed: 900,
      expected: 200,
      severity: 'critical',
      campaign: null,
    });
    expect(anomalies[0]?.upper).toBeGreaterThan(200);
    expect(anomalies[0]?.upper).toBeLessThan(900);
  });

  it('says nothing about a route with too little traffic, however slow', () => {
    const routes = route('/api/admin', 180, { requests: () => 8, p95: (i) => (i >= 100 ? 5_000 : 100) });
    expect(run(routes)).toEqual([]);
  });

  it('lets a route seen for the first time build its band before it speaks', () => {
    const fresh = route('/api/new', 180, { p95: (i) => (i < 150 ? 200 : 800) }).filter(
      (r) => r.minute >= T0 + 140,
    );
    // 10 minutes of history at 150: too little for a band; nothing, not even a throughput drop before it existed.
    expect(run([...fresh, ...route('/api/cart', 180)])).toEqual([]);
  });

  it('keeps judging across gaps in a series', () => {
    const routes = route('/api/cart', 180, { p95: (i) => (i >= 150 ? 1_000 : 200) }).filter(
      (r) => (r.minute - T0) % 4 !== 0 || r.minute - T0 >= 140,
    );
    expect(run(routes)).toMatchObject([{ signal: 'latency_p95', start: T0 + 150, end: null }]);
  });

  it('finds a route going dark while its service stays busy, not the logs stopping altogether', () => {
    const dark = (i: number) => (i >= 120 && i < 140 ? 0 : 100);
    const routes = [...route('/api/payments', 180, { requests: dark }), ...route('/api/cart', 180, {}, 4)];
    expect(run(routes)).toMatchObject([
      { signal: 'throughput', start: T0 + 120, end: T0 + 140, observed: 0, severity: 'critical' },
    ]);
    const silent = [
      ...route('/api/payments', 180, { requests: dark }),
      ...route('/api/cart', 180, { requests: dark }, 4),
    ];
    expect(run(silent)).toEqual([]);
  });

  it('finds an error surge and names the campaign whose clicks rose with it', () => {
    const routes = route('/api/orders', 180, { errors: (i) => (i >= 110 && i < 125 ? 30 : 0) });
    const campaigns: CampaignMinute[] = [];
    for (let i = 0; i < 180; i += 1)
      campaigns.push({ campaign: 'bf-2026', minute: T0 + i, clicks: i >= 106 ? 400 : 3 });
    for (let i = 0; i < 180; i += 1) campaigns.push({ campaign: 'quiet', minute: T0 + i, clicks: 4 });
    expect(run(routes, 60, 179, { campaigns })).toMatchObject([
      { signal: 'error_ratio', start: T0 + 110, end: T0 + 125, campaign: 'bf-2026' },
    ]);
  });

  it('finds a page whose LCP doubles', () => {
    const next = random(9);
    const pages: PageMinute[] = Array.from({ length: 180 }, (_, i) => ({
      app: 'storefront-web',
      page: '/p/:id',
      minute: T0 + i,
      lcp: (i >= 120 ? 4_400 : 2_200) * (0.9 + 0.2 * next()),
      inp: 120 * (0.9 + 0.2 * next()),
      cls: 0.05,
    }));
    expect(run([], 60, 179, { pages })).toMatchObject([
      { target: { app: 'storefront-web', page: '/p/:id' }, signal: 'lcp_p75', start: T0 + 120, end: null },
    ]);
  });

  it('gives the same anomalies in one run as in minute-by-minute runs that carry the open ones over', () => {
    const routes = route('/api/checkout', 180, { p95: (i) => (i >= 100 && i < 130 ? 900 : 200) });
    const whole = run(routes);
    let open: OpenAnomaly[] = [];
    const seen = new Map<number, OpenAnomaly>();
    for (let minute = 60; minute < 180; minute += 1) {
      // As the live job does: re-judge the last seven minutes, starting from what was open before them.
      const from = Math.max(60, minute - 6);
      const result = detect(
        { routes, pages: [], campaigns: [] },
        T0 + from,
        T0 + minute,
        open.filter((a) => a.start < T0 + from),
      );
      for (const a of result) seen.set(a.start, a);
      // Open before the next run's first minute: started before it, not ended by it.
      open = [...seen.values()].filter((a) => a.end === null || a.end > T0 + minute - 5);
    }
    expect([...seen.values()].map(({ healthy: _, ...a }) => a)).toEqual(
      whole.map(({ healthy: _, ...a }) => a),
    );
  });
});
