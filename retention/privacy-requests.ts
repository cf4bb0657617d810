import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { announceConsentChange } from '../consent/index.ts';
import type { Logger } from '../http/logger.ts';
import { hashIdentifier, subjectPseudonym } from '../storage/identifiers.ts';
import {
  type Actor,
  appendAudit,
  ConflictError,
  type Database,
  type EventJournal,
  InvalidInputError,
  NotFoundError,
  readEvents,
  type Storage,
} from '../storage/index.ts';
import {
  OPEN_PRIVACY_REQUEST_STATUSES,
  type PrivacyRequestRow,
  type PrivacyRequestStepRow,
} from '../storage/privacy.table.ts';
import type { SubjectKeys } from './data-map.ts';
import { addMonths } from './policies.ts';
import { eraseSubjectStores, makeErasurePhysical, type StoreOutcome } from './subject-data.ts';

export type RequestType = PrivacyRequestRow['type'];
type RequestStatus = PrivacyRequestRow['status'];

/** Statuses in which a request still needs work; the rest are final. */
const OPEN_STATUSES = OPEN_PRIVACY_REQUEST_STATUSES;

/** `status in (<the open statuses>)`, for queries written in SQL. */
const isOpen = sql<boolean>`status in (${sql.join(OPEN_STATUSES)})`;

/** GDPR Art. 12(3): one month from receipt, extendable by two further months. */
const BASE_MONTHS = 1;
const MAX_EXTENSION_MONTHS = 2;

/** A privacy request as the API shows it. */
export interface PrivacyRequest {
  id: string;
  type: RequestType;
  status: RequestStatus;
  /** Null once an erasure has completed: the request no longer names whom it was about. */
  subjectId: string | null;
  identifiers: { email: boolean; ip: boolean };
  note: string | null;
  receivedAt: string;
  dueAt: string;
  extendedMonths: number;
  overdue: boolean;
  statusReason: string | null;
  attempts: number;
  receipt: unknown;
  createdBy: string;
  updatedAt: string;
  completedAt: string | null;
}

/** One line of a request's execution log. */
export interface RequestStep {
  store: string;
  category: string;
  action: string;
  rows: number;
  status: 'done' | 'failed';
  error: string | null;
  at: string;
}

function toRequest(row: PrivacyRequestRow, now: Date): PrivacyRequest {
  const open = (OPEN_STATUSES as readonly string[]).includes(row.status);
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    subjectId: row.subject_id,
    identifiers: { email: row.email_hash !== null, ip: row.ip_hash !== null },
    note: row.note,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    extendedMonths: row.extended_months,
    overdue: open && row.due_at < now.toISOString(),
    statusReason: row.status_reason,
    attempts: row.attempts,
    receipt: row.receipt === null ? null : JSON.parse(row.receipt),
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}

function toStep(row: PrivacyRequestStepRow): RequestStep {
  return {
    store: row.store,
    category: row.category,
    action: row.action,
    rows: row.rows,
    status: row.status,
    error: row.error,
    at: row.at,
  };
}

/** What a DPO files. */
export interface NewPrivacyRequest {
  type: RequestType;
  subjectId: string;
  identifiers?: { email?: string; ip?: string };
  note?: string;
}

const target = (id: string) => `privacy-request:${id}`;

