import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventKey } from '../../storage/event-key.ts';
import { PendingIds } from './pending-ids.ts';

describe('pending ids of the event journal', () => {
  it('holds an entry’s ids until it is removed, and no others', () => {
    const pending = new PendingIds();
    pending.add(1, ['a', 'b']);
    pending.add(2, ['c']);
    expect(['a', 'b', 'c', 'd', 'ab', ''].map((id) => pending.has(id))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(pending.size).toBe(3);
    pending.removeThrough(1);
    expect(['a', 'b', 'c'].map((id) => pending.has(id))).toEqual([false, false, true]);
    expect(pending.size).toBe(1);
    expect(pending.entries).toBe(1);
  });

  it('tells colliding keys apart by the id itself', () => {
    const pending = new PendingIds();
    // Every id given the same key: one probe chain, found by comparing the ids.
    pending.add(1, ['x1', 'x2'], [7, 7]);
    pending.add(2, ['x3'], [7]);
    expect(pending.has('x2', 7)).toBe(true);
    expect(pending.has('x4', 7)).toBe(false);
    // An id that is a part of another id is not it.
    expect(pending.has('x', 7)).toBe(false);
  });

  it('refuses an id it could not tell apart (empty, or with a space) and an entry added twice', () => {
    const pending = new PendingIds();
    expect(() => pending.add(1, ['a b'])).toThrow(/space/);
    expect(() => pending.add(1, [''])).toThrow(/space or none/);
    pending.add(1, ['a']);
    expect(() => pending.add(1, ['b'])).toThrow(/already pending/);
    expect(() => pending.add(0, ['b'])).toThrow(/not an entry/);
  });

  it('answers as a set of the ids of the entries not yet removed, through growth and removals', () => {
    const id = fc.stringMatching(/^[\x21-\x7e]{1,6}$/);
    const op = fc.oneof(
      fc.record({ add: fc.array(id, { maxLength: 40 }) }),
      fc.record({ removeThrough: fc.nat(60) }),
      fc.record({ has: id }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.boolean(), (ops, collide) => {
        const pending = new PendingIds();
        const model = new Map<number, string[]>();
        let seq = 0;
        // With few distinct keys, most ids collide: the ids themselves decide.
        const key = (x: string) => (collide ? eventKey(x) % 5 : eventKey(x));
        for (const o of ops) {
          if ('add' in o) {
            seq += 1;
            pending.add(seq, o.add, o.add.map(key));
            model.set(seq, o.add);
          } else if ('removeThrough' in o) {
            pending.removeThrough(o.removeThrough);
            for (const s of [...model.keys()]) if (s <= o.removeThrough) model.delete(s);
          } else {
            const expected = [...model.values()].some((ids) => ids.includes(o.has));
            expect(pending.has(o.has, key(o.has))).toBe(expected);
          }
          expect(pending.size).toBe([...model.values()].reduce((n, ids) => n + ids.length, 0));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a million ids and finds each, and lets their slots go once removed', () => {
    const pending = new PendingIds();
    const ids = (seq: number) => Array.from({ length: 50 }, (_, i) => `e-${seq}-${i}`);
    for (let seq = 1; seq <= 20_000; seq += 1) pending.add(seq, ids(seq));
    expect(pending.size).toBe(1_000_000);
    expect(pending.has('e-12345-49')).toBe(true);
    expect(pending.has('e-20001-0')).toBe(false);
    pending.removeThrough(19_999);
    expect(pending.size).toBe(50);
    expect(pending.has('e-12345-49')).toBe(false);
    expect(pending.has('e-20000-7')).toBe(true);
    // The freed slots are used again: adding as many more keeps working.
    for (let seq = 20_001; seq <= 40_000; seq += 1) pending.add(seq, ids(seq));
    expect(pending.has('e-39999-3')).toBe(true);
    expect(pending.size).toBe(1_000_050);
  });
});
