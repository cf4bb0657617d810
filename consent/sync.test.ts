// Two replicas on one real PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's own, dropped
// after): each has its own pool and its own consent gate, as two Vigil processes would. What one records or
// withdraws, the other's gate holds through LISTEN/NOTIFY, through the periodic resync when a notification
// is lost, and after its listening connection was cut. Skipped, saying why, where no PostgreSQL answers.
import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../http/logger.ts';
import { createRegistry } from '../http/metrics.ts';
import { type Database, migrateToLatest, openSqlite } from '../storage/index.ts';
import { openPostgres } from '../storage/postgres.ts';
import { tempDataDir } from '../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../test/postgres.ts';
import { ConsentGate, loadGatePolicy } from './gate.ts';
import { type LedgerContext, recordConsent, withdrawConsent } from './ledger.ts';
import { loadPurposes } from './purposes.ts';
import { announceConsentChange, type ConsentSync, SYNC_APPLICATION_NAME, startConsentSync } from './sync.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(`consent sync tests on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

const SCHEMA = testSchema('vigil_consent_sync');
const purposes = loadPurposes();
const dpo = { name: 'dpo-1', role: 'dpo' };
const logger = createLogger('silent');

function replica(db: Kysely<Database>) {
  const gate = new ConsentGate(purposes, loadGatePolicy(purposes), createRegistry({ processMetrics: false }));
  const ledger: LedgerContext = {
    purposes,
    gate,
    secret: Buffer.alloc(32, 1),
    expiryMs: 86_400_000 * 395,
    now: new Date(),
  };
  return { db, gate, ledger };
}

/** Waits until `check` holds, up to `ms`; answers how long it took. */
async function eventually(check: () => boolean, ms = 5000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

const grant = (r: ReturnType<typeof replica>, subjectId: string) =>
  recordConsent(
    r.db,
    {
      subjectId,
      decisions: { analytics: 'granted', marketing: 'granted' },
      policyVersion: '2026-11',
      source: 'banner',
      method: 'accept_all',
    },
    dpo,
    { ...r.ledger, now: new Date() },
  );

describe.skipIf(unreachable !== undefined)('consent across two replicas on PostgreSQL', () => {
  let dbA: Kysely<Database>;
  let dbB: Kysely<Database>;
  let syncs: ConsentSync[] = [];
  beforeAll(async () => {
    dbA = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    dbB = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    await migrateToLatest(dbA);
  });
  afterEach(async () => {
    await Promise.all(syncs.map((s) => s.stop()));
    syncs = [];
  });
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(dbA);
    await dbA.destroy();
    await dbB.destroy();
  });

  async function synced(db: Kysely<Database>, options: { resyncMs: number; reconnectMs?: number }) {
    const r = replica(db);
    await r.gate.load(db);
    const sync = startConsentSync({
      db,
      gate: r.gate,
      logger,
      listen: { connectionString: POSTGRES_URL, schema: SCHEMA },
      ...options,
    });
    syncs.push(sync);
    await sync.ready;
    return { ...r, sync };
  }

  it('a withdrawal through one replica holds on the other at once, by notification (no resync due)', async () => {
    const a = replica(dbA);
    const b = await synced(dbB, { resyncMs: 3_600_000 });
    await grant(a, 'u-notify');
    await eventually(() => b.gate.granted('u-notify', 'analytics', Date.now()));
    await withdrawConsent(a.db, 'u-notify', ['analytics'], dpo, { ...a.ledger, now: new Date() });
    const took = await eventually(() => !b.gate.granted('u-notify', 'analytics', Date.now()));
    expect(took).toBeLessThan(2000);
    expect(b.gate.granted('u-notify', 'marketing', Date.now())).toBe(true);
    expect(b.gate.decide('affiliate_click', 'u-notify', Date.now())).toBeDefined();
  });

  it('a change nobody announced (a lost notification) reaches the other replica at the next resync', async () => {
    const a = replica(dbA);
    await grant(a, 'u-silent');
    const b = await synced(dbB, { resyncMs: 200 });
    expect(b.gate.granted('u-silent', 'analytics', Date.now())).toBe(true);
    await dbA
      .updateTable('consent_state')
      .set({ status: 'withdrawn', expires_at: null })
      .where('subject_id', '=', 'u-silent')
      .execute();
    await eventually(() => !b.gate.granted('u-silent', 'analytics', Date.now()), 3000);
  });

  it('after its listening connection was cut, a replica reconnects and catches up on what it missed', async () => {
    const a = replica(dbA);
    await grant(a, 'u-cut');
    const b = await synced(dbB, { resyncMs: 3_600_000, reconnectMs: 300 });
    expect(b.gate.granted('u-cut', 'analytics', Date.now())).toBe(true);
    const cut = await sql<{ ok: boolean }>`
      select pg_terminate_backend(pid) as ok from pg_stat_activity
      where application_name = ${SYNC_APPLICATION_NAME} and datname = current_database()`.execute(dbA);
    expect(cut.rows.length).toBeGreaterThan(0);
    // Made while nobody listens: the notification is lost.
    await withdrawConsent(a.db, 'u-cut', 'all', dpo, { ...a.ledger, now: new Date() });
    await eventually(() => !b.gate.granted('u-cut', 'analytics', Date.now()), 5000);
    expect(b.gate.granted('u-cut', 'marketing', Date.now())).toBe(false);
    // Listening again: the next change arrives by notification.
    await grant(a, 'u-cut-2');
    await eventually(() => b.gate.granted('u-cut-2', 'analytics', Date.now()), 5000);
  });

  it('an erasure announced in its transaction makes the other replica forget the subject, and only it', async () => {
    const a = replica(dbA);
    await grant(a, 'u-erased');
    await grant(a, 'u-kept');
    const b = await synced(dbB, { resyncMs: 3_600_000 });
    const known = b.gate.size;
    await dbA.transaction().execute(async (trx) => {
      await trx.deleteFrom('consent_state').where('subject_id', '=', 'u-erased').execute();
      await announceConsentChange(trx, 'u-erased');
    });
    await eventually(() => b.gate.size === known - 1);
    expect(b.gate.granted('u-erased', 'analytics', Date.now())).toBe(false);
    expect(b.gate.granted('u-kept', 'analytics', Date.now())).toBe(true);
  });
});

describe('consent sync on SQLite', () => {
  it('announces nothing: one process owns the database', async () => {
    const storage = openSqlite(tempDataDir());
    try {
      await migrateToLatest(storage.db);
      await expect(announceConsentChange(storage.db, 'u-1')).resolves.toBeUndefined();
    } finally {
      await storage.close();
    }
  });
});
