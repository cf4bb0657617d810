import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIES_BUDGETS } from '../http/bounded-metrics.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import { createFaroApp } from './faro/apps.ts';

const ORIGIN = 'https://shop.example.test';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** The n-th plain-word route: `/alpha-bravo/charlie`, literal under templating, distinct for each n < 1000. */
const wordRoute = (n: number) =>
  `/${WORDS[n % 10]}-${WORDS[Math.floor(n / 10) % 10]}/${WORDS[Math.floor(n / 100) % 10]}`;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext({
    ingest: { faroAnonymous: 'exempt', faroBurst: 100_000, faroRatePerSecond: 100_000, pageRouteCap: 10_000 },
  });
});
afterAll(async () => {
  await ctx.close();
});

/** Series lines of a family (`name{…} value` and `name_bucket{…}` etc.) in a metrics text. */
function seriesLines(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name}_`));
}

/** Distinct label sets of a family in a metrics text (a histogram's buckets of one series count once). */
function seriesCount(text: string, name: string): number {
  const sets = new Set<string>();
  for (const line of seriesLines(text, name)) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name}_count{`)) continue;
    sets.add(line.slice(line.indexOf('{'), line.lastIndexOf('}') + 1));
  }
  return sets.size;
}

describe('/metrics under an input made to blow up its series', () => {
  it('stays below 10,000 lines, each family within its budget, and says what it folded', async () => {
    // Server logs: 60 services × 1,000 literal routes × 8 methods × 5 status classes, 20,000 of them drawn.
    let n = 0;
    for (let batch = 0; batch < 20; batch += 1) {
      const entries = Array.from({ length: 1000 }, () => {
        n += 1;
        return {
          ts: '2026-11-28T10:00:00Z',
          level: 'info',
          service: `svc-${WORDS[n % 10]}-${WORDS[Math.floor(n / 7) % 10]}-${n % 6}`,
          message: 'request',
          route: wordRoute((n * 7919) % 1000),
          // The eighth kind: no method, counted as OTHER.
          method: n % 8 === 7 ? undefined : METHODS[n % 8],
          status: 100 * (1 + (n % 5)) + (n % 3),
          durationMs: n % 100,
        };
      });
      const res = await ctx.app.request('/v1/logs', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'ingest'),
        body: JSON.stringify(entries),
      });
      expect(res.status, await res.clone().text()).toBe(202);
    }
    // Browser telemetry: three apps, 300 pages each, with the five web vitals and an exception.
    for (const name of ['shop', 'blog', 'help']) {
      const actor = { name: 't', role: 'operator' };
      const key = (await createFaroApp(ctx.storage.db, { name, origins: [ORIGIN] }, actor, new Date())).key;
      for (let page = 0; page < 300; page += 1) {
        const res = await ctx.app.request(`/collect/${key}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          body: JSON.stringify({
            meta: {
              page: { url: `https://shop.example.test${wordRoute(page)}` },
              session: { id: `s${page}` },
            },
            measurements: [
              {
                type: 'web-vitals',
                values: { lcp: 2000, fcp: 900, inp: 120, ttfb: 300, cls: 0.05 },
                timestamp: '2026-11-28T12:00:00Z',
              },
            ],
            exceptions: [{ type: 'Error', value: 'boom', timestamp: '2026-11-28T12:00:00Z' }],
          }),
        });
        expect(res.status).toBe(202);
      }
    }
    // HTTP: requests to many raw paths of one route, and to paths that match none.
    for (let i = 0; i < 300; i += 1) {
      await ctx.app.request(`/v1/keys/${wordRoute(i).slice(1).replace('/', '-')}/revoke`, {
        method: 'POST',
        headers: ctx.auth('admin'),
      });
      await ctx.app.request(`/nothing${wordRoute(i)}`, { method: METHODS[i % 8] });
    }

    const text = await (await ctx.app.request('/metrics')).text();
    expect(text.split('\n').length).toBeLessThan(10_000);
    expect(seriesCount(text, 'vigil_service_requests_total')).toBeLessThanOrEqual(
      SERIES_BUDGETS.serviceRequests,
    );
    expect(seriesCount(text, 'vigil_service_request_duration_seconds')).toBeLessThanOrEqual(
      SERIES_BUDGETS.serviceDurations,
    );
    expect(seriesCount(text, 'http_request_duration_seconds')).toBeLessThanOrEqual(SERIES_BUDGETS.http);
    for (const vital of ['lcp_seconds', 'fcp_seconds', 'inp_seconds', 'ttfb_seconds', 'cls']) {
      expect(seriesCount(text, `vigil_web_vitals_${vital}`)).toBeLessThanOrEqual(SERIES_BUDGETS.webVitals);
    }
    // The budgets were reached, and the overflow is visible rather than silent.
    expect(seriesCount(text, 'vigil_service_requests_total')).toBeGreaterThan(
      SERIES_BUDGETS.serviceRequests / 2,
    );
    expect(text).toMatch(/vigil_metric_series_folded_total\{metric="vigil_service_requests_total"\} [1-9]/);
    expect(text).toMatch(/vigil_metric_series_folded_total\{metric="vigil_web_vitals_lcp_seconds"\} [1-9]/);
    expect(text).toContain('vigil_service_requests_total{service="other",route="other"');
    // Nothing counted is lost to the fold: the requests add up to the entries sent.
    const total = seriesLines(text, 'vigil_service_requests_total')
      .filter((line) => line.startsWith('vigil_service_requests_total{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(20_000);
  });
});
