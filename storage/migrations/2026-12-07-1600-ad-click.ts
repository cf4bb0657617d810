import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * Clicks keep the name of the search-ad click parameter their landing URL carried (`gclid`, `msclkid` …), never
 * its value: whether the affiliate paid for the click. Rows stored before have none (NULL: unknown, not "no").
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('affiliate_events').addColumn('ad_click', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('affiliate_events').dropColumn('ad_click').execute();
}
