import type { Generated, Selectable } from 'kysely';

/** The append-only audit trail; each row's `hash` covers its fields and the previous row's hash. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  role: string;
  action: string;
  target: string;
  detail: string;
  prev_hash: string;
  hash: string;
  /** Set when the entry's personal fields were pseudonymised: the privacy request or retention run that did it. */
  redacted_by: string | null;
}

export type AuditLogRow = Selectable<AuditLogTable>;
