// Analysts' decisions on flagged and held payouts, assignments, and the marketplace's word that money left. Each
// change writes the payout's history, the audit trail and (when a webhook is set) the outbox in one
// transaction. A payout and everything the review knows of it is read back by `payoutView`.
import type { Kysely, Transaction } from 'kysely';
import { type PayoutScore, toPayoutScore } from '../detectors/fraud/index.ts';
import type { Role } from '../http/roles.ts';
import { scrubText } from '../http/scrub.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../storage/errors.ts';
import { appendAudit, type Database } from '../storage/index.ts';
import type { PayoutRow } from '../storage/payouts.table.ts';
import type { PayoutEventKind, ReviewStatus } from '../storage/review.table.ts';
import { enqueueDecisionEvent } from './webhooks.ts';

export const DECISIONS = ['approve', 'reject', 'escalate'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Who acts: the key's name and role. */
export interface Reviewer {
  name: string;
  role: Role;
}

/** Payout statuses that wait for an analyst. */
export const IN_REVIEW = ['flagged', 'held'] as const;

const inReview = (status: string) => (IN_REVIEW as readonly string[]).includes(status);

/** The longest note kept. */
export const NOTE_MAX = 2000;

const STATUS_OF: Record<Decision, Exclude<ReviewStatus, 'pending'>> = {
  approve: 'approved',
  reject: 'rejected',
  escalate: 'escalated',
};

/** A payout's review as the API shows it. */
interface ReviewView {
  status: ReviewStatus;
  note: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  assignedTo: string | null;
  assignedAt: string | null;
}

interface HistoryEntry {
  at: string;
  kind: PayoutEventKind;
  actor: string;
  detail: Record<string, unknown>;
  note: string | null;
}

/** A payout's status: waiting for its score, decided by the detector or an analyst, or paid. */
type PayoutStatus = 'pending' | 'approved' | 'flagged' | 'held' | 'rejected' | 'paid';

export interface PayoutView {
  id: string;
  affiliateId: string;
  periodStart: string;
  periodEnd: string;
  amount: number;
  currency: string;
  status: PayoutStatus;
  createdAt: string;
  updatedAt: string;
  score: PayoutScore | null;
  review: ReviewView;
  history: HistoryEntry[];
}

const PENDING_REVIEW: ReviewView = {
  status: 'pending',
  note: null,
  decidedBy: null,
  decidedAt: null,
  assignedTo: null,
  assignedAt: null,
};

async function reviewOf(db: Kysely<Database>, payoutId: string): Promise<ReviewView> {
  const row = await db
    .selectFrom('payout_reviews')
    .selectAll()
    .where('payout_id', '=', payoutId)
    .executeTakeFirst();
  if (!row) return PENDING_REVIEW;
  return {
    status: row.status,
    note: row.note,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    assignedTo: row.assigned_to,
    assignedAt: row.assigned_at,
  };
}

/** One payout with its score, review and history, or undefined when no payout has this id. */
export async function payoutView(db: Kysely<Database>, id: string): Promise<PayoutView | undefined> {
  const payout = await db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!payout) return undefined;
  const [score, review, events] = await Promise.all([
    db.selectFrom('fraud_scores').selectAll().where('payout_id', '=', id).executeTakeFirst(),
    reviewOf(db, id),
    db.selectFrom('payout_events').selectAll().where('payout_id', '=', id).orderBy('id').execute(),
  ]);
  return {
    id: payout.id,
    affiliateId: payout.affiliate_id,
    periodStart: payout.period_start,
    periodEnd: payout.period_end,
    amount: payout.amount,
    currency: payout.currency,
    status: payout.status as PayoutStatus,
    createdAt: payout.created_at,
    updatedAt: payout.updated_at,
    score: score ? toPayoutScore(score) : null,
    review,
    history: events.map((e) => ({
      at: e.at,
      kind: e.kind,
      actor: e.actor,
      detail: JSON.parse(e.detail) as Record<string, unknown>,
      note: e.note,
    })),
  };
}

async function payoutFor(trx: Transaction<Database>, id: string): Promise<PayoutRow> {
  const payout = await trx.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!payout) throw new NotFoundError('no payout has this id');
  return payout;
}

function cleanNote(secret: Buffer, note: string | undefined | null): string | null {
  const trimmed = note?.trim() ?? '';
  if (trimmed.length > NOTE_MAX)
    throw new InvalidInputError(`a note holds at most ${NOTE_MAX} characters`, [
      { path: '/note', message: `expected at most ${NOTE_MAX} characters, got ${trimmed.length}` },
    ]);
  // A note is free text: e-mail and IP addresses in it become keyed-hash tokens.
  return trimmed === '' ? null : scrubText(secret, trimmed);
}

/** Why a payout cannot take this decision now, or undefined when it can. */
function refusal(
  payout: PayoutRow,
  review: ReviewView,
  decision: Decision,
  reviewer: Reviewer,
): string | undefined {
  if (review.status === 'approved' || review.status === 'rejected')
    return `payout ${payout.id} was already ${review.status} by ${review.decidedBy} at ${review.decidedAt}`;
  if (review.status === 'escalated') {
    if (reviewer.role !== 'admin')
      return `payout ${payout.id} was escalated by ${review.decidedBy} at ${review.decidedAt}: an admin decides it`;
    if (decision === 'escalate') return `payout ${payout.id} is already escalated`;
    return undefined;
  }
  if (!inReview(payout.status))
    return `payout ${payout.id} is ${payout.status}, not waiting for review (only flagged and held payouts are)`;
  return undefined;
}

