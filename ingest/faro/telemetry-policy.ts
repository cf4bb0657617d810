import { createHmac } from 'node:crypto';
import type { ConsentGate, Purpose } from '../../consent/index.ts';
import { DecodedTcStringCache, subjectOfReference } from '../../consent/index.ts';
import type { FaroPayload } from './schemas.ts';

/**
 * What happens to browser telemetry that names no signed-in user: `consent` keeps it only with a consent
 * reference the gate can verify; `exempt` keeps it scrubbed and unlinked beyond the visit (sites relying on
 * an audience-measurement exemption, such as the CNIL's).
 */
export type AnonymousTelemetryMode = 'consent' | 'exempt';

/** Why a payload was kept or dropped: a closed set, for metric labels. */
export type TelemetryReason =
  | 'consent'
  | 'consent_reference'
  | 'tc_string'
  | 'exempt'
  | 'legitimate_interest'
  | 'no_consent_reference'
  | 'bad_consent_reference'
  | 'bad_tc_string'
  | 'tc_string_denied'
  | 'denied'
  | 'withdrawn'
  | 'expired'
  | 'no_record'
  | 'no_subject';

/** The verdict on one payload. */
export interface TelemetryVerdict {
  action: 'keep' | 'drop';
  reason: TelemetryReason;
  /** The subject the rows are stored under (`user_id`): the signed-in user, or the reference's subject. */
  subjectId: string | null;
  /** How the session id is stored: as sent, as a pseudonym valid for one visit, or not at all. */
  session: 'keep' | 'visit' | 'none';
}

/** Where a consent banner puts its consent in the Faro session (`faro.api.setSession({ attributes })`). */
const CONSENT_REFERENCE_ATTRIBUTE = 'consentReference';
const TC_STRING_ATTRIBUTE = 'tcString';

function sessionAttribute(payload: FaroPayload, name: string): string | undefined {
  const value = payload.meta?.session?.attributes?.[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Decides, per payload, whether browser telemetry is kept and how it is linked (consent/gate-policy.yaml). */
export class TelemetryPolicy {
  readonly #tcStrings = new DecodedTcStringCache(1000);

  constructor(
    private readonly gate: ConsentGate,
    private readonly purposes: Purpose[],
    private readonly secret: Buffer,
    private readonly mode: AnonymousTelemetryMode,
  ) {}

  decide(payload: FaroPayload, nowMs: number): TelemetryVerdict {
    const userId = payload.meta?.user?.id;
    if (userId !== undefined && userId !== '') return this.#forSubject(userId, 'consent', nowMs);
    const purpose = this.gate.requiredPurpose('browser_telemetry');
    if (purpose === undefined) {
      // The policy processes browser telemetry without consent: kept as sent, counted as the gate counts.
      this.gate.decide('browser_telemetry', undefined, nowMs);
      return { action: 'keep', reason: 'legitimate_interest', subjectId: null, session: 'keep' };
    }
    let fallback: TelemetryReason = 'no_consent_reference';
    const reference = sessionAttribute(payload, CONSENT_REFERENCE_ATTRIBUTE);
    if (reference !== undefined) {
      const subjectId = subjectOfReference(this.secret, reference);
      // The reference names who consented; the gate says whether that consent still holds.
      if (subjectId !== undefined) return this.#forSubject(subjectId, 'consent_reference', nowMs);
      fallback = 'bad_consent_reference';
    }
    const tcString = sessionAttribute(payload, TC_STRING_ATTRIBUTE);
    if (tcString !== undefined) {
      const decisions = this.#tcStrings.decisions(tcString, this.purposes);
      if (decisions === undefined) fallback = 'bad_tc_string';
      else if (decisions[purpose] === 'granted') {
        return { action: 'keep', reason: 'tc_string', subjectId: null, session: 'keep' };
      } else fallback = 'tc_string_denied';
    }
    if (this.mode === 'exempt')
      return { action: 'keep', reason: 'exempt', subjectId: null, session: 'visit' };
    return { action: 'drop', reason: fallback, subjectId: null, session: 'none' };
  }

  #forSubject(subjectId: string, keptAs: TelemetryReason, nowMs: number): TelemetryVerdict {
    const decision = this.gate.decide('browser_telemetry', subjectId, nowMs);
    const reason = decision.reason === 'consent' ? keptAs : decision.reason;
    if (decision.action === 'keep') return { action: 'keep', reason, subjectId, session: 'keep' };
    if (decision.action === 'minimise') return { action: 'keep', reason, subjectId: null, session: 'none' };
    return { action: 'drop', reason, subjectId: null, session: 'none' };
  }
}

/**
 * The session id as stored under the audience-measurement exemption: a keyed hash of the session and the UTC
 * day, so the rows of one visit still belong together, while no visit can be linked to another or to a person.
 */
export function visitPseudonym(secret: Buffer, sessionId: string, receivedAt: string): string {
  const day = receivedAt.slice(0, 10);
  return `visit:${createHmac('sha256', secret).update(`visit:${day}:${sessionId}`).digest('hex').slice(0, 32)}`;
}
