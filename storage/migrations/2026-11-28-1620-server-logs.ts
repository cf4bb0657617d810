import { type Kysely, sql } from 'kysely';
import { floatType, isPostgres, serialPrimaryKey } from '../dialect.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations describe the schema as it was then, not the app's types
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('server_logs')
    .$call(serialPrimaryKey(db, 'id'))
    .addColumn('ts', 'text', (col) => col.notNull())
    .addColumn('level', 'text', (col) => col.notNull())
    .addColumn('severity', 'integer', (col) => col.notNull())
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('message', 'text', (col) => col.notNull())
    .addColumn('route', 'text')
    .addColumn('method', 'text')
    .addColumn('status', 'integer')
    .addColumn('duration_ms', floatType(db))
    .addColumn('trace_id', 'text')
    .addColumn('attrs', 'text')
    .addColumn('received_at', 'text', (col) => col.notNull())
    .execute();
  // Searches are newest first by id. An index on `service` alone holds its rows in id order (the rowid ends
  // every index), so a service's newest page is read without sorting all of that service's rows.
  await db.schema.createIndex('server_logs_service').on('server_logs').column('service').execute();
  await db.schema.createIndex('server_logs_ts').on('server_logs').column('ts').execute();

  if (isPostgres(db)) {
    // PostgreSQL: a generated tsvector of `message` with a GIN index, in place of FTS5. Deleting the row takes
    // its terms with it; VACUUM makes the space reusable.
    await sql`alter table server_logs add column message_tsv tsvector
      generated always as (to_tsvector('simple', message)) stored`.execute(db);
    await sql`create index server_logs_message_tsv on server_logs using gin (message_tsv)`.execute(db);
    return;
  }
  // Full text over `message`, as an external-content FTS5 table kept in step by triggers: the text is stored
  // once, in `server_logs`, and the index holds only its terms. FTS5 normally leaves a deleted row's terms in
  // old index segments until a merge; `secure-delete` removes them at once, so an erasure (a plain `delete`
  // from `server_logs`, with the database's `secure_delete` pragma zeroing the freed pages) leaves no bytes of
  // the message behind in the table or the index.
  await sql`create virtual table server_logs_fts using fts5(message, content='server_logs', content_rowid='id')`.execute(
    db,
  );
  await sql`insert into server_logs_fts(server_logs_fts, rank) values ('secure-delete', 1)`.execute(db);
  await sql`create trigger server_logs_ai after insert on server_logs begin
      insert into server_logs_fts(rowid, message) values (new.id, new.message);
    end`.execute(db);
  await sql`create trigger server_logs_ad after delete on server_logs begin
      insert into server_logs_fts(server_logs_fts, rowid, message) values ('delete', old.id, old.message);
    end`.execute(db);
  await sql`create trigger server_logs_au after update of message on server_logs begin
      insert into server_logs_fts(server_logs_fts, rowid, message) values ('delete', old.id, old.message);
      insert into server_logs_fts(rowid, message) values (new.id, new.message);
    end`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (!isPostgres(db)) await sql`drop table server_logs_fts`.execute(db);
  await db.schema.dropTable('server_logs').execute();
}
