// The apply thread: moves event journal entries (ingest/write-path/journal.ts) into affiliate_events, many
// entries per transaction, and records the last entry applied in the same transaction. Runs whenever the
// journal holds entries it has not applied; the main thread wakes it after each group the write thread commits.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { type LockWanted, openSqliteConnection } from '../../storage/database.ts';
import { insertEventRows } from '../events/store.ts';
import { appliedSeq, decodeBatch } from './journal.ts';
import { SegmentReader } from './segment-log.ts';

/** Limits of one apply transaction. */
export interface ApplyLimits {
  /** Events at most per transaction: more share the dirty index pages better, but hold the write lock longer. */
  maxEvents: number;
  /** Stop adding entries to a transaction after this long (ms), however few events it holds. */
  budgetMs: number;
  /**
   * Start a transaction once this many events wait, or once the first of fewer has waited `maxDelayMs`;
   * sooner when asked (`wake` with `now`, as `settle` does).
   */
  minEvents: number;
  maxDelayMs: number;
  /**
   * While the request thread's event loop is busier than this (utilisation, per mille), no transaction starts:
   * acknowledging comes first, and applying waits for spare CPU (see `deferring`)...
   */
  deferAbovePermille: number;
  /** ...unless this many events wait (the backlog bound is near)... */
  deferMaxEvents: number;
  /** ...or it has waited this long (ms) since the request thread became that busy. */
  deferMaxMs: number;
}

/** Messages the main thread sends. */
export type ApplyControl =
  /**
   * Entries were committed, through `committedSeq`; with `now`, apply them without waiting for a fuller
   * transaction (what is committed after waits as usual).
   */
  | { type: 'wake'; now?: boolean; committedSeq: number }
  /** Apply what the journal holds (until `deadline`, epoch ms), then stop. */
  | { type: 'close'; deadline: number };

/** What the thread reports. */
export type ApplyReport =
  | {
      type: 'applied';
      /** The last entry applied (by this thread or, on a shared data directory, another process's). */
      seq: number;
      events: number;
      entries: number;
      seconds: number;
      /** Events in the journal's entries after `seq`: the backlog as the journal itself tells it. */
      remaining: number;
    }
  /** The thread is up; entries appended from now on wait for a full transaction (or its delay). */
  | { type: 'started' }
  | { type: 'apply-failed'; message: string }
  /** A periodic checkpoint of the database's WAL failed (the next one tries again). */
  | { type: 'checkpoint-failed'; message: string }
  | { type: 'closed' };

/**
 * The apply thread's nice value. With the cores saturated (`npm run bench -- ingest`, realistic traffic) it
 * acknowledged ~27k events/s at 10 against ~20k/s at 0, while still applying ~15k/s; 19 gained no more.
 */
const APPLY_NICE = 10;

const port = parentPort;
if (!port) throw new Error('apply-thread-worker runs only as a worker thread');
const { file, journalDir, committedSeq, limits, lockWanted, pressure } = workerData as {
  file: string;
  journalDir: string;
  /** The last journal entry committed when the thread started; `wake` messages carry later ones. */
  committedSeq: number;
  limits: ApplyLimits;
  /** Main-thread writers waiting for the database's write lock (storage/database.ts `beginImmediate`). */
  lockWanted: LockWanted;
  /** The request thread's event loop utilisation, per mille, as the main thread last measured it. */
  pressure: Int32Array;
};
/** A main-thread writer waits for the write lock: end the transaction now, start none until it has it. */
const lockIsWanted = () => Atomics.load(lockWanted, 0) > 0;
lowerPriority(APPLY_NICE);
// Its transactions dirty pages of every index of affiliate_events: a cache that holds them all lets each page
// be written once, at the commit, however many rows of the transaction touch it.
const main = openSqliteConnection(file, { cacheMiB: 256 });
const journal = new SegmentReader(journalDir);
/** The last entry the write thread committed, as far as this thread was told: entries after it may be half written. */
let committed = committedSeq;
const anyAfter = (seq: number) => journal.hasAfter(seq, committed);
const remainingAfter = (seq: number) => journal.eventsAfter(seq, committed);
const recordApplied = main.prepare('update event_journal_applied set seq = ? where id = 1');
let applied = appliedSeq(main);
/** The last entry reported to the main thread as applied. */
let reported = applied;
let scheduled = false;
/** The pending step's timer while a small backlog waits for more events (or its delay). */
let timer: NodeJS.Timeout | undefined;
/**
 * Apply the entries through this seq without waiting for a fuller transaction (`settle`, or entries an earlier
 * run left); 0 when nothing is asked.
 */
let nowThrough = 0;
/** Whether entries are asked for now and not yet applied. */
const urgent = () => applied < nowThrough;
/** When the events now waiting began to wait, as far as this thread saw. */
let waitingSince: number | undefined;
let closing = false;

/**
 * Lowers this thread's CPU priority (Linux: a thread's id is a pid to setpriority). When the cores are
 * saturated, acknowledging requests comes first and applying catches up afterwards; the backlog bound turns
 * a surge that outlasts it into 503s. Elsewhere the thread keeps the process's priority.
 */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, nice);
  } catch {
    // Not Linux, or not permitted: the thread runs at the process's priority.
  }
}

