// The database the e2e tests' server processes (and CLI runs) use, as `VIGIL_TEST_DATABASE` names it: the SQLite
// file of their data directory by default; under `postgres`, a schema of the PostgreSQL of `test/postgres.ts`
// named after that data directory (`DATABASE_URL`, with the secret every replica shares), created before the
// first process starts and dropped after the test file. A test prepares the database with `openServerStorage`,
// starts processes on the same data directory, and reads back what they stored, on either database alike.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openPostgresStorage, openSqlite, type Storage } from '../storage/index.ts';
import { POSTGRES_URL, urlInSchema } from './postgres.ts';

/** Whether server processes run on PostgreSQL in this run. */
export const SERVERS_ON_POSTGRES = process.env.VIGIL_TEST_DATABASE === 'postgres';

/** The secret of every server process on PostgreSQL (a replica cannot keep its own there). */
const SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e';

const made = new Set<string>();

function schemaOf(dataDir: string): string {
  return `vigil_e2e_${createHash('sha256').update(dataDir).digest('hex').slice(0, 20)}`;
}

async function ensureSchema(schema: string): Promise<void> {
  if (made.has(schema)) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`create schema if not exists ${schema}`);
  } finally {
    await client.end();
  }
  made.add(schema);
}

/**
 * What a process on `dataDir` is told about its database: nothing on SQLite (the file is in the data
 * directory); on PostgreSQL its schema's URL and the shared secret, the schema made first.
 */
export async function databaseEnv(dataDir: string): Promise<Record<string, string>> {
  if (!SERVERS_ON_POSTGRES) return {};
  const schema = schemaOf(dataDir);
  await ensureSchema(schema);
  return { DATABASE_URL: urlInSchema(schema), VIGIL_SECRET: SECRET };
}

/** The database processes on `dataDir` use, opened by the test itself (to prepare it, or read it back). */
export async function openServerStorage(dataDir: string): Promise<Storage> {
  if (!SERVERS_ON_POSTGRES) return openSqlite(dataDir);
  const schema = schemaOf(dataDir);
  await ensureSchema(schema);
  return openPostgresStorage(POSTGRES_URL, { schema, max: 2 });
}

afterAll(async () => {
  if (made.size === 0) return;
  const storage = await openPostgresStorage(POSTGRES_URL, { max: 1 });
  try {
    for (const schema of made) await sql.raw(`drop schema if exists ${schema} cascade`).execute(storage.db);
  } finally {
    made.clear();
    await storage.close();
  }
});
