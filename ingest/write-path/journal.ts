import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { checkRow, type EventRowBatch, fillIpHashes, upgradeRow } from '../events/store.ts';

/**
 * The event journal: every accepted batch of affiliate events is first appended, as its minimised rows, to
 * segment files of their own beside the database (segment-log.ts), and acknowledged once that append is
 * durable. The apply thread then moves journal entries into `affiliate_events` in large transactions, and
 * records in the main database, in the same transaction, the last entry it applied (`event_journal_applied`).
 * Segments are deleted whole once every entry in them is applied.
 *
 * Why a journal: a click touches three indexes whose keys arrive in random order (event id, click id, IP
 * hash). In a B-tree each such insert dirties a page of its own, and every commit writes each dirty page out
 * whole, so committing a request's few hundred rows at a time costs far more per row than committing tens
 * of thousands together. Appending to a file costs the same whatever the keys, and acknowledgement no longer
 * waits for index maintenance; the apply thread's large transactions share each dirty page among many rows.
 */
const JOURNAL_DIR = 'event-journal';

/** The journal directory beside a database file. */
export function journalDir(databaseFile: string): string {
  return path.join(path.dirname(databaseFile), JOURNAL_DIR);
}

/** The entry text of rows: `{"types":[…],"values":[…]}`, and `"h":[…]` when their IP hashes follow them. */
export function encodeBatch(batch: EventRowBatch): string {
  return JSON.stringify({ types: batch.types, values: batch.values });
}

/**
 * The entry text of an unhashed batch's text with the hashes of its IPs added (`"h"`, in the order of its
 * `ips`): appended, the rows' text is not written again. `decodeBatch` puts each hash in its row.
 */
export function withIpHashes(text: string, hashes: readonly string[]): string {
  if (hashes.length === 0) return text;
  if (!text.endsWith('}')) throw new Error('not the entry text of a batch');
  return `${text.slice(0, -1)},"h":${JSON.stringify(hashes)}}`;
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
  /** The raw IPs of an unhashed batch (see `unhashedRowBatch`), which the write thread hashes. */
  ips?: string[];
}

/** Checks every row (see `checkRow`) and encodes the batch for the write thread. */
export function encodeForJournal(batch: EventRowBatch): EncodedBatch {
  if (batch.types.length !== batch.values.length) throw new Error('a row batch with a type per row');
  const ids = batch.values.map((values, i) => {
    checkRow(batch.types[i] as EventRowBatch['types'][number], values);
    return rowId(values);
  });
  const encoded: EncodedBatch = { types: batch.types, ids, text: encodeBatch(batch) };
  if (batch.ips) encoded.ips = batch.ips;
  return encoded;
}

export function decodeBatch(text: string): EventRowBatch {
  const { types, values, h } = JSON.parse(text) as EventRowBatch & { h?: string[] };
  const batch = {
    types,
    values: values.map((row, i) => upgradeRow(types[i] as EventRowBatch['types'][number], row)),
  };
  if (h) fillIpHashes(batch, h);
  return batch;
}

/** The event id of a row in insertion form (every type's row starts with its id). */
export function rowId(values: unknown[]): string {
  return values[0] as string;
}

/** The last journal entry applied to the database (0 before the first). */
export function appliedSeq(main: SQLite.Database): number {
  return (main.prepare('select seq from event_journal_applied where id = 1').pluck().get() as number) ?? 0;
}
