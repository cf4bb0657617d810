import type SQLite from 'better-sqlite3';
import { eventKey } from '../../storage/event-key.ts';
import {
  type EventCounts,
  type EventRowBatch,
  fillIpHashes,
  IP_HASH_AT,
  ipHash,
  isEventType,
} from '../events/store.ts';
import { IdFilter } from './id-filter.ts';
import { appliedSeq, decodeBatch, type EncodedBatch, encodeBatch, rowId, withIpHashes } from './journal.ts';
import { PendingIds } from './pending-ids.ts';
import { SegmentWriter } from './segment-log.ts';

type EventType = EventRowBatch['types'][number];

/**
 * Throws unless the batch has the shape `encodeForJournal` gives (which checked every row): a type and a
 * non-empty id per row, and the rows' text.
 */
function checkEncoded(batch: EncodedBatch): void {
  const { types, ids, text, ips } = batch ?? {};
  if (
    !Array.isArray(types) ||
    !Array.isArray(ids) ||
    types.length !== ids.length ||
    typeof text !== 'string' ||
    !types.every(isEventType) ||
    !ids.every((id) => typeof id === 'string' && id.length > 0) ||
    (ips !== undefined &&
      (!Array.isArray(ips) ||
        !ips.every((ip) => typeof ip === 'string') ||
        ips.length !== types.filter((type) => IP_HASH_AT[type] >= 0).length))
  ) {
    throw new Error('not an encoded batch of event rows');
  }
}

/** The entry text of the rows at `keep` only, with their IP hashes (`hashes`, of every row with an IP). */
function only(batch: EncodedBatch, keep: number[], hashes: string[] | undefined): string {
  const rows = decodeBatch(batch.text);
  if (hashes) fillIpHashes(rows, hashes);
  return encodeBatch({
    types: keep.map((i) => rows.types[i] as EventType),
    values: keep.map((i) => rows.values[i] as unknown[]),
  });
}

/** What the journal holds when the writer opens it. */
export interface JournalState {
  /** The last entry applied to the database. */
  appliedSeq: number;
  /** The last entry in the journal (equal to `appliedSeq` when nothing waits). */
  lastSeq: number;
  /** Events in entries not yet applied. */
  backlogEvents: number;
  /** Segments cut at open where a record did not check (a group torn by a crash, never acknowledged). */
  cut: { file: string; at: number }[];
}

/**
 * The write thread's side of the event journal (see journal.ts): decides which events are new, stages them as
 * one entry per request in the thread's group, commits the group (`commit`), and deletes segments once
 * every entry in them is applied.
 *
 * Idempotency on event id spans three places: the ids of this group (staged until its commit), the ids of
 * entries in the journal not yet deleted, and the `affiliate_events` table (looked up, never written here).
 * An entry's ids leave the pending set only after the apply thread reports it committed, so an id is always
 * in at least one of them. A filter of every id in the table (`IdFilter`) spares the lookup for ids it
 * rules out, which is nearly every id: it is filled from the table a step at a time after the thread starts
 * (`extendIdFilter`; until then every id is looked up) and with each id this writer appends. Only the apply
 * thread inserts into the table, and only ids this writer appended or found in the journal at its start.
 */
export class JournalWriter {
  readonly #log: SegmentWriter;
  readonly #stored: SQLite.Statement;
  readonly #keysAfter: SQLite.Statement;
  readonly #ids: IdFilter;
  /** The last key the filter was filled up to, in key order; undefined once it holds every id in the table. */
  #scannedThrough: number | undefined = -1;
  /** Ids of the entries in the journal not yet applied. */
  readonly #pending = new PendingIds();
  /** This group's entries, until it commits or rolls back. */
  #staged: { seq: number; ids: string[]; keys: number[] }[] = [];
  readonly #stagedIds = new Set<string>();
  #nextSeq: number;
  #lastCommittedSeq: number;
  /** The last entry the apply thread reported applied. */
  #appliedThrough: number;

  readonly #secret: Buffer | undefined;

