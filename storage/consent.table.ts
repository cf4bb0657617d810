import type { Generated, Selectable } from 'kysely';

/**
 * One consent event of a subject (given, changed, withdrawn): immutable, hash-chained, with its proof. The IP
 * of the proof is kept only as a keyed hash, the page URL without its query.
 */
export interface ConsentRecordsTable {
  id: Generated<number>;
  subject_id: string;
  kind: 'consent' | 'withdrawal';
  /** JSON `{purpose: "granted" | "denied"}`. */
  decisions: string;
  policy_version: string;
  notice_id: string | null;
  source: string;
  method: string | null;
  locale: string | null;
  tc_string: string | null;
  /** The decoded TC string (JSON), kept beside the string as read at the time. */
  tcf: string | null;
  gcm: string | null;
  collected_at: string;
  recorded_at: string;
  expires_at: string | null;
  proof_ip_hash: string | null;
  proof_user_agent: string | null;
  proof_page_url: string | null;
  actor: string;
  prev_hash: string;
  hash: string;
  /** Set when the record's personal fields were pseudonymised: the privacy request or retention run that did it. */
  redacted_by: string | null;
}

/** The current decision per subject and purpose. */
export interface ConsentStateTable {
  subject_id: string;
  purpose: string;
  status: 'granted' | 'denied' | 'withdrawn';
  since: string;
  policy_version: string;
  expires_at: string | null;
  record_id: number;
}

export type ConsentRecordRow = Selectable<ConsentRecordsTable>;
export type ConsentStateRow = Selectable<ConsentStateTable>;
