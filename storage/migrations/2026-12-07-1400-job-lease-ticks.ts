import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * The schedule tick a job's lease last ran for: replicas on one database fire the same tick, and only the
 * first to take the lease for it runs the job; the others see the tick done, even once the run has finished.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('job_leases').addColumn('tick', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('job_leases').dropColumn('tick').execute();
}
