import { Worker } from 'node:worker_threads';
import type { Logger } from '../../http/logger.ts';
import { claimDataDir, DataDirInUseError, type LockWanted } from '../../storage/database.ts';
import { deserializeDomainError, OverloadedError, type SqliteStorage } from '../../storage/index.ts';
import type { EventCounts } from '../events/store.ts';
import type { ApplyControl, ApplyLimits, ApplyReport } from './apply-thread-worker.ts';
import type { EncodedBatch } from './journal.ts';
import { journalDir } from './journal.ts';
import type { JournalState } from './journal-writer.ts';
import { eventLoopUtilization } from './write-metrics.ts';
import type { ControlMessage, OpMessage, OpReply, ReplyMessage } from './write-thread-worker.ts';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** What the write path reports as it works, for its metrics. */
export interface WritePathHooks {
  /** A group was committed to the journal. */
  onCommit?(rows: number, seconds: number): void;
  /** The apply thread moved `events` events into the database in one transaction. */
  onApplied?(events: number, seconds: number): void;
  /** An apply transaction failed (and rolled back); it is retried a second later. */
  onApplyFailed?(): void;
}

/**
 * Apply transactions of up to 200,000 events or 1 s. A click dirties a page of each index whose keys arrive at
 * random (event id, click id, IP hash), and a commit writes every dirty page whole, so the longer the
 * transaction, the more rows share each page write. Measured with random ids (`npm run bench -- ingest`, the
 * backlog applied after the run): 250 ms transactions applied ~22k events/s, 1 s ~35k/s, 2 s ~39k/s. The
 * main thread's writers no longer wait behind them (the apply thread yields when one asks, see
 * `beginImmediate`); another process's writer (the CLI) may wait for one, within its 5 s busy timeout.
 *
 * A transaction starts once 20,000 events wait, or 500 ms after the first of fewer began to wait (at once for
 * `settle`). Applying each group commit's few hundred events as it came cost twice the CPU per event of
 * 20,000-event transactions, even on an empty table (28.6 against 13.1 µs: each commit writes its dirty pages
 * and checkpoints), and that CPU was taken from the requests being acknowledged.
 */
const DEFAULT_APPLY_LIMITS: ApplyLimits = {
  maxEvents: 200_000,
  budgetMs: 1000,
  minEvents: 20_000,
  maxDelayMs: 500,
  deferAbovePermille: 750,
  deferMaxEvents: 500_000,
  deferMaxMs: 30_000,
};

/** How often the request thread's event loop utilisation is measured for the apply thread. */
const PRESSURE_EVERY_MS = 100;

const BOOT = new URL('./write-thread-boot.mjs', import.meta.url);

/**
 * The main thread's side of the two threads of the event write path (see journal.ts): the write
 * thread appends each group of requests' events to the journal, and an op's promise settles when its group
 * is committed there; the apply thread moves journal entries into the database. This side keeps count of the
 * backlog (events acknowledged, not yet applied) and lets readers wait until every acknowledged event is
 * applied (`settle`). If the write thread dies, every op in flight fails with a 503 and the next op starts a
 * new one; if the apply thread dies, a new one takes over from the last entry applied.
 */
export class WriteThread {
  readonly #file: string;
  readonly #lockWanted: LockWanted;
  readonly #logger: Logger;
  readonly #hooks: WritePathHooks;
  readonly #limits: ApplyLimits;
  #writer: Worker | undefined;
  /** Releases this process's claim on the data directory; set while the threads may run. */
  #release: (() => void) | undefined;
  #ready: Promise<void> | undefined;
  #applier: Worker | undefined;
  /** Settles once the apply thread is up (or gone). */
  #applierStarted: Promise<void> = Promise.resolve();
  #closing = false;
  #nextId = 1;
  readonly #waiting = new Map<number, Waiting>();
  readonly #truncations = new Map<number, (reply: { done: boolean; through: number }) => void>();
  #lastSeq = 0;
  #appliedSeq = 0;
  #backlog = 0;
  #settling: { seq: number; resolve(): void }[] = [];
  /** This (the request) thread's event loop utilisation, per mille, shared with the apply thread. */
  readonly #pressure = new Int32Array(new SharedArrayBuffer(4));
  #pressureTimer: NodeJS.Timeout | undefined;

  readonly #utilization: () => number;
  readonly #secret: Buffer | undefined;

  /**
   * `storage`: the database file, and the counter of its main-thread writers waiting for the write lock.
   * `options.secret` keys the IP hashes the write thread computes for unhashed batches (`unhashedRowBatch`);
   * `options.utilization` tells how busy the request thread is (0–1) since it was last asked: this thread's
   * event loop utilisation unless given (tests).
   */
  constructor(
    storage: Pick<SqliteStorage, 'file' | 'lockWanted'>,
    logger: Logger,
    hooks: WritePathHooks = {},
    options: { limits?: Partial<ApplyLimits>; secret?: Buffer; utilization?: () => number } = {},
  ) {
    this.#utilization = options.utilization ?? eventLoopUtilization();
    this.#secret = options.secret;
    this.#file = storage.file;
    this.#lockWanted = storage.lockWanted;
    this.#logger = logger;
    this.#hooks = hooks;
    this.#limits = { ...DEFAULT_APPLY_LIMITS, ...options.limits };
  }

