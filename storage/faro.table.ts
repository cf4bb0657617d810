import type { Generated, Selectable } from 'kysely';

/** A browser app allowed to send Faro telemetry; its key is stored as a SHA-256 hash. */
export interface FaroAppsTable {
  id: string;
  name: string;
  key_hash: string;
  /** JSON array of allowed origins (`https://shop.example`). */
  origins: string;
  created_at: string;
  revoked_at: string | null;
}

/**
 * Browser telemetry items. `user_id` is the subject id (never email or name); `page_url` has lost its query
 * string but for allow-listed keys; `detail` and `meta` are compact JSON.
 */
export interface BrowserTelemetryTable {
  id: Generated<number>;
  app_id: string;
  kind: 'log' | 'exception' | 'measurement' | 'event' | 'span';
  ts: string;
  session_id: string | null;
  user_id: string | null;
  page_url: string | null;
  page_route: string | null;
  name: string | null;
  level: string | null;
  message: string | null;
  trace_id: string | null;
  span_id: string | null;
  detail: string | null;
  meta: string | null;
  received_at: string;
}

/** `Idempotency-Key`s seen per app in the last 24 hours. */
export interface FaroIdempotencyTable {
  app_id: string;
  key: string;
  created_at: string;
}

export type FaroAppRow = Selectable<FaroAppsTable>;
