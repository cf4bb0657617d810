import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirUnsafeError } from './data-dir.ts';
import { openSqlite } from './database.ts';

const mode = (file: string) => fs.statSync(file).mode & 0o777;
let parent: string;
let umask: number;

function freshParent(): string {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dir-'));
  return parent;
}

afterEach(() => {
  process.umask(umask);
  fs.rmSync(parent, { recursive: true, force: true });
});

describe('the data directory', () => {
  it('is 0700 with files 0600 whatever the umask, also when it existed before the first start', async () => {
    umask = process.umask(0o022);
    const dir = path.join(freshParent(), 'data');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'secret'), 'x'.repeat(40), { mode: 0o644 });
    const storage = openSqlite(dir);
    storage.sqlite.exec('create table t (x); insert into t values (1)');
    expect(mode(dir)).toBe(0o700);
    for (const file of ['vigil.sqlite', 'vigil.sqlite-wal', 'vigil.sqlite-shm', 'secret']) {
      expect([file, mode(path.join(dir, file))]).toEqual([file, 0o600]);
    }
    await storage.close();
  });

  it('is refused when others may write to it, or when it holds a link', () => {
    umask = process.umask(0);
    const dir = path.join(freshParent(), 'shared');
    fs.mkdirSync(dir, { mode: 0o777 });
    expect(() => openSqlite(dir)).toThrow(DataDirUnsafeError);
    expect(() => openSqlite(dir)).toThrow(/may be written by other users \(mode 0777\)/);
    fs.chmodSync(dir, 0o770);
    expect(() => openSqlite(dir)).toThrow(DataDirUnsafeError);
    fs.chmodSync(dir, 0o700);
    fs.symlinkSync('/etc/hostname', path.join(dir, 'vigil.sqlite'));
    expect(() => openSqlite(dir)).toThrow(/symbolic link/);
  });
});
