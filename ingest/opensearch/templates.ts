// What Vigil keeps in OpenSearch, as OpenSearch is told it: the index templates (explicit mappings, `dynamic:
// strict`) of server logs and browser telemetry, one index per kind and day, and the Index State Management
// policies that delete a kind's indices once they are older than its retention.

/** The two kinds of document Vigil indexes. */
export type SearchKind = 'logs' | 'telemetry';

export const SEARCH_KINDS = ['logs', 'telemetry'] as const satisfies readonly SearchKind[];

/** A server log line as indexed: the stored row's columns, and the identifier hashes its scrubbed text carries. */
export interface LogDocument {
  id: string;
  ts: string;
  level: string;
  /** trace 1 … fatal 6, as `severityOf` gives it. */
  severity: number;
  service: string;
  message: string;
  route: string | null;
  method: string | null;
  status: number | null;
  duration_ms: number | null;
  trace_id: string | null;
  attrs: Record<string, unknown> | null;
  received_at: string;
  /** The keyed hashes of the e-mail and IP tokens in message, route and attrs: what erasure looks for. */
  identifier_hashes: string[];
}

/** A browser telemetry item as indexed: the stored row's columns, `detail` and `meta` as objects. */
export interface TelemetryDocument {
  id: string;
  app_id: string;
  kind: 'log' | 'exception' | 'measurement' | 'event' | 'span';
  ts: string;
  session_id: string | null;
  /** The subject id (or its pseudonym), never an e-mail or a name. */
  user_id: string | null;
  page_url: string | null;
  page_route: string | null;
  name: string | null;
  level: string | null;
  message: string | null;
  trace_id: string | null;
  span_id: string | null;
  detail: Record<string, unknown> | null;
  meta: Record<string, unknown> | null;
  received_at: string;
  /** The keyed hashes of the e-mail and IP tokens in message, page_url and detail. */
  identifier_hashes: string[];
}

/** The document of each kind. */
export interface SearchDocuments {
  logs: LogDocument;
  telemetry: TelemetryDocument;
}

type FieldMapping =
  | { type: 'keyword'; ignore_above?: number }
  | { type: 'text' | 'date' | 'integer' | 'double' }
  | { type: 'object'; enabled: false };

// Keywords longer than this are kept in `_source` but not indexed: Lucene refuses a term over 32,766 bytes,
// and scrubbing makes a route or URL longer than it came in (an IP address becomes a token).
const LONG_KEYWORD = { type: 'keyword', ignore_above: 4096 } as const;
// Attributes are whatever a sender chose: kept whole in `_source`, never mapped, so they cannot add fields.
const UNINDEXED_OBJECT = { type: 'object', enabled: false } as const;

const LOG_PROPERTIES = {
  id: { type: 'keyword' },
  ts: { type: 'date' },
  level: { type: 'keyword' },
  severity: { type: 'integer' },
  service: { type: 'keyword' },
  message: { type: 'text' },
  route: LONG_KEYWORD,
  method: { type: 'keyword' },
  status: { type: 'integer' },
  duration_ms: { type: 'double' },
  trace_id: { type: 'keyword' },
  attrs: UNINDEXED_OBJECT,
  received_at: { type: 'date' },
  identifier_hashes: { type: 'keyword' },
} as const satisfies Record<keyof LogDocument, FieldMapping>;

const TELEMETRY_PROPERTIES = {
  id: { type: 'keyword' },
  app_id: { type: 'keyword' },
  kind: { type: 'keyword' },
  ts: { type: 'date' },
  session_id: { type: 'keyword' },
  user_id: { type: 'keyword' },
  page_url: LONG_KEYWORD,
  page_route: LONG_KEYWORD,
  name: LONG_KEYWORD,
  level: { type: 'keyword' },
  message: { type: 'text' },
  trace_id: { type: 'keyword' },
  span_id: { type: 'keyword' },
  detail: UNINDEXED_OBJECT,
  meta: UNINDEXED_OBJECT,
  received_at: { type: 'date' },
  identifier_hashes: { type: 'keyword' },
} as const satisfies Record<keyof TelemetryDocument, FieldMapping>;

const PROPERTIES: Record<SearchKind, Record<string, FieldMapping>> = {
  logs: LOG_PROPERTIES,
  telemetry: TELEMETRY_PROPERTIES,
};

const DESCRIPTIONS: Record<SearchKind, string> = {
  logs: "the marketplace's server logs",
  telemetry: 'browser telemetry sent by the Faro SDK',
};

/** The wildcard naming every daily index of a kind (`vigil-logs-*`). */
export function indexPattern(prefix: string, kind: SearchKind): string {
  return `${prefix}-${kind}-*`;
}

/** The body of `PUT _index_template/<name>` for a kind: its daily indices get these mappings when created. */
export function indexTemplate(prefix: string, kind: SearchKind) {
  return {
    index_patterns: [indexPattern(prefix, kind)],
    priority: 100,
    template: {
      settings: { number_of_shards: 1 },
      mappings: { dynamic: 'strict', properties: PROPERTIES[kind] },
    },
    _meta: { description: `Vigil: ${DESCRIPTIONS[kind]}` },
  };
}

/**
 * The body of `PUT _plugins/_ism/policies/<id>` for a kind: new indices of the kind join it (its
 * `ism_template`), and each is deleted once it is `days` old. ISM counts an index's age from its creation, so a
 * daily index written on its day goes `days` to `days + 1` days after the lines it holds.
 */
export function retentionPolicy(prefix: string, kind: SearchKind, days: number) {
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError(`retention days must be a whole number ≥ 1, got ${days}`);
  return {
    policy: {
      description: `Vigil: delete ${DESCRIPTIONS[kind]} after ${days} days`,
      default_state: 'open',
      states: [
        {
          name: 'open',
          actions: [],
          transitions: [{ state_name: 'delete', conditions: { min_index_age: `${days}d` } }],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [indexPattern(prefix, kind)], priority: 100 }],
    },
  };
}
