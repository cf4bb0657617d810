// Affiliate events, affiliates and payout requests into PostgreSQL, where several replicas write at once: each
// batch in one transaction, and the database's unique indexes (not a lookup before the insert) decide what is
// new, so an event id or a coupon code sent through two replicas at the same moment is stored once.
import { type Insertable, type Kysely, sql } from 'kysely';
import type { AffiliateEventsTable } from '../../storage/affiliate-events.table.ts';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { ConflictError, type Database, InvalidInputError } from '../../storage/index.ts';
import type { Affiliate, PayoutRequest } from './schemas.ts';
import { type EventCounts, type EventRowBatch, keyedRow, type PayoutWrite, samePayout } from './store.ts';

/** Every column of `affiliate_events` and its PostgreSQL type, for the arrays an insert unnests. */
const EVENT_COLUMNS = {
  id: 'text',
  type: 'text',
  ts: 'text',
  affiliate_id: 'text',
  campaign_id: 'text',
  click_id: 'text',
  order_id: 'text',
  subject_id: 'text',
  amount: 'float8',
  currency: 'text',
  coupon_code: 'text',
  ip_hash: 'text',
  ip_prefix: 'text',
  user_agent: 'text',
  referrer_host: 'text',
  landing_path: 'text',
  utm_source: 'text',
  utm_medium: 'text',
  utm_campaign: 'text',
  utm_term: 'text',
  utm_content: 'text',
  ad_click: 'text',
  landing_host: 'text',
  country: 'text',
  new_customer: 'int4',
  reason: 'text',
  received_at: 'text',
  id_key: 'int8',
  click_key: 'int8',
  order_key: 'int8',
  subject_key: 'int8',
  ip_key: 'int8',
} as const satisfies Partial<Record<keyof Insertable<AffiliateEventsTable>, string>>;
type EventColumn = keyof typeof EVENT_COLUMNS;
const COLUMN_NAMES = Object.keys(EVENT_COLUMNS) as EventColumn[];

/**
 * Inserts the rows, skipping ids already stored or repeated in the batch, in one transaction; answers per type
 * how many were new and how many repeated an id. The rows carry their IP hashes already. One statement per
 * batch whatever its size: each column goes as one array parameter, which PostgreSQL unnests into rows.
 */
export async function insertEventRowsPostgres(
  db: Kysely<Database>,
  batch: EventRowBatch,
): Promise<EventCounts> {
  const counts: EventCounts = {
    click: { accepted: 0, duplicates: 0 },
    conversion: { accepted: 0, duplicates: 0 },
    refund: { accepted: 0, duplicates: 0 },
  };
  const rows = batch.values.map((values, i) => {
    const type = batch.types[i];
    if (type === undefined) throw new Error('a row without its type');
    return keyedRow(type, values) as Record<EventColumn, unknown>;
  });
  const arrays = COLUMN_NAMES.map(
    (column) => sql`${rows.map((row) => row[column] ?? null)}::${sql.raw(EVENT_COLUMNS[column])}[]`,
  );
  const { rows: stored } = await sql<{ id: string }>`
    insert into affiliate_events (${sql.join(COLUMN_NAMES.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(arrays)})
    on conflict (id) do nothing returning id`.execute(db);
  const inserted = new Set(stored.map((r) => r.id));
  rows.forEach((row, i) => {
    const type = batch.types[i] as keyof EventCounts;
    // The first row with an id that went in is the one stored; any other with that id repeated it.
    if (inserted.delete(row.id as string)) counts[type].accepted += 1;
    else counts[type].duplicates += 1;
  });
  return counts;
}

/**
 * `upsertAffiliates` for PostgreSQL, in one transaction: upserts each affiliate and replaces its coupon codes.
 * A code another affiliate holds — already, or given by another replica in a transaction that commits first —
 * is a 409 for the whole batch, and nothing of it is stored.
 */
export async function upsertAffiliatesPostgres(
  db: Kysely<Database>,
  affiliates: Affiliate[],
  secret: Buffer,
  now: string,
): Promise<number> {
  await db.transaction().execute(async (trx) => {
    for (const [index, a] of affiliates.entries()) {
      const row = {
        id: a.id,
        name: a.name,
        subject_id: a.subjectId ?? null,
        payout_account_hash:
          a.payoutAccount === undefined ? null : hashIdentifier(secret, 'account', a.payoutAccount),
        search_ads_allowed: a.searchAdsAllowed ? 1 : 0,
        created_at: now,
        updated_at: now,
      };
      await trx
        .insertInto('affiliates')
        .values(row)
        .onConflict((conflict) =>
          conflict.column('id').doUpdateSet({
            name: row.name,
            subject_id: row.subject_id,
            payout_account_hash: row.payout_account_hash,
            search_ads_allowed: row.search_ads_allowed,
            updated_at: now,
          }),
        )
        .execute();
      await trx.deleteFrom('affiliate_coupons').where('affiliate_id', '=', a.id).execute();
      const codes = [...new Set(a.couponCodes.map((c) => c.toUpperCase()))];
      if (codes.length === 0) continue;
      const added = await trx
        .insertInto('affiliate_coupons')
        .values(codes.map((code) => ({ code, affiliate_id: a.id })))
        .onConflict((conflict) => conflict.column('code').doNothing())
        .returning('code')
        .execute();
      if (added.length === codes.length) continue;
      const taken = new Set(added.map((r) => r.code));
      const code = codes.find((c) => !taken.has(c)) as string;
      const holder = await trx
        .selectFrom('affiliate_coupons')
        .select('affiliate_id')
        .where('code', '=', code)
        .executeTakeFirst();
      throw new ConflictError(`coupon code ${code} belongs to another affiliate`, [
        { path: `/${index}/couponCodes`, message: `${code} belongs to affiliate ${holder?.affiliate_id}` },
      ]);
    }
  });
  return affiliates.length;
}

/**
 * `insertPayout` for PostgreSQL: stores a payout request as `pending`, idempotent on id across replicas (the
 * same request again answers the stored one; different details under a stored id are a 409); an unknown
 * affiliate is a 422.
 */
export async function insertPayoutPostgres(
  db: Kysely<Database>,
  request: PayoutRequest,
  now: string,
): Promise<PayoutWrite> {
  const affiliate = await db
    .selectFrom('affiliates')
    .select('id')
    .where('id', '=', request.affiliateId)
    .executeTakeFirst();
  if (affiliate === undefined) {
    throw new InvalidInputError('the payout names an affiliate Vigil does not know', [
      {
        path: '/affiliateId',
        message: `no affiliate ${request.affiliateId}; send it to /v1/affiliates first`,
      },
    ]);
  }
  const created = await db
    .insertInto('payouts')
    .values({
      id: request.id,
      affiliate_id: request.affiliateId,
      period_start: request.periodStart,
      period_end: request.periodEnd,
      amount: request.amount,
      currency: request.currency,
      status: 'pending',
      created_at: now,
      updated_at: now,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  const payout = await db
    .selectFrom('payouts')
    .selectAll()
    .where('id', '=', request.id)
    .executeTakeFirstOrThrow();
  if (created === undefined && !samePayout(payout, request))
    throw new ConflictError(`payout ${request.id} exists with different details`);
  return { created: created !== undefined, payout };
}
