import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * Affiliates the programme allows to run search ads (price comparison sites' product ads, say): their paid
 * clicks are allowed traffic, not evidence of bidding on the shop's brand. 1 allowed, 0 not (every affiliate
 * stored before).
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .alterTable('affiliates')
    .addColumn('search_ads_allowed', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('affiliates').dropColumn('search_ads_allowed').execute();
}
