import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * On PostgreSQL, several replicas write affiliate events at once: the database itself must refuse a second row
 * with an event id (`insert … on conflict (id) do nothing`). On SQLite one process writes, and its write path
 * looks ids up before inserting, so the table stays without that index there.
 */
export async function up(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema
    .createIndex('affiliate_events_id_unique')
    .on('affiliate_events')
    .column('id')
    .unique()
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  await db.schema.dropIndex('affiliate_events_id_unique').execute();
}
