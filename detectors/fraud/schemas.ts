import { z } from '@hono/zod-openapi';
import { REASON_CODES } from './rules.ts';

const ReasonSchema = z.object({
  code: z.enum(REASON_CODES),
  description: z.string(),
  compares: z.string().openapi({ description: 'What the rule compares the affiliate with, and why' }),
  risk: z.number(),
  hold: z.boolean(),
  evidence: z.array(
    z.object({
      feature: z.string(),
      value: z.number(),
      peerMedian: z.number().nullable().openapi({ description: "The peers' median; null without peers" }),
      percentile: z
        .number()
        .nullable()
        .openapi({ description: "The value's percentile among the peers (0-100)" }),
      threshold: z
        .number()
        .nullable()
        .openapi({ description: 'The bound the value crossed; null for the model' }),
      peers: z.string().nullable().openapi({ description: 'The peer group, in words' }),
      condition: z.string().openapi({ description: 'The comparison in plain words' }),
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
    peers: z
      .string()
      .nullable()
      .openapi({ description: 'The peer group the evidence compares with, in words' }),
    modelNote: z
      .string()
      .nullable()
      .openapi({ description: "Why the model's part is absent or dated; null when a current model scored" }),
    scoredAt: z.string(),
  })
  .openapi('PayoutScore');

/** A payout request with its status and fraud score. */
export const PayoutSchema = z
  .object({
    id: z.string(),
    affiliateId: z.string(),
    periodStart: z.string(),
    periodEnd: z.string(),
    amount: z.number(),
    currency: z.string(),
    status: z.enum(['pending', 'approved', 'flagged', 'held', 'rejected', 'paid']),
    createdAt: z.string(),
    updatedAt: z.string(),
    score: PayoutScoreSchema.nullable().openapi({ description: 'The fraud score; null until scored' }),
  })
  .openapi('Payout');
