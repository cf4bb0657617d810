// What differs between the two databases Vigil runs on, for the migrations: SQLite (embedded, the default) and
// PostgreSQL. Everything else is written once, through Kysely, in SQL both run.
import { type ColumnDataType, type CreateTableBuilder, type Kysely, PostgresAdapter } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: used by migrations, which see the schema as it was then
type AnyDb = Kysely<any>;

export function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** An integer primary key the database numbers: SQLite's rowid alias, PostgreSQL's identity column. */
export function serialPrimaryKey(db: AnyDb, name: string) {
  // biome-ignore lint/suspicious/noExplicitAny: any table under construction
  return <T extends CreateTableBuilder<any, any>>(table: T): T =>
    (isPostgres(db)
      ? table.addColumn(name, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement())) as T;
}

/** A floating-point column: SQLite's REAL is 8 bytes; PostgreSQL's `real` would be 4, so it is `double precision`. */
export function floatType(db: AnyDb): ColumnDataType {
  return isPostgres(db) ? 'double precision' : 'real';
}
