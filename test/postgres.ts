// The PostgreSQL the tests use (127.0.0.1:5432, database `test`, trust auth; `VIGIL_TEST_POSTGRES_URL` names
// another), and a schema of its own per test file, dropped after: files running at once never share tables.
import pg from 'pg';

export const POSTGRES_URL = process.env.VIGIL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be used here, or undefined when it answers. */
export async function postgresUnreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema name no other test run uses. */
export function testSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`;
}

/**
 * Rows with their JSON columns parsed, to compare what the two databases keep: PostgreSQL's `jsonb` gives the
 * same value back in its own key order and spacing, SQLite's text the bytes written.
 */
export function withJsonParsed<T extends object>(rows: T[], columns: (keyof T)[]): T[] {
  return rows.map((row) => {
    const copy = { ...row };
    for (const column of columns) {
      const value = copy[column];
      if (typeof value === 'string') copy[column] = JSON.parse(value);
    }
    return copy;
  });
}

/** The test database's URL with every connection working in `schema` (as an installation sets it). */
export function urlInSchema(schema: string): string {
  return `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}
