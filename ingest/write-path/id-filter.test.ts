import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventKey } from '../../storage/event-key.ts';
import { migrateToLatest, openSqlite, type SqliteStorage } from '../../storage/index.ts';
import { refundRows, tempDataDir } from '../../test/harness.ts';
import { insertEventRows } from '../events/store.ts';
import { IdFilter } from './id-filter.ts';
import { encodeForJournal, journalDir } from './journal.ts';
import { JournalWriter } from './journal-writer.ts';

describe('IdFilter', () => {
  it('never rules out a key it was given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 80 }), { maxLength: 300 }), (ids) => {
        const filter = new IdFilter(ids.length);
        for (const id of ids) filter.add(eventKey(id));
        expect(ids.every((id) => filter.mightContain(eventKey(id)))).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.maxSafeNat(), { maxLength: 300 }), (keys) => {
        const filter = new IdFilter(keys.length);
        for (const key of keys) filter.add(key);
        expect(keys.every((key) => filter.mightContain(key))).toBe(true);
      }),
    );
  });

  it('rules out nearly every other id at its planned size, and grows with the plan up to 128 MiB', () => {
    const planned = 200_000;
    const filter = new IdFilter(planned);
    for (let i = 0; i < planned; i += 1) filter.add(eventKey(randomUUID()));
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i += 1) if (filter.mightContain(eventKey(randomUUID()))) falsePositives += 1;
    // About 0.1% expected at 16 bits per id and 6 probes.
    expect(falsePositives).toBeLessThan(500);
    expect(new IdFilter(0).bytes).toBe(1 << 20);
    expect(new IdFilter(10_000_000).bytes).toBe(32 << 20);
    expect(new IdFilter(1e12).bytes).toBe(128 << 20);
  });
});

describe("the journal writer's duplicate check with the id filter", () => {
  let dir: string;
  let storage: SqliteStorage;
  let writer: JournalWriter | undefined;
  const rows = refundRows;
  /** Stores the ids through the writer, as the write thread does; what it counted. */
  const store = (w: JournalWriter, ids: string[]) => {
    const counts = w.store(encodeForJournal(rows(ids)));
    w.commit();
    return counts.refund;
  };

  beforeEach(async () => {
    dir = tempDataDir();
    storage = openSqlite(dir);
    await migrateToLatest(storage.db);
    // Events already in the table, as an earlier run's apply thread left them.
    storage.sqlite.transaction(() =>
      insertEventRows(storage.sqlite, rows(Array.from({ length: 23 }, (_, i) => `old-${i}`))),
    )();
  });
  afterEach(async () => {
    writer?.close();
    writer = undefined;
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds ids already in the table before the filter is filled, while it fills, and after', () => {
    writer = new JournalWriter(journalDir(storage.file), storage.sqlite);
    expect(writer.idFilterFilled).toBe(false);
    expect(store(writer, ['old-3', 'new-1'])).toEqual({ accepted: 1, duplicates: 1 });
    // Five ids per step: the table's 23 ids take five steps.
    const steps: boolean[] = [];
    while (!writer.extendIdFilter(5)) {
      steps.push(false);
      expect(store(writer, [`old-${steps.length * 4}`])).toEqual({ accepted: 0, duplicates: 1 });
    }
    expect(steps.length).toBe(4);
    expect(writer.idFilterFilled).toBe(true);
    const old = Array.from({ length: 23 }, (_, i) => `old-${i}`);
    expect(store(writer, [...old, 'new-2'])).toEqual({ accepted: 1, duplicates: 23 });
    // Appended by this writer (waiting in the journal): a duplicate too.
    expect(store(writer, ['new-1', 'new-2', 'new-3'])).toEqual({ accepted: 1, duplicates: 2 });
  });

  it('never inserts an id twice when applying, even an entry the write thread should have refused', () => {
    const again = rows(['old-1', 'fresh', 'fresh']);
    const counts = storage.sqlite.transaction(() => insertEventRows(storage.sqlite, again))();
    expect(counts.refund).toEqual({ accepted: 1, duplicates: 2 });
    const ids = storage.sqlite
      .prepare(`select id from affiliate_events where id in ('old-1', 'fresh') order by id`)
      .pluck()
      .all();
    expect(ids).toEqual(['fresh', 'old-1']);
  });

  it('inserts an id whose key another stored id shares (keys may collide; the text decides)', () => {
    // 'old-2' made to share the key 'twin' will have.
    storage.sqlite
      .prepare('update affiliate_events set id_key = vigil_event_key(?) where id = ?')
      .run('twin', 'old-2');
    const counts = storage.sqlite.transaction(() =>
      insertEventRows(storage.sqlite, rows(['twin', 'old-2'])),
    )();
    expect(counts.refund).toEqual({ accepted: 1, duplicates: 1 });
    const keys = storage.sqlite
      .prepare(`select id from affiliate_events where id_key = vigil_event_key('twin') order by id`)
      .pluck()
      .all();
    expect(keys).toEqual(['old-2', 'twin']);
  });

  it('still finds an id the apply thread moved into the table after the filter was filled', () => {
    writer = new JournalWriter(journalDir(storage.file), storage.sqlite);
    while (!writer.extendIdFilter(1000)) {}
    expect(store(writer, ['moved'])).toEqual({ accepted: 1, duplicates: 0 });
    // Applied, and its entry deleted: the id is now only in the table.
    storage.sqlite.transaction(() => insertEventRows(storage.sqlite, rows(['moved'])))();
    writer.applied(1);
    writer.deleteApplied();
    expect(store(writer, ['moved'])).toEqual({ accepted: 0, duplicates: 1 });
  });
});
