import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  // The last event journal entry applied to affiliate_events (ingest/write-path/journal.ts), written in the same
  // transaction as the rows it applied, so an entry is applied exactly once across crashes.
  await db.schema
    .createTable('event_journal_applied')
    .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('seq', 'integer', (col) => col.notNull())
    .execute();
  await db.insertInto('event_journal_applied').values({ id: 1, seq: 0 }).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('event_journal_applied').execute();
}
