// A subject written through every route that takes personal data, exported, then erased by the running
// server's own scheduler: afterwards no file in the data directory (on PostgreSQL: no row of any table, read as
// text) holds its raw identifiers or their keyed hashes, while the payouts (kept for accounting) remain with
// their amounts.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../http/api-keys.ts';
import { createFaroApp } from '../../ingest/faro/apps.ts';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { tempDataDir } from '../harness.ts';
import { ROOT, type ServerProcess, startServerProcess, until } from '../processes.ts';
import { databaseEnv, openServerStorage, SERVERS_ON_POSTGRES } from '../server-database.ts';

const SECRET = 'e2e-erasure-secret-e2e-erasure-secret';
const SUBJECT = {
  id: 'subj-qx7-zoraquixley',
  email: 'zora.quixley+e2e@example.org',
  ip: '198.51.100.77',
};
const OTHER = { id: 'subj-other-9k2', ip: '203.0.113.41' };
const ORIGIN = 'https://shop.example';

const secret = Buffer.from(SECRET, 'utf8');
/** Every byte string that would give the subject away: raw identifiers and their keyed hashes. */
const NEEDLES: Record<string, string> = {
  'subject id': SUBJECT.id,
  email: SUBJECT.email,
  ip: SUBJECT.ip,
  'email hash': hashIdentifier(secret, 'email', SUBJECT.email),
  'ip hash': hashIdentifier(secret, 'ip', SUBJECT.ip),
  'subject pseudonym': hashIdentifier(secret, 'subject', SUBJECT.id),
};

let dataDir: string;
let server: ServerProcess;
const keys: Record<'ingest' | 'dpo', string> = { ingest: '', dpo: '' };
let appKey = '';

async function call(method: string, route: string, role: 'ingest' | 'dpo', body?: unknown) {
  const res = await fetch(`${server.baseUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${keys[role]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A file's bytes, or none when it went between listing and reading (the server unlinks applied segments). */
function bytesOf(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}

/** Which needles each file of the data directory contains. */
function filesHolding(): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  const journal = path.join(dataDir, 'event-journal');
  const segments = fs.existsSync(journal)
    ? fs.readdirSync(journal).map((name) => path.join('event-journal', name))
    : [];
  for (const name of [...fs.readdirSync(dataDir), ...segments]) {
    if (!/\.sqlite(-wal|-shm)?$|\.log$/.test(name)) continue;
    const bytes = bytesOf(path.join(dataDir, name));
    const hits = Object.entries(NEEDLES)
      .filter(([, needle]) => bytes.includes(Buffer.from(needle, 'utf8')))
      .map(([what]) => what);
    if (hits.length > 0) found[name] = hits;
  }
  return found;
}

/** Which needles each table holds, reading every row as text (PostgreSQL keeps no file of ours to scan). */
async function tablesHolding(): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  const storage = await openServerStorage(dataDir);
  try {
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(storage.db);
    for (const { name } of tables.rows) {
      const hits: string[] = [];
      for (const [what, needle] of Object.entries(NEEDLES)) {
        const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(name)} as t
          where strpos(t::text, ${needle}) > 0`.execute(storage.db);
        if (Number(rows[0]?.n) > 0) hits.push(what);
      }
      if (hits.length > 0) found[name] = hits;
    }
  } finally {
    await storage.close();
  }
  return found;
}

/** Where the subject's bytes are: files of the data directory on SQLite, tables on PostgreSQL. */
const holding = () => (SERVERS_ON_POSTGRES ? tablesHolding() : Promise.resolve(filesHolding()));

beforeAll(async () => {
  dataDir = tempDataDir();
  const storage = await openServerStorage(dataDir);
  await migrateToLatest(storage.db);
  const setup = { name: 'e2e', role: 'operator' };
  keys.ingest = (
    await createApiKey(storage.db, { name: 'e2e-ingest', role: 'ingest' }, setup, new Date())
  ).key;
  keys.dpo = (await createApiKey(storage.db, { name: 'e2e-dpo', role: 'dpo' }, setup, new Date())).key;
  appKey = (await createFaroApp(storage.db, { name: 'storefront', origins: [ORIGIN] }, setup, new Date()))
    .key;
  await storage.close();
  server = await startServerProcess({
    VIGIL_DATA_DIR: dataDir,
    ...(await databaseEnv(dataDir)),
    VIGIL_SECRET: SECRET,
    // The erasure queue every second, so the test sees the scheduler carry it out.
    VIGIL_ERASURE_CRON: '* * * * * *',
  });
});

afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a data subject, from ingestion to erasure', () => {
  it('is written through every route that takes personal data', async () => {
    // Consent first: browser telemetry about a subject is kept only with its analytics consent.
    const consent = await call('POST', '/v1/consents', 'ingest', {
      subjectId: SUBJECT.id,
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
      proof: {
        ip: SUBJECT.ip,
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) e2e',
        pageUrl: `${ORIGIN}/consent`,
      },
    });
    expect(consent.status).toBe(201);
    const faro = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'test/fixtures/faro-payload-sample.json'), 'utf8'),
    );
    faro.meta.user = { id: SUBJECT.id, email: SUBJECT.email, username: 'zora' };
    faro.meta.page = {
      ...faro.meta.page,
      url: `${ORIGIN}/account?email=${encodeURIComponent(SUBJECT.email)}`,
    };
    const collected = await fetch(`${server.baseUrl}/collect/${appKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify(faro),
    });
    expect(collected.status).toBe(202);

    expect(
      (
        await call('POST', '/v1/affiliates', 'ingest', {
          affiliates: [
            {
              id: 'aff-zora',
              name: 'Zora Q',
              couponCodes: ['ZORA10'],
              subjectId: SUBJECT.id,
              payoutAccount: 'DE00 1234',
            },
            { id: 'aff-other', name: 'Other', couponCodes: ['OTHER5'] },
          ],
        })
      ).status,
    ).toBe(200);
    const ts = new Date().toISOString();
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) e2e';
    const events = await call('POST', '/v1/events', 'ingest', {
      events: [
        {
          id: 'e-click',
          type: 'click',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-1',
          ip: SUBJECT.ip,
          userAgent: ua,
          subjectId: SUBJECT.id,
        },
        {
          id: 'e-conv',
          type: 'conversion',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-1',
          orderId: 'o-1',
          subjectId: SUBJECT.id,
          amount: 80,
          currency: 'EUR',
          ip: SUBJECT.ip,
          userAgent: ua,
        },
        // Anonymous, but from the subject's IP: found by the IP's keyed hash.
        {
          id: 'e-anon',
          type: 'click',
          ts,
          affiliateId: 'aff-other',
          clickId: 'c-2',
          ip: SUBJECT.ip,
          userAgent: ua,
        },
        {
          id: 'e-other',
          type: 'click',
          ts,
          affiliateId: 'aff-zora',
          clickId: 'c-3',
          ip: OTHER.ip,
          userAgent: ua,
          subjectId: OTHER.id,
        },
      ],
    });
    expect(events.body).toEqual({ accepted: 4, duplicates: 0 });

    const logs = await call('POST', '/v1/logs', 'ingest', [
      {
        ts,
        level: 'info',
        service: 'checkout',
        message: `login ok for ${SUBJECT.email} from ${SUBJECT.ip} as ${SUBJECT.id}`,
        attrs: { client_ip: SUBJECT.ip, userId: SUBJECT.id },
      },
      { ts, level: 'info', service: 'checkout', message: `login ok for ${OTHER.id}` },
    ]);
    expect(logs.status).toBe(202);

    const payout = await call('POST', '/v1/payouts', 'ingest', {
      id: 'p-zora-1',
      affiliateId: 'aff-zora',
      periodStart: '2026-10-01T00:00:00Z',
      periodEnd: '2026-11-01T00:00:00Z',
      amount: 312.5,
      currency: 'EUR',
    });
    expect(payout.status).toBe(201);
    expect(Object.keys(await holding()).length).toBeGreaterThan(0);
  });

  it('is given everything held about it in one access export', async () => {
    const created = await call('POST', '/v1/privacy-requests', 'dpo', {
      type: 'access',
      subjectId: SUBJECT.id,
      identifiers: { email: SUBJECT.email, ip: SUBJECT.ip },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call('POST', `/v1/privacy-requests/${id}/approve`, 'dpo')).status).toBe(200);
    const exported = await call('GET', `/v1/privacy-requests/${id}/export`, 'dpo');
    expect(exported.status).toBe(200);
    const stores = exported.body.stores as Record<string, Record<string, unknown>[]>;
    expect(stores.browser_telemetry?.length).toBeGreaterThan(0);
    expect(stores.browser_telemetry?.every((r) => r.user_id === SUBJECT.id)).toBe(true);
    expect(stores.affiliate_events?.map((r) => r.id).sort()).toEqual(['e-anon', 'e-click', 'e-conv']);
    expect(stores.server_logs).toHaveLength(1);
    expect(stores.consent_records).toHaveLength(1);
    expect(stores.consent_state?.length).toBeGreaterThan(0);
    expect(stores.affiliates?.map((r) => r.id)).toEqual(['aff-zora']);
    expect(stores.affiliate_coupons?.map((r) => r.code)).toEqual(['ZORA10']);
    expect(stores.payouts?.map((r) => r.amount)).toEqual([312.5]);
    expect(stores.audit_log?.some((r) => r.action === 'consent.record')).toBe(true);
    const manifest = exported.body.manifest as { store: string; rows: number; purpose: string }[];
    expect(manifest.find((m) => m.store === 'affiliate_events')).toMatchObject({ rows: 3 });
    expect(manifest.every((m) => typeof m.purpose === 'string')).toBe(true);
    const after = await call('GET', `/v1/privacy-requests/${id}`, 'dpo');
    expect((after.body.request as { status: string }).status).toBe('complete');
  });

  it('is erased by the scheduler: no file in the data directory (no row on PostgreSQL) holds its identifiers or their hashes', async () => {
    const created = await call('POST', '/v1/privacy-requests', 'dpo', {
      type: 'erasure',
      subjectId: SUBJECT.id,
      identifiers: { email: SUBJECT.email, ip: SUBJECT.ip },
    });
    const id = created.body.id as string;
    expect((await call('POST', `/v1/privacy-requests/${id}/approve`, 'dpo')).status).toBe(200);
    const done = await until('the erasure to complete', async () => {
      const { body } = await call('GET', `/v1/privacy-requests/${id}`, 'dpo');
      const request = body.request as { status: string };
      if (request.status === 'error') throw new Error(`erasure failed: ${JSON.stringify(body)}`);
      return request.status === 'complete' ? body : undefined;
    });
    const request = done.request as {
      subjectId: string | null;
      receipt: { physical: { walTruncated: boolean; vacuumed?: string[] } };
    };
    expect(request.subjectId).toBeNull();
    if (SERVERS_ON_POSTGRES) expect(request.receipt.physical.vacuumed).toContain('affiliate_events');
    else expect(request.receipt.physical.walTruncated).toBe(true);
    expect(JSON.stringify(done)).not.toContain(SUBJECT.id);
    const steps = done.steps as { store: string; rows: number; action: string }[];
    expect(steps.find((s) => s.store === 'affiliate_events')).toMatchObject({ rows: 3, action: 'delete' });
    expect(steps.find((s) => s.store === 'server_logs')).toMatchObject({ rows: 1, action: 'delete' });
    expect(steps.find((s) => s.store === 'payouts')).toMatchObject({ rows: 1, action: 'pseudonymise' });

    expect(await holding()).toEqual({});

    // Kept under a legal obligation, pseudonymised: the payout and its amount.
    const payout = await call('GET', '/v1/payouts/p-zora-1', 'ingest');
    expect(payout.body).toMatchObject({ amount: 312.5, affiliateId: 'aff-zora' });
    // Another subject's data is untouched, and both hash chains still verify.
    const other = await call('GET', `/v1/subjects/${OTHER.id}/consents`, 'dpo');
    expect(other.status).toBe(200);
    expect((await call('GET', '/v1/consents/verify', 'dpo')).body).toMatchObject({ ok: true, redacted: 1 });
    const audit = await fetch(`${server.baseUrl}/v1/audit/verify`, {
      headers: { authorization: `Bearer ${keys.dpo}` },
    });
    expect(await audit.json()).toMatchObject({ ok: true });

    // And after a clean stop, in the files as they are left on disk.
    server.child.kill('SIGTERM');
    await server.exited;
    expect(await holding()).toEqual({});
    const storage = await openServerStorage(dataDir);
    const left = await storage.db.selectFrom('affiliate_events').select('id').orderBy('id').execute();
    await storage.close();
    expect(left.map((r) => r.id)).toEqual(['e-other']);
  });
});
