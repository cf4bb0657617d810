import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueDecisionEvent } from '../review/webhooks.ts';
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

describe('npx vigil webhook', () => {
  const url = 'https://market.example/hooks/vigil';

  /** Puts a decision event in the outbox, as a decision would. */
  const enqueue = (payoutId: string) =>
    storage.db.transaction().execute(async (trx) => {
      const event = await enqueueDecisionEvent(
        trx,
        {
          payoutId,
          affiliateId: 'aff-1',
          decision: 'approve',
          status: 'approved',
          note: null,
          decidedBy: 'anna',
          decidedAt: new Date().toISOString(),
        },
        new Date(),
      );
      if (!event) throw new Error('no webhook is set');
      return event;
    });

  /** The same command line run in this process: quicker for the refusals, which open no second process. */
  const cli = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.join('\n') };
  };

  it('sets the webhook, prints its secret once, alone on the last line, and shows only the URL', async () => {
    const set = await runVigilCli(['webhook', 'set', '--url', url], env);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(url);
    const secret = lastLine(set.stdout);
    expect(secret).toMatch(/^whsec_[\w-]{32}$/);
    const stored = await storage.db.selectFrom('webhook_endpoints').selectAll().executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ url, signing_key: secret });

    const shown = await runVigilCli(['webhook', 'show'], env);
    expect(shown).toMatchObject({ code: 0, stdout: `${url}\n` });

    const audit = await storage.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'webhook.set')
      .executeTakeFirstOrThrow();
    expect(audit.actor).toMatch(/^cli:/);
    expect(JSON.parse(audit.detail)).toEqual({ url });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('refuses a URL that is not http(s) or carries credentials, and a set without --url', async () => {
    for (const bad of ['ftp://files.example/x', 'not a url', 'https://user:pw@market.example/hook']) {
      const res = await cli(['webhook', 'set', '--url', bad]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/^vigil: .*(URL|url)/);
    }
    const missing = await cli(['webhook', 'set']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/webhook set needs --url/);
    expect((await cli(['webhook', 'show'])).stdout).toBe(`${url}\n`);
  });

  it('lists the deliveries and replays one by id, or every failed one', async () => {
    const delivered = await enqueue('p-cli-1');
    const failed = await enqueue('p-cli-2');
    await storage.db
      .updateTable('webhook_deliveries')
      .set({ status: 'delivered', attempts: 1, delivered_at: new Date().toISOString() })
      .where('id', '=', delivered.id)
      .execute();
    await storage.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', attempts: 15, last_error: 'HTTP 500' })
      .where('id', '=', failed.id)
      .execute();

    const all = await runVigilCli(['webhook', 'deliveries'], env);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('ID\tSTATUS\tATTEMPTS\tLAST ERROR\tNEXT ATTEMPT\tCREATED');
    expect(lines).toContainEqual(expect.stringMatching(`^${failed.id}\tfailed\t15\tHTTP 500\t-\t20\\d\\d-`));
    expect(lines).toContainEqual(expect.stringMatching(`^${delivered.id}\tdelivered\t1\t-\t-\t20\\d\\d-`));
    const onlyFailed = await cli(['webhook', 'deliveries', '--failed']);
    expect(onlyFailed.stdout.trimEnd().split('\n').slice(1)).toEqual([
      expect.stringMatching(`^${failed.id}\t`),
    ]);
    expect((await cli(['webhook', 'deliveries', '--limit', '1'])).stdout.trimEnd().split('\n')).toHaveLength(
      2,
    );
    expect((await cli(['webhook', 'deliveries', '--limit', '0'])).code).toBe(2);

    const replayFailed = await runVigilCli(['webhook', 'replay', '--failed'], env);
    expect(replayFailed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^replayed 1 event:/) });
    const replayOne = await cli(['webhook', 'replay', delivered.id]);
    expect(replayOne.code).toBe(0);
    const rows = await storage.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'status', 'attempts'])
      .where('id', 'in', [delivered.id, failed.id])
      .execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: delivered.id, status: 'pending', attempts: 0 },
        { id: failed.id, status: 'pending', attempts: 0 },
      ]),
    );
    const unknown = await cli(['webhook', 'replay', 'evt_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no webhook event has the id "evt_nope"/);
    expect((await cli(['webhook', 'replay'])).code).toBe(2);
    expect((await cli(['webhook', 'replay', delivered.id, '--failed'])).code).toBe(2);
  });

  it('removes the webhook; then there is none to show or remove', async () => {
    const removed = await runVigilCli(['webhook', 'remove'], env);
    expect(removed).toMatchObject({ code: 0, stdout: `removed the webhook ${url}\n` });
    const shown = await runVigilCli(['webhook', 'show'], env);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/no webhook is set/);
    expect((await cli(['webhook', 'remove'])).code).toBe(1);
    expect((await cli(['webhook', 'frobnicate'])).code).toBe(2);
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
