import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { BoundedHistogram, SERIES_BUDGETS, SeriesBudget, type SeriesExpiry } from './bounded-metrics.ts';

/** A fresh registry; with `processMetrics` it also carries prom-client's process and Node.js metrics. */
export function createRegistry(options: { processMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const METHOD_LABELS = [...KNOWN_METHODS, 'OTHER'];

/** The route template that answered, never the raw path; `unmatched` when no route did. */
export function routeTemplate(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i -= 1) {
    const route = routes[i];
    if (route && route.method !== 'ALL') return route.path;
  }
  return 'unmatched';
}

/**
 * Records `http_request_duration_seconds{method,route,status}` for every request. Routes are templates and
 * statuses whatever the app answers; the family holds at most `SERIES_BUDGETS.http` series (then `other`).
 */
export function httpMetrics(registry: Registry, expiry: SeriesExpiry = {}) {
  const duration = new BoundedHistogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route template and status.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
    series: new SeriesBudget({
      labels: { method: METHOD_LABELS, route: 'free', status: 'free' },
      maxSeries: SERIES_BUDGETS.http,
      ...expiry,
    }),
  });
  return createMiddleware(async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ method, route: routeTemplate(c), status: String(c.res.status) }, seconds);
    }
  });
}

/**
 * One read shared by the gauges of a scrape: prom-client collects every metric at once, so gauges that need the
 * same query call this instead of querying each. A read is reused for up to a second, and never across a move
 * of `clock` to another second (a test that moves its clock sees the move at the next scrape).
 */
export function perScrape<T>(clock: () => Date, read: (now: Date) => Promise<T>): () => Promise<T> {
  let last: { at: number; second: number; value: Promise<T> } | undefined;
  return () => {
    const at = Date.now();
    const now = clock();
    const second = Math.floor(now.getTime() / 1000);
    if (!last || at - last.at > 1000 || last.second !== second) last = { at, second, value: read(now) };
    return last.value;
  };
}
