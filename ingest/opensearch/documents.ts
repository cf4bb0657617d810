// How Vigil's stored rows become OpenSearch documents: the same columns (already scrubbed when stored), JSON
// columns as objects, and the keyed hashes of the e-mail and IP tokens the scrubber left in their text, so that
// erasing a subject's e-mail or IP address is a `terms` query on one keyword field.
import type { Selectable } from 'kysely';
import type { BrowserTelemetryTable } from '../../storage/faro.table.ts';
import type { ServerLogRow } from '../../storage/server-logs.table.ts';
import type { LogDocument, TelemetryDocument } from './templates.ts';

/**
 * The hash of a scrubber token: `email:<hash>` or `ip:<network>#<hash>`, also with `#` percent-encoded (`%23`),
 * as a token inside a scrubbed URL path is. Hashes are 128-bit hex (`hashIdentifier`).
 */
const TOKEN_HASH = /(?:email:|ip:[^\s"#]{0,64}?(?:#|%23))([0-9a-f]{32})(?![0-9a-f])/g;

/** The identifier hashes in scrubbed texts, each once, in the order first found. */
export function identifierHashes(...texts: (string | null)[]): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    if (text === null) continue;
    for (const match of text.matchAll(TOKEN_HASH)) if (match[1] !== undefined) found.add(match[1]);
  }
  return [...found];
}

/** A JSON column as an object: `attrs`, `detail` and `meta` are objects when Vigil writes them. */
function jsonObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

/** A stored server log row as its OpenSearch document. */
export function logDocument(row: ServerLogRow): LogDocument {
  return {
    id: String(row.id),
    ts: row.ts,
    level: row.level,
    severity: row.severity,
    service: row.service,
    message: row.message,
    route: row.route,
    method: row.method,
    status: row.status,
    duration_ms: row.duration_ms,
    trace_id: row.trace_id,
    attrs: jsonObject(row.attrs),
    received_at: row.received_at,
    identifier_hashes: identifierHashes(row.message, row.route, row.attrs),
  };
}

/** A stored browser telemetry row as its OpenSearch document. */
export function telemetryDocument(row: Selectable<BrowserTelemetryTable>): TelemetryDocument {
  return {
    id: String(row.id),
    app_id: row.app_id,
    kind: row.kind,
    ts: row.ts,
    session_id: row.session_id,
    user_id: row.user_id,
    page_url: row.page_url,
    page_route: row.page_route,
    name: row.name,
    level: row.level,
    message: row.message,
    trace_id: row.trace_id,
    span_id: row.span_id,
    detail: jsonObject(row.detail),
    meta: jsonObject(row.meta),
    received_at: row.received_at,
    identifier_hashes: identifierHashes(row.message, row.name, row.page_url, row.detail),
  };
}
