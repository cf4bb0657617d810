// What the ingest routes write through, whichever database Vigil runs on: `BatchWriter` on SQLite (group commit
// and the event journal), `PostgresWriter` on PostgreSQL (a transaction per request).
import type { EngineWork, EventJournal } from '../../storage/index.ts';
import type { EventCounts, EventRowBatch } from '../events/store.ts';
import type { Admission } from './admission.ts';

export interface Writer extends EventJournal {
  /** The bounds on requests in flight, queued rows and the event backlog; every submission passes them. */
  readonly admission: Admission;
  /** Starts what runs in the background (SQLite: the apply thread). */
  start(): Promise<void>;
  /** Resolves with the work's result once it is committed; a 503 problem when the writer is full or closing. */
  submit<T>(rows: number, work: EngineWork<T>): Promise<T>;
  /**
   * Stores a request's affiliate events durably (rows from `unhashedRowBatch`: the writer hashes their IPs);
   * resolves with the new and repeated ones.
   */
  appendEvents(rows: number, batch: EventRowBatch): Promise<EventCounts>;
  /** Events acknowledged and not yet readable from the database. */
  readonly backlogEvents: number;
}
