import { z } from '@hono/zod-openapi';
import { PayoutSchema } from '../detectors/fraud/index.ts';
import { PAYOUT_EVENT_KINDS, REVIEW_STATUSES } from '../storage/review.table.ts';
import { DECISIONS, NOTE_MAX } from './decisions.ts';

const ReviewSchema = z.object({
  status: z.enum(REVIEW_STATUSES).openapi({ description: 'pending until an analyst decides' }),
  note: z.string().nullable(),
  decidedBy: z.string().nullable().openapi({ description: 'The key name of who decided last' }),
  decidedAt: z.string().nullable(),
  assignedTo: z.string().nullable(),
  assignedAt: z.string().nullable(),
});

const HistoryEntrySchema = z.object({
  at: z.string(),
  kind: z.enum(PAYOUT_EVENT_KINDS),
  actor: z.string(),
  detail: z.record(z.string(), z.unknown()).openapi({
    description: 'decided: decision and status; scored: risk, decision, reasons; assigned: assignee',
  }),
  note: z.string().nullable(),
});

/** A payout with its score, its review and its history. */
export const PayoutViewSchema = PayoutSchema.extend({
  review: ReviewSchema,
  history: z
    .array(HistoryEntrySchema)
    .openapi({ description: 'Scores, assignments, decisions and payment, in order' }),
}).openapi('PayoutView');

export const DecisionBodySchema = z.strictObject({
  decision: z.enum(DECISIONS),
  note: z.string().max(NOTE_MAX).optional().openapi({
    description: 'Why; required to reject or escalate. E-mail and IP addresses in it are replaced by tokens.',
  }),
});
