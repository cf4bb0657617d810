import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { ConsentRecordRow, ConsentStateRow } from '../storage/consent.table.ts';
import { hashIdentifier } from '../storage/identifiers.ts';
import {
  type Actor,
  appendAudit,
  type Database,
  GENESIS_HASH,
  InvalidInputError,
  redactionChecker,
} from '../storage/index.ts';
import type { ConsentGate } from './gate.ts';
import type { GcmSignal, Purpose } from './purposes.ts';
import { announceConsentChange } from './sync.ts';
import {
  type DecodedTcString,
  decisionsFromTcString,
  decodeTcString,
  TcStringError,
  tcfPolicyViolation,
} from './tcf.ts';

type Decision = 'granted' | 'denied';

/** A consent as the CMP sends it (validated by the route's schema). */
export interface ConsentInput {
  subjectId: string;
  decisions?: Record<string, Decision>;
  policyVersion: string;
  noticeId?: string;
  source: 'banner' | 'app' | 'api' | 'import';
  method?: 'accept_all' | 'reject_all' | 'save' | 'gpc';
  locale?: string;
  tcString?: string;
  gcm?: Partial<Record<GcmSignal, Decision>>;
  collectedAt?: string;
  proof?: { ip?: string; userAgent?: string; pageUrl?: string };
}

/** What the ledger needs besides the database. */
export interface LedgerContext {
  purposes: Purpose[];
  gate: ConsentGate;
  secret: Buffer;
  /** How long a grant lasts before it must be asked again. */
  expiryMs: number;
  now: Date;
}

/** A record as the API shows it. */
export interface ConsentRecord {
  id: number;
  subjectId: string;
  kind: 'consent' | 'withdrawal';
  decisions: Record<string, Decision>;
  policyVersion: string;
  noticeId: string | null;
  source: string;
  method: string | null;
  locale: string | null;
  tcString: string | null;
  tcf: DecodedTcString | null;
  gcm: Record<string, Decision> | null;
  collectedAt: string;
  recordedAt: string;
  expiresAt: string | null;
  proof: { ipHash: string | null; userAgent: string | null; pageUrl: string | null };
  actor: string;
  hash: string;
}

function toRecord(row: ConsentRecordRow): ConsentRecord {
  return {
    id: row.id,
    subjectId: row.subject_id,
    kind: row.kind,
    decisions: JSON.parse(row.decisions) as Record<string, Decision>,
    policyVersion: row.policy_version,
    noticeId: row.notice_id,
    source: row.source,
    method: row.method,
    locale: row.locale,
    tcString: row.tc_string,
    tcf: row.tcf === null ? null : (JSON.parse(row.tcf) as DecodedTcString),
    gcm: row.gcm === null ? null : (JSON.parse(row.gcm) as Record<string, Decision>),
    collectedAt: row.collected_at,
    recordedAt: row.recorded_at,
    expiresAt: row.expires_at,
    proof: { ipHash: row.proof_ip_hash, userAgent: row.proof_user_agent, pageUrl: row.proof_page_url },
    actor: row.actor,
    hash: row.hash,
  };
}

type RecordFields = Omit<ConsentRecordRow, 'id' | 'hash' | 'redacted_by'>;

function recordHash(fields: RecordFields): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        fields.prev_hash,
        fields.subject_id,
        fields.kind,
        fields.decisions,
        fields.policy_version,
        fields.notice_id,
        fields.source,
        fields.method,
        fields.locale,
        fields.tc_string,
        fields.tcf,
        fields.gcm,
        fields.collected_at,
        fields.recorded_at,
        fields.expires_at,
        fields.proof_ip_hash,
        fields.proof_user_agent,
        fields.proof_page_url,
        fields.actor,
      ]),
    )
    .digest('hex');
}

