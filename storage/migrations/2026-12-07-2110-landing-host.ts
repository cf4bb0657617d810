import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * Clicks keep the host of their landing URL (the shop's own site), so that a click opened from a page of that
 * site — its cart or checkout — can be told from one that brought a visitor in. Rows stored before have none.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('affiliate_events').addColumn('landing_host', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('affiliate_events').dropColumn('landing_host').execute();
}
