import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentRoutes, subjectConsentRoutes } from '../consent/index.ts';
import { affiliateRoutes } from '../ingest/events/index.ts';
import { faroRoutes } from '../ingest/faro/index.ts';
import { logRoutes } from '../ingest/logs/index.ts';
import { privacyRequestRoutes, retentionRoutes } from '../retention/index.ts';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { cachedMetrics } from './routes/health.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx.close();
});

async function count(labels: string): Promise<number> {
  const text = await (await ctx.app.request('/metrics')).text();
  const match = new RegExp(`http_request_duration_seconds_count\\{${labels}\\} (\\d+)`).exec(text);
  return match ? Number(match[1]) : 0;
}

describe('GET /metrics', () => {
  it('is the Prometheus text format from the registry passed in', async () => {
    const res = await ctx.app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('labels requests by route template, never the raw path', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      await ctx.app.request(`/v1/keys/${name}/revoke`, { method: 'POST', headers: ctx.auth('admin') });
    }
    expect(await count('method="POST",route="/v1/keys/:name/revoke",status="404"')).toBe(3);
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).not.toMatch(/alice|bob|carol/);
  });

  it('counts rejected, unmatched and odd-method requests under bounded labels', async () => {
    await ctx.app.request('/v1/audit');
    await ctx.app.request('/nothing/here/123');
    await ctx.app.request('/healthz', { method: 'PROPFIND' });
    expect(await count('method="GET",route="/v1/audit",status="401"')).toBe(1);
    expect(await count('method="GET",route="unmatched",status="404"')).toBe(1);
    expect(await count('method="OTHER",route="unmatched",status="405"')).toBe(1);
  });

  it('keeps each app on its own registry', async () => {
    const other = await createTestContext();
    try {
      await other.app.request('/healthz');
      await other.app.request('/healthz');
      const text = await (await other.app.request('/metrics')).text();
      expect(text).toMatch(/route="\/healthz",status="200"\} 2/);
      expect(text).not.toContain('/v1/keys/:name/revoke');
    } finally {
      await other.close();
    }
  });
});

describe('cachedMetrics', () => {
  /** A registry whose render is counted, and held until `release` is called when `hold` is set. */
  function countingRegistry() {
    const registry = new Registry();
    const state = { renders: 0, hold: false, release: () => {} };
    new Gauge({
      name: 'test_renders',
      help: 'renders so far',
      registers: [registry],
      async collect() {
        state.renders += 1;
        this.set(state.renders);
        if (state.hold) await new Promise<void>((resolve) => (state.release = resolve));
      },
    });
    return { registry, state };
  }

  it('renders once per max age, counted on its own clock, and every scrape within it gets that text', async () => {
    const { registry, state } = countingRegistry();
    let now = 0;
    const metrics = cachedMetrics(registry, 1000, () => now);
    const first = await metrics();
    now = 999;
    expect(await metrics()).toBe(first);
    expect(state.renders).toBe(1);
    now = 1000;
    expect(await metrics()).toContain('test_renders 2');
    expect(state.renders).toBe(2);
  });

  it('runs one render at a time: scrapes during a slow render share it', async () => {
    const { registry, state } = countingRegistry();
    let now = 0;
    const metrics = cachedMetrics(registry, 1000, () => now);
    state.hold = true;
    const scrapes = Array.from({ length: 8 }, () => metrics());
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = 5000;
    state.hold = false;
    state.release();
    const texts = await Promise.all(scrapes);
    expect(new Set(texts).size).toBe(1);
    expect(state.renders).toBe(1);
  });

  it('with a max age of 0, renders for every scrape', async () => {
    const { registry, state } = countingRegistry();
    const metrics = cachedMetrics(registry, 0, () => 0);
    await metrics();
    await metrics();
    expect(state.renders).toBe(2);
  });
});

describe('routers and their metrics', () => {
  it('builds every area router twice from one set of dependencies: the metrics are made once, with them', () => {
    for (let i = 0; i < 2; i += 1) {
      expect(() => affiliateRoutes(ctx.deps)).not.toThrow();
      expect(() => logRoutes(ctx.deps)).not.toThrow();
      expect(() => faroRoutes(ctx.deps)).not.toThrow();
      expect(() => consentRoutes(ctx.deps)).not.toThrow();
      expect(() => subjectConsentRoutes(ctx.deps)).not.toThrow();
      expect(() => privacyRequestRoutes(ctx.deps)).not.toThrow();
      expect(() => retentionRoutes(ctx.deps)).not.toThrow();
    }
  });
});
