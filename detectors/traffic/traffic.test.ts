// The traffic detector through the HTTP API: logs in, a backtest over a window, anomalies out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';

let ctx: TestContext;
const T0 = Date.parse('2026-11-27T12:00:00Z');
const MINUTE = 60_000;

// biome-ignore lint/suspicious/noExplicitAny: responses are read loosely here
type Json = Record<string, any>;

/** Log entries of one minute: `n` requests of a route taking about `p95` ms at the 95th percentile. */
function minuteOfLogs(minute: number, route: string, n: number, p95: number, errors = 0) {
  return Array.from({ length: n }, (_, i) => ({
    ts: new Date(T0 + minute * MINUTE + i * Math.floor(MINUTE / n)).toISOString(),
    level: i < errors ? 'error' : 'info',
    service: 'shop',
    message: `GET ${route}`,
    route,
    method: 'GET',
    status: i < errors ? 503 : 200,
    durationMs: i % 10 === 0 ? p95 : Math.round(p95 / 3 + (i % 7)),
  }));
}

async function sendLogs(entries: unknown[]) {
  for (let i = 0; i < entries.length; i += 1000) {
    const res = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: JSON.stringify(entries.slice(i, i + 1000)),
    });
    expect(res.status).toBe(202);
  }
}

const run = (body?: unknown) =>
  ctx.app.request('/v1/detectors/traffic/run', {
    method: 'POST',
    ...(body === undefined
      ? { headers: ctx.auth('admin') }
      : { headers: jsonHeaders(ctx, 'admin'), body: JSON.stringify(body) }),
  });

const list = async (query = '', role: 'sre' | 'admin' = 'sre') => {
  const res = await ctx.app.request(`/v1/anomalies${query}`, { headers: ctx.auth(role) });
  return { status: res.status, body: (await res.json()) as Json, type: res.headers.get('content-type') };
};

beforeAll(async () => {
  ctx = await createTestContext({ now: () => new Date(T0 + 150 * MINUTE) });
  const entries = [];
  for (let m = 0; m < 120; m += 1) {
    // Checkout slows down for 20 minutes from minute 80; cart takes 5 times its traffic at minute 90, served fine.
    entries.push(...minuteOfLogs(m, '/api/checkout', 40, m >= 80 && m < 100 ? 1_500 : 300));
    entries.push(...minuteOfLogs(m, '/api/cart', m >= 90 && m < 110 ? 150 : 30, 120));
  }
  await sendLogs(entries);
  // A campaign's clicks: a few a minute, then a wave from minute 78, just before checkout slows down.
  const clicks = [];
  for (let m = 0; m < 120; m += 1) {
    for (let i = 0; i < (m >= 78 && m < 100 ? 60 : 2); i += 1) {
      clicks.push({
        id: `k-${m}-${i}`,
        type: 'click',
        ts: new Date(T0 + m * MINUTE + i * 500).toISOString(),
        affiliateId: 'aff-1',
        campaignId: 'bf-2026',
        clickId: `k-${m}-${i}`,
        ip: `84.1.${m}.${i}`,
        userAgent: 'Mozilla/5.0 (iPhone)',
      });
    }
  }
  const res = await ctx.app.request('/v1/events', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify({ events: clicks.slice(0, 1000) }),
  });
  expect(res.status).toBe(202);
  const rest = await ctx.app.request('/v1/events', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify({ events: clicks.slice(1000) }),
  });
  expect(rest.status).toBe(202);
}, 60_000);
afterAll(() => ctx.close());

