import { type Kysely, sql } from 'kysely';
import { serialPrimaryKey } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // Data subjects' requests. Only the subject id is kept as sent; e-mail and IP only as keyed hashes, and all
  // three are cleared once an erasure completes.
  await db.schema
    .createTable('privacy_requests')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('email_hash', 'text')
    .addColumn('ip_hash', 'text')
    .addColumn('note', 'text')
    .addColumn('received_at', 'text', (col) => col.notNull())
    .addColumn('due_at', 'text', (col) => col.notNull())
    .addColumn('extended_months', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('status_reason', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('receipt', 'text')
    .addColumn('created_by', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull())
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema
    .createIndex('privacy_requests_status')
    .on('privacy_requests')
    .columns(['status', 'due_at'])
    .execute();
  await db.schema
    .createIndex('privacy_requests_subject')
    .on('privacy_requests')
    .column('subject_id')
    .where(sql.ref('subject_id'), 'is not', null)
    .execute();

  // What processing a request did, store by store. Counts and names only: no personal data.
  await db.schema
    .createTable('privacy_request_steps')
    .$call(serialPrimaryKey(db, 'id'))
    .addColumn('request_id', 'text', (col) =>
      col.notNull().references('privacy_requests.id').onDelete('cascade'),
    )
    .addColumn('store', 'text', (col) => col.notNull())
    .addColumn('category', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('rows', 'integer', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('privacy_request_steps_request')
    .on('privacy_request_steps')
    .columns(['request_id', 'id'])
    .execute();

  // One lease per scheduled job: whoever holds an unexpired lease runs the job; other processes skip.
  await db.schema
    .createTable('job_leases')
    .addColumn('job', 'text', (col) => col.primaryKey())
    .addColumn('holder', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('job_runs')
    .$call(serialPrimaryKey(db, 'id'))
    .addColumn('job', 'text', (col) => col.notNull())
    .addColumn('started_at', 'text', (col) => col.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('summary', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('job_runs_job').on('job_runs').columns(['job', 'id']).execute();

  // Chained rows whose personal fields were pseudonymised (erasure or retention) name what did it; their
  // stored hash is then the chain's evidence, as their content can no longer be hashed again.
  await db.schema.alterTable('audit_log').addColumn('redacted_by', 'text').execute();
  await db.schema.alterTable('consent_records').addColumn('redacted_by', 'text').execute();
  // Retention finds expired rows by age. Affiliate events need no index for it (the hottest table, where each
  // index costs every insert): they arrive in received_at order, so the oldest rowids are the expired ones.
  await db.schema.createIndex('browser_telemetry_ts').on('browser_telemetry').column('ts').execute();
  // Erasure finds a subject's anonymous events by the keyed hash of its IP (events naming a subject are found
  // by that subject): without this, a full scan.
  await db.schema
    .createIndex('affiliate_events_ip_hash')
    .on('affiliate_events')
    .column('ip_hash')
    .where(sql.ref('subject_id'), 'is', null)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('affiliate_events_ip_hash').execute();
  await db.schema.dropIndex('browser_telemetry_ts').execute();
  await db.schema.alterTable('consent_records').dropColumn('redacted_by').execute();
  await db.schema.alterTable('audit_log').dropColumn('redacted_by').execute();
  await db.schema.dropTable('job_runs').execute();
  await db.schema.dropTable('job_leases').execute();
  await db.schema.dropTable('privacy_request_steps').execute();
  await db.schema.dropTable('privacy_requests').execute();
}
