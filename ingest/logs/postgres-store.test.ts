// Server logs on a real PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's own, dropped
// after): the same entries stored through the SQLite write path and through the PostgreSQL store come back the
// same from every search (words through the tsvector index there, FTS5 here), scrubbed alike, with the same
// per-minute request figures. Skipped, saying why, where no PostgreSQL answers.
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrateToLatest, openSqlite, type SqliteStorage } from '../../storage/index.ts';
import { openPostgres } from '../../storage/postgres.ts';
import { tempDataDir } from '../../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema, withJsonParsed } from '../../test/postgres.ts';
import type { LogEntry } from './schemas.ts';
import { insertLogs, insertLogsPostgres, type LogQuery, searchLogs } from './store.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(
    `server log store tests on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`,
  );

const SECRET = Buffer.alloc(32, 5);
const RECEIVED = '2026-12-07T10:00:00.000Z';
const MESSAGES = [
  'payment provider timeout after 3 retries',
  'order 4411 confirmed for alice@example.com from 203.0.113.9',
  'GET /v1/orders/4411 answered in 812 ms',
  'cache miss for product sku-88 (warming)',
  'Payment declined: insufficient funds',
];

/** Entry `n`: five services, every level, a request every other entry. */
function entry(n: number): LogEntry {
  const levels = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
  return {
    ts: new Date(Date.UTC(2026, 11, 7, 9) + n * 7000).toISOString(),
    level: levels[n % levels.length] as LogEntry['level'],
    service: `svc-${n % 5}`,
    message: `${MESSAGES[n % MESSAGES.length]} #${n}`,
    ...(n % 2 === 0
      ? {
          route: `/v1/orders/${n}`,
          method: 'GET',
          status: n % 10 === 0 ? 503 : 200,
          durationMs: 5 + (n % 40),
        }
      : {}),
    ...(n % 7 === 0 ? { traceId: 'AB'.repeat(16), attrs: { user: 'alice@example.com', n } } : {}),
  } as LogEntry;
}

const QUERIES: LogQuery[] = [
  { limit: 50 },
  { limit: 20, text: 'payment' },
  { limit: 20, text: 'payment timeout' },
  { limit: 100, text: 'confirmed', service: 'svc-1' },
  { limit: 30, minLevel: 'error' },
  { limit: 25, before: 100, since: '2026-12-07T09:01:00.000Z', until: '2026-12-07T09:20:00.000Z' },
  { limit: 10, text: 'nothing-like-this' },
];

describe.skipIf(unreachable !== undefined)('server logs on PostgreSQL', () => {
  const SCHEMA = testSchema('vigil_log_store');
  const entries = Array.from({ length: 240 }, (_, n) => entry(n));
  let pg: Kysely<Database>;
  let storage: SqliteStorage;
  beforeAll(async () => {
    pg = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    await migrateToLatest(pg);
    storage = openSqlite(tempDataDir());
    await migrateToLatest(storage.db);
    for (let i = 0; i < entries.length; i += 60) {
      const part = entries.slice(i, i + 60);
      storage.sqlite.transaction(() => insertLogs(part, SECRET, RECEIVED)(storage.sqlite))();
      expect(await insertLogsPostgres(pg, part, SECRET, RECEIVED)).toBe(part.length);
    }
  });
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(pg);
    await pg.destroy();
    await storage.close();
  });

  it('answers every search as SQLite does', async () => {
    for (const query of QUERIES) {
      const onSqlite = await searchLogs(storage.db, query);
      expect(withJsonParsed(await searchLogs(pg, query), ['attrs']), JSON.stringify(query)).toEqual(
        withJsonParsed(onSqlite, ['attrs']),
      );
    }
    expect(await searchLogs(pg, { limit: 1000, text: 'payment' })).toHaveLength(96);
  });

  it('stores the scrubbed text only, and the same per-minute request figures', async () => {
    const stored = await pg.selectFrom('server_logs').select(['message', 'attrs']).execute();
    expect(JSON.stringify(stored)).not.toMatch(/alice@example\.com|203\.0\.113\.9/);
    const minutes = (db: Kysely<Database>) =>
      db
        .selectFrom('route_minute_batches')
        .select(['minute', 'service', 'route', 'count', 'errors', 'latency'])
        .orderBy('minute')
        .orderBy('service')
        .orderBy('route')
        .execute();
    const onPostgres = await minutes(pg);
    expect(onPostgres.length).toBeGreaterThan(0);
    expect(withJsonParsed(onPostgres, ['latency'])).toEqual(
      withJsonParsed(await minutes(storage.db), ['latency']),
    );
  });
});