describe('POST /v1/detectors/traffic/run and GET /v1/anomalies', () => {
  it('backtests a window over stored logs and finds the slow route, not the busy one, with the campaign behind it', async () => {
    const res = await run({
      from: new Date(T0 + 60 * MINUTE).toISOString(),
      to: new Date(T0 + 119 * MINUTE).toISOString(),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ minutes: 60, anomalies: 1 });
    const { body } = await list('?detector=traffic');
    expect(body.nextCursor).toBeNull();
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      detector: 'traffic',
      target: { service: 'shop', route: '/api/checkout' },
      signal: 'latency_p95',
      start: '2026-11-27T13:20:00.000Z',
      end: '2026-11-27T13:40:00.000Z',
      severity: 'critical',
      campaign: 'bf-2026',
    });
    // Latency is kept as a histogram with 15 % buckets: values come back within 7 % of what was logged.
    expect(body.items[0].observed / 1500).toBeCloseTo(1, 1);
    expect(body.items[0].expected / 300).toBeCloseTo(1, 1);
    expect(body.items[0].upper).toBeGreaterThan(body.items[0].expected);
    expect(await ctx.registry.metrics()).toContain(
      'vigil_traffic_anomalies_started_total{signal="latency_p95",severity="critical"} 1',
    );
  });

  it('creates no duplicate when a window is run again, or an overlapping one', async () => {
    expect((await run({ from: '2026-11-27T13:00:00Z', to: '2026-11-27T13:59:00Z' })).status).toBe(200);
    expect((await run({ from: '2026-11-27T13:25:00Z', to: '2026-11-27T13:45:00Z' })).status).toBe(200);
    const { body } = await list();
    expect(body.items).toHaveLength(1);
    expect(body.items[0].end).toBe('2026-11-27T13:40:00.000Z');
    // Judged again, the anomaly is not started again.
    expect(await ctx.registry.metrics()).toContain(
      'vigil_traffic_anomalies_started_total{signal="latency_p95",severity="critical"} 1',
    );
  });

  it('counts logs that arrive late for minutes already judged', async () => {
    // An error burst on cart, sent after its minutes were judged (a clock-skewed or buffered sender).
    const late = [];
    for (let m = 100; m < 110; m += 1) late.push(...minuteOfLogs(m, '/api/cart', 30, 120, 12));
    await sendLogs(late);
    expect((await run({ from: '2026-11-27T13:00:00Z', to: '2026-11-27T13:59:00Z' })).status).toBe(200);
    const { body } = await list();
    expect(body.items.map((a: Json) => `${a.target.route} ${a.signal} ${a.severity}`).sort()).toEqual([
      '/api/cart error_ratio warning',
      '/api/checkout latency_p95 critical',
    ]);
    expect((await list('?severity=critical')).body.items).toHaveLength(1);
  });

  it('pages with a cursor, newest first, and filters by time', async () => {
    const first = await list('?limit=1');
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0].target.route).toBe('/api/cart');
    const second = await list(`?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].target.route).toBe('/api/checkout');
    expect(second.body.nextCursor).toBeNull();
    expect((await list('?since=2026-11-27T13:45:00Z')).body.items.map((a: Json) => a.target.route)).toEqual([
      '/api/cart',
    ]);
    expect((await list('?until=2026-11-27T13:30:00Z')).body.items.map((a: Json) => a.target.route)).toEqual([
      '/api/checkout',
    ]);
  });

  it('judges the last complete minute without a body, and exports open anomalies as gauges', async () => {
    const res = await run();
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ minutes: 7 });
    expect(await ctx.registry.metrics()).not.toMatch(/^vigil_traffic_anomalies_open\{/m);
    // Judged up to a minute inside the slowdown, the checkout anomaly is open again.
    expect((await run({ from: '2026-11-27T13:00:00Z', to: '2026-11-27T13:30:00Z' })).status).toBe(200);
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_traffic_anomalies_open{signal="latency_p95",severity="critical"} 1');
    expect(metrics).toMatch(
      /vigil_traffic_anomaly_score\{target="shop \/api\/checkout",signal="latency_p95"\} [\d.]+/,
    );
  });

  it('answers bad queries and bodies with a problem', async () => {
    for (const query of [
      '?since=yesterday',
      '?severity=high',
      '?limit=0',
      '?limit=501',
      '?cursor=abc',
      '?detector=fraud',
    ]) {
      const res = await list(query);
      expect(res.status, query).toBe(422);
      expect(res.type).toBe('application/problem+json');
    }
    for (const body of [
      { from: '2026-11-27T13:00:00Z', to: '2026-11-27T12:00:00Z' },
      { from: '2026-11-01T00:00:00Z', to: '2026-11-27T00:00:00Z' },
      { from: 'now' },
    ]) {
      const res = await run(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
  });

  it('admits sre and admin to the list, and only admin to a run', async () => {
    expect((await list('', 'admin')).status).toBe(200);
    for (const role of ['ingest', 'dpo', 'analyst'] as const) {
      const res = await ctx.app.request('/v1/anomalies', { headers: ctx.auth(role) });
      expect(res.status).toBe(403);
    }
    const asSre = await ctx.app.request('/v1/detectors/traffic/run', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'sre'),
    });
    expect(asSre.status).toBe(403);
  });
});

describe('clicks per campaign', () => {
  it('are exported for the last aggregated minute, busiest campaigns by name', async () => {
    const now = T0 + 2 * MINUTE + 5_000;
    const own = await createTestContext({ now: () => new Date(now) });
    try {
      const events = ['spring', 'spring', 'spring', 'autumn'].map((campaignId, i) => ({
        id: `c-${i}`,
        type: 'click',
        ts: new Date(T0 + MINUTE + i * 1000).toISOString(),
        affiliateId: 'aff-1',
        campaignId,
        clickId: `c-${i}`,
        ip: `84.1.2.${i}`,
        userAgent: 'Mozilla/5.0 (iPhone)',
      }));
      const res = await own.app.request('/v1/events', {
        method: 'POST',
        headers: jsonHeaders(own, 'ingest'),
        body: JSON.stringify({ events }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      expect(await own.registry.metrics()).not.toMatch(/^vigil_campaign_clicks_per_minute\{/m);
      const judged = await own.app.request('/v1/detectors/traffic/run', {
        method: 'POST',
        headers: own.auth('admin'),
      });
      expect(judged.status).toBe(200);
      const metrics = await own.registry.metrics();
      expect(metrics).toContain('vigil_campaign_clicks_per_minute{campaign="spring"} 3');
      expect(metrics).toContain('vigil_campaign_clicks_per_minute{campaign="autumn"} 1');
    } finally {
      await own.close();
    }
  });
});
