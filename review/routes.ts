import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../http/auth.ts';
import { jsonBody } from '../http/json-body.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
} from '../http/openapi.ts';
import { ProblemError } from '../http/problem.ts';
import { createDecider, type DeciderOptions } from './decider.ts';
import { markPaid, payoutView } from './decisions.ts';
import { DecisionBodySchema, PayoutViewSchema } from './schemas.ts';

const IdParam = z.object({ id: z.string().min(1).max(128) });
const viewResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: PayoutViewSchema } },
});

/** `/v1/payouts/:id` (read) and `/v1/payouts/:id/paid` (the marketplace says the money left). */
export function payoutReviewRoutes() {
  const getRoute = createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['fraud'],
    summary: 'A payout with its score, reasons, evidence, review status and history',
    security: BEARER_SECURITY,
    middleware: [requireRole('ingest', 'analyst', 'admin')] as const,
    request: { params: IdParam },
    responses: {
      200: viewResponse('The payout'),
      ...problemResponses(...AUTH_PROBLEMS, 'not-found', 'validation-failed'),
    },
  });
  const paidRoute = createRoute({
    method: 'post',
    path: '/{id}/paid',
    tags: ['fraud'],
    summary:
      'Records that an approved payout was paid; refused while it is in review or when it was rejected',
    security: BEARER_SECURITY,
    middleware: [requireRole('ingest')] as const,
    request: { params: IdParam },
    responses: {
      200: viewResponse('The payout, paid'),
      ...problemResponses(...AUTH_PROBLEMS, 'not-found', 'conflict', 'validation-failed'),
    },
  });
  return createRouter()
    .openapi(getRoute, async (c) => {
      const view = await payoutView(c.var.db, c.req.valid('param').id);
      if (!view) throw new ProblemError('not-found', 'no payout has this id');
      return c.json(view, 200);
    })
    .openapi(paidRoute, async (c) => {
      const view = await markPaid(c.var.db, c.req.valid('param').id, c.var.actor, c.var.clock());
      return c.json(view, 200);
    });
}

/** `POST /v1/flags/:payoutId/decision` (analyst; admin for escalated payouts). */
export function decisionRoutes(deps: DeciderOptions) {
  const decide = createDecider(deps);
  const decisionRoute = createRoute({
    method: 'post',
    path: '/{payoutId}/decision',
    tags: ['fraud'],
    summary:
      'Approves, rejects or escalates a flagged or held payout; a note is required to reject or escalate, and an escalated payout is decided by an admin',
    security: BEARER_SECURITY,
    middleware: [requireRole('analyst', 'admin'), jsonBody()] as const,
    request: {
      params: z.object({ payoutId: z.string().min(1).max(128) }),
      body: {
        required: true,
        content: {
          'application/json': {
            schema: DecisionBodySchema,
            example: { decision: 'reject', note: 'Sales 2-4 s after their clicks, from one device model' },
          },
        },
      },
    },
    responses: {
      200: viewResponse('The payout with its decision'),
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS, 'not-found', 'conflict'),
    },
  });
  return createRouter().openapi(decisionRoute, async (c) => {
    const body = c.req.valid('json');
    const view = await decide(
      c.var.db,
      { payoutId: c.req.valid('param').payoutId, decision: body.decision, note: body.note },
      c.var.actor,
      c.var.clock(),
    );
    return c.json(view, 200);
  });
}
