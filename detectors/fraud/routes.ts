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
import { appendAudit, jsonArrayHasEntry } from '../../storage/index.ts';
import { toPayoutScore } from './detector.ts';
import type { FraudDetector } from './index.ts';
import { REASON_CODES } from './rules.ts';
import { PayoutScoreSchema } from './schemas.ts';

const FlagSchema = z.object({
  payoutId: z.string(),
  affiliateId: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  amount: z.number(),
  currency: z.string(),
  status: z.string(),
  score: PayoutScoreSchema,
});

/** `/v1/flags` (analyst): flagged and held payouts, riskiest first. */
export function flagRoutes() {
  const listRoute = createRoute({
    method: 'get',
    path: '/',
    tags: ['fraud'],
    summary:
      'Flagged and held payouts waiting for a decision, with their reasons and evidence, riskiest first',
    security: BEARER_SECURITY,
    middleware: [requireRole('analyst')] as const,
    request: {
      query: z.object({
        decision: z.enum(['flagged', 'held']).optional(),
        reason: z.enum(REASON_CODES).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        offset: z.coerce.number().int().min(0).max(100_000).default(0),
      }),
    },
    responses: {
      200: {
        description: 'The flags',
        content: { 'application/json': { schema: z.object({ flags: z.array(FlagSchema) }) } },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });
  return createRouter().openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    let query = c.var.db
      .selectFrom('fraud_scores as s')
      .innerJoin('payouts as p', 'p.id', 's.payout_id')
      .selectAll('s')
      .select(['p.period_start', 'p.period_end', 'p.amount', 'p.currency', 'p.status'])
      .where('s.decision', q.decision ? '=' : 'in', q.decision ?? ['flagged', 'held'])
      // What still waits for an analyst: a payout decided (or paid) has left the queue.
      .where('p.status', 'in', ['flagged', 'held'])
      .orderBy('s.risk', 'desc')
      .orderBy('s.payout_id')
      .limit(q.limit)
      .offset(q.offset);
    if (q.reason) query = query.where(jsonArrayHasEntry(c.var.db, 's.reasons', 'code', q.reason));
    const rows = await query.execute();
    return c.json(
      {
        flags: rows.map((r) => ({
          payoutId: r.payout_id,
          affiliateId: r.affiliate_id,
          periodStart: r.period_start,
          periodEnd: r.period_end,
          amount: r.amount,
          currency: r.currency,
          status: r.status,
          score: toPayoutScore(r),
        })),
      },
      200,
    );
  });
}

/** `/v1/detectors/fraud` (admin): re-score a period, optionally fitting a fresh model on it first. */
export function fraudRunRoutes(deps: { fraud: FraudDetector }) {
  const runRoute = createRoute({
    method: 'post',
    path: '/run',
    tags: ['fraud'],
    summary: 'Re-scores every payout of a period; with retrain, fits a new model on that period first',
    security: BEARER_SECURITY,
    middleware: [requireRole('admin'), jsonBody()] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z
              .strictObject({
                periodStart: z.iso.datetime({ offset: true }),
                periodEnd: z.iso.datetime({ offset: true }),
                retrain: z.boolean().default(false),
              })
              .refine((b) => Date.parse(b.periodStart) < Date.parse(b.periodEnd), {
                message: 'periodEnd must be after periodStart',
                path: ['periodEnd'],
              }),
            example: {
              periodStart: '2026-11-01T00:00:00Z',
              periodEnd: '2026-12-01T00:00:00Z',
              retrain: true,
            },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'What the run did',
        content: {
          'application/json': {
            schema: z.object({
              periodStart: z.string(),
              periodEnd: z.string(),
              modelVersion: z.number().int().nullable(),
              trained: z.boolean(),
              affiliates: z.number().int(),
              payouts: z.number().int(),
              decisions: z.object({
                approved: z.number().int(),
                flagged: z.number().int(),
                held: z.number().int(),
              }),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS),
    },
  });
  return createRouter().openapi(runRoute, async (c) => {
    const body = c.req.valid('json');
    const start = new Date(body.periodStart);
    const end = new Date(body.periodEnd);
    if (end.getTime() - start.getTime() > 400 * 86_400_000) {
      throw new ProblemError('validation-failed', 'a run covers at most 400 days', {
        errors: [{ path: '/periodEnd', message: 'at most 400 days after periodStart' }],
      });
    }
    const now = c.var.clock();
    const summary = await deps.fraud.run({ start, end, retrain: body.retrain, now });
    const actor = c.var.actor;
    await c.var.db.transaction().execute((trx) =>
      appendAudit(
        trx,
        actor,
        {
          action: 'fraud.run',
          target: `period:${summary.periodStart}/${summary.periodEnd}`,
          detail: { ...summary },
        },
        now,
      ),
    );
    return c.json(summary, 200);
  });
}
