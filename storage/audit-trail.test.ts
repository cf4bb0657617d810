import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey } from '../http/api-keys.ts';
import { tempDataDir } from '../test/harness.ts';
import { appendAudit, GENESIS_HASH, listAudit, verifyAuditChain } from './audit-trail.ts';
import { openSqlite, type SqliteStorage as Storage } from './database.ts';
import { migrateToLatest } from './migrate.ts';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(ROOT, 'test/fixtures/append-audit.ts');
const actor = { name: 'dpo-anna', role: 'dpo' };
const at = new Date('2026-11-28T10:00:00.000Z');
let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = tempDataDir();
  storage = openSqlite(dir);
  await migrateToLatest(storage.db);
});
afterEach(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function appendMany(n: number) {
  for (let i = 0; i < n; i += 1) {
    await storage.db
      .transaction()
      .execute((trx) =>
        appendAudit(
          trx,
          actor,
          { action: 'test.change', target: `thing:${i}`, detail: { i, b: 2, a: 1 } },
          at,
        ),
      );
  }
}

describe('the audit chain', () => {
  it('links each entry to the one before, starting from the genesis hash', async () => {
    await appendMany(3);
    const entries = await listAudit(storage.db, { limit: 10 });
    expect(entries.map((e) => e.target)).toEqual(['thing:0', 'thing:1', 'thing:2']);
    expect(entries[0]?.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
    expect(entries[2]?.prevHash).toBe(entries[1]?.hash);
    expect(await verifyAuditChain(storage.db)).toEqual({
      ok: true,
      checked: 3,
      redacted: 0,
      lastHash: entries[2]?.hash,
    });
  });

  it('verifies an empty trail', async () => {
    expect(await verifyAuditChain(storage.db)).toEqual({
      ok: true,
      checked: 0,
      redacted: 0,
      lastHash: GENESIS_HASH,
    });
  });

  it('verifies across pages of a long trail', async () => {
    await storage.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 2500; i += 1)
        await appendAudit(trx, actor, { action: 'bulk', target: `t:${i}` }, at);
    });
    expect(await verifyAuditChain(storage.db)).toMatchObject({ ok: true, checked: 2500 });
  });

  it.each([
    ['the detail', sql`update audit_log set detail = '{"i":1,"a":1,"b":3}' where id = 2`],
    ['the actor', sql`update audit_log set actor = 'someone-else' where id = 2`],
    ['the time', sql`update audit_log set at = '2026-01-01T00:00:00.000Z' where id = 2`],
  ])('detects a tampered row (%s changed)', async (_what, tamper) => {
    await appendMany(4);
    await tamper.execute(storage.db);
    expect(await verifyAuditChain(storage.db)).toEqual({
      ok: false,
      checked: 1,
      brokenAtId: 2,
      reason: 'hash_mismatch',
    });
  });

  it('detects a tampered row whose hash was recomputed, at the next row', async () => {
    await appendMany(4);
    // A forger who rewrites row 2 and its own hash still breaks row 3's link.
    await sql`update audit_log set detail = '{}', hash = ${'f'.repeat(64)} where id = 2`.execute(storage.db);
    const result = await verifyAuditChain(storage.db);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ brokenAtId: 2 });
  });

  it('detects a deleted row', async () => {
    await appendMany(4);
    await sql`delete from audit_log where id = 2`.execute(storage.db);
    expect(await verifyAuditChain(storage.db)).toEqual({
      ok: false,
      checked: 1,
      brokenAtId: 3,
      reason: 'prev_hash_mismatch',
    });
  });

  it('hashes details independently of key order', async () => {
    await appendMany(1);
    const [entry] = await listAudit(storage.db, { limit: 1 });
    expect(entry?.detail).toEqual({ a: 1, b: 2, i: 0 });
    const raw = await storage.db.selectFrom('audit_log').select('detail').executeTakeFirstOrThrow();
    expect(raw.detail).toBe('{"a":1,"b":2,"i":0}');
  });
});

describe('a change and its audit entry commit together', () => {
  it('rolls the change back when its audit entry cannot be written', async () => {
    await sql`alter table audit_log rename to audit_log_gone`.execute(storage.db);
    await expect(createApiKey(storage.db, { name: 'k', role: 'sre' }, actor, at)).rejects.toThrow();
    await sql`alter table audit_log_gone rename to audit_log`.execute(storage.db);
    expect(await storage.db.selectFrom('api_keys').selectAll().execute()).toEqual([]);
  });

  it('writes no audit entry when the change fails', async () => {
    await createApiKey(storage.db, { name: 'k', role: 'sre' }, actor, at);
    await expect(createApiKey(storage.db, { name: 'k', role: 'sre' }, actor, at)).rejects.toThrow(
      /already exists/,
    );
    const entries = await listAudit(storage.db, { limit: 10 });
    expect(entries.map((e) => e.action)).toEqual(['api_key.create']);
  });

  it('keeps one chain when separate processes write at once', async () => {
    const run = (tag: string) =>
      execFileAsync(process.execPath, ['--import', 'tsx', FIXTURE, dir, tag, '40'], { cwd: ROOT });
    await Promise.all([run('a'), run('b'), appendMany(40)]);
    expect(await verifyAuditChain(storage.db)).toMatchObject({ ok: true, checked: 120 });
  });
});

describe('listing the trail', () => {
  it('filters by action, actor and time, and pages with afterId', async () => {
    await storage.db.transaction().execute(async (trx) => {
      await appendAudit(trx, actor, { action: 'a', target: 't1' }, new Date('2026-11-01T00:00:00Z'));
      await appendAudit(trx, { name: 'other', role: 'admin' }, { action: 'b', target: 't2' }, at);
      await appendAudit(trx, actor, { action: 'a', target: 't3' }, new Date('2026-12-01T00:00:00Z'));
    });
    const targets = async (q: Parameters<typeof listAudit>[1]) =>
      (await listAudit(storage.db, q)).map((e) => e.target);
    expect(await targets({ limit: 10, action: 'a' })).toEqual(['t1', 't3']);
    expect(await targets({ limit: 10, actor: 'other' })).toEqual(['t2']);
    expect(await targets({ limit: 10, since: at, until: new Date('2026-11-30T00:00:00Z') })).toEqual(['t2']);
    expect(await targets({ limit: 1, afterId: 1 })).toEqual(['t2']);
  });
});
