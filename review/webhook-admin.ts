// What an operator does with the webhook: set or remove it (audited), look at the outbox's deliveries, and send
// events again (the failed ones, or one by its id).
import type { Kysely } from 'kysely';
import {
  type Actor,
  appendAudit,
  type Database,
  InvalidInputError,
  NotFoundError,
} from '../storage/index.ts';
import type { DeliveryStatus } from '../storage/review.table.ts';
import {
  removeWebhookEndpoint,
  setWebhookEndpoint,
  type WebhookEndpoint,
  webhookEndpoint,
} from './webhooks.ts';

const AUDIT_TARGET = 'webhook';

/**
 * An http or https URL with no user or password in it: deliveries are authenticated by their signature, and
 * the URL is shown and audited, so it must carry no credentials.
 */
function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError(`"${value}" is not a URL`, [{ path: '/url', message: 'not a URL' }]);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new InvalidInputError(`the webhook URL must be http or https, not ${url.protocol}`, [
      { path: '/url', message: 'expected an http or https URL' },
    ]);
  if (url.username || url.password)
    throw new InvalidInputError(
      'the webhook URL must not carry a user or password: the signature authenticates',
      [{ path: '/url', message: 'credentials in the URL' }],
    );
  return url.href;
}

/** Sets (or replaces) the webhook, audited; answers it with its new signing secret, which is shown only now. */
export async function setWebhook(
  db: Kysely<Database>,
  url: string,
  actor: Actor,
  now: Date,
): Promise<WebhookEndpoint> {
  const href = webhookUrl(url);
  return db.transaction().execute(async (trx) => {
    const endpoint = await setWebhookEndpoint(trx, href, now);
    await appendAudit(
      trx,
      actor,
      { action: 'webhook.set', target: AUDIT_TARGET, detail: { url: href } },
      now,
    );
    return endpoint;
  });
}

/** Removes the webhook, audited; events stay in the outbox until one is set again. Answers the URL it had. */
export async function removeWebhook(db: Kysely<Database>, actor: Actor, now: Date): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const endpoint = await webhookEndpoint(trx);
    if (!endpoint || !(await removeWebhookEndpoint(trx))) throw new NotFoundError('no webhook is set');
    await appendAudit(
      trx,
      actor,
      { action: 'webhook.remove', target: AUDIT_TARGET, detail: { url: endpoint.url } },
      now,
    );
    return endpoint.url;
  });
}

/** One outbox row as the operator sees it: its state, never its payload. */
export interface DeliveryInfo {
  id: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string;
  createdAt: string;
  deliveredAt: string | null;
}

/** The newest deliveries first, of one status or all. */
export async function listDeliveries(
  db: Kysely<Database>,
  options: { status?: DeliveryStatus; limit: number },
): Promise<DeliveryInfo[]> {
  let query = db
    .selectFrom('webhook_deliveries')
    .select([
      'id',
      'event_type',
      'status',
      'attempts',
      'last_error',
      'next_attempt_at',
      'created_at',
      'delivered_at',
    ])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.status) query = query.where('status', '=', options.status);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  }));
}

/**
 * Makes events due again now, audited: every failed one, or one by its id whatever its status. A delivered
 * event may be sent again too: delivery is at least once, so receivers already deduplicate by the event id.
 * The attempt count is reset to 0, so the backoff starts again from 5 s and the event gets its full number of
 * attempts; the last error, and a delivered event's first delivery time, stay until the next attempt replaces
 * them. Answers how many events it made due.
 */
export async function replayDeliveries(
  db: Kysely<Database>,
  which: { id: string } | { failed: true },
  actor: Actor,
  now: Date,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now.toISOString() });
    query = 'id' in which ? query.where('id', '=', which.id) : query.where('status', '=', 'failed');
    const replayed = Number((await query.executeTakeFirst()).numUpdatedRows);
    if ('id' in which && replayed === 0) throw new NotFoundError(`no webhook event has the id "${which.id}"`);
    const detail = 'id' in which ? { event: which.id } : { failed: true, events: replayed };
    await appendAudit(trx, actor, { action: 'webhook.replay', target: AUDIT_TARGET, detail }, now);
    return replayed;
  });
}
