import type { Generated, Selectable } from 'kysely';

/** Where a privacy request stands; the open ones still need work, the rest are final. */
export const OPEN_PRIVACY_REQUEST_STATUSES = ['pending', 'approved', 'in_processing', 'error'] as const;
export const PRIVACY_REQUEST_STATUSES = [
  ...OPEN_PRIVACY_REQUEST_STATUSES,
  'complete',
  'denied',
  'canceled',
] as const;

/** A data subject's access or erasure request and where it stands. Identifiers are hashed; cleared after erasure. */
export interface PrivacyRequestsTable {
  id: string;
  type: 'access' | 'erasure';
  status: (typeof PRIVACY_REQUEST_STATUSES)[number];
  subject_id: string | null;
  email_hash: string | null;
  ip_hash: string | null;
  note: string | null;
  received_at: string;
  due_at: string;
  extended_months: Generated<number>;
  /** Why it was denied, canceled, extended or failed. */
  status_reason: string | null;
  attempts: Generated<number>;
  /** JSON: the erasure's receipt (counts per store, no personal data). */
  receipt: string | null;
  created_by: string;
  updated_at: string;
  completed_at: string | null;
}

/** One store's part in processing a request. */
export interface PrivacyRequestStepsTable {
  id: Generated<number>;
  request_id: string;
  store: string;
  category: string;
  action: string;
  rows: number;
  status: 'done' | 'failed';
  error: string | null;
  at: string;
}

/** The lease a process holds while it runs a scheduled job. */
export interface JobLeasesTable {
  job: string;
  holder: string;
  expires_at: string;
  /** The schedule tick (its time, to the second) the lease last ran for; null for runs asked for directly. */
  tick: string | null;
}

/** One run of a scheduled job (or of a retention run asked for through the API). */
export interface JobRunsTable {
  id: Generated<number>;
  job: string;
  started_at: string;
  finished_at: string | null;
  status: 'running' | 'succeeded' | 'failed';
  /** JSON summary of what the run did. */
  summary: string | null;
  error: string | null;
}

export type PrivacyRequestRow = Selectable<PrivacyRequestsTable>;
export type PrivacyRequestStepRow = Selectable<PrivacyRequestStepsTable>;
