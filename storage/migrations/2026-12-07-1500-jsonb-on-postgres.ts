import { type Kysely, sql } from 'kysely';
import { isPostgres } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

/**
 * The JSON columns PostgreSQL keeps as `jsonb` (parsed, indexable, queryable with `->>` and `@>`). Not here, and
 * `text` on purpose: the audit trail's and the consent ledger's columns, whose hash chains are computed over
 * the stored text, and the webhook outbox's payload, which is signed byte for byte — `jsonb` normalises key
 * order and spacing and would break both. SQLite keeps every JSON column as text.
 */
export const JSONB_COLUMNS: readonly (readonly [table: string, column: string])[] = [
  ['server_logs', 'attrs'],
  ['faro_apps', 'origins'],
  ['browser_telemetry', 'detail'],
  ['browser_telemetry', 'meta'],
  ['fraud_models', 'features'],
  ['fraud_models', 'forest'],
  ['fraud_scores', 'reasons'],
  ['fraud_scores', 'features'],
  ['privacy_requests', 'receipt'],
  ['job_runs', 'summary'],
  ['payout_events', 'detail'],
  ['route_minute_batches', 'latency'],
];

export async function up(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, column] of JSONB_COLUMNS)
    await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type jsonb
      using ${sql.ref(column)}::jsonb`.execute(db);
  // The data map finds hash tokens in these columns as in text ones: in the JSON text PostgreSQL prints.
  await sql`create or replace function instr(haystack jsonb, needle text) returns integer
    language sql immutable parallel safe as 'select strpos(haystack::text, needle)'`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop function if exists instr(jsonb, text)`.execute(db);
  for (const [table, column] of JSONB_COLUMNS)
    await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type text
      using ${sql.ref(column)}::text`.execute(db);
}