/** One transaction's worth of entries; returns the events applied. */
function applyOnce(): number {
  // Nothing to apply: take no write lock (another process, such as the CLI, may hold it for a while).
  if (!anyAfter(applied)) return 0;
  const started = process.hrtime.bigint();
  const budget = BigInt(limits.budgetMs) * 1_000_000n;
  let last = applied;
  let events = 0;
  let entries = 0;
  const waiting = remainingAfter(applied);
  // Begun while the request thread is saturated (the backlog or the wait grew too long): it runs full size.
  const begunSaturated = Atomics.load(pressure, 0) >= limits.deferAbovePermille;
  main
    .transaction(() => {
      // Read again under the write lock: another process's apply thread may have applied entries since.
      applied = appliedSeq(main);
      last = applied;
      for (const entry of journal.records(applied, committed)) {
        insertEventRows(main, decodeBatch(entry.text));
        last = entry.seq;
        events += entry.events;
        entries += 1;
        if (
          events >= limits.maxEvents ||
          process.hrtime.bigint() - started >= budget ||
          lockIsWanted() ||
          // The request thread became saturated meanwhile: what is applied so far is committed.
          (!begunSaturated && events >= limits.minEvents && !urgent() && deferring(waiting - events))
        ) {
          break;
        }
      }
      if (last > applied) recordApplied.run(last);
    })
    .immediate();
  applied = last;
  // Reported whenever it moved, by this thread or another process's, even after a failed attempt read it.
  if (applied === reported) return 0;
  reported = applied;
  port?.postMessage({
    type: 'applied',
    seq: applied,
    events,
    entries,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    remaining: remainingAfter(applied),
  } satisfies ApplyReport);
  return Math.max(events, 1);
}

/** How often a small backlog is looked at again while it waits for more events. */
const BATCH_CHECK_MS = 50;

/** Since when the apply thread has held back for a saturated request thread (undefined: it is not). */
let deferringSince: number | undefined;

/**
 * Whether to hold back the next transaction because the request thread is saturated. A transaction's CPU (and
 * the page writes of its commit) then comes out of what acknowledges requests: with the two cores saturated
 * (`npm run bench -- ingest`), holding back acknowledged more events per second at a lower p99. It holds back
 * only while `deferMaxEvents` are not yet waiting and for `deferMaxMs` at most; past either it applies as
 * before (at its lower priority) until the request thread is no longer saturated. `settle` and close never wait.
 */
function deferring(waiting: number): boolean {
  if (Atomics.load(pressure, 0) < limits.deferAbovePermille) {
    deferringSince = undefined;
    return false;
  }
  if (urgent() || waiting >= limits.deferMaxEvents) return false;
  deferringSince ??= Date.now();
  return Date.now() - deferringSince < limits.deferMaxMs;
}

/**
 * Whether a transaction is due: enough events wait, the first of them has waited long enough, or entries are
 * asked for now. Otherwise schedules the next look (and a wake message finds the step already scheduled).
 */
function transactionIsDue(): boolean {
  if (urgent()) return true;
  const waiting = remainingAfter(applied);
  if (waiting === 0) {
    waitingSince = undefined;
    return false;
  }
  waitingSince ??= Date.now();
  if (deferring(waiting)) {
    scheduled = true;
    timer = setTimeout(step, BATCH_CHECK_MS);
    return false;
  }
  if (waiting >= limits.minEvents) return true;
  const left = waitingSince + limits.maxDelayMs - Date.now();
  if (left <= 0) return true;
  scheduled = true;
  timer = setTimeout(step, Math.min(left, BATCH_CHECK_MS));
  return false;
}

function step(): void {
  scheduled = false;
  timer = undefined;
  if (closing) return;
  if (lockIsWanted()) {
    scheduled = true;
    timer = setTimeout(step, 2);
    return;
  }
  if (!transactionIsDue()) return;
  waitingSince = undefined;
  let events = 0;
  try {
    events = applyOnce();
  } catch (error) {
    // Nothing of the failed transaction was applied; the entries stay in the journal for the next try.
    port?.postMessage({
      type: 'apply-failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies ApplyReport);
    setTimeout(schedule, 1000).unref();
    return;
  }
  // More may wait: yield to the event loop (a close or wake message) and go on.
  if (events > 0) schedule();
  // Nothing more to apply: what was asked for is applied, or is already another process's to apply.
  else nowThrough = 0;
}

function schedule(): void {
  if (scheduled || closing) return;
  scheduled = true;
  setImmediate(step);
}

port.on('message', (message: ApplyControl) => {
  if (message.type === 'wake') {
    committed = Math.max(committed, message.committedSeq);
    if (message.now) {
      nowThrough = Math.max(nowThrough, message.committedSeq);
      // A small backlog's pending look is brought forward.
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        scheduled = false;
      }
    }
    schedule();
    return;
  }
  closing = true;
  try {
    while (Date.now() < message.deadline && applyOnce() > 0) {}
  } catch (error) {
    port.postMessage({
      type: 'apply-failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies ApplyReport);
  }
  main.close();
  port.postMessage({ type: 'closed' } satisfies ApplyReport);
  port.close();
});

/**
 * The main thread's connection does not checkpoint (storage/database.ts), so that its commits never copy the
 * WAL into the database while requests wait. This thread's own commits checkpoint as SQLite does by default;
 * between them, what the main thread wrote is checkpointed here once a second. A passive checkpoint takes no
 * lock that writers or readers wait for, and costs nothing when there is nothing to copy.
 */
const CHECKPOINT_EVERY_MS = 1000;
setInterval(() => {
  if (closing) return;
  try {
    main.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    port.postMessage({
      type: 'checkpoint-failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies ApplyReport);
  }
}, CHECKPOINT_EVERY_MS).unref();

// Entries left by an earlier run are applied at once.
if (anyAfter(applied)) nowThrough = committed;
port.postMessage({ type: 'started' } satisfies ApplyReport);
schedule();
