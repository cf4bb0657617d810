import { type Kysely, sql } from 'kysely';
import { floatType } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('affiliates')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('payout_account_hash', 'text')
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('affiliates_subject').on('affiliates').column('subject_id').execute();
  await db.schema
    .createIndex('affiliates_payout_account')
    .on('affiliates')
    .column('payout_account_hash')
    .execute();

  await db.schema
    .createTable('affiliate_coupons')
    .addColumn('code', 'text', (col) => col.primaryKey())
    .addColumn('affiliate_id', 'text', (col) => col.notNull().references('affiliates.id').onDelete('cascade'))
    .execute();
  await db.schema
    .createIndex('affiliate_coupons_affiliate')
    .on('affiliate_coupons')
    .column('affiliate_id')
    .execute();

  await db.schema
    .createTable('affiliate_events')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('ts', 'text', (col) => col.notNull())
    .addColumn('affiliate_id', 'text')
    .addColumn('campaign_id', 'text')
    .addColumn('click_id', 'text')
    .addColumn('order_id', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('amount', floatType(db))
    .addColumn('currency', 'text')
    .addColumn('coupon_code', 'text')
    .addColumn('ip_hash', 'text')
    .addColumn('ip_prefix', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('referrer_host', 'text')
    .addColumn('landing_path', 'text')
    .addColumn('utm_source', 'text')
    .addColumn('utm_medium', 'text')
    .addColumn('utm_campaign', 'text')
    .addColumn('utm_term', 'text')
    .addColumn('utm_content', 'text')
    .addColumn('country', 'text')
    .addColumn('new_customer', 'integer')
    .addColumn('reason', 'text')
    .addColumn('received_at', 'text', (col) => col.notNull())
    .execute();
  // Every index costs each insert of the hottest table: the lookups by order, click and subject only ever
  // want rows that have one, so those indexes are partial (a click has no order, most clicks no subject).
  // Retention walks the table in rowid order, which is arrival order, so it needs no index of its own.
  await db.schema
    .createIndex('affiliate_events_affiliate_ts')
    .on('affiliate_events')
    .columns(['affiliate_id', 'ts'])
    .execute();
  for (const column of ['order_id', 'click_id', 'subject_id']) {
    await db.schema
      .createIndex(`affiliate_events_${column}`)
      .on('affiliate_events')
      .column(column)
      .where(sql.ref(column), 'is not', null)
      .execute();
  }

  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('affiliate_id', 'text', (col) => col.notNull().references('affiliates.id'))
    .addColumn('period_start', 'text', (col) => col.notNull())
    .addColumn('period_end', 'text', (col) => col.notNull())
    .addColumn('amount', floatType(db), (col) => col.notNull())
    .addColumn('currency', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('payouts_affiliate')
    .on('payouts')
    .columns(['affiliate_id', 'period_start'])
    .execute();
  await db.schema.createIndex('payouts_status').on('payouts').column('status').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('payouts').execute();
  await db.schema.dropTable('affiliate_events').execute();
  await db.schema.dropTable('affiliate_coupons').execute();
  await db.schema.dropTable('affiliates').execute();
}
