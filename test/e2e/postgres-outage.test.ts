// Vigil on PostgreSQL while the database cannot be reached: the server runs on a real PostgreSQL (127.0.0.1:5432,
// a schema of this file's own, dropped after) through a TCP relay this test opens and closes. While the relay is
// closed, `/readyz` and ingestion answer 503 with Retry-After, nothing is acknowledged, and the process stays up;
// once it is open again, both recover. Skipped, saying why, where no PostgreSQL answers.
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from '../harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../postgres.ts';
import { runVigilCli, type ServerProcess, startServerProcess } from '../processes.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(`PostgreSQL outage tests skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

/** A TCP relay to PostgreSQL that can be closed (every connection cut, new ones refused) and opened again. */
function relay(target: URL) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<number>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      const listening = server;
      listening.listen(port, '127.0.0.1', () => {
        port = (listening.address() as net.AddressInfo).port;
        resolve(port);
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server?.close(() => resolve());
    });
  return { open, close };
}

describe.skipIf(unreachable !== undefined)('Vigil on PostgreSQL while the database is away', () => {
  const SCHEMA = testSchema('vigil_outage');
  const target = new URL(POSTGRES_URL);
  const proxy = relay(target);
  let server: ServerProcess;
  let key = '';
  let db: pg.Client;
  const events = (from: number) => ({
    events: Array.from({ length: 20 }, (_, i) => ({
      id: `o-${from + i}`,
      type: 'click',
      ts: '2026-12-07T10:00:00.000Z',
      affiliateId: 'aff-1',
      clickId: `oc-${from + i}`,
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
    })),
  });
  const ingest = (from: number) =>
    fetch(`${server.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(events(from)),
    });

  beforeAll(async () => {
    db = new pg.Client({ connectionString: POSTGRES_URL });
    await db.connect();
    await db.query(`create schema ${SCHEMA}`);
    const port = await proxy.open();
    const url = new URL(POSTGRES_URL);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    url.searchParams.set('options', `-c search_path=${SCHEMA}`);
    const env = { DATABASE_URL: url.toString(), VIGIL_SECRET: 'outage-secret-outage-secret-outage-secret' };
    const made = await runVigilCli(['keys', 'create', '--role', 'ingest', '--name', 'ingest'], {
      ...env,
      VIGIL_DATA_DIR: tempDataDir(),
    });
    key = made.stdout.trim().split('\n').at(-1) ?? '';
    server = await startServerProcess({ ...env, VIGIL_DATA_DIR: tempDataDir() });
  }, 60_000);
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await proxy.close();
    await db?.query(`drop schema if exists ${SCHEMA} cascade`);
    await db?.end();
  });

  it('says not ready and refuses ingestion with Retry-After while it is away, and recovers after', async () => {
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    expect((await ingest(0)).status).toBe(202);

    await proxy.close();
    const ready = await fetch(`${server.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toMatch(/^\d+$/);
    const refused = await ingest(100);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(server.child.exitCode).toBeNull();

    await proxy.open();
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${server.baseUrl}/readyz`)).status !== 200) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await ingest(200)).status).toBe(202);
    const { rows } = await db.query<{ n: string }>(
      `select count(*) as n from ${SCHEMA}.affiliate_events where id like 'o-%'`,
    );
    // What was answered 202 is there; what was refused is not.
    expect(Number(rows[0]?.n)).toBe(40);
  });
});