/**
 * Decides a payout in review: approve, reject or escalate (a note is required to reject or escalate). A payout
 * already decided, or escalated to an admin, answers a conflict naming who decided. The payout's status follows
 * (approved or rejected; an escalated one stays in review), and the decision is history, audit and webhook
 * event in the same transaction.
 */
export async function decide(
  db: Kysely<Database>,
  input: { payoutId: string; decision: Decision; note?: string | null },
  reviewer: Reviewer,
  context: { secret: Buffer; now: Date },
): Promise<PayoutView> {
  const note = cleanNote(context.secret, input.note);
  if (note === null && input.decision !== 'approve')
    throw new InvalidInputError(`a note is required to ${input.decision}`, [
      { path: '/note', message: `required: say why you ${input.decision} this payout` },
    ]);
  const at = context.now.toISOString();
  await db.transaction().execute(async (trx) => {
    const payout = await payoutFor(trx, input.payoutId);
    const review = await reviewOf(trx, payout.id);
    const why = refusal(payout, review, input.decision, reviewer);
    if (why) throw new ConflictError(why);
    const status = STATUS_OF[input.decision];
    await trx
      .insertInto('payout_reviews')
      .values({
        payout_id: payout.id,
        status,
        note,
        decided_by: reviewer.name,
        decided_at: at,
        assigned_to: review.assignedTo,
        assigned_at: review.assignedAt,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc
          .column('payout_id')
          .doUpdateSet({ status, note, decided_by: reviewer.name, decided_at: at, updated_at: at }),
      )
      .execute();
    if (status !== 'escalated')
      await trx.updateTable('payouts').set({ status, updated_at: at }).where('id', '=', payout.id).execute();
    await trx
      .insertInto('payout_events')
      .values({
        payout_id: payout.id,
        at,
        kind: 'decided',
        actor: reviewer.name,
        detail: JSON.stringify({ decision: input.decision, status }),
        note,
      })
      .execute();
    await appendAudit(
      trx,
      reviewer,
      { action: `payout.${input.decision}`, target: `payout:${payout.id}`, detail: { status } },
      context.now,
    );
    await enqueueDecisionEvent(
      trx,
      {
        payoutId: payout.id,
        affiliateId: payout.affiliate_id,
        decision: input.decision,
        status,
        note,
        decidedBy: reviewer.name,
        decidedAt: at,
      },
      context.now,
    );
  });
  return (await payoutView(db, input.payoutId)) as PayoutView;
}

/** Assigns a payout in review to the reviewer (taking it over from whoever had it). */
export async function assignToSelf(
  db: Kysely<Database>,
  payoutId: string,
  reviewer: Reviewer,
  now: Date,
): Promise<PayoutView> {
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    const payout = await payoutFor(trx, payoutId);
    const review = await reviewOf(trx, payout.id);
    const open = review.status === 'escalated' || (review.status === 'pending' && inReview(payout.status));
    if (!open) throw new ConflictError(`payout ${payout.id} is not waiting for review`);
    await trx
      .insertInto('payout_reviews')
      .values({
        payout_id: payout.id,
        status: review.status,
        note: review.note,
        decided_by: review.decidedBy,
        decided_at: review.decidedAt,
        assigned_to: reviewer.name,
        assigned_at: at,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.column('payout_id').doUpdateSet({ assigned_to: reviewer.name, assigned_at: at, updated_at: at }),
      )
      .execute();
    await trx
      .insertInto('payout_events')
      .values({
        payout_id: payout.id,
        at,
        kind: 'assigned',
        actor: reviewer.name,
        detail: JSON.stringify({ assignedTo: reviewer.name, previously: review.assignedTo }),
        note: null,
      })
      .execute();
    await appendAudit(
      trx,
      reviewer,
      { action: 'payout.assign', target: `payout:${payout.id}`, detail: { assignedTo: reviewer.name } },
      now,
    );
  });
  return (await payoutView(db, payoutId)) as PayoutView;
}

/**
 * Records that the money of an approved payout left (the marketplace says so). Refused for a payout that is
 * rejected, in review or not yet scored; saying it again changes nothing.
 */
export async function markPaid(
  db: Kysely<Database>,
  payoutId: string,
  by: Reviewer,
  now: Date,
): Promise<PayoutView> {
  const at = now.toISOString();
  await db.transaction().execute(async (trx) => {
    const payout = await payoutFor(trx, payoutId);
    if (payout.status === 'paid') return;
    if (payout.status !== 'approved') {
      const review = await reviewOf(trx, payout.id);
      const why =
        payout.status === 'rejected'
          ? `payout ${payout.id} was rejected${review.decidedBy ? ` by ${review.decidedBy} at ${review.decidedAt}` : ''}: it must not be paid`
          : inReview(payout.status)
            ? `payout ${payout.id} is still in review (${review.status === 'escalated' ? 'escalated' : payout.status})`
            : `payout ${payout.id} is ${payout.status}: only an approved payout can be paid`;
      throw new ConflictError(why);
    }
    await trx
      .updateTable('payouts')
      .set({ status: 'paid', updated_at: at })
      .where('id', '=', payout.id)
      .execute();
    await trx
      .insertInto('payout_events')
      .values({ payout_id: payout.id, at, kind: 'paid', actor: by.name, detail: '{}', note: null })
      .execute();
    await appendAudit(trx, by, { action: 'payout.paid', target: `payout:${payout.id}`, detail: {} }, now);
  });
  return (await payoutView(db, payoutId)) as PayoutView;
}
