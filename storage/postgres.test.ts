// The migrations on a real PostgreSQL (127.0.0.1:5432, database `test`, trust auth), each run in a schema of its
// own that is dropped after: every table and column SQLite gets, PostgreSQL gets too, and the decisions, the
// consent ledger and privacy requests run their queries there unchanged. Skipped, saying why, where no PostgreSQL answers.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentGate, loadGatePolicy } from '../consent/gate.ts';
import { currentConsents, recordConsent, verifyConsentChain, withdrawConsent } from '../consent/ledger.ts';
import { loadPurposes } from '../consent/purposes.ts';
import { createRegistry } from '../http/metrics.ts';
import { acquireLease } from '../jobs/scheduler.ts';
import {
  actOnPrivacyRequest,
  createPrivacyRequest,
  listPrivacyRequests,
  privacyRequestBacklog,
} from '../retention/privacy-requests.ts';
import { decide } from '../review/decisions.ts';
import { insertPayoutInReview } from '../test/affiliate-installation.ts';
import { tempDataDir } from '../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../test/postgres.ts';
import { migrateToLatest, openSqlite } from './index.ts';
import { JSONB_COLUMNS } from './migrations/2026-12-07-1500-jsonb-on-postgres.ts';
import { openPostgres } from './postgres.ts';

const URL = POSTGRES_URL;
const SCHEMA = testSchema('vigil_test');

const unreachable = await postgresUnreachable();
if (unreachable) console.warn(`PostgreSQL tests skipped: ${URL} does not answer (${unreachable})`);

