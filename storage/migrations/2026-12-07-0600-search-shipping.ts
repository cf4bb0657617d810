import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * How far server logs and browser telemetry have been written to OpenSearch: per kind, the highest row id
 * shipped with every id below it. The rows themselves are the outbox: nothing is copied, and a row waits in the
 * database until OpenSearch has it.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('search_shipping')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('shipped_id', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('search_shipping').execute();
}
