import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJournal, SegmentReader, SegmentWriter, segmentFiles } from './segment-log.ts';

let dir: string;
let writer: SegmentWriter | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-segments-'));
});
afterEach(() => {
  writer?.close();
  writer = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

const text = (seq: number) => JSON.stringify({ seq, note: `entry ${seq} ü ✓` });
/** Commits one group of records `from`..`to`. */
const commit = (w: SegmentWriter, from: number, to = from) => {
  for (let seq = from; seq <= to; seq += 1) w.stage(seq, seq % 7, text(seq));
  w.commit();
};
const seqs = () => readJournal(dir).map((r) => r.seq);

describe('the event journal segments', () => {
  it('keeps what was committed, with each record whole, across a reopen', () => {
    writer = new SegmentWriter(dir);
    commit(writer, 1, 3);
    commit(writer, 4);
    writer.stage(5, 1, text(5));
    writer.rollback();
    writer.close();
    expect(readJournal(dir)).toEqual([1, 2, 3, 4].map((seq) => ({ seq, events: seq % 7, text: text(seq) })));
    writer = new SegmentWriter(dir);
    expect(writer.recovered.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(writer.lastSeq).toBe(4);
    expect(writer.cut).toEqual([]);
    commit(writer, 5);
    expect(seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('cuts a torn tail at open and appends after the last whole record', () => {
    writer = new SegmentWriter(dir);
    commit(writer, 1, 2);
    writer.close();
    const [file] = segmentFiles(dir) as [string];
    const whole = fs.statSync(file).size;
    // A group half written when the process stopped: a header and part of its payload.
    const half = fs.readFileSync(file).subarray(0, 30);
    fs.appendFileSync(file, half);
    writer = new SegmentWriter(dir);
    expect(writer.recovered.map((r) => r.seq)).toEqual([1, 2]);
    expect(writer.cut).toEqual([{ file, at: whole }]);
    expect(fs.statSync(file).size).toBe(whole);
    commit(writer, 3);
    expect(seqs()).toEqual([1, 2, 3]);
  });

  it('drops a record whose bytes do not match its checksum, and everything after it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (where) => {
        fs.rmSync(dir, { recursive: true, force: true });
        const w = new SegmentWriter(dir);
        commit(w, 1, 3);
        w.close();
        const [file] = segmentFiles(dir) as [string];
        const bytes = fs.readFileSync(file);
        const at = where % bytes.length;
        bytes[at] = (bytes[at] as number) ^ 0x5a;
        fs.writeFileSync(file, bytes);
        const reopened = new SegmentWriter(dir);
        const kept = reopened.recovered.map((r) => r.seq);
        reopened.close();
        // The damaged record and those after it go; those before it stay whole.
        expect(kept.length).toBeLessThan(3);
        expect(kept).toEqual([1, 2, 3].slice(0, kept.length));
        expect(readJournal(dir).map((r) => r.text)).toEqual(kept.map(text));
      }),
      { numRuns: 60 },
    );
  });

  it('begins a new segment past its size and deletes segments once every record in them is applied', () => {
    // Two records fill a segment.
    writer = new SegmentWriter(dir, { segmentBytes: 100 });
    for (let seq = 1; seq <= 6; seq += 1) commit(writer, seq);
    expect(segmentFiles(dir)).toHaveLength(3);
    expect(seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    // The segment of 3 and 4 holds a record not yet applied: it stays whole.
    writer.deleteThrough(3);
    expect(seqs()).toEqual([3, 4, 5, 6]);
    expect(writer.release(6)).toBe(true);
    expect(segmentFiles(dir)).toEqual([]);
    commit(writer, 7);
    expect(seqs()).toEqual([7]);
  });

  it('deletes applied segments in the background, and a deletion meanwhile removes them at once', async () => {
    writer = new SegmentWriter(dir, { segmentBytes: 100 });
    for (let seq = 1; seq <= 6; seq += 1) commit(writer, seq);
    writer.deleteThrough(2, { background: true });
    // Committing goes on while the file goes.
    commit(writer, 7);
    await expect.poll(seqs).toEqual([3, 4, 5, 6, 7]);
    writer.deleteThrough(4, { background: true });
    // Erasure: a synchronous deletion returns with nothing applied left, in hand in the background or not.
    writer.deleteThrough(4);
    expect(seqs()).toEqual([5, 6, 7]);
    expect(writer.release(7, { background: true })).toBe(true);
    await expect.poll(() => segmentFiles(dir)).toEqual([]);
  });

  it('keeps a segment whose records are not all applied when released for erasure', () => {
    writer = new SegmentWriter(dir);
    commit(writer, 1, 2);
    expect(writer.releasable(1)).toBe(false);
    expect(writer.release(1)).toBe(false);
    expect(seqs()).toEqual([1, 2]);
    writer.deleteThrough(2);
    expect(segmentFiles(dir)).toEqual([]);
  });

  it('begins a new segment after a failed write, with nothing of the failed group kept', () => {
    writer = new SegmentWriter(dir);
    commit(writer, 1);
    const [first] = segmentFiles(dir) as [string];
    // The file is swapped for a directory's descriptor: the write fails.
    writer.close();
    writer.stage(2, 1, text(2));
    expect(() => writer?.commit()).toThrow();
    commit(writer, 3);
    expect(segmentFiles(dir)).toHaveLength(2);
    expect(segmentFiles(dir)[0]).toBe(first);
    expect(seqs()).toEqual([1, 3]);
  });

  it('lets the reader find committed records after a seq, across segments and deletions', () => {
    writer = new SegmentWriter(dir, { segmentBytes: 150 });
    const reader = new SegmentReader(dir);
    expect(reader.hasAfter(0, 0)).toBe(false);
    commit(writer, 1, 2);
    commit(writer, 3);
    // Records past what the writer reported committed are not read.
    expect([...reader.records(0, 2)].map((r) => r.seq)).toEqual([1, 2]);
    expect(reader.eventsAfter(0, 3)).toBe(1 + 2 + 3);
    expect(reader.eventsAfter(1, 3)).toBe(2 + 3);
    writer.deleteThrough(2);
    for (let seq = 4; seq <= 8; seq += 1) commit(writer, seq);
    expect([...reader.records(2, 8)].map((r) => r.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    writer.deleteThrough(6);
    expect([...reader.records(6, 8)].map((r) => ({ seq: r.seq, text: r.text }))).toEqual([
      { seq: 7, text: text(7) },
      { seq: 8, text: text(8) },
    ]);
    // A reader that starts late finds the same.
    expect([...new SegmentReader(dir).records(6, 8)].map((r) => r.seq)).toEqual([7, 8]);
  });
});
