// Export, erasure and retention on a real PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's
// own, dropped after), against SQLite: a subject is written through the API into SQLite (consent, browser
// telemetry, affiliate events, server logs, a payout), every table is copied into PostgreSQL, and each operation
// runs on both. They must find the same rows, change the same rows, and leave the subject's identifiers and
// their keyed hashes nowhere. Skipped, saying why, where no PostgreSQL answers.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaroApp } from '../ingest/faro/apps.ts';
import { hashIdentifier } from '../storage/identifiers.ts';
import { type Database, migrateToLatest } from '../storage/index.ts';
import { JSONB_COLUMNS } from '../storage/migrations/2026-12-07-1500-jsonb-on-postgres.ts';
import { openPostgresStorage, type PostgresStorage } from '../storage/postgres.ts';
import { createTestContext, jsonHeaders, ON_SQLITE, type TestContext } from '../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema, withJsonParsed } from '../test/postgres.ts';
import { loadRetentionPolicies } from './policies.ts';
import { runRetention } from './purge.ts';
import { eraseSubjectStores, exportSubjectStores, makeErasurePhysical, subjectKeys } from './subject-data.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(`retention tests on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUBJECT = { subjectId: 'subj-pg-quill', email: 'quill+pg@example.org', ip: '198.51.100.61' };
const ORIGIN = 'https://shop.example';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0';

let ctx: TestContext;

async function send(route: string, body: unknown, status: number, headers = jsonHeaders(ctx, 'ingest')) {
  const res = await ctx.app.request(route, { method: 'POST', headers, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(status);
}

/** Every table Vigil made in SQLite, but the full-text index's own. */
async function tables(): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select name from sqlite_master where type = 'table' and name not like 'sqlite_%'
      and name not like 'server_logs_fts%' and name not like 'kysely_%' order by name`.execute(
    ctx.storage.db,
  );
  return rows.map((r) => r.name);
}

/** Which of the subject's identifiers and keyed hashes any row of any table still holds. */
async function traces(db: Kysely<Database>): Promise<string[]> {
  // The subject id as a whole word: `subj-pg-quill-2` is someone else.
  const needles = {
    'subject id': new RegExp(`${SUBJECT.subjectId}(?![\\w-])`),
    email: SUBJECT.email,
    ip: SUBJECT.ip,
    'email hash': hashIdentifier(ctx.deps.secret, 'email', SUBJECT.email),
    'ip hash': hashIdentifier(ctx.deps.secret, 'ip', SUBJECT.ip),
  };
  const found = new Set<string>();
  for (const table of await tables()) {
    const rows = await db
      .selectFrom(table as 'affiliates')
      .selectAll()
      .execute();
    // PostgreSQL's tsvector of a message is the message's words again: `subj-pg-quill-2` gives `subj-pg-quill`.
    const text = JSON.stringify(rows.map(({ message_tsv, ...row }: Record<string, unknown>) => row));
    for (const [what, needle] of Object.entries(needles))
      if (typeof needle === 'string' ? text.includes(needle) : needle.test(text))
        found.add(`${table}: ${what}`);
  }
  return [...found].sort();
}

beforeAll(async () => {
  ctx = await createTestContext();
  await send(
    '/v1/consents',
    {
      subjectId: SUBJECT.subjectId,
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
      proof: { ip: SUBJECT.ip, userAgent: UA, pageUrl: `${ORIGIN}/consent` },
    },
    201,
  );
  const { key } = await createFaroApp(
    ctx.storage.db,
    { name: 'storefront', origins: [ORIGIN] },
    { name: 't', role: 'operator' },
    new Date(),
  );
  const faro = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/faro-payload-sample.json'), 'utf8'));
  faro.meta.user = { id: SUBJECT.subjectId, email: SUBJECT.email };
  const collected = await ctx.app.request(`/collect/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify(faro),
  });
  expect(collected.status).toBe(202);
  await send(
    '/v1/affiliates',
    {
      affiliates: [
        {
          id: 'aff-quill',
          name: 'Quill',
          couponCodes: ['QUILL10'],
          subjectId: SUBJECT.subjectId,
          payoutAccount: 'DE00 1',
        },
        { id: 'aff-other', name: 'Other', couponCodes: ['OTHER5'] },
      ],
    },
    200,
  );
  const ts = new Date().toISOString();
  const old = '2024-01-02T03:04:05.000Z';
  await send(
    '/v1/events',
    {
      events: [
        {
          id: 'e-click',
          type: 'click',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-1',
          ip: SUBJECT.ip,
          userAgent: UA,
          subjectId: SUBJECT.subjectId,
        },
        {
          id: 'e-conv',
          type: 'conversion',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-1',
          orderId: 'o-1',
          subjectId: SUBJECT.subjectId,
          amount: 80,
          currency: 'EUR',
          ip: SUBJECT.ip,
          userAgent: UA,
        },
        {
          id: 'e-anon',
          type: 'click',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-2',
          ip: SUBJECT.ip,
          userAgent: UA,
        },
        {
          id: 'e-other',
          type: 'click',
          ts: old,
          affiliateId: 'aff-quill',
          clickId: 'c-3',
          ip: '203.0.113.41',
          userAgent: UA,
          subjectId: 'someone-else',
        },
      ],
    },
    202,
  );
  await send(
    '/v1/logs',
    [
      {
        ts,
        level: 'info',
        service: 'checkout',
        message: `login ok for ${SUBJECT.email} from ${SUBJECT.ip} as ${SUBJECT.subjectId}`,
        attrs: { userId: SUBJECT.subjectId },
      },
      {
        ts,
        level: 'info',
        service: 'checkout',
        message: `login ok for ${SUBJECT.subjectId}-2 and someone-else`,
      },
    ],
    202,
  );
  await send(
    '/v1/payouts',
    {
      id: 'p-quill-1',
      affiliateId: 'aff-quill',
      periodStart: '2026-10-01T00:00:00Z',
      periodEnd: '2026-11-01T00:00:00Z',
      amount: 312.5,
      currency: 'EUR',
    },
    201,
  );
  await ctx.deps.writer.settle();
}, 60_000);
afterAll(() => ctx.close());