  /**
   * `journalDir`: the journal's directory; `main`: a connection to the database, for its lookups;
   * `secret`: keys the IP hashes of unhashed batches (without it, such a batch is refused).
   */
  constructor(journalDir: string, main: SQLite.Database, options: { secret?: Buffer | undefined } = {}) {
    this.#secret = options.secret;
    this.#log = new SegmentWriter(journalDir);
    this.#stored = main.prepare('select 1 from affiliate_events where id_key = ? and id = ?').pluck();
    this.#keysAfter = main
      .prepare('select id_key from affiliate_events where id_key > ? order by id_key limit ?')
      .pluck();
    // Planned for the table's rows (its largest rowid bounds them) and as many again to come.
    const rows = main.prepare('select coalesce(max(rowid), 0) from affiliate_events').pluck().get() as number;
    this.#ids = new IdFilter(2 * rows + 1_000_000);
    const applied = appliedSeq(main);
    this.#appliedThrough = applied;
    this.#log.deleteThrough(applied);
    let last = applied;
    const take = (seq: number, text: string) => {
      const ids = decodeBatch(text).values.map(rowId);
      const keys = ids.map(eventKey);
      this.#pending.add(seq, ids, keys);
      for (const key of keys) this.#ids.add(key);
      last = seq;
    };
    for (const { seq, text } of this.#log.recovered) if (seq > applied) take(seq, text);
    // Entries are numbered after the last one applied even when the journal was lost or replaced, so a new
    // entry is never mistaken for one already applied.
    // (This process holds the data directory, so no other appends or applies entries meanwhile.)
    this.#nextSeq = Math.max(last, this.#log.lastSeq) + 1;
    this.#lastCommittedSeq = last;
    // A segment of entries all applied before the process stopped goes now, not at the next apply.
    if (this.#log.releasable(applied)) this.#log.release(applied);
  }

  state(): JournalState {
    return {
      appliedSeq: this.#appliedThrough,
      lastSeq: this.#lastCommittedSeq,
      backlogEvents: this.#pending.size,
      cut: this.#log.cut,
    };
  }

  get lastCommittedSeq(): number {
    return this.#lastCommittedSeq;
  }

  /**
   * Appends a request's new events as one entry (inside the group's transaction) and counts the rest as
   * duplicates: repeated within the request or the group, waiting in the journal, or already stored. When
   * none repeats (the usual case) the request's text is appended as it came.
   */
  store(batch: EncodedBatch): EventCounts {
    const counts: EventCounts = {
      click: { accepted: 0, duplicates: 0 },
      conversion: { accepted: 0, duplicates: 0 },
      refund: { accepted: 0, duplicates: 0 },
    };
    checkEncoded(batch);
    const fresh: number[] = [];
    const ids: string[] = [];
    const keys: number[] = [];
    const inRequest = new Set<string>();
    batch.ids.forEach((id, i) => {
      const type = batch.types[i] as EventType;
      const key = eventKey(id);
      if (
        inRequest.has(id) ||
        this.#stagedIds.has(id) ||
        this.#pending.has(id, key) ||
        this.#isStored(id, key)
      ) {
        counts[type].duplicates += 1;
        return;
      }
      inRequest.add(id);
      counts[type].accepted += 1;
      fresh.push(i);
      ids.push(id);
      keys.push(key);
    });
    if (ids.length === 0) return counts;
    const hashes = this.#ipHashes(batch);
    const text =
      fresh.length === batch.ids.length ? withIpHashes(batch.text, hashes ?? []) : only(batch, fresh, hashes);
    const seq = this.#nextSeq;
    this.#log.stage(seq, ids.length, text);
    this.#nextSeq += 1;
    this.#staged.push({ seq, ids, keys });
    for (const id of ids) this.#stagedIds.add(id);
    // Added before the commit: a rollback leaves them in the filter, which costs a lookup, never a mistake.
    for (const key of keys) this.#ids.add(key);
    return counts;
  }

  /** The keyed hashes of an unhashed batch's IPs (undefined for a batch whose rows hold them already). */
  #ipHashes(batch: EncodedBatch): string[] | undefined {
    if (batch.ips === undefined) return undefined;
    const secret = this.#secret;
    if (!secret) throw new Error('an unhashed batch of event rows, and no secret to hash its IPs');
    return batch.ips.map((ip) => ipHash(secret, ip));
  }

  /** Whether `affiliate_events` holds the id (`key`: its event key); looked up unless the filter rules it out. */
  #isStored(id: string, key: number): boolean {
    if (this.#scannedThrough === undefined && !this.#ids.mightContain(key)) return false;
    return this.#stored.get(key, id) !== undefined;
  }

  /** Whether the id filter holds every id in the table yet. */
  get idFilterFilled(): boolean {
    return this.#scannedThrough === undefined;
  }

  /**
   * Adds the next `maxIds` ids of the table, in key order, to the filter; true once it holds them all. Ids
   * that the apply thread inserts meanwhile below the point reached were appended by this writer or found in
   * the journal, so they are in the filter already.
   */
  extendIdFilter(maxIds: number): boolean {
    if (this.#scannedThrough === undefined) return true;
    const keys = this.#keysAfter.all(this.#scannedThrough, maxIds) as number[];
    for (const key of keys) this.#ids.add(key);
    this.#scannedThrough = keys.length < maxIds ? undefined : keys.at(-1);
    return this.#scannedThrough === undefined;
  }

  /**
   * Writes the group's entries and makes them durable (one write, one fdatasync); throws, with nothing of
   * the group kept, when that fails. Returns the events the group's entries hold.
   */
  commit(): number {
    this.#log.commit();
    let events = 0;
    for (const { seq, ids, keys } of this.#staged) {
      this.#pending.add(seq, ids, keys);
      this.#lastCommittedSeq = seq;
      events += ids.length;
    }
    this.#staged = [];
    this.#stagedIds.clear();
    return events;
  }

  /** The group failed: nothing of it is written. */
  rolledBack(): void {
    this.#log.rollback();
    this.#staged = [];
    this.#stagedIds.clear();
  }

  /**
   * The apply thread committed every entry through `seq`: their rows are in `affiliate_events`, so their ids
   * may leave the pending set, which `forgetApplied` does a step at a time (an id found in both is a
   * duplicate either way). The entries themselves are deleted with their segments (`deleteApplied`).
   */
  applied(seq: number): void {
    if (seq <= this.#appliedThrough) return;
    this.#appliedThrough = seq;
  }

  /**
   * Removes from the pending set the ids of applied entries, whole entries until about `maxIds` ids went (an
   * apply transaction's 200,000 took the thread 20–70 ms at once, while requests waited for their commit).
   * True when no applied entry's ids are left in it.
   */
  forgetApplied(maxIds: number): boolean {
    return this.#pending.removeThrough(this.#appliedThrough, maxIds);
  }

  /**
   * Deletes every segment whose entries are all applied (whole files; no entry is rewritten). When every
   * entry is applied, the current segment is ended and goes too.
   */
  deleteApplied(options: { background?: boolean } = {}): void {
    if (this.#log.releasable(this.#appliedThrough)) this.#log.release(this.#appliedThrough, options);
    else this.#log.deleteThrough(this.#appliedThrough, options);
  }

  /**
   * Erasure. Without `through`: ends the current segment (its entries end at the `through` answered) and
   * deletes every segment whose entries are all applied. With it: deletes those, nothing more. `done` when no
   * segment with an entry at or before `through` is left; one is when it also holds entries not yet applied,
   * and goes once they are.
   */
  truncate(through?: number): { done: boolean; through: number } {
    const end = through ?? this.#lastCommittedSeq;
    if (through === undefined) this.#log.release(this.#appliedThrough);
    else this.deleteApplied();
    return { done: !this.#log.holdsThrough(end), through: end };
  }

  close(): void {
    this.#log.close();
  }
}
