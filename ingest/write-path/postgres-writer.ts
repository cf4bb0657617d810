// The writer on PostgreSQL: each request's rows in a transaction of their own, committed before the answer
// (PostgreSQL's commit is durable, and replicas share the database, so no local journal stands between). The
// admission bounds are SQLite's; a database that cannot be reached is a 503 with Retry-After, never an
// acknowledgement of what could not be kept.
import type { Kysely } from 'kysely';
import { Gauge, type Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../http/logger.ts';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  type Database,
  databaseUnavailable,
  type EngineWork,
  isDomainError,
  OverloadedError,
} from '../../storage/index.ts';
import { insertEventRowsPostgres } from '../events/postgres-store.ts';
import { type EventCounts, fillIpHashes, ipHash } from '../events/store.ts';
import { Admission, type AdmissionLimits } from './admission.ts';
import { decodeBatch, type EncodedBatch } from './journal.ts';
import { writeMetrics } from './write-metrics.ts';
import type { Writer } from './writer.ts';

export interface PostgresWriterOptions extends AdmissionLimits {
  /** Keys the IP hashes of event batches (`unhashedRowBatch`). */
  ipSecret: Buffer;
}

export class PostgresWriter implements Writer {
  readonly #db: Kysely<Database>;
  readonly #logger: Logger;
  readonly #secret: Buffer;
  readonly #batchRows: Histogram;
  readonly #commitSeconds: Histogram;
  readonly admission: Admission;
  #inFlight = 0;
  #idle: (() => void) | undefined;

  constructor(db: Kysely<Database>, registry: Registry, logger: Logger, options: PostgresWriterOptions) {
    this.#db = db;
    this.#logger = logger;
    this.#secret = options.ipSecret;
    ({ batchRows: this.#batchRows, commitSeconds: this.#commitSeconds } = writeMetrics(registry));
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

  async appendEvents(rows: number, batch: EncodedBatch): Promise<EventCounts> {
    this.admission.enqueueEvents(rows);
    const decoded = decodeBatch(batch.text);
    if (batch.ips)
      fillIpHashes(
        decoded,
        batch.ips.map((ip) => ipHash(this.#secret, ip)),
      );
    return this.#run(rows, () => insertEventRowsPostgres(this.#db, decoded));
  }

  async #run<T>(rows: number, write: () => Promise<T>): Promise<T> {
    this.#inFlight += 1;
    const stop = this.#commitSeconds.startTimer();
    try {
      const result = await write();
      stop();
      this.#batchRows.observe(rows);
      return result;
    } catch (error) {
      if (isDomainError(error) || !databaseUnavailable(error)) throw error;
      this.#logger.warn('the database cannot be reached; the write is refused', {
        error: (error as Error).name,
        code: (error as { code?: unknown }).code,
      });
      throw new OverloadedError('the database cannot be reached now', DATABASE_RETRY_AFTER_SECONDS);
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
