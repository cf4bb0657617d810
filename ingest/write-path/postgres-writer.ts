// The writer on PostgreSQL: each request's rows in a transaction of their own, committed before the answer
// (PostgreSQL's commit is durable, and replicas share the database, so no local journal stands between). The
// admission bounds are SQLite's. A database that cannot be reached fails the write, which the app's error
// handler answers with a 503 and Retry-After (`databaseUnavailable`): nothing is acknowledged that was not kept.
import type { Kysely } from 'kysely';
import { type Counter, Gauge, type Histogram, type Registry } from 'prom-client';
import type { Database, EngineWork } from '../../storage/index.ts';
import { insertEventRowsPostgres } from '../events/postgres-store.ts';
import { type EventCounts, type EventRowBatch, fillIpHashes, ipHash } from '../events/store.ts';
import { Admission, type AdmissionLimits } from './admission.ts';
import { eventLoopUtilization, writeMetrics } from './write-metrics.ts';
import type { Writer } from './writer.ts';

export interface PostgresWriterOptions extends AdmissionLimits {
  /** Keys the IP hashes of event batches (`unhashedRowBatch`). */
  ipSecret: Buffer;
}

export class PostgresWriter implements Writer {
  readonly #db: Kysely<Database>;
  readonly #secret: Buffer;
  readonly #batchRows: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #appliedEvents: Counter;
  readonly #applyFailures: Counter;
  readonly admission: Admission;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  constructor(db: Kysely<Database>, registry: Registry, options: PostgresWriterOptions) {
    this.#db = db;
    this.#secret = options.ipSecret;
    ({
      batchRows: this.#batchRows,
      commitSeconds: this.#commitSeconds,
      appliedEvents: this.#appliedEvents,
      applyFailures: this.#applyFailures,
    } = writeMetrics(registry, eventLoopUtilization()));
    new Gauge({
      name: 'vigil_ingest_backlog_events',
      help: 'Affiliate events acknowledged and not yet applied to the database (none on PostgreSQL: committed before the answer).',
      registers: [registry],
      collect() {
        this.set(0);
      },
    });
    this.admission = new Admission(options, registry, () => 0);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Every acknowledged event is committed already. */
  settle(): Promise<void> {
    return Promise.resolve();
  }

  /** No journal to truncate. */
  truncate(): Promise<boolean> {
    return Promise.resolve(true);
  }

  get backlogEvents(): number {
    return 0;
  }

  async submit<T>(rows: number, work: EngineWork<T>): Promise<T> {
    this.admission.enqueue(rows);
    return this.#run(rows, () => work.postgres(this.#db));
  }

  async appendEvents(rows: number, batch: EventRowBatch): Promise<EventCounts> {
    this.admission.enqueueEvents(rows);
    return this.#run(rows, async () => {
      if (batch.ips) {
        fillIpHashes(
          batch,
          batch.ips.map((ip) => ipHash(this.#secret, ip)),
        );
      }
      let counts: EventCounts;
      try {
        counts = await insertEventRowsPostgres(this.#db, batch);
      } catch (error) {
        this.#applyFailures.inc();
        throw error;
      }
      this.#appliedEvents.inc(counts.click.accepted + counts.conversion.accepted + counts.refund.accepted);
      return counts;
    });
  }

  async #run<T>(rows: number, write: () => Promise<T>): Promise<T> {
    this.#inFlight += 1;
    const stop = this.#commitSeconds.startTimer();
    try {
      const result = await write();
      stop();
      this.#batchRows.observe(rows);
      return result;
    } finally {
      this.admission.dequeue(rows);
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#idle?.();
    }
  }

  /** Refuses new work, then waits until the writes in flight are committed. */
  async close(): Promise<void> {
    this.admission.close();
    if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }
}
