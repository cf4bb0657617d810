import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * SQLite's `instr(text, text)` (the position of a substring, 0 when absent) on PostgreSQL, where it is
 * `strpos`: the data map finds a subject's hash tokens in free text with it, in SQL both databases then run.
 */
export async function up(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create or replace function instr(haystack text, needle text) returns integer
    language sql immutable parallel safe as 'select strpos(haystack, needle)'`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop function if exists instr(text, text)`.execute(db);
}
