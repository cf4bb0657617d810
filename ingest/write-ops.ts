import type { EncodedBatch } from './events/journal.ts';
import type { EventCounts } from './events/store.ts';

/**
 * The writes the write thread can run, by name, with their structured-cloneable payload and result. Each
 * runs synchronously inside the thread's group transaction.
 */
interface WriteOps {
  /** Appends a request's new events to the event journal; counts the new and the repeated. */
  'events.store': { payload: EncodedBatch; result: EventCounts };
}

export type WriteOpName = keyof WriteOps;
export type WriteOpPayload<K extends WriteOpName> = WriteOps[K]['payload'];
export type WriteOpResult<K extends WriteOpName> = WriteOps[K]['result'];
