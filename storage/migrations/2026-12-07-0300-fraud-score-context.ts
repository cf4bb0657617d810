import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * A score says what it was compared with: the peer group of its evidence, and why the model's part is absent
 * when it is.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('fraud_scores').addColumn('peers', 'text').execute();
  await db.schema.alterTable('fraud_scores').addColumn('model_note', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('fraud_scores').dropColumn('model_note').execute();
  await db.schema.alterTable('fraud_scores').dropColumn('peers').execute();
}
