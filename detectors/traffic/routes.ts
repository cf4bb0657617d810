import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../../http/auth.ts';
import { jsonBody } from '../../http/json-body.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
} from '../../http/openapi.ts';
import { ProblemError } from '../../http/problem.ts';
import { appendAudit } from '../../storage/index.ts';
import { SIGNALS } from './core.ts';
import { MAX_RUN_MINUTES, type TrafficDetector } from './detector.ts';

const Instant = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-27T16:00:00Z' });

const AnomalySchema = z
  .object({
    id: z.string(),
    detector: z.literal('traffic'),
    target: z.union([
      z.object({ service: z.string(), route: z.string() }),
      z.object({ app: z.string(), page: z.string() }),
    ]),
    signal: z.enum(SIGNALS),
    start: z.string().openapi({ description: 'The first degraded minute' }),
    end: z.string().nullable().openapi({ description: 'The first healthy minute after; null while open' }),
    observed: z.number().openapi({ description: 'The worst value seen (ms for latency and vitals but CLS)' }),
    expected: z.number().openapi({ description: "The series' median before the start" }),
    lower: z.number(),
    upper: z.number().openapi({ description: 'The band the value left' }),
    severity: z.enum(['warning', 'critical']),
    campaign: z.string().nullable().openapi({ description: 'The campaign whose clicks rose as it started' }),
  })
  .openapi('Anomaly');

/** A list cursor: the last anomaly's start and id, opaque to clients. */
const encodeCursor = (a: { start: string; id: string }) =>
  Buffer.from(`${a.start}|${a.id}`).toString('base64url');

function decodeCursor(cursor: string): { start: string; id: string } {
  const [start = '', id = ''] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (Number.isNaN(Date.parse(start)) || !/^[0-9a-f]{24}$/.test(id)) {
    throw new ProblemError('validation-failed', 'the cursor is not one this list gave', {
      errors: [{ path: '/cursor', message: 'expected the nextCursor of an earlier page' }],
    });
  }
  return { start, id };
}

/** `/v1/anomalies` (sre, admin): the traffic detector's anomalies, newest first. */
export function anomalyRoutes(deps: { traffic: TrafficDetector }) {
  const listRoute = createRoute({
    method: 'get',
    path: '/',
    tags: ['traffic'],
    summary: 'Traffic anomalies (bottlenecks), newest first, open ones without an end',
    security: BEARER_SECURITY,
    middleware: [requireRole('sre', 'admin')] as const,
    request: {
      query: z.object({
        detector: z.literal('traffic').optional(),
        since: Instant.optional().openapi({
          description: 'Anomalies still open at or ending after this time',
        }),
        until: Instant.optional().openapi({ description: 'Anomalies that started before this time' }),
        severity: z.enum(['warning', 'critical']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        cursor: z.string().max(200).optional(),
      }),
    },
    responses: {
      200: {
        description: 'A page of anomalies; `nextCursor` fetches the next, null on the last page',
        content: {
          'application/json': {
            schema: z.object({ items: z.array(AnomalySchema), nextCursor: z.string().nullable() }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });
  return createRouter().openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const items = await deps.traffic.list({
      since: q.since && new Date(q.since).toISOString(),
      until: q.until && new Date(q.until).toISOString(),
      severity: q.severity,
      limit: q.limit + 1,
      after: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
    });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    return c.json(
      { items: page, nextCursor: items.length > q.limit && last ? encodeCursor(last) : null },
      200,
    );
  });
}

/** `/v1/detectors/traffic` (admin): evaluate a window over stored data, as if live at each minute. */
export function trafficRunRoutes(deps: { traffic: TrafficDetector }) {
  const runRoute = createRoute({
    method: 'post',
    path: '/run',
    tags: ['traffic'],
    summary:
      'Evaluates every minute of a window (up to 7 days) over stored logs and telemetry, each only on data up to ' +
      'that minute; without a body, the last complete minute. Rerunning a window rewrites the same anomalies.',
    security: BEARER_SECURITY,
    middleware: [requireRole('admin'), jsonBody(undefined, { optional: true })] as const,
    request: {
      body: {
        required: false,
        content: {
          'application/json': {
            schema: z
              .strictObject({ from: Instant, to: Instant })
              .refine((b) => Date.parse(b.from) <= Date.parse(b.to), {
                message: 'to must not be before from',
                path: ['to'],
              })
              .refine((b) => Date.parse(b.to) - Date.parse(b.from) <= MAX_RUN_MINUTES * 60_000, {
                message: 'a run covers at most 7 days',
                path: ['to'],
              }),
            example: { from: '2026-11-27T12:00:00Z', to: '2026-11-27T18:00:00Z' },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'Minutes evaluated and anomalies open or opened in them',
        content: {
          'application/json': {
            schema: z.object({ minutes: z.number().int(), anomalies: z.number().int() }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS),
    },
  });
  return createRouter().openapi(runRoute, async (c) => {
    // Without a body the validator is skipped and the body reads as `{}`: the live minute.
    const given = c.req.valid('json') as { from?: string; to?: string } | undefined;
    const body =
      given?.from !== undefined && given.to !== undefined ? { from: given.from, to: given.to } : undefined;
    const now = c.var.clock();
    const result = body
      ? await deps.traffic.run(new Date(body.from), new Date(body.to))
      : await deps.traffic.runLive(now);
    await c.var.db.transaction().execute((trx) =>
      appendAudit(
        trx,
        c.var.actor,
        {
          action: 'traffic.run',
          target: body ? `window:${body.from}/${body.to}` : 'window:live',
          detail: result,
        },
        now,
      ),
    );
    return c.json(result, 200);
  });
}
