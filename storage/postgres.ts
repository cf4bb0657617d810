// PostgreSQL through Kysely's Postgres dialect and a `pg` pool: the database Vigil's replicas share
// (`DATABASE_URL`). The schema is the SQLite one, made by the same migrations (`storage/dialect.ts` holds what
// differs).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Database } from './schema.ts';

const INT8 = 20;
const JSONB = 3802;

/**
 * 64-bit integers (identity ids, event keys, counts) as numbers, as SQLite gives them: every one Vigil stores
 * fits in 53 bits (event keys are made to). The driver's default is text. `jsonb` columns as their JSON text,
 * as SQLite's text columns give it (the driver's default parses them): the app parses where it reads.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (format === 'binary') return pg.types.getTypeParser(oid, format);
  if (oid === INT8) return (value: string) => Number(value);
  if (oid === JSONB) return (value: string) => value;
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

/**
 * A Kysely instance on PostgreSQL; with `schema`, every pooled connection works in that schema (created when
 * missing), so that tests and installations can share one database without sharing tables.
 */
export async function openPostgres(
  connectionString: string,
  options: { schema?: string; max?: number } = {},
): Promise<Kysely<Database>> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
    throw new Error(`expected a lower-case schema name, got "${options.schema}"`);
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    types: { getTypeParser },
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A pooled connection that breaks (the server restarts, the network drops) is an 'error' event of the pool
  // when idle, and of the connection itself when checked out between two queries: unheard, either would end
  // the process. The pool drops that connection and the next query opens another; a query that fails
  // meanwhile says so to its caller.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  if (options.schema) await pool.query(`create schema if not exists ${options.schema}`);
  // The cursor lets `.stream()` read a large result in chunks (the consent gate's load), as on SQLite.
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
}

/** Vigil's database on PostgreSQL, beside the SQLite `Storage`. */
export interface PostgresStorage {
  kind: 'postgres';
  db: Kysely<Database>;
  /** Closes the pool; safe to call twice. */
  close(): Promise<void>;
}

/** Opens a pool on PostgreSQL (in `schema` when given, created when missing). */
export async function openPostgresStorage(
  connectionString: string,
  options: { schema?: string; max?: number } = {},
): Promise<PostgresStorage> {
  const db = await openPostgres(connectionString, options);
  let closed = false;
  return {
    kind: 'postgres',
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