// Against SQLite: under VIGIL_TEST_DATABASE=postgres the API's database is PostgreSQL already.
describe.skipIf(unreachable !== undefined || !ON_SQLITE)(
  'export, erasure and retention on PostgreSQL',
  () => {
    const SCHEMA = testSchema('vigil_retention');
    let pg: PostgresStorage;
    beforeAll(async () => {
      pg = await openPostgresStorage(POSTGRES_URL, { schema: SCHEMA, max: 2 });
      await migrateToLatest(pg.db);
      // Rows as SQLite holds them, table by table in the data map's dependency order (parents first).
      const order = ['affiliates', 'payouts'];
      const all = await tables();
      for (const table of [...order, ...all.filter((t) => !order.includes(t))]) {
        const rows = await ctx.storage.db
          .selectFrom(table as 'affiliates')
          .selectAll()
          .execute();
        if (rows.length > 0)
          await pg.db
            .insertInto(table as 'affiliates')
            .values(rows)
            // Rows the migrations seed (the journal's mark) are there already.
            .onConflict((conflict) => conflict.doNothing())
            .execute();
      }
    }, 60_000);
    afterAll(async () => {
      await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(pg.db);
      await pg.close();
    });

    const keys = () => subjectKeys(ctx.deps.secret, SUBJECT);
    async function exported(db: Kysely<Database>) {
      let text = '';
      for await (const chunk of exportSubjectStores(db, keys(), () => {})) text += chunk;
      return JSON.parse(`{${text}}`) as Record<string, Record<string, unknown>[]>;
    }

    /** Each store's rows with the columns PostgreSQL keeps as jsonb parsed: the same values in its own spacing. */
    function parsedJson(stores: Record<string, Record<string, unknown>[]>) {
      return Object.fromEntries(
        Object.entries(stores).map(([table, rows]) => [
          table,
          withJsonParsed(
            rows,
            JSONB_COLUMNS.filter(([t]) => t === table).map(([, column]) => column),
          ),
        ]),
      );
    }

    it('exports the same rows about the subject as SQLite', async () => {
      const onSqlite = await exported(ctx.storage.db);
      expect(onSqlite.server_logs).toHaveLength(1);
      expect(onSqlite.affiliate_events?.map((r) => r.id).sort()).toEqual(['e-anon', 'e-click', 'e-conv']);
      expect(onSqlite.browser_telemetry?.length).toBeGreaterThan(0);
      expect(parsedJson(await exported(pg.db))).toEqual(parsedJson(onSqlite));
    });

    it('erases the same rows, leaves no identifier or hash behind, and vacuums what it touched', async () => {
      const options = { ref: 'privacy-request:pg-1', pseudonym: 'pseudo-1', batchSize: 2 };
      const onPostgres = await eraseSubjectStores(pg.db, keys(), options);
      expect(onPostgres.filter((o) => o.rows > 0).length).toBeGreaterThan(5);
      expect(onPostgres).toEqual(await eraseSubjectStores(ctx.storage.db, keys(), options));
      expect(await traces(pg.db)).toEqual([]);
      expect(await traces(ctx.storage.db)).toEqual([]);
      // The other subject's rows stay.
      const left = await pg.db.selectFrom('server_logs').select('message').execute();
      expect(left).toEqual([{ message: `login ok for ${SUBJECT.subjectId}-2 and someone-else` }]);

      const physical = await makeErasurePhysical(pg, { logsDeleted: true });
      expect(physical.vacuumed).toEqual(
        expect.arrayContaining(['server_logs', 'affiliate_events', 'browser_telemetry']),
      );
      const { rows } = await sql<{ n: number }>`
      select vacuum_count as n from pg_stat_user_tables where schemaname = ${SCHEMA} and relname = 'server_logs'`.execute(
        pg.db,
      );
      expect(rows[0]?.n).toBeGreaterThan(0);
    });

    it('applies the retention policies as SQLite does', async () => {
      const run = (db: Kysely<Database>) =>
        runRetention(db, {
          policies: loadRetentionPolicies(),
          now: new Date('2031-01-01T00:00:00Z'),
          dryRun: false,
          actor: { name: 'retention-test', role: 'operator' },
          batchSize: 3,
        });
      const onSqlite = await run(ctx.storage.db);
      expect(onSqlite.some((o) => o.table === 'affiliate_events' && o.rows > 0)).toBe(true);
      expect(await run(pg.db)).toEqual(onSqlite);
      expect(await pg.db.selectFrom('affiliate_events').select('id').execute()).toEqual([]);
    });
  },
);
