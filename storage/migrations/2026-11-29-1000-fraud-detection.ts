import { type Kysely, sql } from 'kysely';
import { floatType, serialPrimaryKey } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // Fitted models: parameters and population quantiles only, never a training row.
  await db.schema
    .createTable('fraud_models')
    .$call(serialPrimaryKey(db, 'version'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('window_start', 'text', (col) => col.notNull())
    .addColumn('window_end', 'text', (col) => col.notNull())
    .addColumn('training_rows', 'integer', (col) => col.notNull())
    .addColumn('features', 'text', (col) => col.notNull())
    .addColumn('forest', 'text', (col) => col.notNull())
    .execute();

  // One score per payout: what the detector saw and decided, and which model said so.
  await db.schema
    .createTable('fraud_scores')
    .addColumn('payout_id', 'text', (col) => col.primaryKey().references('payouts.id').onDelete('cascade'))
    .addColumn('affiliate_id', 'text', (col) => col.notNull())
    .addColumn('model_version', 'integer')
    .addColumn('risk', floatType(db), (col) => col.notNull())
    .addColumn('model_score', floatType(db))
    .addColumn('level', 'text', (col) => col.notNull())
    .addColumn('decision', 'text', (col) => col.notNull())
    .addColumn('reasons', 'text', (col) => col.notNull())
    .addColumn('features', 'text', (col) => col.notNull())
    .addColumn('scored_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('fraud_scores_decision')
    .on('fraud_scores')
    .columns(['decision', 'risk'])
    .execute();
  // Coupon leakage looks up conversions by an affiliate's codes.
  await db.schema
    .createIndex('affiliate_events_coupon')
    .on('affiliate_events')
    .columns(['coupon_code', 'ts'])
    .where(sql.ref('coupon_code'), 'is not', null)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('affiliate_events_coupon').execute();
  await db.schema.dropTable('fraud_scores').execute();
  await db.schema.dropTable('fraud_models').execute();
}