/** Files a request as `pending`, due one month after receipt. E-mail and IP are kept only as keyed hashes. */
export async function createPrivacyRequest(
  db: Kysely<Database>,
  secret: Buffer,
  input: NewPrivacyRequest,
  actor: Actor,
  now: Date,
): Promise<PrivacyRequest> {
  const id = `pr_${randomUUID()}`;
  const at = now.toISOString();
  const row = await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('privacy_requests')
      .values({
        id,
        type: input.type,
        status: 'pending',
        subject_id: input.subjectId,
        email_hash:
          input.identifiers?.email === undefined
            ? null
            : hashIdentifier(secret, 'email', input.identifiers.email),
        ip_hash:
          input.identifiers?.ip === undefined ? null : hashIdentifier(secret, 'ip', input.identifiers.ip),
        note: input.note ?? null,
        received_at: at,
        due_at: addMonths(now, BASE_MONTHS).toISOString(),
        status_reason: null,
        receipt: null,
        created_by: actor.name,
        updated_at: at,
        completed_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    // The subject is not named in the trail: the request is, and it names the subject until erasure.
    await appendAudit(
      trx,
      actor,
      { action: 'privacy.request.create', target: target(id), detail: { type: input.type } },
      now,
    );
    return inserted;
  });
  return toRequest(row, now);
}

/** An action on a request and what it needs. */
export type RequestAction =
  | { action: 'approve' }
  | { action: 'deny'; reason: string }
  | { action: 'cancel'; reason?: string }
  | { action: 'retry' }
  | { action: 'extend'; months: number; reason: string };

/** From which statuses each action may be taken, and where it leads. */
const TRANSITIONS: Record<RequestAction['action'], { from: RequestStatus[]; to?: RequestStatus }> = {
  approve: { from: ['pending'], to: 'approved' },
  deny: { from: ['pending', 'approved'], to: 'denied' },
  cancel: { from: ['pending', 'approved', 'error'], to: 'canceled' },
  retry: { from: ['error'], to: 'approved' },
  extend: { from: ['pending', 'approved', 'in_processing', 'error'] },
};

/**
 * Moves a request along its lifecycle, with the audit entry in the same transaction. An action the current
 * status does not allow is a 409 naming the status; an extension past three months in all is a 422.
 */
