import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createApp } from '../api/app.ts';
import type { AppDeps } from '../api/context.ts';
import { createDeps } from '../api/deps.ts';
import { createApiKey, revokeApiKey } from '../http/api-keys.ts';
import { createRegistry } from '../http/metrics.ts';
import { ROLES, type Role } from '../http/roles.ts';
import type { IngestConfig } from '../ingest/config.ts';
import type { AffiliateEvent } from '../ingest/events/schemas.ts';
import { type EventRowBatch, eventRowBatch } from '../ingest/events/store.ts';
import {
  migrateToLatest,
  openPostgresStorage,
  openSqlite,
  type SqliteStorage,
  type Storage,
} from '../storage/index.ts';
import { POSTGRES_URL } from './postgres.ts';

/**
 * `VIGIL_TEST_DATABASE=postgres` runs the in-process tests on the PostgreSQL of `test/postgres.ts`, each
 * context in a schema of its own, dropped at its close (`npm run test:postgres`); SQLite otherwise.
 */
const TEST_DATABASE = process.env.VIGIL_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
/**
 * Whether the contexts are on SQLite: tests of SQLite's own files, journal and locks run only then (their
 * names say what they look at).
 */
export const ON_SQLITE = TEST_DATABASE === 'sqlite';

let schemas = 0;

/** A fresh database for one test context: an SQLite file, or a schema of its own on PostgreSQL. */
async function testStorage(dataDir: string): Promise<{ storage: Storage; drop(): Promise<void> }> {
  if (TEST_DATABASE === 'sqlite') return { storage: openSqlite(dataDir), drop: async () => {} };
  const schema = `vigil_ctx_${process.pid}_${Date.now().toString(36)}_${(schemas++).toString(36)}`;
  const storage = await openPostgresStorage(POSTGRES_URL, { schema, max: 4 });
  return {
    storage,
    drop: async () => {
      await sql.raw(`drop schema if exists ${schema} cascade`).execute(storage.db);
    },
  };
}

/** Refunds with these ids as rows in insertion form (one fixed order, amount and time), for the write path. */
export function refundRows(ids: string[]): EventRowBatch {
  const refunds = ids.map(
    (id): AffiliateEvent => ({
      id,
      type: 'refund',
      ts: '2026-11-28T10:00:00.000Z',
      orderId: 'o-1',
      amount: 5,
      currency: 'EUR',
    }),
  );
  return eventRowBatch(refunds, Buffer.from('s'.repeat(32)), '2026-11-28T10:00:01.000Z');
}

/** A fresh data directory under the system temp dir. */
export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-test-'));
}

const SETUP_ACTOR = { name: 'test-setup', role: 'operator' };

/** An app on its own freshly migrated database, with one live key per role and one revoked key. */
export interface TestContext {
  app: ReturnType<typeof createApp>;
  /**
   * The SQLite storage. Under `VIGIL_TEST_DATABASE=postgres` it is PostgreSQL's (`db` and `close` only): the
   * files that reach for SQLite's own handle are left out of that run (`vitest.config.ts`).
   */
  storage: SqliteStorage;
  dataDir: string;
  registry: ReturnType<typeof createRegistry>;
  deps: AppDeps;
  keys: Record<Role, string>;
  revokedKey: string;
  /** `Authorization` header for a role's key. */
  auth(role: Role): { authorization: string };
  close(): Promise<void>;
}

export async function createTestContext(
  options: { now?: () => Date; ingest?: Partial<IngestConfig>; logSearch?: AppDeps['logSearch'] } = {},
): Promise<TestContext> {
  const dataDir = tempDataDir();
  const { storage, drop } = await testStorage(dataDir);
  await migrateToLatest(storage.db);
  const registry = createRegistry({ processMetrics: false });
  const clock = options.now ?? (() => new Date());
  const deps = createDeps({
    storage,
    secret: Buffer.from('test-secret-test-secret-test-secret'),
    registry,
    clock,
    ingest: options.ingest,
    ...(options.logSearch ? { logSearch: options.logSearch } : {}),
  });
  await deps.consent.gate.load(storage.db);
  const app = createApp(deps);
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) {
    keys[role] = (await createApiKey(storage.db, { name: `test-${role}`, role }, SETUP_ACTOR, clock())).key;
  }
  const revokedKey = (
    await createApiKey(storage.db, { name: 'test-revoked', role: 'admin' }, SETUP_ACTOR, clock())
  ).key;
  await revokeApiKey(storage.db, 'test-revoked', SETUP_ACTOR, clock());
  return {
    app,
    storage: storage as SqliteStorage,
    deps,
    dataDir,
    registry,
    keys,
    revokedKey,
    auth: (role) => ({ authorization: `Bearer ${keys[role]}` }),
    async close() {
      await deps.writer.close();
      await drop();
      await storage.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON request headers with a role's key. */
export function jsonHeaders(ctx: TestContext, role: Role): Record<string, string> {
  return { ...ctx.auth(role), 'content-type': 'application/json' };
}
