// Two Vigil processes on one real PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's own,
// dropped after), with the same secret and keys, as two replicas behind a load balancer: events sent through
// both at once are each stored once and none is lost; a key made through one works on the other; a consent
// withdrawn through one holds on the other within a bounded delay; a scheduled job runs once per tick across
// both; and an event answered 202 survives a SIGKILL. Skipped, saying why, where no PostgreSQL answers.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../postgres.ts';
import { ROOT, runVigilCli, type ServerProcess, startServerProcess } from '../processes.ts';

const unreachable = await postgresUnreachable();
if (unreachable) console.warn(`replica tests skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

const SCHEMA = testSchema('vigil_replicas');
const DATABASE_URL = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(
  `-c search_path=${SCHEMA}`,
)}`;
const ENV = {
  DATABASE_URL,
  VIGIL_SECRET: 'replica-secret-replica-secret-replica-secret',
  // The erasure queue every second on both, to see each tick run once.
  VIGIL_ERASURE_CRON: '* * * * * *',
};
const ORIGIN = 'https://shop.example';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0';

let db: pg.Client;
const replicas: ServerProcess[] = [];
const keys = { ingest: '', admin: '', dpo: '' };
let appKey = '';

async function cli(args: string[]): Promise<string> {
  const result = await runVigilCli(args, { ...ENV, VIGIL_DATA_DIR: tempDataDir() });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').at(-1) ?? '';
}

async function call(replica: ServerProcess, method: string, route: string, key: string, body?: unknown) {
  const res = await fetch(`${replica.baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const count = async (query: string, values: unknown[] = []) =>
  Number((await db.query<{ n: string }>(query, values)).rows[0]?.n ?? 0);

const click = (n: number) => ({
  id: `r-${n}`,
  type: 'click',
  ts: new Date(Date.UTC(2026, 11, 7) + n * 1000).toISOString(),
  affiliateId: `aff-${n % 9}`,
  clickId: `rc-${n}`,
  ip: `203.0.113.${n % 250}`,
  userAgent: UA,
});

describe.skipIf(unreachable !== undefined)('two replicas on one PostgreSQL', () => {
  beforeAll(async () => {
    db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    await db.query(`create schema ${SCHEMA}`);
    await db.query(`set search_path = ${SCHEMA}`);
    keys.ingest = await cli(['keys', 'create', '--role', 'ingest', '--name', 'ingest']);
    keys.admin = await cli(['keys', 'create', '--role', 'admin', '--name', 'admin']);
    keys.dpo = await cli(['keys', 'create', '--role', 'dpo', '--name', 'dpo']);
    appKey = await cli(['apps', 'create', '--name', 'storefront', '--origin', ORIGIN]);
    replicas.push(
      ...(await Promise.all([
        startServerProcess({ ...ENV, VIGIL_DATA_DIR: tempDataDir() }),
        startServerProcess({ ...ENV, VIGIL_DATA_DIR: tempDataDir() }),
      ])),
    );
  }, 90_000);
  afterAll(async () => {
    for (const replica of replicas) {
      if (replica.child.exitCode === null && replica.child.signalCode === null) {
        replica.child.kill('SIGTERM');
        await replica.exited;
      }
    }
    await db?.query(`drop schema if exists ${SCHEMA} cascade`);
    await db?.end();
  });

  it('stores each event id once when both replicas take the same events at once, and loses none', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const batches = Array.from({ length: 12 }, (_, k) =>
      Array.from({ length: 250 }, (_, i) => click(k * 250 + i)),
    );
    // A takes the batches in order, B in reverse, all at once: every event reaches both.
    const answers = await Promise.all([
      ...batches.map((events) => call(a, 'POST', '/v1/events', keys.ingest, { events })),
      ...[...batches].reverse().map((events) => call(b, 'POST', '/v1/events', keys.ingest, { events })),
    ]);
    expect(answers.every((r) => r.status === 202)).toBe(true);
    const accepted = answers.reduce((n, r) => n + Number(r.body.accepted), 0);
    const duplicates = answers.reduce((n, r) => n + Number(r.body.duplicates), 0);
    expect({ accepted, duplicates }).toEqual({ accepted: 3000, duplicates: 3000 });
    expect(await count("select count(*) as n from affiliate_events where id like 'r-%'")).toBe(3000);
    expect(await count("select count(distinct id) as n from affiliate_events where id like 'r-%'")).toBe(
      3000,
    );
  });

  it('takes a key made through one replica on the other', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const made = await call(a, 'POST', '/v1/keys', keys.admin, { name: 'sre-on-a', role: 'sre' });
    expect(made.status).toBe(201);
    const logs = await call(b, 'GET', '/v1/logs?limit=1', String(made.body.key));
    expect(logs.status).toBe(200);
  });

  it('holds a consent withdrawn through one replica on the other within a second', async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const subject = 'subj-replica-1';
    const granted = await call(a, 'POST', '/v1/consents', keys.ingest, {
      subjectId: subject,
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
    });
    expect(granted.status).toBe(201);
    const faro = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'test/fixtures/faro-payload-sample.json'), 'utf8'),
    );
    faro.meta.user = { id: subject };
    const collect = () =>
      fetch(`${b.baseUrl}/collect/${appKey}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify(faro),
      });
    const stored = () => count('select count(*) as n from browser_telemetry where user_id = $1', [subject]);
    // B heard of the grant.
    let deadline = Date.now() + 5000;
    while ((await stored()) === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      expect((await collect()).status).toBe(202);
    }
    const withdrawn = await call(a, 'POST', `/v1/subjects/${subject}/consents/withdraw`, keys.ingest, {
      purposes: ['analytics'],
    });
    expect(withdrawn.status).toBe(201);
    const at = Date.now();
    deadline = at + 5000;
    let before = await stored();
    for (;;) {
      expect((await collect()).status).toBe(202);
      const after = await stored();
      if (after === before) break;
      before = after;
      expect(Date.now()).toBeLessThan(deadline);
    }
    expect(Date.now() - at).toBeLessThan(1000);
  });

  it('runs a scheduled job once per tick across both replicas', async () => {
    // The erasure queue is scheduled every second on both; give them a few ticks. (Both fire each tick within
    // milliseconds; a replica firing after the other's run has ended is jobs/scheduler.test.ts's case.)
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const { rows } = await db.query<{ tick: string; n: string }>(
      `select substr(started_at, 1, 19) as tick, count(*) as n from job_runs
       where job = 'privacy.erasure' group by 1 order by 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.filter((r) => Number(r.n) > 1)).toEqual([]);
  });

  it('keeps every event answered 202 when the replica is killed right after', async () => {
    const [a] = replicas as [ServerProcess];
    const events = Array.from({ length: 500 }, (_, i) => click(10_000 + i));
    const answer = await call(a, 'POST', '/v1/events', keys.ingest, { events });
    expect(answer).toMatchObject({ status: 202, body: { accepted: 500 } });
    a.child.kill('SIGKILL');
    await a.exited;
    expect(await count("select count(*) as n from affiliate_events where id like 'r-1____'")).toBe(500);
  });
});
