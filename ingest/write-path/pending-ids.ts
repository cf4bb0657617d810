import { eventKey } from '../../storage/event-key.ts';

/** Slots of an empty table; it doubles whenever half its slots hold ids. */
const MIN_SLOTS = 1 << 16;
/** A slot's entry number: none yet, or emptied by a removal (probing goes on past it). */
const EMPTY = 0;
const REMOVED = -1;

/**
 * The ids of journal entries not yet applied, for the write thread's idempotency check (journal-writer.ts).
 * The backlog may hold millions of events during a surge, and a `Set` of their ids made each one an object of
 * its own, which every garbage collection of the write thread traced. Here each entry keeps its ids as one
 * string, and an open-addressing table (two typed arrays, linear probing) maps each id's event key
 * (storage/event-key.ts) to its entry; a lookup whose key is found compares the id itself with the entry's ids,
 * so colliding keys never make a new id count as a duplicate.
 */
export class PendingIds {
  #keys = new Float64Array(MIN_SLOTS);
  /** Per slot, the entry (journal seq, > 0) whose id has the slot's key, or EMPTY or REMOVED. */
  #seqs = new Float64Array(MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  /** Slots holding an id, and slots holding an id or REMOVED (both end a probe only when EMPTY). */
  #live = 0;
  #used = 0;
  /** Per entry, in seq order: its ids, each between two spaces (ids are printable ASCII without spaces). */
  readonly #entries = new Map<number, string>();
  #events = 0;

  /** Ids held, over every entry. */
  get size(): number {
    return this.#events;
  }

  /** Entries held. */
  get entries(): number {
    return this.#entries.size;
  }

  /** Adds an entry's ids, with their event keys (`keys[i]` is `eventKey(ids[i])`). */
  add(seq: number, ids: readonly string[], keys?: readonly number[]): void {
    if (!(seq > 0) || this.#entries.has(seq))
      throw new Error(`entry ${seq} is already pending or not an entry`);
    for (const id of ids) {
      if (id.length === 0 || id.includes(' '))
        throw new Error('an id with a space or none cannot be pending');
    }
    this.#entries.set(seq, ids.length === 0 ? ' ' : ` ${ids.join(' ')} `);
    this.#events += ids.length;
    ids.forEach((id, i) => {
      this.#insert(keys?.[i] ?? eventKey(id), seq);
    });
  }

  /** Whether the id (`key`: its event key) is in an entry held. */
  has(id: string, key: number = eventKey(id)): boolean {
    for (let slot = this.#slotOf(key); ; slot = (slot + 1) & this.#mask) {
      const seq = this.#seqs[slot] as number;
      if (seq === EMPTY) return false;
      if (seq > 0 && this.#keys[slot] === key && this.#entries.get(seq)?.includes(` ${id} `)) return true;
    }
  }

  /**
   * Removes the entries through `seq` (applied to the database), with their ids: all of them, or whole
   * entries until at least `maxIds` ids went. True when none through `seq` is left.
   */
  removeThrough(seq: number, maxIds = Number.POSITIVE_INFINITY): boolean {
    let removed = 0;
    for (const [entry, ids] of this.#entries) {
      if (entry > seq) return true;
      if (removed >= maxIds) return false;
      const before = this.#events;
      for (let start = 1; start < ids.length; ) {
        const end = ids.indexOf(' ', start);
        this.#remove(eventKey(ids.slice(start, end)), entry);
        this.#events -= 1;
        start = end + 1;
      }
      this.#entries.delete(entry);
      removed += before - this.#events;
    }
    return true;
  }

  #slotOf(key: number): number {
    // Keys are hashes: their low 32 bits spread as well as any.
    return (key | 0) & this.#mask;
  }

  #insert(key: number, seq: number): void {
    if ((this.#used + 1) * 2 > this.#seqs.length) this.#rebuild();
    let slot = this.#slotOf(key);
    while ((this.#seqs[slot] as number) > 0) slot = (slot + 1) & this.#mask;
    if (this.#seqs[slot] === EMPTY) this.#used += 1;
    this.#keys[slot] = key;
    this.#seqs[slot] = seq;
    this.#live += 1;
  }

  #remove(key: number, seq: number): void {
    for (let slot = this.#slotOf(key); ; slot = (slot + 1) & this.#mask) {
      const held = this.#seqs[slot] as number;
      if (held === EMPTY) return;
      if (held === seq && this.#keys[slot] === key) {
        this.#seqs[slot] = REMOVED;
        this.#live -= 1;
        return;
      }
    }
  }

  /**
   * Re-inserts the ids held into a table of at least four slots per id: twice the size when few were removed,
   * the same or smaller when many were (their slots are then free again).
   */
  #rebuild(): void {
    let slots = MIN_SLOTS;
    while (slots < this.#live * 4) slots *= 2;
    const keys = this.#keys;
    const seqs = this.#seqs;
    this.#keys = new Float64Array(slots);
    this.#seqs = new Float64Array(slots);
    this.#mask = slots - 1;
    this.#live = 0;
    this.#used = 0;
    for (let slot = 0; slot < seqs.length; slot += 1) {
      if ((seqs[slot] as number) > 0) this.#insert(keys[slot] as number, seqs[slot] as number);
    }
  }
}
