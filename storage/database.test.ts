import { spawn } from 'node:child_process';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../test/harness.ts';
import { claimDataDir, DataDirInUseError, writeTransaction } from './database.ts';
import { migrateToLatest, openSqlite, type SqliteStorage } from './index.ts';

let dir: string;
let storage: SqliteStorage;
let other: SQLite.Database;

beforeEach(async () => {
  dir = tempDataDir();
  storage = openSqlite(dir);
  await migrateToLatest(storage.db);
  storage.sqlite.exec('create table scratch (id integer primary key, n integer not null)');
  // Another connection to the same file: what the event journal's apply thread, or the CLI, would hold.
  other = new SQLite(storage.file);
});
afterEach(async () => {
  if (other.inTransaction) other.exec('rollback');
  other.close();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Counts timer turns of the event loop until `done` settles. */
async function turnsWhile(done: Promise<unknown>): Promise<number> {
  let turns = 0;
  let settled = false;
  void done.finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    turns += 1;
  }
  return turns;
}

const insertScratch = sql`insert into scratch (id, n) values (2, 7)`;

describe('main-thread writes', () => {
  it.each([
    ['a transaction', () => storage.db.transaction().execute((trx) => insertScratch.execute(trx))],
    ['a write outside a transaction', () => insertScratch.execute(storage.db)],
    [
      'a write built by Kysely outside a transaction',
      () =>
        storage.db
          .insertInto('event_journal_applied')
          .values({ id: 1, seq: 0 })
          .onConflict((oc) => oc.doNothing())
          .execute()
          .then(() => insertScratch.execute(storage.db)),
    ],
  ])(
    '%s waits for a write lock held elsewhere without blocking the event loop, and says it waits',
    async (_, run) => {
      other.exec('begin immediate');
      const write = run();
      const release = new Promise<void>((resolve) =>
        setTimeout(() => {
          // The apply thread reads this to yield the lock.
          expect(Atomics.load(storage.lockWanted, 0)).toBe(1);
          other.exec('commit');
          resolve();
        }, 200),
      );
      // The loop kept turning while the transaction waited 200 ms (a blocking wait would allow none).
      expect(await turnsWhile(Promise.all([write, release]))).toBeGreaterThan(10);
      expect(Atomics.load(storage.lockWanted, 0)).toBe(0);
      expect(other.prepare('select n from scratch where id = 2').pluck().get()).toBe(7);
    },
  );

  it('commit synchronous work on the raw connection, or roll all of it back when it throws', async () => {
    const insert = (id: number) =>
      storage.sqlite.prepare('insert into scratch (id, n) values (?, 1)').run(id);
    other.exec('begin immediate');
    setTimeout(() => other.exec('commit'), 50);
    await writeTransaction(storage.sqlite, storage.lockWanted, () => insert(3));
    await expect(
      writeTransaction(storage.sqlite, storage.lockWanted, () => {
        insert(4);
        throw new Error('half-way');
      }),
    ).rejects.toThrow('half-way');
    expect(storage.sqlite.inTransaction).toBe(false);
    const ids = storage.sqlite.prepare('select id from scratch order by id').pluck().all();
    expect(ids).toEqual([3]);
  });

  it('fail other errors at once, without waiting', async () => {
    storage.sqlite.exec('insert into scratch (id, n) values (1, 1)');
    const started = Date.now();
    await expect(
      storage.db.transaction().execute((trx) => sql`insert into scratch (id, n) values (1, 1)`.execute(trx)),
    ).rejects.toThrow(/UNIQUE/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('the claim on a data directory', () => {
  it('is held by one claimant at a time, and free again once released', () => {
    const release = claimDataDir(storage.file);
    expect(() => claimDataDir(storage.file)).toThrow(DataDirInUseError);
    release();
    release();
    claimDataDir(storage.file)();
  });

  it('is refused while another process holds it, and free once that process is gone', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { claimDataDir } = await import(${JSON.stringify(new URL('./database.ts', import.meta.url).href)});
         // Kept reachable: a collected connection would close and drop the lock while this process lives.
         globalThis.release = claimDataDir(${JSON.stringify(storage.file)});
         console.log('held');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      expect(() => claimDataDir(storage.file)).toThrow(/another Vigil process is using the data directory/);
    } finally {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }
    claimDataDir(storage.file)();
  });
});
