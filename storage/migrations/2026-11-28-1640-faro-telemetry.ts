import { type Kysely, sql } from 'kysely';
import { serialPrimaryKey } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('faro_apps')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('key_hash', 'text', (col) => col.notNull())
    .addColumn('origins', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createIndex('faro_apps_live_name')
    .on('faro_apps')
    .column('name')
    .unique()
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();

  // One table for every kind of browser item (log, exception, measurement, event, span): they share their
  // meta, and readers ask by app, kind and time, or by subject for privacy requests.
  await db.schema
    .createTable('browser_telemetry')
    .$call(serialPrimaryKey(db, 'id'))
    .addColumn('app_id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('ts', 'text', (col) => col.notNull())
    .addColumn('session_id', 'text')
    .addColumn('user_id', 'text')
    .addColumn('page_url', 'text')
    .addColumn('page_route', 'text')
    .addColumn('name', 'text')
    .addColumn('level', 'text')
    .addColumn('message', 'text')
    .addColumn('trace_id', 'text')
    .addColumn('span_id', 'text')
    .addColumn('detail', 'text')
    .addColumn('meta', 'text')
    .addColumn('received_at', 'text', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('browser_telemetry_app_kind_ts')
    .on('browser_telemetry')
    .columns(['app_id', 'kind', 'ts'])
    .execute();
  await db.schema
    .createIndex('browser_telemetry_user')
    .on('browser_telemetry')
    .column('user_id')
    .where(sql.ref('user_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('faro_idempotency')
    .addColumn('app_id', 'text', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('faro_idempotency_pk', ['app_id', 'key'])
    .execute();
  await db.schema
    .createIndex('faro_idempotency_created')
    .on('faro_idempotency')
    .column('created_at')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('faro_idempotency').execute();
  await db.schema.dropTable('browser_telemetry').execute();
  await db.schema.dropTable('faro_apps').execute();
}
