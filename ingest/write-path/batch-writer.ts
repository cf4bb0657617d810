import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../http/logger.ts';
import { type WriteWork, writeTransaction } from '../../storage/database.ts';
import type { EngineWork, SqliteStorage } from '../../storage/index.ts';
import type { EventCounts, EventRowBatch } from '../events/store.ts';
import { Admission, type AdmissionLimits } from './admission.ts';
import { encodeForJournal } from './journal.ts';
import { writeMetrics } from './write-metrics.ts';
import { WriteThread } from './write-thread.ts';
import type { Writer } from './writer.ts';

interface Pending {
  rows: number;
  work: WriteWork<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Limits of the write path: its admission bounds, and the rows of one group transaction. */
export interface BatchWriterOptions extends AdmissionLimits {
  /** Rows at most in one transaction; a longer queue is committed in several. */
  maxBatchRows: number;
  /** Keys the IP hashes of event batches the write thread hashes (`unhashedRowBatch`). */
  ipSecret?: Buffer;
}

const DEFAULT_WRITER_OPTIONS: BatchWriterOptions = {
  maxQueuedRows: 100_000,
  maxBatchRows: 20_000,
  retryAfterSeconds: 1,
  maxBacklogEvents: 2_000_000,
  maxInFlightRequests: 512,
};

/**
 * Group commit: work submitted by concurrent requests is run in one transaction per tick, and each
 * submission's promise settles only after that transaction has committed (with `synchronous = FULL`, after the
 * fsync). One fsync then serves every request of the tick. The queue is bounded by rows: a submission that
 * would overfill it is refused at once with a 503 and `Retry-After`, never queued without limit. If a group's
 * transaction fails, each submission of it is retried alone, so one bad submission fails only itself.
 */
export class BatchWriter implements Writer {
  readonly #storage: SqliteStorage;
  readonly #options: BatchWriterOptions;
  readonly #logger: Logger;
  #queue: Pending[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;
  readonly #batchRows: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #thread: WriteThread;
  /** The bounds on requests in flight, queued rows and the event backlog; every submission passes them. */
  readonly admission: Admission;

  constructor(
    storage: SqliteStorage,
    registry: Registry,
    logger: Logger,
    options: Partial<BatchWriterOptions> = {},
  ) {
    this.#storage = storage;
    this.#logger = logger;
    this.#options = { ...DEFAULT_WRITER_OPTIONS, ...options };
    // Read at scrape time, once the write thread below exists.
    const metrics = writeMetrics(registry, () => this.#thread.requestThreadUtilization);
    ({ batchRows: this.#batchRows, commitSeconds: this.#commitSeconds } = metrics);
    const applySeconds = new Histogram({
      name: 'vigil_ingest_apply_duration_seconds',
      help: 'Time to apply one transaction of event journal entries to the database.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.#thread = new WriteThread(
      storage,
      logger,
      {
        onCommit: (rows, seconds) => {
          this.#batchRows.observe(rows);
          this.#commitSeconds.observe(seconds);
        },
        onApplied: (events, seconds) => {
          this.admission.applied(seconds);
          metrics.appliedEvents.inc(events);
          applySeconds.observe(seconds);
        },
        onApplyFailed: () => metrics.applyFailures.inc(),
      },
      {
        // Applying holds back for a saturated request thread only until half the backlog bound is reached.
        limits: { deferMaxEvents: Math.floor(this.#options.maxBacklogEvents / 2) },
        secret: this.#options.ipSecret,
      },
    );
    const backlog = () => this.#thread.backlogEvents;
    this.admission = new Admission(this.#options, registry, backlog);
    new Gauge({
      name: 'vigil_ingest_backlog_events',
      help: 'Affiliate events acknowledged (committed to the event journal) and not yet applied to the database.',
      registers: [registry],
      collect() {
        this.set(backlog());
      },
    });
  }

  /**
   * Starts the event write path: the apply thread then applies at once what an earlier run left in the
   * event journal. Submitting events or settling starts it too.
   */
  start(): Promise<void> {
    return this.#thread.start();
  }

  /** Resolves once every affiliate event acknowledged before the call can be read from the database. */
  settle(): Promise<void> {
    return this.#thread.settle();
  }

  /** Deletes every event journal segment that holds an applied entry (erasure); false when one had to stay. */
  truncate(): Promise<boolean> {
    return this.#thread.truncateJournal();
  }

  /** Events acknowledged and not yet applied from the event journal. */
  get backlogEvents(): number {
    return this.#thread.backlogEvents;
  }

  /**
   * Queues `work` (counted as `rows` against the queue bound) and resolves with its result once committed.
   * Throws a 503 problem at once when the queue is full or the writer is closing.
   */
  submit<T>(rows: number, work: EngineWork<T>): Promise<T> {
    try {
      this.admission.enqueue(rows);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ rows, work: work.sqlite, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /**
   * Appends a request's affiliate events to the event journal on the write thread, under the same queue bound
   * and the backlog bound; resolves with the new and repeated events once the append is durable. The rows are
   * checked and encoded here, once admitted; their IPs are hashed on the write thread, before anything is
   * journaled.
   */
  async appendEvents(rows: number, batch: EventRowBatch): Promise<EventCounts> {
    this.admission.enqueueEvents(rows);
    try {
      return await this.#thread.appendEvents(rows, encodeForJournal(batch));
    } finally {
      this.admission.dequeue(rows);
    }
  }

  /** Refuses new work, then waits until everything queued is committed. */
  async close(): Promise<void> {
    this.admission.close();
    while (this.#running || this.#queue.length > 0) {
      if (!this.#running) this.#schedule();
      await this.#running;
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (this.admission.queuedRows > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.#thread.close();
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    // setImmediate runs after the poll phase: every request whose bytes arrived meanwhile joins this group.
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = this.#flush().finally(() => {
        this.#running = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  async #flush(): Promise<void> {
    const group: Pending[] = [];
    let rows = 0;
    while (
      this.#queue.length > 0 &&
      (group.length === 0 || rows + (this.#queue[0]?.rows ?? 0) <= this.#options.maxBatchRows)
    ) {
      const next = this.#queue.shift() as Pending;
      group.push(next);
      rows += next.rows;
    }
    // Kysely's connection lock keeps this transaction from interleaving with one of Kysely's own.
    await this.#storage.db.connection().execute(async () => {
      const started = process.hrtime.bigint();
      await this.#commit(group);
      this.#commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    this.admission.dequeue(rows);
    this.#batchRows.observe(rows);
  }

  async #commit(group: Pending[]): Promise<void> {
    const { sqlite, lockWanted } = this.#storage;
    const transact = <T>(work: () => T) => writeTransaction(sqlite, lockWanted, work);
    let results: unknown[];
    try {
      results = await transact(() => group.map((p) => p.work(sqlite)));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      this.#logger.warn('group commit failed; retrying its submissions one by one', {
        error,
        size: group.length,
      });
      for (const p of group) {
        try {
          p.resolve(await transact(() => p.work(sqlite)));
        } catch (single) {
          p.reject(single);
        }
      }
      return;
    }
    group.forEach((p, i) => {
      p.resolve(results[i]);
    });
  }
}