export async function actOnPrivacyRequest(
  db: Kysely<Database>,
  id: string,
  act: RequestAction,
  actor: Actor,
  now: Date,
): Promise<PrivacyRequest> {
  const row = await db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('privacy_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!current) throw new NotFoundError('no privacy request has this id');
    const rule = TRANSITIONS[act.action];
    if (!rule.from.includes(current.status)) {
      throw new ConflictError(
        `a request that is ${current.status} cannot be given "${act.action}" (allowed from: ${rule.from.join(', ')})`,
      );
    }
    const at = now.toISOString();
    let changes: Partial<PrivacyRequestRow>;
    if (act.action === 'extend') {
      const months = current.extended_months + act.months;
      if (months > MAX_EXTENSION_MONTHS) {
        throw new InvalidInputError('a request can be extended by two further months at most', [
          {
            path: '/months',
            message: `already extended by ${current.extended_months}; at most ${MAX_EXTENSION_MONTHS - current.extended_months} more`,
          },
        ]);
      }
      changes = {
        extended_months: months,
        due_at: addMonths(new Date(current.received_at), BASE_MONTHS + months).toISOString(),
        status_reason: act.reason,
      };
    } else {
      changes = {
        status: rule.to,
        status_reason: 'reason' in act ? (act.reason ?? null) : null,
      };
    }
    const updated = await trx
      .updateTable('privacy_requests')
      .set({ ...changes, updated_at: at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(
      trx,
      actor,
      {
        action: `privacy.request.${act.action}`,
        target: target(id),
        detail: {
          from: current.status,
          to: updated.status,
          ...('reason' in act && act.reason !== undefined ? { reason: act.reason } : {}),
          ...(act.action === 'extend' ? { months: act.months, dueAt: updated.due_at } : {}),
        },
      },
      now,
    );
    return updated;
  });
  return toRequest(row, now);
}

/** Filters for listing requests. */
export interface RequestQuery {
  status?: RequestStatus;
  type?: RequestType;
  overdue?: boolean;
  limit: number;
  /** Requests received before this id's request, for paging (newest first). */
  before?: string;
}

export async function listPrivacyRequests(
  db: Kysely<Database>,
  query: RequestQuery,
  now: Date,
): Promise<PrivacyRequest[]> {
  let q = db.selectFrom('privacy_requests').selectAll().orderBy('received_at', 'desc').orderBy('id', 'desc');
  if (query.status) q = q.where('status', '=', query.status);
  if (query.type) q = q.where('type', '=', query.type);
  if (query.overdue !== undefined) {
    const overdue = sql<boolean>`(${isOpen} and due_at < ${now.toISOString()})`;
    q = q.where(query.overdue ? overdue : sql<boolean>`not ${overdue}`);
  }
  if (query.before) {
    const anchor = await db
      .selectFrom('privacy_requests')
      .select(['received_at', 'id'])
      .where('id', '=', query.before)
      .executeTakeFirst();
    if (anchor) {
      q = q.where((eb) =>
        eb.or([
          eb('received_at', '<', anchor.received_at),
          eb.and([eb('received_at', '=', anchor.received_at), eb('id', '<', anchor.id)]),
        ]),
      );
    }
  }
  return (await q.limit(query.limit).execute()).map((row) => toRequest(row, now));
}

export async function getPrivacyRequest(
  db: Kysely<Database>,
  id: string,
  now: Date,
): Promise<{ request: PrivacyRequest; steps: RequestStep[]; row: PrivacyRequestRow }> {
  const row = await db.selectFrom('privacy_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('no privacy request has this id');
  const steps = await db
    .selectFrom('privacy_request_steps')
    .selectAll()
    .where('request_id', '=', id)
    .orderBy('id')
    .execute();
  return { request: toRequest(row, now), steps: steps.map(toStep), row };
}

/** The keys to search the stores by, from a request's row (never raw e-mail or IP: only their hashes). */
export function keysOfRequest(row: PrivacyRequestRow, secret: Buffer): SubjectKeys | undefined {
  if (row.subject_id === null) return undefined;
  return {
    subjectId: row.subject_id,
    subjectPseudonym: subjectPseudonym(secret, row.subject_id),
    emailHash: row.email_hash ?? undefined,
    ipHash: row.ip_hash ?? undefined,
    requestId: row.id,
  };
}

async function logStep(
  db: Kysely<Database>,
  requestId: string,
  outcome: StoreOutcome | { store: string; category: string; action: string; rows: number },
  at: Date,
  error?: string,
): Promise<void> {
  await db
    .insertInto('privacy_request_steps')
    .values({
      request_id: requestId,
      store: outcome.store,
      category: outcome.category,
      action: outcome.action,
      rows: outcome.rows,
      status: error === undefined ? 'done' : 'failed',
      error: error ?? null,
      at: at.toISOString(),
    })
    .execute();
}

/** Marks an access request answered once its export has been delivered whole. */
export async function completeAccessRequest(
  db: Kysely<Database>,
  id: string,
  outcomes: StoreOutcome[],
  actor: Actor,
  now: Date,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('privacy_requests')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.status === 'complete') return;
    const at = now.toISOString();
    for (const outcome of outcomes) await logStep(trx, id, outcome, now);
    await trx
      .updateTable('privacy_requests')
      .set({ status: 'complete', completed_at: at, updated_at: at })
      .where('id', '=', id)
      .execute();
    await appendAudit(
      trx,
      actor,
      {
        action: 'privacy.access.complete',
        target: target(id),
        detail: { stores: outcomes.length, rows: outcomes.reduce((n, o) => n + o.rows, 0) },
      },
      now,
    );
  });
}

/** What the erasure queue needs. */
export interface ErasureContext {
  storage: Storage;
  secret: Buffer;
  logger: Logger;
  /** Forgets the subject in the in-memory consent gate once its rows are gone. */
  forgetSubject: (subjectId: string) => void;
  now: () => Date;
  batchSize?: number;
  /** Hears each store's erasure outcome (metrics). */
  onStore?: (outcome: StoreOutcome) => void;
  /** The event journal: settled before the stores are erased, and its applied segments deleted after. */
  journal: EventJournal;
  /** Stores outside the database that hold copies (OpenSearch): erased before the database and again after. */
  externalStores?: ExternalStore[];
}

