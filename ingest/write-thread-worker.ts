// The write thread: appends accepted affiliate events to the event journal (ingest/events/journal.ts),
// grouping every op that arrived within one turn of its event loop into one transaction (group commit). Each
// op's answer is posted back only after that transaction has committed. It reads the database only to find
// ids already stored; the apply thread moves journal entries into the database.
import { parentPort, workerData } from 'node:worker_threads';
import { ProblemError } from '../api/problem.ts';
import { openSqliteConnection } from '../storage/database.ts';
import { type JournalState, JournalWriter } from './events/journal-writer.ts';
import type { WriteOpName } from './write-ops.ts';

/** An op posted by the main thread. */
export interface OpMessage {
  type: 'op';
  id: number;
  /** Rows the op writes, for the commit metrics. */
  rows: number;
  op: WriteOpName;
  payload: unknown;
}

/** Messages the main thread sends besides ops. */
export type ControlMessage =
  | { type: 'close' }
  /** The apply thread committed every entry through `seq`. */
  | { type: 'applied'; seq: number }
  /** Truncate the journal's WAL (erasure); answered with `truncated`. */
  | { type: 'truncate'; id: number };

/** The answer to one op. */
export type OpReply =
  | { type: 'done'; id: number; value: unknown }
  | {
      type: 'failed';
      id: number;
      problem?: { code: ProblemError['code']; detail?: string; options: ProblemError['options'] };
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
  | { type: 'truncated'; id: number; done: boolean };

const port = parentPort;
if (!port) throw new Error('write-thread-worker runs only as a worker thread');
const { file, journalFile } = workerData as { file: string; journalFile: string };
const main = openSqliteConnection(file);
const journal = new JournalWriter(journalFile, main);
const connection = journal.connection;
let queue: OpMessage[] = [];
let scheduled = false;

const OPS: Record<WriteOpName, (payload: never) => unknown> = {
  'events.store': (batch) => journal.store(batch),
};

function run(message: OpMessage): unknown {
  return (OPS[message.op] as (payload: unknown) => unknown)(message.payload);
}

function failure(id: number, error: unknown): OpReply {
  if (error instanceof ProblemError) {
    return {
      type: 'failed',
      id,
      problem: { code: error.code, detail: error.detail, options: error.options },
      message: error.message,
    };
  }
  return { type: 'failed', id, message: error instanceof Error ? error.message : String(error) };
}

/** Runs `work` in its own immediate transaction; the journal learns whether it committed. */
function transact<T>(work: () => T): T {
  try {
    return connection.transaction(work).immediate();
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
    const values = transact(() => {
      const results = group.map(run);
      journal.deleteApplied(DELETE_PER_COMMIT);
      return results;
    });
    events += journal.committed();
    replies = group.map((m, i) => ({ type: 'done', id: m.id, value: values[i] }));
  } catch {
    // One op failed and rolled the group back: run each alone, so that only the failing one fails.
    replies = group.map((m) => {
      try {
        const value = transact(() => run(m));
        events += journal.committed();
        return { type: 'done', id: m.id, value };
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

/** Applied entries deleted per group commit, or per step when no requests arrive. */
const DELETE_PER_COMMIT = 32;
let deletionScheduled = false;
let closed = false;

/** Deletes applied entries (at most `maxEntries`) in a transaction of their own. */
function deleteApplied(maxEntries?: number): void {
  transact(() => journal.deleteApplied(maxEntries));
  journal.committed();
}

/** Deletes applied entries a few at a time while no group commit does. */
function scheduleDeletion(): void {
  if (closed || deletionScheduled || !journal.deletionsPending) return;
  deletionScheduled = true;
  setTimeout(() => {
    deletionScheduled = false;
    if (closed) return;
    try {
      deleteApplied(DELETE_PER_COMMIT);
    } catch {
      // The journal is busy or failing; the entries stay, and the next step or group commit tries again.
    }
    scheduleDeletion();
  }, 10);
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
      scheduleDeletion();
      return;
    case 'truncate':
      flush();
      // Erasure: every applied entry goes before the WAL is rewound.
      deleteApplied();
      port.postMessage({
        type: 'truncated',
        id: message.id,
        done: journal.truncate(),
      } satisfies ReplyMessage);
      return;
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