  /** Events acknowledged but not yet applied to the database. */
  get backlogEvents(): number {
    return this.#backlog;
  }

  /** The request thread's event loop utilisation (0–1), smoothed, as the apply thread sees it. */
  get requestThreadUtilization(): number {
    return Atomics.load(this.#pressure, 0) / 1000;
  }

  /**
   * Starts both threads (the apply thread at once applies what an earlier run left in the journal). Rejects
   * with DataDirInUseError when another process holds the data directory.
   */
  async start(): Promise<void> {
    this.#ensureWriter();
    await this.#ready;
    await this.#applierStarted;
  }

  /** Appends a request's events to the journal in the thread's next group commit; resolves once it is durable. */
  appendEvents(rows: number, batch: EncodedBatch): Promise<EventCounts> {
    let worker: Worker;
    try {
      worker = this.#ensureWriter();
    } catch (error) {
      if (!(error instanceof DataDirInUseError)) throw error;
      return Promise.reject(new OverloadedError(error.message, 1));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ type: 'op', id, rows, batch } satisfies OpMessage);
    });
  }

  /** Resolves once every event acknowledged before the call is in the database. */
  async settle(): Promise<void> {
    await this.start();
    const seq = this.#lastSeq;
    if (this.#appliedSeq >= seq) return;
    this.#applier?.postMessage({ type: 'wake', now: true, committedSeq: seq } satisfies ApplyControl);
    await new Promise<void>((resolve) => this.#settling.push({ seq, resolve }));
  }

  /**
   * Erasure: ends the journal's current segment and deletes every segment that holds an applied entry. A
   * segment that also holds entries acknowledged since is kept until those are applied (`settle`), then
   * deleted; false when one is still left.
   */
  async truncateJournal(): Promise<boolean> {
    const first = await this.#releaseSegments();
    if (first.done) return true;
    await this.settle();
    return (await this.#releaseSegments(first.through)).done;
  }

  /**
   * Asks the write thread to commit what it holds and delete the segments whose entries are all applied:
   * without `through`, after ending the current segment (its entries then end at the `through` answered);
   * with it, true once no segment with an entry at or before it is left.
   */
  #releaseSegments(through?: number): Promise<{ done: boolean; through: number }> {
    const worker = this.#ensureWriter();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#truncations.set(id, resolve);
      worker.postMessage({ type: 'truncate', id, through } satisfies ControlMessage);
    });
  }

  /**
   * Commits what the write thread holds, applies the journal for at most `drainMs`, then stops both threads.
   * What is left stays in the journal and is applied at the next start.
   */
  async close(drainMs = 10_000): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pressureTimer);
    this.#pressureTimer = undefined;
    Atomics.store(this.#pressure, 0, 0);
    const writer = this.#writer;
    if (!writer) {
      this.#releaseDataDir();
      return;
    }
    // The write thread commits what it holds at once (ops are answered in order, so a truncation request
    // answered means every op before it is committed), then stays up while the apply thread drains, to
    // delete the entries it applies.
    await this.#releaseSegments();
    const applier = this.#applier;
    if (applier) {
      const exited = new Promise<void>((resolve) => applier.once('exit', () => resolve()));
      applier.postMessage({ type: 'close', deadline: Date.now() + drainMs } satisfies ApplyControl);
      await exited;
    }
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    writer.postMessage({ type: 'close' } satisfies ControlMessage);
    await exited;
    this.#releaseDataDir();
  }

  #releaseDataDir(): void {
    this.#release?.();
    this.#release = undefined;
  }

  #ensureWriter(): Worker {
    if (this.#writer) return this.#writer;
    this.#release ??= claimDataDir(this.#file);
    this.#closing = false;
    // The boot file registers tsx in the new thread, which then loads the TypeScript sources as this one does.
    const worker = new Worker(BOOT, {
      workerData: {
        module: new URL('./write-thread-worker.ts', import.meta.url).href,
        file: this.#file,
        journalDir: journalDir(this.#file),
        secret: this.#secret,
      },
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: ReplyMessage) => {
        if (message.type === 'ready') {
          this.#started(message.state);
          resolve();
        } else this.#settle(message);
      });
      worker.once('exit', () => reject(new Error('the write thread stopped before it was ready')));
    });
    this.#ready.catch(() => {});
    worker.on('error', (error) => this.#logger.error('write thread failed', { error }));
    worker.on('exit', (code) => {
      this.#writer = undefined;
      for (const resolve of this.#truncations.values()) resolve({ done: false, through: 0 });
      this.#truncations.clear();
      if (this.#waiting.size === 0) return;
      this.#logger.error('write thread exited with ops in flight', { code, ops: this.#waiting.size });
      for (const waiting of this.#waiting.values()) {
        waiting.reject(new OverloadedError('the write path restarted; retry', 1));
      }
      this.#waiting.clear();
    });
    this.#writer = worker;
    return worker;
  }

  #started(state: JournalState): void {
    for (const { file, at } of state.cut) {
      this.#logger.warn(
        'event journal segment cut where a record did not check (written when the process stopped)',
        {
          file,
          bytes: at,
        },
      );
    }
    this.#lastSeq = state.lastSeq;
    this.#appliedSeq = Math.max(this.#appliedSeq, state.appliedSeq);
    this.#backlog = state.backlogEvents;
    this.#ensureApplier();
  }

  #ensureApplier(): void {
    if (this.#applier) {
      this.#applier.postMessage({ type: 'wake', committedSeq: this.#lastSeq } satisfies ApplyControl);
      return;
    }
    const worker = new Worker(BOOT, {
      workerData: {
        module: new URL('./apply-thread-worker.ts', import.meta.url).href,
        file: this.#file,
        journalDir: journalDir(this.#file),
        committedSeq: this.#lastSeq,
        limits: this.#limits,
        lockWanted: this.#lockWanted,
        pressure: this.#pressure,
      },
    });
    this.#measurePressure();
    this.#applierStarted = new Promise<void>((resolve) => {
      worker.on('message', (message: ApplyReport) => {
        if (message.type === 'started') resolve();
        else this.#applied(message);
      });
      worker.once('exit', () => resolve());
    });
    worker.on('error', (error) => this.#logger.error('apply thread failed', { error }));
    worker.on('exit', (code) => {
      this.#applier = undefined;
      if (this.#closing) return;
      this.#logger.error('apply thread exited; starting another', { code });
      setTimeout(() => {
        if (!this.#closing && this.#writer) this.#ensureApplier();
      }, 1000).unref();
    });
    this.#applier = worker;
  }

  /**
   * Measures this thread's event loop utilisation for the apply thread every 100 ms while it runs: a rise is
   * taken at once, a fall a fifth at a time, so that a moment's lull in a surge (a saturated loop still dips
   * to 0.6–0.8 now and then) does not start a transaction that then runs for up to a second.
   */
  #measurePressure(): void {
    if (this.#pressureTimer) return;
    let smoothed = 0;
    this.#pressureTimer = setInterval(() => {
      const utilization = this.#utilization();
      smoothed = utilization >= smoothed ? utilization : smoothed - (smoothed - utilization) / 5;
      Atomics.store(this.#pressure, 0, Math.round(smoothed * 1000));
    }, PRESSURE_EVERY_MS).unref();
  }

  #applied(report: ApplyReport): void {
    if (report.type === 'apply-failed') {
      this.#logger.error('applying the event journal failed; retrying', { error: report.message });
      this.#hooks.onApplyFailed?.();
      return;
    }
    if (report.type === 'checkpoint-failed') {
      this.#logger.warn('checkpointing the database WAL failed', { error: report.message });
      return;
    }
    if (report.type !== 'applied') return;
    this.#appliedSeq = report.seq;
    // The journal's own count: it also stays right when another process shares the data directory.
    this.#backlog = report.remaining;
    this.#hooks.onApplied?.(report.events, report.seconds);
    this.#writer?.postMessage({ type: 'applied', seq: report.seq } satisfies ControlMessage);
    const waiting = this.#settling;
    this.#settling = [];
    for (const w of waiting) {
      if (w.seq <= report.seq) w.resolve();
      else this.#settling.push(w);
    }
  }

  #settle(message: ReplyMessage): void {
    switch (message.type) {
      case 'committed':
        this.#lastSeq = message.seq;
        this.#backlog += message.events;
        this.#hooks.onCommit?.(message.rows, message.seconds);
        if (message.events > 0)
          this.#applier?.postMessage({ type: 'wake', committedSeq: message.seq } satisfies ApplyControl);
        for (const reply of message.replies) this.#answer(reply);
        return;
      case 'truncated':
        this.#truncations.get(message.id)?.({ done: message.done, through: message.through });
        this.#truncations.delete(message.id);
        return;
      case 'ready':
        return;
    }
  }

  #answer(reply: OpReply): void {
    const waiting = this.#waiting.get(reply.id);
    if (!waiting) return;
    this.#waiting.delete(reply.id);
    if (reply.type === 'done') waiting.resolve(reply.value);
    else if (reply.error) waiting.reject(deserializeDomainError(reply.error));
    else waiting.reject(new Error(reply.message));
  }
}