describe.skipIf(unreachable !== undefined)('the schema on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof openPostgres>>;
  beforeAll(async () => {
    db = await openPostgres(URL, { schema: SCHEMA, max: 2 });
  });
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(db);
    await db.destroy();
  });

  it('is made by the same migrations, with every table and column SQLite has', async () => {
    const applied = await migrateToLatest(db);
    expect(applied.length).toBeGreaterThan(10);
    const pgColumns = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns where table_schema = ${SCHEMA}`.execute(
      db,
    );
    const onPostgres = new Set(pgColumns.rows.map((r) => `${r.table_name}.${r.column_name}`));

    const dir = tempDataDir();
    const storage = openSqlite(dir);
    try {
      await migrateToLatest(storage.db);
      const tables = storage.sqlite
        .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
        .all() as { name: string }[];
      const onSqlite = new Set<string>();
      for (const { name } of tables) {
        // FTS5's own tables: PostgreSQL indexes the same text with a tsvector column instead.
        if (name.startsWith('server_logs_fts')) continue;
        for (const column of storage.sqlite.prepare(`pragma table_info(${name})`).all() as { name: string }[])
          onSqlite.add(`${name}.${column.name}`);
      }
      expect([...onSqlite].filter((c) => !onPostgres.has(c)).sort()).toEqual([]);
      expect([...onPostgres].filter((c) => !onSqlite.has(c)).sort()).toEqual(['server_logs.message_tsv']);
    } finally {
      await storage.close();
    }
  });

  it('keeps JSON as jsonb but where a hash chain or a signature covers the text, and hands the app text', async () => {
    const types = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = ${SCHEMA} and data_type = 'jsonb'`.execute(db);
    expect(types.rows.map((r) => [r.table_name, r.column_name]).sort()).toEqual(
      JSONB_COLUMNS.map(([table, column]) => [table, column]).sort(),
    );
    // Chained and signed text must come back byte for byte: jsonb would reorder keys and respace.
    const chained = await sql<{ data_type: string }>`
      select data_type from information_schema.columns where table_schema = ${SCHEMA}
      and (table_name, column_name) in (('audit_log', 'detail'), ('consent_records', 'decisions'),
        ('webhook_deliveries', 'payload'))`.execute(db);
    expect(chained.rows.map((r) => r.data_type)).toEqual(['text', 'text', 'text']);

    await db
      .insertInto('job_runs')
      .values({
        job: 'jsonb-probe',
        started_at: '2026-12-07T10:00:00Z',
        finished_at: null,
        status: 'succeeded',
        summary: JSON.stringify({ zeta: 1, alpha: ['tok:abc', { n: 1.5 }] }),
        error: null,
      })
      .execute();
    const read = await db
      .selectFrom('job_runs')
      .select('summary')
      .where('job', '=', 'jsonb-probe')
      .executeTakeFirstOrThrow();
    expect(typeof read.summary).toBe('string');
    expect(JSON.parse(read.summary as string)).toEqual({ zeta: 1, alpha: ['tok:abc', { n: 1.5 }] });
    const queried = await sql<{ first: string; found: number }>`
      select summary->'alpha'->>0 as first, instr(summary, 'tok:abc') as found from job_runs
      where job = 'jsonb-probe' and summary @> '{"zeta": 1}'`.execute(db);
    expect(queried.rows).toEqual([{ first: 'tok:abc', found: expect.any(Number) }]);
    expect(queried.rows[0]?.found).toBeGreaterThan(0);
  });

  it('finds server logs by word through the tsvector index', async () => {
    await db
      .insertInto('server_logs')
      .values([
        {
          ts: '2026-12-07T10:00:00Z',
          level: 'error',
          severity: 17,
          service: 'checkout',
          message: 'payment provider timeout',
          route: null,
          method: null,
          status: null,
          duration_ms: null,
          trace_id: null,
          attrs: null,
          received_at: '2026-12-07T10:00:01Z',
        },
        {
          ts: '2026-12-07T10:00:02Z',
          level: 'info',
          severity: 9,
          service: 'checkout',
          message: 'order placed',
          route: null,
          method: null,
          status: null,
          duration_ms: null,
          trace_id: null,
          attrs: null,
          received_at: '2026-12-07T10:00:03Z',
        },
      ])
      .execute();
    const found = await sql<{ message: string }>`
      select message from server_logs where message_tsv @@ plainto_tsquery('simple', ${'timeout'})`.execute(
      db,
    );
    expect(found.rows).toEqual([{ message: 'payment provider timeout' }]);
    const ids = await db.selectFrom('server_logs').select('id').orderBy('id').execute();
    expect(ids.map((r) => Number(r.id))).toEqual([1, 2]);
  });

  it('runs an analyst decision unchanged: review row, history, hash-chained audit entry', async () => {
    await insertPayoutInReview(db, {
      id: 'p-1',
      status: 'flagged',
      at: new Date('2026-12-07T10:00:00Z'),
      periodStart: '2026-11-01T00:00:00Z',
      periodEnd: '2026-12-01T00:00:00Z',
      amount: 120.5,
    });
    const view = await decide(
      db,
      { payoutId: 'p-1', decision: 'reject', note: 'sales two seconds after their clicks' },
      { name: 'analyst-1', role: 'analyst' },
      { secret: Buffer.alloc(32, 1), now: new Date('2026-12-07T11:00:00Z') },
    );
    expect(view).toMatchObject({
      status: 'rejected',
      amount: 120.5,
      review: { status: 'rejected', decidedBy: 'analyst-1' },
    });
    expect(view.history).toMatchObject([
      { kind: 'decided', actor: 'analyst-1', note: 'sales two seconds after their clicks' },
    ]);
    await expect(
      decide(
        db,
        { payoutId: 'p-1', decision: 'approve' },
        { name: 'analyst-2', role: 'analyst' },
        { secret: Buffer.alloc(32, 1), now: new Date() },
      ),
    ).rejects.toThrow(/already rejected by analyst-1/);
    const audit = await db.selectFrom('audit_log').select(['action', 'target']).execute();
    expect(audit).toEqual([{ action: 'payout.reject', target: 'payout:p-1' }]);
  });

  it('keeps the consent ledger (hash chain included) and privacy requests unchanged', async () => {
    const purposes = loadPurposes();
    const gate = new ConsentGate(
      purposes,
      loadGatePolicy(purposes),
      createRegistry({ processMetrics: false }),
    );
    const ledger = {
      purposes,
      gate,
      secret: Buffer.alloc(32, 1),
      expiryMs: 86_400_000 * 395,
      now: new Date(),
    };
    const dpo = { name: 'dpo-1', role: 'dpo' };
    await recordConsent(
      db,
      {
        subjectId: 'u-1',
        decisions: { analytics: 'granted', marketing: 'granted' },
        policyVersion: '2026-11',
        source: 'banner',
        method: 'save',
      },
      dpo,
      ledger,
    );
    await withdrawConsent(db, 'u-1', ['marketing'], dpo, ledger);
    const current = await currentConsents(db, 'u-1', new Date());
    expect(current).toMatchObject({ analytics: { status: 'granted' }, marketing: { status: 'withdrawn' } });
    expect(await verifyConsentChain(db)).toMatchObject({ ok: true, checked: 2 });

    const request = await createPrivacyRequest(
      db,
      Buffer.alloc(32, 1),
      { type: 'erasure', subjectId: 'u-1', identifiers: { email: 'ann@example.org' } },
      dpo,
      new Date(),
    );
    await actOnPrivacyRequest(db, request.id, { action: 'approve' }, dpo, new Date());
    const listed = await listPrivacyRequests(db, { limit: 10 }, new Date());
    expect(listed).toMatchObject([
      { id: request.id, status: 'approved', identifiers: { email: true, ip: false } },
    ]);
    expect(await privacyRequestBacklog(db, new Date())).toMatchObject([
      { type: 'erasure', open: 1, overdue: 0 },
    ]);
  });

  it('gives a job lease to one replica at a time, and to another once it has expired', async () => {
    const now = new Date('2026-12-07T12:00:00Z');
    const later = new Date(now.getTime() + 61_000);
    const takes = await Promise.all(
      ['replica-a', 'replica-b', 'replica-c'].map((holder) =>
        acquireLease(db, 'retention.purge', holder, now, 60_000),
      ),
    );
    expect(takes.filter(Boolean)).toHaveLength(1);
    const holder = ['replica-a', 'replica-b', 'replica-c'][takes.indexOf(true)] as string;
    const other = holder === 'replica-a' ? 'replica-b' : 'replica-a';
    expect(await acquireLease(db, 'retention.purge', other, now, 60_000)).toBe(false);
    expect(await acquireLease(db, 'retention.purge', holder, now, 60_000)).toBe(true);
    expect(await acquireLease(db, 'retention.purge', other, later, 60_000)).toBe(true);
  });
});
