import type { Generated } from 'kysely';

/** Where a payout stands with the analysts: no decision yet, or the last one. */
export const REVIEW_STATUSES = ['pending', 'approved', 'rejected', 'escalated'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

/** One row per payout an analyst has touched: its review status, the decision's note and who decided. */
export interface PayoutReviewsTable {
  payout_id: string;
  status: ReviewStatus;
  /** The decision's note, scrubbed of e-mail addresses, IPs and card-like numbers. */
  note: string | null;
  decided_by: string | null;
  decided_at: string | null;
  assigned_to: string | null;
  assigned_at: string | null;
  updated_at: string;
}

/** What happened to a payout, in order: scores, assignments, decisions, payment. */
export const PAYOUT_EVENT_KINDS = ['scored', 'assigned', 'decided', 'paid'] as const;
export type PayoutEventKind = (typeof PAYOUT_EVENT_KINDS)[number];

export interface PayoutEventsTable {
  id: Generated<number>;
  payout_id: string;
  at: string;
  kind: PayoutEventKind;
  /** The key name of the person, or `fraud-detector` / the ingest key for scores and payments. */
  actor: string;
  /** JSON: the decision, the risk and decision of a score, the assignee. */
  detail: string;
  /** A decision's note, scrubbed; erased with the affiliate. */
  note: string | null;
}

/** A signed-in analyst's session of the review UI; the cookie carries a token whose keyed hash is the id. */
export interface ReviewSessionsTable {
  id: string;
  /** The API key that signed in: the session ends when it is revoked. */
  key_id: string;
  key_name: string;
  role: string;
  /** The token every form of the session carries. */
  csrf: string;
  created_at: string;
  last_seen_at: string;
  /** Ends after this much inactivity, refreshed by each request. */
  expires_at: string;
}

/** The installation's webhook: where decisions are posted, and the secret that signs them. */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  signing_key: string;
  created_at: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The outbox: each event to post, written in the transaction that caused it, until it is delivered. */
export interface WebhookDeliveriesTable {
  /** The event id, sent with it for deduplication. */
  id: string;
  event_type: string;
  /** The payout the event is about: erasure finds an affiliate's events through it. */
  payout_id: string | null;
  /** The JSON body, exactly as it is signed and sent. */
  payload: string;
  created_at: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  last_error: string | null;
  delivered_at: string | null;
}
