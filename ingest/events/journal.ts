import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { openSqliteConnection } from '../../storage/database.ts';
import { checkRow, type EventRowBatch } from './store.ts';

/**
 * The event journal: every accepted batch of affiliate events is first appended, as its minimised rows, to a
 * SQLite file of its own beside the database, and acknowledged once that append is committed. The apply
 * thread then moves journal entries into `affiliate_events` in large transactions, and records in the main
 * database, in the same transaction, the last entry it applied (`event_journal_applied`). Applied entries are
 * deleted from the journal.
 *
 * Why a journal: a click touches three indexes whose keys arrive in random order (event id, click id, IP
 * hash). In a B-tree each such insert dirties a page of its own, and every commit writes each dirty page out
 * whole, so committing a request's few hundred rows at a time costs far more per row than committing tens
 * of thousands together. The journal's key only ever grows, so appending to it is cheap, and acknowledgement
 * no longer waits for index maintenance; the apply thread's large transactions share each dirty page among
 * many rows. A file of its own means the append never waits for the apply thread's write lock.
 */
export const JOURNAL_FILE = 'event-journal.sqlite';

/** The journal beside a database file. */
export function journalFile(databaseFile: string): string {
  return path.join(path.dirname(databaseFile), JOURNAL_FILE);
}

/** Opens the journal with Vigil's SQLite settings (durable commits, secure delete), creating it when missing. */
export function openJournal(file: string): SQLite.Database {
  const journal = openSqliteConnection(file);
  journal.exec(
    `create table if not exists journal (
       seq integer primary key,
       events integer not null,
       rows text not null
     )`,
  );
  return journal;
}

/** One journal entry: the rows of one request's new events, in insertion form. */
export interface JournalEntry {
  seq: number;
  batch: EventRowBatch;
}

export function encodeBatch(batch: EventRowBatch): string {
  return JSON.stringify(batch);
}

/**
 * A request's rows as they travel to the write thread: the journal entry's text, made once where the request
 * is handled, with the types and ids the write thread counts and finds duplicates by. One string crosses
 * between threads far more cheaply than the rows' arrays (structured clone), and when no event repeats, the
 * text is appended as it is.
 */
export interface EncodedBatch {
  types: EventRowBatch['types'];
  ids: string[];
  /** `encodeBatch` of the rows, in the order of `types` and `ids`. */
  text: string;
}

/** Checks every row (see `checkRow`) and encodes the batch for the write thread. */
export function encodeForJournal(batch: EventRowBatch): EncodedBatch {
  if (batch.types.length !== batch.values.length) throw new Error('a row batch with a type per row');
  const ids = batch.values.map((values, i) => {
    checkRow(batch.types[i] as EventRowBatch['types'][number], values);
    return rowId(values);
  });
  return { types: batch.types, ids, text: encodeBatch(batch) };
}

export function decodeBatch(text: string): EventRowBatch {
  return JSON.parse(text) as EventRowBatch;
}

/** The event id of a row in insertion form (every type's row starts with its id). */
export function rowId(values: unknown[]): string {
  return values[0] as string;
}

/** The last journal entry applied to the database (0 before the first). */
export function appliedSeq(main: SQLite.Database): number {
  let statement = appliedSeqStatements.get(main);
  if (!statement) {
    statement = main.prepare('select seq from event_journal_applied where id = 1').pluck();
    appliedSeqStatements.set(main, statement);
  }
  return (statement.get() as number) ?? 0;
}

// Read at every group commit and every apply transaction: prepared once per connection.
const appliedSeqStatements = new WeakMap<SQLite.Database, SQLite.Statement>();
