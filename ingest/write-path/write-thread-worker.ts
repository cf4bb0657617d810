// The write thread: appends accepted affiliate events to the event journal (ingest/write-path/journal.ts),
// grouping every op that arrived within one turn of its event loop into one durable write (group commit). Each
// op's answer is posted back only after that write is durable. It reads the database only to find
// ids already stored; the apply thread moves journal entries into the database.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection } from '../../storage/database.ts';
import { isDomainError, type SerializedDomainError, serializeDomainError } from '../../storage/errors.ts';
import type { EncodedBatch } from './journal.ts';
import { type JournalState, JournalWriter } from './journal-writer.ts';

/** An op posted by the main thread. */
export interface OpMessage {
  type: 'op';
  id: number;
  /** Rows the op writes, for the commit metrics. */
  rows: number;
  /** The request's events, as the journal entry's text with their ids and raw IPs. */
  batch: EncodedBatch;
}

/** Messages the main thread sends besides ops. */
export type ControlMessage =
  | { type: 'close' }
  /** The apply thread committed every entry through `seq`. */
  | { type: 'applied'; seq: number }
  /**
   * Erasure: end the current segment and delete every segment whose entries are all applied; with `through`,
   * only delete, and answer whether a segment with an entry at or before it is left. Answered with `truncated`.
   */
  | { type: 'truncate'; id: number; through?: number | undefined };

/** The answer to one op. */
export type OpReply =
  | { type: 'done'; id: number; value: unknown }
  | {
      type: 'failed';
      id: number;
      /** A domain error of the op (a conflict, invalid input), rebuilt on the other side. */
      error?: SerializedDomainError;
      message: string;
    };

/** What the thread answers. */
export type ReplyMessage =
  | { type: 'ready'; state: JournalState }
  /**
   * A group committed (`events` new events in entries through `seq`), with the answer to each of its ops: one
   * message per group, not one per op.
   */
  | { type: 'committed'; rows: number; seconds: number; seq: number; events: number; replies: OpReply[] }
  | { type: 'truncated'; id: number; done: boolean; through: number };

const port = parentPort;
if (!port) throw new Error('write-thread-worker runs only as a worker thread');
const { file, journalDir, secret } = workerData as {
  file: string;
  journalDir: string;
  /** Keys the IP hashes of unhashed batches (arrives as a Uint8Array). */
  secret?: Uint8Array;
};
const main = openSqliteConnection(file);
const journal = new JournalWriter(journalDir, main, {
  secret: secret && Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength),
});
let queue: OpMessage[] = [];
let scheduled = false;

function run(message: OpMessage): unknown {
  return journal.store(message.batch);
}

function failure(id: number, error: unknown): OpReply {
  if (isDomainError(error)) {
    return { type: 'failed', id, error: serializeDomainError(error), message: error.message };
  }
  return { type: 'failed', id, message: error instanceof Error ? error.message : String(error) };
}

/** Runs `work`, then commits what it staged in the journal; nothing of it is kept if either fails. */
function transact<T>(work: () => T): { value: T; events: number } {
  try {
    const value = work();
    return { value, events: journal.commit() };
  } catch (error) {
    journal.rolledBack();
    throw error;
  }
}

function flush(): void {
  scheduled = false;
  const group = queue;
  queue = [];
  if (group.length === 0) return;
  const started = process.hrtime.bigint();
  let replies: OpReply[];
  let events = 0;
  try {
    const committed = transact(() => group.map(run));
    events += committed.events;
    replies = group.map((m, i) => ({ type: 'done', id: m.id, value: committed.value[i] }));
  } catch {
    // One op failed and the group was dropped: run each alone, so that only the failing one fails.
    replies = group.map((m) => {
      try {
        const committed = transact(() => run(m));
        events += committed.events;
        return { type: 'done', id: m.id, value: committed.value };
      } catch (error) {
        return failure(m.id, error);
      }
    });
  }
  port?.postMessage({
    type: 'committed',
    rows: group.reduce((sum, m) => sum + m.rows, 0),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    seq: journal.lastCommittedSeq,
    events,
    replies,
  } satisfies ReplyMessage);
}

let closed = false;

/** Ids of applied entries removed from the pending set per step: about 1 ms, between group commits. */
const FORGET_STEP = 10_000;
let forgetting = false;

/** Removes the ids of applied entries from the pending set, a step per turn of the event loop. */
function forgetApplied(): void {
  if (forgetting || closed) return;
  forgetting = true;
  const step = () => {
    if (closed || journal.forgetApplied(FORGET_STEP)) forgetting = false;
    else setImmediate(step);
  };
  step();
}

/** Deletes the segments whose entries are all applied; a failure leaves them for the next report. */
function deleteApplied(options: { background?: boolean } = {}): void {
  try {
    journal.deleteApplied(options);
  } catch {
    // The files stay; the next applied report tries again.
  }
}

port.on('message', (message: OpMessage | ControlMessage) => {
  switch (message.type) {
    case 'close':
      flush();
      deleteApplied();
      closed = true;
      journal.close();
      main.close();
      port.close();
      return;
    case 'applied':
      journal.applied(message.seq);
      forgetApplied();
      deleteApplied({ background: true });
      return;
    case 'truncate': {
      // Erasure: what is staged is committed first, then every segment that holds only applied entries goes.
      flush();
      let reply = { done: false, through: message.through ?? 0 };
      try {
        reply = journal.truncate(message.through);
      } catch {
        // A segment could not be deleted: reported as not done, and the next applied report tries again.
      }
      port.postMessage({ type: 'truncated', id: message.id, ...reply } satisfies ReplyMessage);
      return;
    }
    case 'op':
      queue.push(message);
      if (!scheduled) {
        scheduled = true;
        // After the poll phase: every op whose message arrived meanwhile joins this group.
        setImmediate(flush);
      }
  }
});

/** Ids of the table added to the id filter per step; a step takes a few ms, between group commits. */
const ID_FILTER_STEP = 5000;

/** Fills the journal writer's id filter from the table, a step per turn of the event loop. */
function fillIdFilter(): void {
  if (closed) return;
  try {
    if (journal.extendIdFilter(ID_FILTER_STEP)) return;
  } catch {
    // Every id is looked up meanwhile; try again in a second.
    setTimeout(fillIdFilter, 1000).unref();
    return;
  }
  setImmediate(fillIdFilter);
}

port.postMessage({ type: 'ready', state: journal.state() } satisfies ReplyMessage);
setImmediate(fillIdFilter);
