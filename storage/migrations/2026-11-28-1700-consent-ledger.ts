import { type Kysely, sql } from 'kysely';
import { serialPrimaryKey } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // Append-only: every consent, change and withdrawal is a new record, chained by hash to the one before.
  await db.schema
    .createTable('consent_records')
    .$call(serialPrimaryKey(db, 'id'))
    .addColumn('subject_id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('decisions', 'text', (col) => col.notNull())
    .addColumn('policy_version', 'text', (col) => col.notNull())
    .addColumn('notice_id', 'text')
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('method', 'text')
    .addColumn('locale', 'text')
    .addColumn('tc_string', 'text')
    .addColumn('tcf', 'text')
    .addColumn('gcm', 'text')
    .addColumn('collected_at', 'text', (col) => col.notNull())
    .addColumn('recorded_at', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('proof_ip_hash', 'text')
    .addColumn('proof_user_agent', 'text')
    .addColumn('proof_page_url', 'text')
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull().unique())
    .execute();
  await db.schema
    .createIndex('consent_records_subject')
    .on('consent_records')
    .columns(['subject_id', 'id'])
    .execute();
  await db.schema
    .createIndex('consent_records_recorded')
    .on('consent_records')
    .column('recorded_at')
    .execute();

  // The current state per subject and purpose, updated in the same transaction as each record.
  await db.schema
    .createTable('consent_state')
    .addColumn('subject_id', 'text', (col) => col.notNull())
    .addColumn('purpose', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('since', 'text', (col) => col.notNull())
    .addColumn('policy_version', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('record_id', 'integer', (col) => col.notNull().references('consent_records.id'))
    .addPrimaryKeyConstraint('consent_state_pk', ['subject_id', 'purpose'])
    .execute();
  await db.schema
    .createIndex('consent_state_expiring')
    .on('consent_state')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'granted')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('consent_state').execute();
  await db.schema.dropTable('consent_records').execute();
}
