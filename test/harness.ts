import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../api/app.ts';
import type { AppDeps } from '../api/context.ts';
import { createDeps } from '../api/deps.ts';
import { createApiKey, revokeApiKey } from '../http/api-keys.ts';
import { createRegistry } from '../http/metrics.ts';
import { ROLES, type Role } from '../http/roles.ts';
import type { IngestConfig } from '../ingest/config.ts';
import type { AffiliateEvent } from '../ingest/events/schemas.ts';
import { type EventRowBatch, eventRowBatch } from '../ingest/events/store.ts';
import { migrateToLatest, openSqlite, type SqliteStorage } from '../storage/index.ts';

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

/** An app on its own freshly migrated SQLite file, with one live key per role and one revoked key. */
export interface TestContext {
  app: ReturnType<typeof createApp>;
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
  const storage = openSqlite(dataDir);
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
    storage,
    deps,
    dataDir,
    registry,
    keys,
    revokedKey,
    auth: (role) => ({ authorization: `Bearer ${keys[role]}` }),
    async close() {
      await deps.writer.close();
      await storage.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON request headers with a role's key. */
export function jsonHeaders(ctx: TestContext, role: Role): Record<string, string> {
  return { ...ctx.auth(role), 'content-type': 'application/json' };
}