/** A store outside the database that keeps copies of personal data, erased by the subject's keys. */
export interface ExternalStore {
  name: string;
  /** Erases the subject's documents; answers what went, per part of the store (an index pattern, say). */
  erase(keys: SubjectKeys): Promise<{ store: string; category: string; rows: number }[]>;
}

/** The actor recorded for what the scheduler does. */
export const SCHEDULER_ACTOR: Actor = { name: 'scheduler', role: 'system' };

/** What one pass of the erasure queue did. */
export interface ErasureQueueSummary {
  processed: number;
  completed: number;
  failed: number;
}

/**
 * Carries out approved erasure requests, oldest due first: marks each in processing, erases the subject store
 * by store (logging each), makes the deletion physical, then completes it with a receipt that holds counts
 * only, clears the request's own identifiers and writes the audit entry, in one transaction. A failure leaves
 * the request in `error` (retryable) with the store that failed in its log.
 */
export async function processErasureQueue(ctx: ErasureContext, limit = 10): Promise<ErasureQueueSummary> {
  const { db } = ctx.storage;
  const summary: ErasureQueueSummary = { processed: 0, completed: 0, failed: 0 };
  const queue = await db
    .selectFrom('privacy_requests')
    .selectAll()
    .where('type', '=', 'erasure')
    .where('status', '=', 'approved')
    .orderBy('due_at')
    .limit(limit)
    .execute();
  for (const queued of queue) {
    // Claim it: another process that read the same queue finds it no longer approved.
    const claimed = await db
      .updateTable('privacy_requests')
      .set((eb) => ({
        status: 'in_processing',
        attempts: eb('attempts', '+', 1),
        updated_at: ctx.now().toISOString(),
      }))
      .where('id', '=', queued.id)
      .where('status', '=', 'approved')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) continue;
    summary.processed += 1;
    const ref = target(queued.id);
    // The entry every row this erasure pseudonymises in a hash chain points to (`audit:<id>`).
    const start = await db
      .transaction()
      .execute((trx) =>
        appendAudit(
          trx,
          SCHEDULER_ACTOR,
          { action: 'privacy.erasure.start', target: ref, detail: {} },
          ctx.now(),
        ),
      );
    const keys = keysOfRequest(queued, ctx.secret);
    let failedStore: string | undefined;
    try {
      // Events acknowledged before now may still wait in the event journal: apply them, then erase.
      // Copies outside the database go first, while the rows that lead to them (sessions) still exist, and
      // again at the end, for what was shipped while the database was being erased.
      const external = async (): Promise<StoreOutcome[]> => {
        const found: StoreOutcome[] = [];
        for (const store of keys ? (ctx.externalStores ?? []) : []) {
          failedStore = store.name;
          for (const part of await store.erase(keys as SubjectKeys))
            found.push({ store: part.store, category: part.category, action: 'delete', rows: part.rows });
        }
        return found;
      };
      const externalFirst = await external();
      failedStore = 'event journal';
      const local = keys
        ? await readEvents(ctx.journal, () =>
            eraseSubjectStores(db, keys, {
              ref: `audit:${start.id}`,
              pseudonym: randomBytes(8).toString('hex'),
              batchSize: ctx.batchSize,
              onStart: (store) => {
                failedStore = store;
              },
              onStore: async (outcome) => {
                ctx.onStore?.(outcome);
                await logStep(db, queued.id, outcome, ctx.now());
              },
            }),
          )
        : [];
      const externalAgain = await external();
      const outcomes = [...local];
      for (const part of externalFirst) {
        const again = externalAgain.find((o) => o.store === part.store)?.rows ?? 0;
        const outcome = { ...part, rows: part.rows + again };
        ctx.onStore?.(outcome);
        await logStep(db, queued.id, outcome, ctx.now());
        outcomes.push(outcome);
      }
      failedStore = 'physical';
      const logsDeleted = outcomes.some((o) => o.store === 'server_logs' && o.rows > 0);
      const physical = await makeErasurePhysical(ctx.storage, { logsDeleted, journal: ctx.journal });
      const now = ctx.now();
      const receipt = {
        request: queued.id,
        type: 'erasure',
        receivedAt: queued.received_at,
        completedAt: now.toISOString(),
        stores: outcomes.map(({ store, category, action, rows }) => ({ store, category, action, rows })),
        physical,
      };
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('privacy_requests')
          .set({
            status: 'complete',
            completed_at: now.toISOString(),
            updated_at: now.toISOString(),
            receipt: JSON.stringify(receipt),
            subject_id: null,
            email_hash: null,
            ip_hash: null,
            note: null,
            status_reason:
              physical.walTruncated || physical.vacuumed
                ? null
                : 'the WAL could not be truncated yet; it will be at the next erasure or checkpoint',
          })
          .where('id', '=', queued.id)
          .execute();
        // The other replicas forget the subject's consent when this commits.
        if (keys) await announceConsentChange(trx, keys.subjectId);
        await appendAudit(
          trx,
          SCHEDULER_ACTOR,
          {
            action: 'privacy.erasure.complete',
            target: ref,
            detail: { rows: outcomes.reduce((n, o) => n + o.rows, 0), stores: outcomes.length },
          },
          now,
        );
      });
      if (keys) ctx.forgetSubject(keys.subjectId);
      // The completion itself wrote the request's cleared row; push that page out of the WAL too.
      await makeErasurePhysical(ctx.storage, { logsDeleted: false, attempts: 5 });
      summary.completed += 1;
    } catch (error) {
      summary.failed += 1;
      const message = error instanceof Error ? error.message : String(error);
      ctx.logger.error('erasure failed', {
        request: queued.id,
        store: failedStore ?? 'unknown',
        error: message,
      });
      const now = ctx.now();
      await db.transaction().execute(async (trx) => {
        await logStep(
          trx,
          queued.id,
          { store: failedStore ?? 'unknown', category: '-', action: 'erase', rows: 0 },
          now,
          message,
        );
        await trx
          .updateTable('privacy_requests')
          .set({ status: 'error', status_reason: message.slice(0, 500), updated_at: now.toISOString() })
          .where('id', '=', queued.id)
          .execute();
        await appendAudit(
          trx,
          SCHEDULER_ACTOR,
          { action: 'privacy.erasure.failed', target: ref, detail: {} },
          now,
        );
      });
    }
  }
  return summary;
}

/** An open request due within this long counts as due soon. */
const DUE_SOON_MS = 7 * 24 * 60 * 60 * 1000;

/** Open, due-soon and overdue requests, for the metrics. */
export async function privacyRequestBacklog(db: Kysely<Database>, now: Date) {
  const at = now.toISOString();
  const soon = new Date(now.getTime() + DUE_SOON_MS).toISOString();
  const { rows } = await sql<{
    type: RequestType;
    open: number;
    overdue: number;
    due_soon: number;
    oldest: string | null;
  }>`
    select type, count(*) as open,
      sum(case when due_at < ${at} then 1 else 0 end) as overdue,
      sum(case when due_at >= ${at} and due_at < ${soon} then 1 else 0 end) as due_soon,
      min(received_at) as oldest
    from privacy_requests where ${isOpen} group by type`.execute(db);
  return rows.map((r) => ({
    type: r.type,
    open: Number(r.open),
    overdue: Number(r.overdue ?? 0),
    dueSoon: Number(r.due_soon ?? 0),
    oldestAgeSeconds: r.oldest === null ? 0 : Math.max(0, (now.getTime() - Date.parse(r.oldest)) / 1000),
  }));
}
