// Conditions on JSON columns, in the form each database runs: PostgreSQL keeps them as `jsonb` (see the migration
// `2026-12-07-1500-jsonb-on-postgres`), SQLite as text read through its JSON functions.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { isPostgres } from './dialect.ts';

/**
 * The JSON array in `column` holds an object whose `key` is `value` (a payout's reasons hold one with
 * `code: "SELF_REFERRAL"`): containment (`@>`) on PostgreSQL, `json_each` on SQLite.
 */
export function jsonArrayHasEntry(
  // biome-ignore lint/suspicious/noExplicitAny: any database, any transaction
  db: Kysely<any>,
  column: string,
  key: string,
  value: string,
): RawBuilder<boolean> {
  if (isPostgres(db)) return sql<boolean>`${sql.ref(column)} @> ${JSON.stringify([{ [key]: value }])}::jsonb`;
  return sql<boolean>`exists (select 1 from json_each(${sql.ref(column)}) as entry
    where json_extract(entry.value, ${`$.${key}`}) = ${value})`;
}
