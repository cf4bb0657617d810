import type { Generated, Selectable } from 'kysely';

/**
 * Structured logs of the marketplace's backends. Identifiers in `message` and `attrs` are replaced by keyed
 * hashes before storage; `message` is indexed for full-text search by `server_logs_fts` (FTS5).
 */
export interface ServerLogsTable {
  id: Generated<number>;
  ts: string;
  level: string;
  /** The level as a number (trace 1 … fatal 6), for "at least this level" filters. */
  severity: number;
  service: string;
  message: string;
  route: string | null;
  method: string | null;
  status: number | null;
  duration_ms: number | null;
  trace_id: string | null;
  attrs: string | null;
  received_at: string;
}

export type ServerLogRow = Selectable<ServerLogsTable>;

/** Per kind (logs, telemetry), the highest row id written to OpenSearch with every id below it. */
export interface SearchShippingTable {
  kind: string;
  shipped_id: number;
  updated_at: string;
}
