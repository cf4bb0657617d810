import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/** Erasure follows a subject's browser sessions to the rows of those sessions that name no user. */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex('browser_telemetry_session')
    .on('browser_telemetry')
    .column('session_id')
    .where(sql.ref('session_id'), 'is not', null)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('browser_telemetry_session').execute();
}
