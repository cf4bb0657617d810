import { z } from '@hono/zod-openapi';
import { REASON_CODES } from './rules.ts';

const ReasonSchema = z.object({
  code: z.enum(REASON_CODES),
  description: z.string(),
  risk: z.number(),
  hold: z.boolean(),
  evidence: z.array(
    z.object({
      feature: z.string(),
      value: z.number(),
      condition: z.string(),
      percentile: z.number().nullable(),
    }),
  ),
});

/** A payout's fraud score as the API shows it. */
export const PayoutScoreSchema = z
  .object({
    risk: z.number().openapi({ description: '0–1' }),
    level: z.enum(['low', 'medium', 'high']),
    decision: z.enum(['approved', 'flagged', 'held']),
    modelVersion: z.number().int().nullable(),
    modelScore: z.number().nullable(),
    reasons: z.array(ReasonSchema),
    features: z.record(
      z.string(),
      z.object({ value: z.number(), percentile: z.number().nullable(), contribution: z.number().nullable() }),
    ),
    scoredAt: z.string(),
  })
  .openapi('PayoutScore');
