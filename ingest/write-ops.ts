import type SQLite from 'better-sqlite3';
import { insertEventRows } from './events/store.ts';

/**
 * The writes the write thread can run, by name: each takes the connection and a structured-cloneable payload,
 * runs synchronously inside the thread's group transaction, and returns a cloneable result.
 */
export const WRITE_OPS = {
  'events.store': insertEventRows,
} satisfies Record<string, (sqlite: SQLite.Database, payload: never) => unknown>;

export type WriteOpName = keyof typeof WRITE_OPS;
export type WriteOpPayload<K extends WriteOpName> = Parameters<(typeof WRITE_OPS)[K]>[1];
export type WriteOpResult<K extends WriteOpName> = ReturnType<(typeof WRITE_OPS)[K]>;
