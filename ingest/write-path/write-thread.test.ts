import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../http/logger.ts';
import { migrateToLatest, openSqlite, type SqliteStorage } from '../../storage/index.ts';
import { refundRows, tempDataDir } from '../../test/harness.ts';
import { type EncodedBatch, encodeForJournal, journalDir } from './journal.ts';
import { readJournal, segmentFiles } from './segment-log.ts';
import { WriteThread } from './write-thread.ts';

let dir: string;
let storage: SqliteStorage;
let thread: WriteThread;
let commits: number[];
let applied: number[];
/** When each apply transaction was reported (epoch ms). */
let appliedAt: number[];

const SECRET = Buffer.from('s'.repeat(32));

/** How busy the request thread reports itself (0–1); idle unless a test says otherwise. */
let utilization: number;

const open = (limits = {}) =>
  new WriteThread(
    storage,
    createLogger('silent'),
    {
      onCommit: (rows) => commits.push(rows),
      onApplied: (events) => {
        applied.push(events);
        appliedAt.push(Date.now());
      },
    },
    { limits, secret: SECRET, utilization: () => utilization },
  );

beforeEach(async () => {
  dir = tempDataDir();
  storage = openSqlite(dir);
  await migrateToLatest(storage.db);
  commits = [];
  applied = [];
  appliedAt = [];
  utilization = 0;
  thread = open();
});
afterEach(async () => {
  await thread.close();
  await storage.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const batch = (ids: string[]) => encodeForJournal(refundRows(ids));
/** Stores refunds with these ids; what the write thread counted of them. */
const storeRefunds = async (ids: string[]) => (await thread.appendEvents(ids.length, batch(ids))).refund;
const stored = async () =>
  (await storage.db.selectFrom('affiliate_events').select('id').orderBy('id').execute()).map((r) => r.id);
/** Entries in the journal's files, read as another process would. */
const journalEntries = () =>
  readJournal(journalDir(storage.file)).map(({ seq, events }) => ({ seq, events }));
const appliedSeq = async () =>
  (await storage.db.selectFrom('event_journal_applied').select('seq').executeTakeFirstOrThrow()).seq;

/**
 * Runs `work` while this test holds the database's write lock: the apply thread's transactions wait for it,
 * so what is acknowledged meanwhile stays in the journal.
 */
async function withApplyHeld<T>(work: () => Promise<T>): Promise<T> {
  storage.sqlite.exec('begin immediate');
  try {
    return await work();
  } finally {
    storage.sqlite.exec('commit');
  }
}

describe('the write thread and the event journal', () => {
  it('groups ops posted together into one commit and answers each after it', async () => {
    const results = await Promise.all([
      thread.appendEvents(2, batch(['a', 'b'])),
      thread.appendEvents(1, batch(['c'])),
      thread.appendEvents(1, batch(['a'])),
    ]);
    expect(results.map((r) => r.refund)).toEqual([
      { accepted: 2, duplicates: 0 },
      { accepted: 1, duplicates: 0 },
      { accepted: 0, duplicates: 1 },
    ]);
    expect(commits.reduce((sum, rows) => sum + rows, 0)).toBe(4);
    expect(commits.length).toBeLessThan(3);
    await thread.settle();
    expect(await stored()).toEqual(['a', 'b', 'c']);
  });

  it('counts an id as a duplicate wherever it is: in the request, in the journal, or in the database', async () => {
    // The first ids are still in the journal when the second request repeats them.
    await withApplyHeld(async () => {
      expect(await storeRefunds(['j1', 'j2', 'j1'])).toEqual({ accepted: 2, duplicates: 1 });
      expect(journalEntries()).toEqual([{ seq: 1, events: 2 }]);
      expect(await storeRefunds(['j2', 'j3'])).toEqual({ accepted: 1, duplicates: 1 });
      expect(thread.backlogEvents).toBe(3);
    });
    await thread.settle();
    expect(thread.backlogEvents).toBe(0);
    expect(await storeRefunds(['j3', 'j4'])).toEqual({ accepted: 1, duplicates: 1 });
    await thread.settle();
    expect(await stored()).toEqual(['j1', 'j2', 'j3', 'j4']);
  });

  it('deletes applied entries from the journal and records the last one applied', async () => {
    await thread.appendEvents(1, batch(['d1']));
    await thread.appendEvents(1, batch(['d2']));
    await thread.settle();
    expect(await appliedSeq()).toBe(2);
    // The write thread deletes an entry once it hears it was applied.
    await expect.poll(journalEntries).toEqual([]);
    // A request whose events were all repeats adds no entry.
    await thread.appendEvents(1, batch(['d1']));
    expect(journalEntries()).toEqual([]);
  });

  it('deletes many applied entries a few at a time, also when no more requests come', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => thread.appendEvents(1, batch([`many${i}`]))));
    await thread.settle();
    await expect.poll(journalEntries, { timeout: 5000 }).toEqual([]);
    expect(await stored()).toHaveLength(100);
    // A graceful stop deletes what is applied at once.
    await Promise.all(Array.from({ length: 100 }, (_, i) => thread.appendEvents(1, batch([`more${i}`]))));
    await thread.close();
    expect(journalEntries()).toEqual([]);
    expect(await stored()).toHaveLength(200);
  });

  it('applies many entries per transaction, within its limits', async () => {
    await thread.close();
    thread = open({ maxEvents: 5 });
    await withApplyHeld(async () => {
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => thread.appendEvents(2, batch([`m${i}a`, `m${i}b`]))),
      );
    });
    await thread.settle();
    expect((await stored()).length).toBe(12);
    // Entries are never split: a transaction stops after the entry that reaches the limit.
    expect(applied).toEqual([6, 6]);
  });

  it('waits for a fuller transaction while few events wait, up to its delay; settle and a full one go at once', async () => {
    await thread.close();
    thread = open({ minEvents: 100, maxDelayMs: 400 });
    await thread.start();
    await storeRefunds(['w1', 'w2']);
    const acknowledged = Date.now();
    // Two events wait for more, then for the delay, and are applied without anyone asking.
    await expect.poll(stored, { timeout: 5000 }).toEqual(['w1', 'w2']);
    expect((appliedAt[0] ?? 0) - acknowledged).toBeGreaterThanOrEqual(300);

    await thread.close();
    thread = open({ minEvents: 100, maxDelayMs: 60_000 });
    await storeRefunds(['s1']);
    await thread.settle();
    expect(await stored()).toContain('s1');
    // A full transaction's worth does not wait for the delay.
    const full = Array.from({ length: 100 }, (_, i) => `f${i}`);
    await storeRefunds(full);
    await expect.poll(async () => (await stored()).length, { timeout: 5000 }).toBe(103);
  });

  it('keeps what the apply thread has not applied across a restart, and applies it at the next start', async () => {
    await withApplyHeld(async () => {
      await thread.appendEvents(2, batch(['r1', 'r2']));
      await thread.appendEvents(1, batch(['r3']));
      // Stop with no time to apply: the entries stay in the journal.
      await thread.close(0);
    });
    expect(journalEntries()).toEqual([
      { seq: 1, events: 2 },
      { seq: 2, events: 1 },
    ]);
    expect(await stored()).toEqual([]);

    thread = open();
    await thread.start();
    expect(thread.backlogEvents).toBeLessThanOrEqual(3);
    // Ids waiting in the journal still count as stored.
    expect(await storeRefunds(['r3', 'r4'])).toEqual({ accepted: 1, duplicates: 1 });
    await thread.settle();
    expect(await stored()).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(await appliedSeq()).toBe(3);
  });

  it('numbers new entries after the last one applied even when the journal file was lost', async () => {
    await thread.appendEvents(1, batch(['l1']));
    await thread.settle();
    await thread.close();
    fs.rmSync(journalDir(storage.file), { recursive: true, force: true });
    thread = open();
    await thread.appendEvents(1, batch(['l2']));
    await thread.settle();
    expect(await stored()).toEqual(['l1', 'l2']);
    expect(await appliedSeq()).toBe(2);
  });

  it('cuts a record torn by a crash at the next start, says so, and keeps every entry before it', async () => {
    await withApplyHeld(async () => {
      await thread.appendEvents(2, batch(['c1', 'c2']));
      await thread.close(0);
    });
    // A group half written when the process stopped: a header and part of a payload.
    const [segment] = segmentFiles(journalDir(storage.file)) as [string];
    fs.appendFileSync(segment, fs.readFileSync(segment).subarray(0, 30));
    const lines: string[] = [];
    thread = new WriteThread(
      storage,
      createLogger('warn', (line) => lines.push(line)),
    );
    await thread.start();
    expect(lines.join('')).toMatch(/event journal segment cut/);
    await thread.appendEvents(1, batch(['c3']));
    await thread.settle();
    expect(await stored()).toEqual(['c1', 'c2', 'c3']);
  });

  it('refuses a malformed row before it reaches the journal, and fails only that op', async () => {
    // A row that could not be inserted never becomes entry text...
    expect(() => encodeForJournal({ types: ['refund'], values: [[null]] })).toThrow(/row of a refund event/);
    expect(() => encodeForJournal({ types: ['refund', 'click'], values: [[]] })).toThrow(/type per row/);
    // ...and the write thread refuses a batch not in the encoded shape.
    const broken: EncodedBatch = { types: ['refund'], ids: ['x', 'y'], text: '{}' };
    const [good, bad] = await Promise.allSettled([
      thread.appendEvents(1, batch(['ok'])),
      thread.appendEvents(1, broken),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    await thread.settle();
    expect(await stored()).toEqual(['ok']);
    await expect.poll(journalEntries).toEqual([]);
  });

  it('appends only the new rows of a request that repeats events', async () => {
    await thread.appendEvents(1, batch(['p1']));
    expect(await storeRefunds(['p1', 'p2', 'p2'])).toEqual({ accepted: 1, duplicates: 2 });
    await thread.settle();
    expect(await stored()).toEqual(['p1', 'p2']);
  });

  it('holds back applying while the request thread is saturated, until the backlog or the wait is too long', async () => {
    await thread.close();
    thread = open({ minEvents: 1, maxDelayMs: 0, deferMaxEvents: 5, deferMaxMs: 60_000 });
    utilization = 1;
    await thread.start();
    // Saturated, with fewer events waiting than the limit: acknowledged, not applied.
    await storeRefunds(['s1', 's2']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(applied).toEqual([]);
    expect(thread.backlogEvents).toBe(2);
    // A lull that lasts: the thread applies what waits.
    utilization = 0;
    await expect.poll(() => thread.backlogEvents, { timeout: 5000 }).toBe(0);
    expect(await stored()).toEqual(['s1', 's2']);
    // Saturated again: held back until the backlog reaches the limit...
    utilization = 1;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await storeRefunds(['s3']);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(thread.backlogEvents).toBe(1);
    await storeRefunds(['s4', 's5', 's6', 's7']);
    await expect.poll(() => thread.backlogEvents, { timeout: 5000 }).toBe(0);
    // ...and a reader that settles never waits for the lull.
    await storeRefunds(['s8']);
    await thread.settle();
    expect(await stored()).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8']);
  });

  it('holds back for a saturated request thread no longer than deferMaxMs', async () => {
    await thread.close();
    thread = open({ minEvents: 1, maxDelayMs: 0, deferMaxEvents: 1000, deferMaxMs: 700 });
    utilization = 1;
    await thread.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const acknowledged = Date.now();
    await storeRefunds(['m1']);
    await expect.poll(() => thread.backlogEvents, { timeout: 5000 }).toBe(0);
    // Saturated since before the event came: applied once the wait since then passed 700 ms.
    expect(Date.now() - acknowledged).toBeGreaterThanOrEqual(300);
    expect(await stored()).toEqual(['m1']);
  });

  it('commits what it holds before it closes', async () => {
    const pending = thread.appendEvents(1, batch(['last']));
    await thread.close();
    await pending;
    expect(await stored()).toEqual(['last']);
  });

  it('deletes every journal segment with an acknowledged entry on request (erasure), applying it first', async () => {
    await thread.close();
    // Nothing is applied unless a reader settles.
    thread = open({ minEvents: 100, maxDelayMs: 60_000 });
    await thread.appendEvents(1, batch(['t1']));
    await thread.settle();
    await thread.appendEvents(1, batch(['t2']));
    // The applied segment of t1 is unlinked in the background.
    await expect.poll(journalEntries).toEqual([{ seq: 2, events: 1 }]);
    // Its segment holds an entry not yet applied: it is applied, then the segment goes.
    expect(await thread.truncateJournal()).toBe(true);
    expect(segmentFiles(journalDir(storage.file))).toEqual([]);
    expect(await stored()).toEqual(['t1', 't2']);
    // What comes after goes to a new segment.
    await thread.appendEvents(1, batch(['t3']));
    expect(journalEntries()).toEqual([{ seq: 3, events: 1 }]);
  });
});
