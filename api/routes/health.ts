import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { Registry } from 'prom-client';
import { pendingMigrations } from '../../storage/index.ts';
import { createRouter, problemResponses } from '../openapi.ts';
import { ProblemError } from '../problem.ts';

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

export function healthRoutes(registry: Registry) {
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
      const body = await registry.metrics();
      return c.text(body, 200, { 'content-type': registry.contentType });
    });
}
