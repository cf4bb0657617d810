import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../api/logger.ts';
import { migrateToLatest, openSqlite, type Storage } from '../storage/index.ts';
import { tempDataDir } from '../test/harness.ts';
import type { AffiliateEvent } from './events/schemas.ts';
import { eventRowBatch } from './events/store.ts';
import { WriteThread } from './write-thread.ts';

let dir: string;
let storage: Storage;
let thread: WriteThread;
let commits: number[];

beforeEach(async () => {
  dir = tempDataDir();
  storage = openSqlite(dir);
  await migrateToLatest(storage.db);
  commits = [];
  thread = new WriteThread(storage.file, createLogger('silent'), (rows) => commits.push(rows));
});
afterEach(async () => {
  await thread.close();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const refund = (id: string): AffiliateEvent => ({
  id,
  type: 'refund',
  ts: '2026-11-28T10:00:00.000Z',
  orderId: 'o-1',
  amount: 5,
  currency: 'EUR',
});
const batch = (ids: string[], receivedAt: string | null = '2026-11-28T10:00:01.000Z') =>
  eventRowBatch(ids.map(refund), Buffer.from('s'.repeat(32)), receivedAt as string);
const stored = async () =>
  (await storage.db.selectFrom('affiliate_events').select('id').orderBy('id').execute()).map((r) => r.id);

describe('the write thread', () => {
  it('groups ops posted together into one commit and answers each after it', async () => {
    const results = await Promise.all([
      thread.run(2, 'events.store', batch(['a', 'b'])),
      thread.run(1, 'events.store', batch(['c'])),
      thread.run(1, 'events.store', batch(['a'])),
    ]);
    expect(results.map((r) => r.refund)).toEqual([
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 0 },
      { accepted: 0, duplicates: 1 },
    ]);
    expect(await stored()).toEqual(['a', 'b', 'c']);
    expect(commits.reduce((sum, rows) => sum + rows, 0)).toBe(4);
    expect(commits.length).toBeLessThan(3);
  });

  it('fails only the op that fails, leaving the rest of its group committed', async () => {
    const [good, bad] = await Promise.allSettled([
      thread.run(1, 'events.store', batch(['ok'])),
      thread.run(2, 'events.store', batch(['x', 'y'], null)),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect(await stored()).toEqual(['ok']);
  });

  it('commits what it holds before it closes', async () => {
    const pending = thread.run(1, 'events.store', batch(['last']));
    await thread.close();
    await pending;
    expect(await stored()).toEqual(['last']);
  });
});
