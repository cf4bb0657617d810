import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { Histogram, type Registry } from 'prom-client';
import { createRouter, problemResponses } from '../../http/openapi.ts';
import { ProblemError } from '../../http/problem.ts';
import { pendingMigrations } from '../../storage/index.ts';

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: the process is up',
  responses: {
    200: {
      description: 'Up',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness: the database answers and every migration is applied',
  responses: {
    200: {
      description: 'Ready',
      content: { 'application/json': { schema: z.object({ status: z.literal('ready') }) } },
    },
    ...problemResponses('unavailable'),
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics in the text exposition format',
  responses: {
    200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } },
  },
});

const NOT_READY_RETRY_SECONDS = '5';

/**
 * Renders the registry at most once per `maxAgeMs` (counted from the end of the last render) and one render
 * at a time: scrapes during a render share it, and scrapes soon after it get its text. Many scrapers, or a
 * slow render, then cost one render a second instead of one per scrape. Its clock is a monotonic one of its
 * own (milliseconds), not the app's: the cache's age is a matter of real time.
 */
export function cachedMetrics(
  registry: Registry,
  maxAgeMs: number,
  clock: () => number = performance.now.bind(performance),
) {
  const renders = new Histogram({
    name: 'vigil_metrics_render_duration_seconds',
    help: 'Time to render the metrics text for /metrics (scrapes within a second of a render reuse it).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  let cached: { text: string; at: number } | undefined;
  let rendering: Promise<string> | undefined;
  return (): Promise<string> => {
    const now = clock();
    if (cached && now - cached.at < maxAgeMs) return Promise.resolve(cached.text);
    rendering ??= (async () => {
      const stop = renders.startTimer();
      try {
        const text = await registry.metrics();
        stop();
        cached = { text, at: clock() };
        return text;
      } finally {
        rendering = undefined;
      }
    })();
    return rendering;
  };
}

export function healthRoutes(registry: Registry, metricsCacheMs: number) {
  const metrics = cachedMetrics(registry, metricsCacheMs);
  return createRouter()
    .openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(readyRoute, async (c) => {
      let pending: string[];
      try {
        await sql`select 1`.execute(c.var.db);
        pending = await pendingMigrations(c.var.db);
      } catch (error) {
        c.var.logger.warn('readiness check failed', { error, requestId: c.var.requestId });
        throw new ProblemError('unavailable', 'the database does not answer', {
          headers: { 'retry-after': NOT_READY_RETRY_SECONDS },
        });
      }
      if (pending.length > 0) {
        throw new ProblemError('unavailable', `${pending.length} migration(s) not applied`, {
          headers: { 'retry-after': NOT_READY_RETRY_SECONDS },
        });
      }
      return c.json({ status: 'ready' as const }, 200);
    })
    .openapi(metricsRoute, async (c) => {
      const body = await metrics();
      return c.text(body, 200, { 'content-type': registry.contentType });
    });
}
