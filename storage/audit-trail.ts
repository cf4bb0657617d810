import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AuditLogRow } from './audit-log.table.ts';
import type { Database } from './schema.ts';

/** The hash the first entry of the chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** Who made a change: an API key's name and role, or the CLI's operator. */
export interface Actor {
  name: string;
  role: string;
}

/** What a caller records; `detail` holds no secrets and no raw personal data. */
export interface AuditInput {
  action: string;
  target: string;
  detail?: Record<string, unknown>;
}

/** One audit entry as the API shows it. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: string;
  action: string;
  target: string;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted, so that equal details always hash the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

type HashedFields = Pick<AuditLogRow, 'at' | 'actor' | 'role' | 'action' | 'target' | 'detail' | 'prev_hash'>;

function entryHash(row: HashedFields): string {
  return createHash('sha256')
    .update(JSON.stringify([row.prev_hash, row.at, row.actor, row.role, row.action, row.target, row.detail]))
    .digest('hex');
}

function toEntry(row: AuditLogRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    role: row.role,
    action: row.action,
    target: row.target,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends one entry to the chain. Call it inside the transaction that makes the change it records, so that
 * the change and its entry commit or roll back together. (SQLite transactions here begin IMMEDIATE, so the
 * read of the last hash and the insert cannot interleave with another writer.)
 */
export async function appendAudit(
  trx: Transaction<Database>,
  actor: Actor,
  input: AuditInput,
  at: Date,
): Promise<AuditEntry> {
  const last = await trx
    .selectFrom('audit_log')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const fields: HashedFields = {
    at: at.toISOString(),
    actor: actor.name,
    role: actor.role,
    action: input.action,
    target: input.target,
    detail: canonicalJson(input.detail ?? {}),
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  const row = await trx
    .insertInto('audit_log')
    .values({ ...fields, hash: entryHash(fields) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEntry(row);
}

/** Filters for listing the trail; results are oldest first from `afterId`. */
export interface AuditQuery {
  afterId?: number;
  limit: number;
  action?: string;
  actor?: string;
  since?: Date;
  until?: Date;
}

export async function listAudit(db: Kysely<Database>, query: AuditQuery): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'asc').limit(query.limit);
  if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.since !== undefined) q = q.where('at', '>=', query.since.toISOString());
  if (query.until !== undefined) q = q.where('at', '<', query.until.toISOString());
  return (await q.execute()).map(toEntry);
}

/** The outcome of checking the chain: intact, or where it first breaks and how. */
export type ChainVerification =
  | { ok: true; checked: number; redacted: number; lastHash: string }
  | {
      ok: false;
      checked: number;
      brokenAtId: number;
      reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'unrecorded_redaction';
    };

/** The audit actions that may pseudonymise chained rows; a redaction names one such entry (`audit:<id>`). */
const REDACTING_ACTIONS = ['privacy.erasure.start', 'retention.pseudonymise'] as const;

/**
 * Whether a redaction names a real erasure or retention run: a row marked redacted by anything but an audit
 * entry of a redacting action is treated as tampered with. (The trail's own entries are never deleted.)
 */
async function redactionIsRecorded(db: Kysely<Database>, by: string): Promise<boolean> {
  const match = /^audit:(\d+)$/.exec(by);
  if (!match) return false;
  const entry = await db
    .selectFrom('audit_log')
    .select('action')
    .where('id', '=', Number(match[1]))
    .executeTakeFirst();
  return entry !== undefined && (REDACTING_ACTIONS as readonly string[]).includes(entry.action);
}

const VERIFY_PAGE = 1000;

/** `redactionIsRecorded`, asked once per distinct redaction while a chain is verified. */
export function redactionChecker(db: Kysely<Database>): (by: string) => Promise<boolean> {
  const known = new Map<string, Promise<boolean>>();
  return (by) => {
    let answer = known.get(by);
    if (!answer) {
      answer = redactionIsRecorded(db, by);
      known.set(by, answer);
    }
    return answer;
  };
}

/**
 * Recomputes every hash from the first entry on; reads in pages so a long trail needs little memory. An entry
 * pseudonymised by an erasure can no longer be hashed again: its link is still checked, and its redaction must
 * name an erasure or retention run on record.
 */
export async function verifyAuditChain(db: Kysely<Database>): Promise<ChainVerification> {
  let expectedPrev = GENESIS_HASH;
  let checked = 0;
  let redacted = 0;
  const isRecorded = redactionChecker(db);
  let afterId = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id', 'asc')
      .limit(VERIFY_PAGE)
      .execute();
    for (const row of rows) {
      if (row.prev_hash !== expectedPrev) {
        return { ok: false, checked, brokenAtId: row.id, reason: 'prev_hash_mismatch' };
      }
      if (row.redacted_by !== null) {
        if (!(await isRecorded(row.redacted_by)))
          return { ok: false, checked, brokenAtId: row.id, reason: 'unrecorded_redaction' };
        redacted += 1;
      } else if (entryHash(row) !== row.hash) {
        return { ok: false, checked, brokenAtId: row.id, reason: 'hash_mismatch' };
      }
      expectedPrev = row.hash;
      checked += 1;
      afterId = row.id;
    }
    if (rows.length < VERIFY_PAGE) return { ok: true, checked, redacted, lastHash: expectedPrev };
  }
}
