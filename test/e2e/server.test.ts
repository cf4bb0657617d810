import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../../http/api-keys.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { tempDataDir } from '../harness.ts';
import { type ServerProcess, startServerProcess } from '../processes.ts';
import { databaseEnv, openServerStorage, SERVERS_ON_POSTGRES } from '../server-database.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dataDirForTest(): string {
  const dir = tempDataDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(env: { VIGIL_DATA_DIR: string } & Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess({ ...(await databaseEnv(env.VIGIL_DATA_DIR)), ...env });
  cleanups.push(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
  return server;
}

async function adminKey(dataDir: string): Promise<string> {
  const storage = await openServerStorage(dataDir);
  await migrateToLatest(storage.db);
  const { key } = await createApiKey(
    storage.db,
    { name: 'e2e-admin', role: 'admin' },
    { name: 'e2e', role: 'operator' },
    new Date(),
  );
  await storage.close();
  return key;
}

describe('the server process', () => {
  it('answers /healthz within 10 s of starting on an empty data dir', async () => {
    const dataDir = dataDirForTest();
    const started = Date.now();
    const server = await start({ VIGIL_DATA_DIR: dataDir });
    const res = await fetch(`${server.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'vigil.sqlite'))).toBe(!SERVERS_ON_POSTGRES);
    expect(server.logs()).toContain('no API keys yet');
  });

  it('serves process, Node.js and HTTP metrics labelled by route template', async () => {
    const dataDir = dataDirForTest();
    const key = await adminKey(dataDir);
    const server = await start({ VIGIL_DATA_DIR: dataDir });
    await fetch(`${server.baseUrl}/v1/keys/someone/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    await fetch(`${server.baseUrl}/no/such/page?email=a@b.c`);
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/v1\/keys\/:name\/revoke",status="404"\} 1/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/,
    );
    expect(text).not.toContain('someone');
    expect(text).not.toContain('a@b.c');
  });

  // On PostgreSQL the secret is VIGIL_SECRET, which every replica shares; the data directory keeps none.
  it.skipIf(SERVERS_ON_POSTGRES)(
    'generates the identifier-hashing secret once, owner-readable only, and keeps it',
    async () => {
      const dataDir = dataDirForTest();
      const first = await start({ VIGIL_DATA_DIR: dataDir });
      first.child.kill('SIGTERM');
      await first.exited;
      const file = path.join(dataDir, 'secret');
      const secret = fs.readFileSync(file, 'utf8');
      expect(secret.trim().length).toBeGreaterThanOrEqual(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const second = await start({ VIGIL_DATA_DIR: dataDir });
      second.child.kill('SIGTERM');
      await second.exited;
      expect(fs.readFileSync(file, 'utf8')).toBe(secret);
      expect(first.logs() + second.logs()).not.toContain(secret.trim());
    },
  );

  it.each([
    [{ PORT: 'eighty' }, /PORT: expected a TCP port number/],
    [
      { DATABASE_URL: 'postgres://vigil@127.0.0.1:5432/vigil', VIGIL_SECRET: '' },
      /VIGIL_SECRET: required with DATABASE_URL/,
    ],
  ])('refuses to start on a bad environment (%o), naming the variable', async (env, message) => {
    await expect(startServerProcess({ VIGIL_DATA_DIR: dataDirForTest(), ...env })).rejects.toThrow(message);
  });
});

describe('graceful shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s finishes the request in flight, refuses new ones, and exits 0',
    async (signal) => {
      const dataDir = dataDirForTest();
      const key = await adminKey(dataDir);
      const server = await start({ VIGIL_DATA_DIR: dataDir });

      const body = JSON.stringify({ name: `in-flight-${signal}`, role: 'sre' });
      const half = Math.floor(body.length / 2);
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${server.baseUrl}/v1/keys`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.write(body.slice(0, half));
        // Finish the body only after the signal has been delivered.
        setTimeout(() => {
          server.child.kill(signal);
          setTimeout(() => req.end(body.slice(half)), 500);
        }, 300);
      });

      // While draining, a new connection is refused.
      await new Promise((r) => setTimeout(r, 550));
      await expect(fetch(`${server.baseUrl}/healthz`)).rejects.toThrow();

      const answered = await response;
      expect(answered.status).toBe(201);
      const stoppedAt = Date.now();
      const { code } = await server.exited;
      expect(code).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(10_000);
      expect(server.logs()).toContain('"msg":"stopped"');

      const storage = await openServerStorage(dataDir);
      const row = await storage.db
        .selectFrom('api_keys')
        .select('name')
        .where('name', '=', `in-flight-${signal}`)
        .executeTakeFirst();
      await storage.close();
      expect(row).toBeDefined();
    },
  );

  it('drains and exits 0 on a SIGTERM sent the moment it listens, while start-up may still be finishing', async () => {
    const server = await start({ VIGIL_DATA_DIR: dataDirForTest() });
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.logs()).toContain('"msg":"stopped"');
  });

  it('closes idle keep-alive connections instead of waiting for them', async () => {
    const dataDir = dataDirForTest();
    const server = await start({ VIGIL_DATA_DIR: dataDir });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      http
        .get(`${server.baseUrl}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject),
    );
    const stoppedAt = Date.now();
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    agent.destroy();
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000); // well inside the 10 s budget, not the keep-alive timeout
  });

  it('cuts a request that never finishes once the shutdown timeout passes', async () => {
    const dataDir = dataDirForTest();
    const key = await adminKey(dataDir);
    const server = await start({ VIGIL_DATA_DIR: dataDir, VIGIL_SHUTDOWN_TIMEOUT_MS: '500' });
    const req = http.request(`${server.baseUrl}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': 1000 },
    });
    req.on('error', () => {});
    req.write('{"name":');
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    expect(code).toBe(0);
    expect(server.logs()).toContain('shutdown timeout reached');
  });
});