function withoutQuery(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`.slice(0, 2048);
  } catch {
    return null;
  }
}

/** Decisions from the body, over those implied by the TC string and Consent Mode signals, over GPC. */
function resolveDecisions(
  input: ConsentInput,
  tcf: DecodedTcString | undefined,
  purposes: Purpose[],
): Record<string, Decision> {
  const names = new Set(purposes.map((p) => p.name));
  const unknown = Object.keys(input.decisions ?? {}).filter((p) => !names.has(p));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `unknown purpose(s): ${unknown.join(', ')}`,
      unknown.map((p) => ({
        path: `/decisions/${p}`,
        message: `expected one of ${[...names].join(', ')}`,
      })),
    );
  }
  const derived: Record<string, Decision> = {};
  if (input.method === 'gpc') {
    // Global Privacy Control is an opt-out of sale and sharing: marketing and personalisation are denied.
    for (const p of ['marketing', 'personalization']) if (names.has(p)) derived[p] = 'denied';
  }
  if (input.method === 'reject_all') for (const p of names) derived[p] = 'denied';
  if (input.method === 'accept_all') for (const p of names) derived[p] = 'granted';
  if (input.gcm) {
    for (const p of purposes) {
      if (p.gcmSignals.length === 0 || !p.gcmSignals.every((s) => input.gcm?.[s] !== undefined)) continue;
      derived[p.name] = p.gcmSignals.every((s) => input.gcm?.[s] === 'granted') ? 'granted' : 'denied';
    }
  }
  if (tcf) Object.assign(derived, decisionsFromTcString(tcf, purposes));
  const decisions = { ...derived, ...input.decisions };
  if (Object.keys(decisions).length === 0) {
    throw new InvalidInputError('no decisions given, and none derivable from tcString, gcm or method', [
      { path: '/decisions', message: 'give decisions, a tcString, gcm signals or a method' },
    ]);
  }
  return decisions;
}

async function appendRecord(
  trx: Transaction<Database>,
  fields: Omit<RecordFields, 'prev_hash'>,
): Promise<ConsentRecordRow> {
  const last = await trx
    .selectFrom('consent_records')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const full: RecordFields = { ...fields, prev_hash: last?.hash ?? GENESIS_HASH };
  return trx
    .insertInto('consent_records')
    .values({ ...full, hash: recordHash(full) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Sets the current state of one subject and purpose. A back-dated record (an import of consents collected
 * earlier) does not overwrite a state that is newer than it; it stays in the ledger's history.
 */
async function setState(
  trx: Transaction<Database>,
  row: ConsentStateRow,
  options: { keepNewer: boolean },
): Promise<void> {
  await trx
    .insertInto('consent_state')
    .values(row)
    .onConflict((oc) => {
      const update = oc.columns(['subject_id', 'purpose']).doUpdateSet({
        status: row.status,
        since: row.since,
        policy_version: row.policy_version,
        expires_at: row.expires_at,
        record_id: row.record_id,
      });
      return options.keepNewer
        ? update.where((eb) => eb(eb.ref('excluded.since'), '>=', eb.ref('consent_state.since')))
        : update;
    })
    .execute();
}

type GateRow = Pick<ConsentStateRow, 'purpose' | 'status' | 'expires_at'>;

/** The state rows the gate must mirror once the transaction commits, read inside it. */
function stateOf(trx: Transaction<Database>, subjectId: string, purposes: string[]): Promise<GateRow[]> {
  return trx
    .selectFrom('consent_state')
    .select(['purpose', 'status', 'expires_at'])
    .where('subject_id', '=', subjectId)
    .where('purpose', 'in', purposes)
    .execute();
}

/** How far ahead of our clock a CMP's `collectedAt` may be (clock skew), so that it cannot extend a grant. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * Records a consent: decodes and checks the TC string (a 422 says why it is refused), resolves the decisions,
 * appends the chained record, updates the current state and writes the audit entry — all in one transaction —
 * then updates the gate.
 */
export async function recordConsent(
  db: Kysely<Database>,
  input: ConsentInput,
  actor: Actor,
  ctx: LedgerContext,
): Promise<ConsentRecord> {
  let tcf: DecodedTcString | undefined;
  if (input.tcString !== undefined) {
    try {
      tcf = decodeTcString(input.tcString);
    } catch (error) {
      const detail = error instanceof TcStringError ? error.message : 'the TC string cannot be decoded';
      throw new InvalidInputError(detail, [{ path: '/tcString', message: detail }]);
    }
    const violation = tcfPolicyViolation(tcf);
    if (violation) {
      throw new InvalidInputError(`the TC string breaks TCF policy: ${violation}`, [
        { path: '/tcString', message: violation },
      ]);
    }
  }
  const decisions = resolveDecisions(input, tcf, ctx.purposes);
  const recordedAt = ctx.now.toISOString();
  const collectedAt = input.collectedAt ? new Date(input.collectedAt).toISOString() : recordedAt;
  if (Date.parse(collectedAt) > ctx.now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new InvalidInputError('collectedAt is in the future', [
      { path: '/collectedAt', message: 'must not be later than now' },
    ]);
  }
  const anyGranted = Object.values(decisions).includes('granted');
  const expiresAt = anyGranted ? new Date(Date.parse(collectedAt) + ctx.expiryMs).toISOString() : null;
  const { record: row, state } = await db.transaction().execute(async (trx) => {
    const record = await appendRecord(trx, {
      subject_id: input.subjectId,
      kind: 'consent',
      decisions: JSON.stringify(decisions),
      policy_version: input.policyVersion,
      notice_id: input.noticeId ?? null,
      source: input.source,
      method: input.method ?? null,
      locale: input.locale ?? null,
      tc_string: input.tcString ?? null,
      tcf: tcf ? JSON.stringify(tcf) : null,
      gcm: input.gcm ? JSON.stringify(input.gcm) : null,
      collected_at: collectedAt,
      recorded_at: recordedAt,
      expires_at: expiresAt,
      proof_ip_hash: input.proof?.ip ? hashIdentifier(ctx.secret, 'ip', input.proof.ip) : null,
      proof_user_agent: input.proof?.userAgent ?? null,
      proof_page_url: withoutQuery(input.proof?.pageUrl),
      actor: actor.name,
    });
    for (const [purpose, decision] of Object.entries(decisions)) {
      await setState(
        trx,
        {
          subject_id: input.subjectId,
          purpose,
          status: decision,
          since: collectedAt,
          policy_version: input.policyVersion,
          expires_at: decision === 'granted' ? expiresAt : null,
          record_id: record.id,
        },
        { keepNewer: input.source === 'import' },
      );
    }
    await appendAudit(
      trx,
      actor,
      {
        action: 'consent.record',
        target: `subject:${input.subjectId}`,
        detail: { recordId: record.id, decisions, source: input.source },
      },
      ctx.now,
    );
    await announceConsentChange(trx, input.subjectId);
    return { record, state: await stateOf(trx, input.subjectId, Object.keys(decisions)) };
  });
  // Only now that the transaction has committed does the gate see the change.
  for (const s of state) ctx.gate.apply(input.subjectId, s.purpose, s.status, s.expires_at);
  return toRecord(row);
}

/** Withdraws the named purposes (or all) in one record, as easily as consent was given (Art. 7(3)). */
export async function withdrawConsent(
  db: Kysely<Database>,
  subjectId: string,
  purposes: string[] | 'all',
  actor: Actor,
  ctx: LedgerContext,
): Promise<ConsentRecord> {
  const names = ctx.purposes.map((p) => p.name);
  const chosen = purposes === 'all' ? names : purposes;
  const unknown = chosen.filter((p) => !names.includes(p));
  if (unknown.length > 0) {
    throw new InvalidInputError(`unknown purpose(s): ${unknown.join(', ')}`, [
      { path: '/purposes', message: `expected some of ${names.join(', ')}` },
    ]);
  }
  const now = ctx.now.toISOString();
  const decisions = Object.fromEntries(chosen.map((p) => [p, 'denied' as const]));
  const { record: row, state } = await db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('consent_state')
      .select('policy_version')
      .where('subject_id', '=', subjectId)
      .orderBy('since', 'desc')
      .executeTakeFirst();
    const policyVersion = current?.policy_version ?? 'unknown';
    const record = await appendRecord(trx, {
      subject_id: subjectId,
      kind: 'withdrawal',
      decisions: JSON.stringify(decisions),
      policy_version: policyVersion,
      notice_id: null,
      source: 'api',
      method: null,
      locale: null,
      tc_string: null,
      tcf: null,
      gcm: null,
      collected_at: now,
      recorded_at: now,
      expires_at: null,
      proof_ip_hash: null,
      proof_user_agent: null,
      proof_page_url: null,
      actor: actor.name,
    });
    for (const purpose of chosen) {
      await setState(
        trx,
        {
          subject_id: subjectId,
          purpose,
          status: 'withdrawn',
          since: now,
          policy_version: policyVersion,
          expires_at: null,
          record_id: record.id,
        },
        { keepNewer: false },
      );
    }
    await appendAudit(
      trx,
      actor,
      {
        action: 'consent.withdraw',
        target: `subject:${subjectId}`,
        detail: { recordId: record.id, purposes: chosen },
      },
      ctx.now,
    );
    await announceConsentChange(trx, subjectId);
    return { record, state: await stateOf(trx, subjectId, chosen) };
  });
  for (const s of state) ctx.gate.apply(subjectId, s.purpose, s.status, s.expires_at);
  return toRecord(row);
}

/** The current state per purpose, with expiry applied: an expired grant reads as `expired`. */
export async function currentConsents(db: Kysely<Database>, subjectId: string, now: Date) {
  const rows = await db.selectFrom('consent_state').selectAll().where('subject_id', '=', subjectId).execute();
  return Object.fromEntries(
    rows.map((r) => [
      r.purpose,
      {
        status:
          r.status === 'granted' && r.expires_at !== null && r.expires_at <= now.toISOString()
            ? 'expired'
            : r.status,
        since: r.since,
        policyVersion: r.policy_version,
        expiresAt: r.expires_at,
        recordId: r.record_id,
      },
    ]),
  );
}

export async function consentHistory(db: Kysely<Database>, subjectId: string): Promise<ConsentRecord[]> {
  const rows = await db
    .selectFrom('consent_records')
    .selectAll()
    .where('subject_id', '=', subjectId)
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toRecord);
}

/** Subjects with a grant that expires before `until` (or has expired): whom the CMP should ask again. */
export async function expiringConsents(db: Kysely<Database>, until: Date, limit: number) {
  return db
    .selectFrom('consent_state')
    .select(['subject_id as subjectId', 'purpose', 'expires_at as expiresAt'])
    .where('status', '=', 'granted')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<', until.toISOString())
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/** Streams every record recorded in [from, to), oldest first, in pages. */
export async function* exportRecords(
  db: Kysely<Database>,
  from: Date,
  to: Date,
): AsyncGenerator<ConsentRecord> {
  let afterId = 0;
  for (;;) {
    const rows = await db
      .selectFrom('consent_records')
      .selectAll()
      .where('id', '>', afterId)
      .where('recorded_at', '>=', from.toISOString())
      .where('recorded_at', '<', to.toISOString())
      .orderBy('id')
      .limit(500)
      .execute();
    for (const row of rows) yield toRecord(row);
    const last = rows.at(-1);
    if (!last || rows.length < 500) return;
    afterId = last.id;
  }
}

/**
 * Recomputes the ledger's chain; reports the first record whose hash or link is wrong. A record pseudonymised
 * by an erasure keeps its link, and its redaction must name an erasure or retention run on record.
 */
export async function verifyConsentChain(
  db: Kysely<Database>,
): Promise<
  { ok: true; checked: number; redacted: number } | { ok: false; checked: number; brokenAtId: number }
> {
  let prev = GENESIS_HASH;
  let checked = 0;
  let redacted = 0;
  let afterId = 0;
  const isRecorded = redactionChecker(db);
  for (;;) {
    const rows = await db
      .selectFrom('consent_records')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const row of rows) {
      const { id, hash, redacted_by, ...fields } = row;
      if (fields.prev_hash !== prev) return { ok: false, checked, brokenAtId: id };
      if (redacted_by !== null) {
        if (!(await isRecorded(redacted_by))) return { ok: false, checked, brokenAtId: id };
        redacted += 1;
      } else if (recordHash(fields) !== hash) return { ok: false, checked, brokenAtId: id };
      prev = hash;
      checked += 1;
      afterId = id;
    }
    if (rows.length < 1000) return { ok: true, checked, redacted };
  }
}
