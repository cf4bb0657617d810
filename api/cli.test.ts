import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openSqlite, type Storage } from '../storage/index.ts';
import { tempDataDir } from '../test/harness.ts';
import { runVigilCli } from '../test/processes.ts';
import { createApp } from './app.ts';
import { runCli } from './cli.ts';
import { createDeps } from './deps.ts';

let dataDir: string;
let env: Record<string, string>;
let storage: Storage;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  dataDir = tempDataDir();
  env = { VIGIL_DATA_DIR: dataDir };
  storage = openSqlite(dataDir);
  await migrateToLatest(storage.db);
  app = createApp(createDeps({ storage, secret: Buffer.from('x'.repeat(32)) }));
});
afterAll(async () => {
  await storage.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

describe('npx vigil keys', () => {
  it('creates a key that works, lists it, revokes it, and the key is then refused', async () => {
    const created = await runVigilCli(['keys', 'create', '--role', 'dpo', '--name', 'anna'], env);
    expect(created.code).toBe(0);
    const key = lastLine(created.stdout);
    expect(key).toMatch(/^vgl_[0-9a-f]{12}_[\w-]{43}$/);

    const auth = { authorization: `Bearer ${key}` };
    expect((await app.request('/v1/audit', { headers: auth })).status).toBe(200);
    expect((await app.request('/v1/keys', { headers: auth })).status).toBe(403);

    const listed = await runVigilCli(['keys', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\tanna\tdpo\t/);
    expect(listed.stdout).not.toContain(key.slice(17));

    const revoked = await runVigilCli(['keys', 'revoke', 'anna'], env);
    expect(revoked.code).toBe(0);
    expect((await app.request('/v1/audit', { headers: auth })).status).toBe(401);

    expect((await runVigilCli(['keys', 'list'], env)).stdout).not.toContain('anna');
    expect((await runVigilCli(['keys', 'list', '--all'], env)).stdout).toMatch(/\tanna\tdpo\t\S+\t20\d\d-/);
  });

  it('stores only a hash of the key, and audits creation and revocation under the operator', async () => {
    const created = await runVigilCli(['keys', 'create', '--role', 'sre', '--name', 'sam'], env);
    const key = lastLine(created.stdout);
    await runVigilCli(['keys', 'revoke', 'sam'], env);
    const row = await storage.db
      .selectFrom('api_keys')
      .selectAll()
      .where('name', '=', 'sam')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key.slice(17));
    const audit = await storage.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target', '=', `api_key:${row.id}`)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['api_key.create', 'api_key.revoke']);
    expect(audit[0]?.actor).toMatch(/^cli:/);
    expect(JSON.stringify(audit)).not.toContain(key.slice(17));
  });

  it('refuses a bad role or name with the usage and exit code 2', async () => {
    const badRole = await runVigilCli(['keys', 'create', '--role', 'root', '--name', 'x'], env);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role: expected one of ingest, sre, dpo, analyst, admin/);
    const badName = await runVigilCli(['keys', 'create', '--role', 'sre', '--name', 'a b'], env);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/--name/);
    expect((await runVigilCli(['frobnicate'], env)).code).toBe(2);
  });

  it('fails with exit code 1 when revoking a key that does not exist', async () => {
    const res = await runVigilCli(['keys', 'revoke', 'nobody'], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/no live API key is named "nobody"/);
  });

  it('refuses a bad environment variable with a message naming it', async () => {
    const res = await runVigilCli(['keys', 'list'], { ...env, VIGIL_LOG_LEVEL: 'loud' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/VIGIL_LOG_LEVEL/);
  });

  it('registers a Faro app whose key /collect accepts from its origin, lists it, and revokes it', async () => {
    const created = await runVigilCli(
      [
        'apps',
        'create',
        '--name',
        'shop-web',
        '--origin',
        'https://shop.example',
        '--origin',
        'http://localhost:3000',
      ],
      env,
    );
    expect(created.code).toBe(0);
    const key = lastLine(created.stdout);
    expect(key).toMatch(/^vfa_[0-9a-f]{12}_[\w-]{43}$/);
    const collect = () =>
      app.request(`/collect/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
        body: JSON.stringify({ meta: {}, logs: [{ message: 'hello' }] }),
      });
    expect((await collect()).status).toBe(202);
    expect((await runVigilCli(['apps', 'list'], env)).stdout).toMatch(
      /\tshop-web\thttps:\/\/shop\.example,http:\/\/localhost:3000\t/,
    );
    expect((await runVigilCli(['apps', 'revoke', 'shop-web'], env)).code).toBe(0);
    expect((await collect()).status).toBe(401);
    const bad = await runVigilCli(['apps', 'create', '--name', 'x', '--origin', 'ftp://files.example'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not an origin/);
  });
});

describe('npx vigil without VIGIL_DATA_DIR', () => {
  it('says which data directory it took, on stderr, and keeps stdout for the answer', async () => {
    const dir = tempDataDir();
    const cwd = process.cwd();
    const out: string[] = [];
    const err: string[] = [];
    try {
      process.chdir(dir);
      const code = await runCli(['keys', 'list'], {}, { out: (l) => out.push(l), err: (l) => err.push(l) });
      expect(code).toBe(0);
      expect(err).toEqual([
        `vigil: using the data directory ${fs.realpathSync(dir)}/data (set VIGIL_DATA_DIR to use another)`,
      ]);
      expect(out[0]).toMatch(/^ID\tNAME/);
      // With the variable set, nothing is said.
      err.length = 0;
      await runCli(
        ['keys', 'list'],
        { VIGIL_DATA_DIR: `${dir}/other` },
        { out: () => {}, err: (l) => err.push(l) },
      );
      expect(err).toEqual([]);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
