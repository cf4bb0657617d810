import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { createDeps } from '../api/deps.ts';
import { tempDataDir } from '../test/harness.ts';
import { openSqlite, type SqliteStorage as Storage } from './database.ts';
import { eventKey } from './event-key.ts';
import { migrateToLatest, pendingMigrations } from './migrate.ts';
import { MIGRATIONS } from './migrations/index.ts';

const MIGRATION_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

let dir: string;
let storage: Storage;
beforeEach(() => {
  dir = tempDataDir();
  storage = openSqlite(dir);
});
afterEach(async () => {
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tables = async () =>
  (
    await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(
      storage.db,
    )
  ).rows.map((r) => r.name);

describe('migrations', () => {
  it('lists every migration file, timestamp-named, in order', () => {
    const files = fs
      .readdirSync(MIGRATION_DIR)
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(Object.keys(MIGRATIONS).sort()).toEqual(files);
    for (const name of files) expect(name).toMatch(/^\d{4}-\d{2}-\d{2}-\d{4}-[a-z0-9-]+$/);
  });

  it('never import app code (only Kysely, and the dialect differences, which import nothing else)', () => {
    for (const file of fs.readdirSync(MIGRATION_DIR).filter((f) => f !== 'index.ts')) {
      const text = fs.readFileSync(path.join(MIGRATION_DIR, file), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      expect(imports.filter((i) => i !== 'kysely' && i !== '../dialect.ts')).toEqual([]);
    }
    const dialect = fs.readFileSync(path.join(MIGRATION_DIR, '../dialect.ts'), 'utf8');
    expect([...dialect.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['kysely']);
  });

  it('build the schema on an empty database and leave nothing pending', async () => {
    expect(await pendingMigrations(storage.db)).toEqual(Object.keys(MIGRATIONS).sort());
    const applied = await migrateToLatest(storage.db);
    expect(applied).toEqual(Object.keys(MIGRATIONS).sort());
    expect(await tables()).toEqual(expect.arrayContaining(['api_keys', 'audit_log']));
    expect(await pendingMigrations(storage.db)).toEqual([]);
  });

  it('key the events already stored: rowids kept, each identifier with its key, and back down again', async () => {
    const migrator = new Migrator({ db: storage.db, provider: { getMigrations: async () => MIGRATIONS } });
    expect((await migrator.migrateTo('2026-11-29-1100-event-journal')).error).toBeUndefined();
    const insert = storage.sqlite.prepare(
      `insert into affiliate_events (rowid, id, type, ts, click_id, order_id, subject_id, ip_hash, received_at)
       values (?, ?, ?, 't', ?, ?, ?, ?, 'r')`,
    );
    insert.run(7, 'e-1', 'click', 'c-1', null, null, 'h-1');
    insert.run(9, 'e-2', 'conversion', 'c-1', 'o-2', 's-2', 'h-2');
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = storage.sqlite
      .prepare(
        `select rowid, id, id_key, click_key, order_key, subject_key, ip_key from affiliate_events order by rowid`,
      )
      .all();
    expect(rows).toEqual([
      {
        rowid: 7,
        id: 'e-1',
        id_key: eventKey('e-1'),
        click_key: eventKey('c-1'),
        order_key: null,
        subject_key: null,
        ip_key: eventKey('h-1'),
      },
      {
        rowid: 9,
        id: 'e-2',
        id_key: eventKey('e-2'),
        click_key: eventKey('c-1'),
        order_key: eventKey('o-2'),
        subject_key: eventKey('s-2'),
        ip_key: eventKey('h-2'),
      },
    ]);
    // The events write path finds them by key and text.
    const found = storage.sqlite
      .prepare('select id from affiliate_events where id_key = ? and id = ?')
      .pluck();
    expect(found.get(eventKey('e-2'), 'e-2')).toBe('e-2');
    expect((await migrator.migrateTo('2026-11-29-1100-event-journal')).error).toBeUndefined();
    expect(storage.sqlite.prepare('select rowid, id from affiliate_events order by rowid').all()).toEqual([
      { rowid: 7, id: 'e-1' },
      { rowid: 9, id: 'e-2' },
    ]);
  });

  it('are idempotent: a second run applies nothing', async () => {
    await migrateToLatest(storage.db);
    expect(await migrateToLatest(storage.db)).toEqual([]);
  });

  it('open the file with WAL, foreign keys, a busy timeout and secure delete', async () => {
    const pragma = async (name: string) =>
      Object.values((await sql.raw(`pragma ${name}`).execute(storage.db)).rows[0] as object)[0];
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('foreign_keys')).toBe(1);
    expect(await pragma('busy_timeout')).toBe(5000);
    expect(await pragma('secure_delete')).toBe(1);
    expect(await pragma('synchronous')).toBe(2); // FULL
  });
});

describe('GET /readyz', () => {
  const app = () => createApp(createDeps({ storage, secret: Buffer.from('x'.repeat(32)) }));

  it('is 503 with Retry-After until the migrations are applied, then 200', async () => {
    const before = await app().request('/readyz');
    expect(before.status).toBe(503);
    expect(before.headers.get('retry-after')).toBe('5');
    expect(((await before.json()) as { detail: string }).detail).toMatch(/migration/);
    await migrateToLatest(storage.db);
    const after = await app().request('/readyz');
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ status: 'ready' });
  });

  it('is 503 when the database does not answer', async () => {
    await migrateToLatest(storage.db);
    const a = app();
    await storage.close();
    const res = await a.request('/readyz');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/database/);
  });
});
