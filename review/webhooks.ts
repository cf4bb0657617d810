// The installation's webhook and its outbox: each payout decision becomes an event row in the transaction that
// made the decision, so nothing decided is lost to a crash; `webhook-delivery.ts` posts the rows.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../storage/index.ts';

/** The one webhook of an installation. */
export interface WebhookEndpoint {
  url: string;
  /** The HMAC-SHA256 key that signs every delivery. */
  secret: string;
}

const ENDPOINT_ID = 'default';

export async function webhookEndpoint(db: Kysely<Database>): Promise<WebhookEndpoint | undefined> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select(['url', 'signing_key'])
    .where('id', '=', ENDPOINT_ID)
    .executeTakeFirst();
  return row && { url: row.url, secret: row.signing_key };
}

/** Sets (or replaces) the webhook URL with a fresh signing secret, which is returned once. */
export async function setWebhookEndpoint(
  db: Kysely<Database>,
  url: string,
  now: Date,
): Promise<WebhookEndpoint> {
  const endpoint = { url, secret: `whsec_${randomBytes(24).toString('base64url')}` };
  const row = { url, signing_key: endpoint.secret, created_at: now.toISOString() };
  await db
    .insertInto('webhook_endpoints')
    .values({ id: ENDPOINT_ID, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
  return endpoint;
}

export async function removeWebhookEndpoint(db: Kysely<Database>): Promise<boolean> {
  const result = await db.deleteFrom('webhook_endpoints').where('id', '=', ENDPOINT_ID).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** What the marketplace receives for each decision on a payout. */
export interface DecisionEvent {
  id: string;
  type: 'payout.decided';
  createdAt: string;
  data: {
    payoutId: string;
    affiliateId: string;
    decision: 'approve' | 'reject' | 'escalate';
    /** The payout's review status after the decision. */
    status: 'approved' | 'rejected' | 'escalated';
    note: string | null;
    decidedBy: string;
    decidedAt: string;
  };
}

/**
 * Puts the event in the outbox, inside the caller's transaction, when a webhook is set; answers whether it did.
 * The body stored is the one signed and sent, byte for byte.
 */
export async function enqueueDecisionEvent(
  trx: Transaction<Database>,
  data: DecisionEvent['data'],
  now: Date,
): Promise<DecisionEvent | undefined> {
  const endpoint = await trx
    .selectFrom('webhook_endpoints')
    .select('id')
    .where('id', '=', ENDPOINT_ID)
    .executeTakeFirst();
  if (!endpoint) return undefined;
  const event: DecisionEvent = {
    id: `evt_${randomUUID()}`,
    type: 'payout.decided',
    createdAt: now.toISOString(),
    data,
  };
  await trx
    .insertInto('webhook_deliveries')
    .values({
      id: event.id,
      event_type: event.type,
      payout_id: data.payoutId,
      payload: JSON.stringify(event),
      created_at: now.toISOString(),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now.toISOString(),
      last_attempt_at: null,
      last_error: null,
      delivered_at: null,
    })
    .execute();
  return event;
}
