// Vigil's OpenSearch sink for server logs and browser telemetry: sets up the index templates and retention
// policies, writes documents into daily indices so that a retried batch writes nothing twice, searches logs
// newest first with a cursor, and erases documents by an identifier. It speaks OpenSearch's REST API through the
// official client's transport (`@opensearch-project/opensearch`: connection pool, keep-alive, Basic auth from the
// URL, the ndjson of bulk bodies); failures say whether the same call may succeed later.
import { Client, errors } from '@opensearch-project/opensearch';
import { z } from 'zod';
import { InvalidInputError } from '../../storage/errors.ts';
import { type LogLevel, severityOf } from '../logs/schemas.ts';
import {
  indexPattern,
  indexTemplate,
  type LogDocument,
  retentionPolicy,
  SEARCH_KINDS,
  type SearchDocuments,
  type SearchKind,
} from './templates.ts';

/**
 * A call to OpenSearch that failed. `retryable`: the cluster could not be reached, timed out, or answered 429
 * or 5xx, so the same call may succeed later; otherwise it was refused and would be refused again.
 */
export class SearchStoreError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The HTTP status, when OpenSearch answered. */
    readonly status?: number,
    /** OpenSearch's error type (`version_conflict_engine_exception`), when it gave one. */
    readonly type?: string,
  ) {
    super(message);
    this.name = 'SearchStoreError';
  }
}

/** Where the sink writes and how long each kind is kept. */
interface SearchSinkOptions {
  /** The cluster's URL; credentials in it (`https://user:password@host:9200`) are sent as Basic auth. */
  node: string;
  /** Names the indices, templates and policies (`vigil-logs-2026.12.07`); lower case. Default `vigil`. */
  prefix?: string;
  /** Days after which a kind's daily indices are deleted (the retention policy's `maxAge`). */
  retentionDays: Record<SearchKind, number>;
  /** How long one call may take before it counts as failed (retryable). Default 30 s. */
  timeoutMs?: number;
  /** `wait_for`: a bulk write answers once its documents are searchable (for tests; it costs throughput). */
  refresh?: 'wait_for';
}

/** What became of each document of a bulk write, by id. */
interface BulkOutcome {
  written: string[];
  /** Already stored under the id (an earlier try of the same batch wrote it): done. */
  existing: string[];
  /** Not written for now (the cluster was busy or failing): write them again later. */
  retry: string[];
  /** Refused for what they are (a field the mappings do not have, a value of the wrong type): never retried. */
  rejected: { id: string; status: number; type: string; reason: string }[];
}

/** A search of the server logs; newest first. */
interface LogSearch {
  service?: string;
  /** The least level wanted (`warn` finds warn, error and fatal). */
  level?: LogLevel;
  /** Words the message must all contain. */
  q?: string;
  /** From this time (inclusive), ISO 8601. */
  from?: string;
  /** Until this time (exclusive), ISO 8601. */
  to?: string;
  limit: number;
  /** The `nextCursor` of the page before. */
  cursor?: string;
}

/** The keyword fields a subject's documents are erased by, and the kinds that have each. */
const ERASURE_FIELDS = {
  identifier_hashes: ['logs', 'telemetry'],
  user_id: ['telemetry'],
  session_id: ['telemetry'],
} as const satisfies Record<string, readonly SearchKind[]>;

type ErasureField = keyof typeof ERASURE_FIELDS;

/** The most results one search page holds: `from + size` must stay within `index.max_result_window`. */
const MAX_PAGE = 1000;
/** A bulk request's body stays under this; OpenSearch refuses bodies over `http.max_content_length` (100 MB). */
const MAX_BULK_BYTES = 5 * 1024 * 1024;
/** Values per `terms` query of an erasure, well under `index.max_terms_count` (65,536). */
const ERASURE_CHUNK = 1000;

const ErrorBody = z.object({
  error: z
    .union([z.string(), z.object({ type: z.string().optional(), reason: z.string().nullish() })])
    .optional(),
});

const BulkResponse = z.object({
  errors: z.boolean(),
  items: z.array(
    z.record(
      z.string(),
      z.object({
        _id: z.string(),
        status: z.number(),
        error: z.object({ type: z.string(), reason: z.string().nullish() }).optional(),
      }),
    ),
  ),
});

const SearchResponse = z.object({
  hits: z.object({
    hits: z.array(
      z.object({
        _id: z.string(),
        _source: z.record(z.string(), z.unknown()),
        sort: z.array(z.union([z.number(), z.string(), z.null()])),
      }),
    ),
  }),
});

const DeleteByQueryResponse = z.object({
  deleted: z.number(),
  failures: z.array(z.unknown()),
});

const StoredPolicy = z.object({
  _seq_no: z.number(),
  _primary_term: z.number(),
  policy: z.object({
    description: z.string().optional(),
    default_state: z.string(),
    states: z.array(
      z.object({
        name: z.string(),
        actions: z.array(z.record(z.string(), z.unknown())),
        transitions: z.array(z.object({ state_name: z.string(), conditions: z.unknown().optional() })),
      }),
    ),
    ism_template: z.array(z.object({ index_patterns: z.array(z.string()), priority: z.number() })).nullish(),
  }),
});

type PolicyBody = z.infer<typeof StoredPolicy>['policy'];

/**
 * What of a policy Vigil decides: a stored policy answers with more (its id, times, schema version, each
 * action's retry settings), which says nothing about whether it is the policy wanted.
 */
function policyShape(policy: PolicyBody): string {
  return JSON.stringify({
    description: policy.description ?? '',
    default_state: policy.default_state,
    states: policy.states.map((s) => ({
      name: s.name,
      actions: s.actions.map(({ retry: _retry, ...action }) => action),
      transitions: s.transitions.map((t) => ({ state_name: t.state_name, conditions: t.conditions ?? null })),
    })),
    ism_template: (policy.ism_template ?? []).map((t) => ({
      index_patterns: t.index_patterns,
      priority: t.priority,
    })),
  });
}

function encodeCursor(sort: (number | string | null)[]): string {
  return Buffer.from(JSON.stringify(sort)).toString('base64url');
}

const Cursor = z.tuple([z.number(), z.string()]);

function decodeCursor(cursor: string): z.infer<typeof Cursor> {
  try {
    return Cursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidInputError('invalid cursor', [
      { path: '/cursor', message: 'not a cursor a search gave' },
    ]);
  }
}

/** The day of `ts` (UTC) as an index suffix: `2026.12.07`. */
function daySuffix(ts: string | Date): string {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a time: ${String(ts)}`);
  return date.toISOString().slice(0, 10).replaceAll('-', '.');
}

/** Connects to an OpenSearch cluster; nothing is sent until a method is called. */
export function createSearchSink(options: SearchSinkOptions) {
  const prefix = options.prefix ?? 'vigil';
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(prefix)) {
    throw new RangeError(
      `the index prefix must be lower-case letters, digits, - and _, got ${JSON.stringify(prefix)}`,
    );
  }
  // Bad retention days throw here, at construction, rather than at the first setup.
  for (const kind of SEARCH_KINDS) retentionPolicy(prefix, kind, options.retentionDays[kind]);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = new URL(options.node);
  // Named in messages without its credentials.
  const where = `${url.protocol}//${url.host}`;
  // The shipper retries with its own backoff, so the client sends each call once. Credentials in the URL go as
  // Basic auth.
  const client = new Client({ node: options.node, requestTimeout: timeoutMs, maxRetries: 0 });

  /** Sends one request; answers the status and parsed body when it is 2xx or in `accept`, else throws. */
  async function request(
    method: string,
    path: string,
    body?: { json: unknown } | { ndjson: string },
    accept: number[] = [],
  ): Promise<{ status: number; body: unknown }> {
    const [pathname = path, query = ''] = path.split('?');
    let status: number;
    let parsed: unknown;
    try {
      const response = await client.transport.request(
        {
          method,
          path: pathname,
          querystring: Object.fromEntries(new URLSearchParams(query)),
          ...(body === undefined
            ? {}
            : 'json' in body
              ? { body: body.json as object }
              : { bulkBody: body.ndjson }),
        },
        { ignore: accept },
      );
      status = response.statusCode ?? 0;
      parsed = response.body;
    } catch (error) {
      if (!(error instanceof errors.ResponseError)) {
        // Not reached, timed out, or an answer that is not HTTP: the same call may work later. The client's own
        // message may name the URL with its credentials, so only its kind is said.
        const kind = error instanceof Error ? error.name : 'error';
        throw new SearchStoreError(
          `OpenSearch at ${where} did not answer ${method} ${pathname}: ${kind}`,
          true,
        );
      }
      status = error.statusCode;
      parsed = error.body;
    }
    if ((status >= 200 && status < 300) || accept.includes(status)) return { status, body: parsed };
    const error = ErrorBody.safeParse(parsed);
    const detail = error.success ? error.data.error : undefined;
    const type = typeof detail === 'object' ? detail.type : undefined;
    const reason =
      typeof detail === 'object'
        ? (detail.reason ?? '')
        : (detail ?? (typeof parsed === 'string' ? parsed.slice(0, 200) : ''));
    const retryable = status === 429 || status >= 500;
    throw new SearchStoreError(
      `OpenSearch at ${where} answered ${method} ${pathname} with ${status}${type ? ` ${type}` : ''}: ${reason}`,
      retryable,
      status,
      type,
    );
  }

  function read<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
    const result = schema.safeParse(body);
    if (!result.success)
      throw new SearchStoreError(`OpenSearch at ${where} answered ${what} in an unexpected form`, false);
    return result.data;
  }

  /** Creates the kind's retention policy, or updates it when it differs; answers what it did. */
  async function ensurePolicy(kind: SearchKind, raced = false): Promise<'created' | 'updated' | 'unchanged'> {
    const id = `${prefix}-${kind}-retention`;
    const path = `/_plugins/_ism/policies/${id}`;
    const wanted = retentionPolicy(prefix, kind, options.retentionDays[kind]);
    const current = await request('GET', path, undefined, [404]);
    if (current.status === 404) {
      // Another instance may create it first: then its policy is compared like any stored one.
      const created = await request('PUT', path, { json: wanted }, raced ? [] : [409]);
      return created.status === 409 ? ensurePolicy(kind, true) : 'created';
    }
    const stored = read(StoredPolicy, current.body, `GET ${path}`);
    if (policyShape(stored.policy) === policyShape(wanted.policy)) return 'unchanged';
    // Indices already managed keep the policy version they started with; new indices get this one.
    await request('PUT', `${path}?if_seq_no=${stored._seq_no}&if_primary_term=${stored._primary_term}`, {
      json: wanted,
    });
    return 'updated';
  }

  function indexFor(kind: SearchKind, ts: string | Date): string {
    return `${prefix}-${kind}-${daySuffix(ts)}`;
  }

  /** Writes one bulk request's documents; an HTTP 429 or 5xx answer puts all of them in `retry`. */
  async function bulkChunk(kind: SearchKind, docs: { id: string; ts: string }[], outcome: BulkOutcome) {
    let body = '';
    for (const doc of docs) {
      body += `${JSON.stringify({ create: { _index: indexFor(kind, doc.ts), _id: doc.id } })}\n${JSON.stringify(doc)}\n`;
    }
    const path = options.refresh ? `/_bulk?refresh=${options.refresh}` : '/_bulk';
    let answer: { body: unknown };
    try {
      answer = await request('POST', path, { ndjson: body });
    } catch (error) {
      if (error instanceof SearchStoreError && error.retryable && error.status !== undefined) {
        outcome.retry.push(...docs.map((d) => d.id));
        return;
      }
      throw error;
    }
    const { items } = read(BulkResponse, answer.body, 'a bulk write');
    for (const item of items) {
      const result = item.create;
      if (result === undefined) continue;
      if (result.status === 200 || result.status === 201) outcome.written.push(result._id);
      else if (result.status === 409) outcome.existing.push(result._id);
      else if (result.status === 429 || result.status >= 500) outcome.retry.push(result._id);
      else {
        outcome.rejected.push({
          id: result._id,
          status: result.status,
          type: result.error?.type ?? 'unknown',
          reason: result.error?.reason ?? '',
        });
      }
    }
  }

  return {
    /** Puts the index templates and retention policies in place; safe to call at every start. */
    async ensureSetup() {
      for (const kind of SEARCH_KINDS) {
        await request('PUT', `/_index_template/${prefix}-${kind}`, { json: indexTemplate(prefix, kind) });
      }
      const policies: Partial<Record<SearchKind, 'created' | 'updated' | 'unchanged'>> = {};
      for (const kind of SEARCH_KINDS) policies[kind] = await ensurePolicy(kind);
      return { policies };
    },

    /** The daily index a document of `kind` at `ts` goes to (`vigil-logs-2026.12.07`, the UTC day). */
    indexFor,

    /**
     * Writes documents, each with `create` under its own id into the index of its day, so writing a batch again
     * stores nothing twice: an id already stored counts as done. Throws a retryable `SearchStoreError` when the
     * cluster cannot be reached (nothing is known of that request; write the batch again), a non-retryable one
     * when a request is refused as a whole.
     */
    async bulkWrite<K extends SearchKind>(kind: K, docs: SearchDocuments[K][]): Promise<BulkOutcome> {
      const outcome: BulkOutcome = { written: [], existing: [], retry: [], rejected: [] };
      let chunk: SearchDocuments[K][] = [];
      let bytes = 0;
      for (const doc of docs) {
        const size = Buffer.byteLength(JSON.stringify(doc)) + 200;
        if (chunk.length > 0 && bytes + size > MAX_BULK_BYTES) {
          await bulkChunk(kind, chunk, outcome);
          chunk = [];
          bytes = 0;
        }
        chunk.push(doc);
        bytes += size;
      }
      if (chunk.length > 0) await bulkChunk(kind, chunk, outcome);
      return outcome;
    },

    /** Server logs matching every given condition, newest first; `nextCursor` is there when more may follow. */
    async searchLogs(query: LogSearch): Promise<{ items: LogDocument[]; nextCursor?: string }> {
      if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) {
        throw new RangeError(`limit must be 1 to ${MAX_PAGE}, got ${query.limit}`);
      }
      const filter: unknown[] = [];
      if (query.service !== undefined) filter.push({ term: { service: query.service } });
      if (query.level !== undefined) filter.push({ range: { severity: { gte: severityOf(query.level) } } });
      if (query.from !== undefined || query.to !== undefined) {
        filter.push({ range: { ts: { gte: query.from, lt: query.to } } });
      }
      const words = query.q?.trim() ?? '';
      // `match` reads the text as words only: nothing in it is query syntax.
      const must = words === '' ? [] : [{ match: { message: { query: words, operator: 'and' } } }];
      const path = `/${indexPattern(prefix, 'logs')}/_search`;
      const answer = await request('POST', path, {
        json: {
          size: query.limit + 1,
          query: { bool: { filter, must } },
          sort: [{ ts: { order: 'desc' } }, { id: { order: 'desc' } }],
          track_total_hits: false,
          ...(query.cursor === undefined ? {} : { search_after: decodeCursor(query.cursor) }),
        },
      });
      const hits = read(SearchResponse, answer.body, 'a search').hits.hits;
      const page = hits.slice(0, query.limit);
      const last = page.at(-1);
      return {
        // The index's strict mappings admitted only documents of this shape.
        items: page.map((h) => ({ ...h._source, id: h._id }) as LogDocument),
        ...(hits.length > query.limit && last ? { nextCursor: encodeCursor(last.sort) } : {}),
      };
    },

    /**
     * Deletes every document whose `field` holds one of `values`, in each kind that has the field; answers how
     * many of each kind went. Documents written while it runs may escape it: erase after ingest has flushed.
     */
    async eraseBy(field: ErasureField, values: string[]): Promise<Record<SearchKind, number>> {
      const deleted: Record<SearchKind, number> = { logs: 0, telemetry: 0 };
      const unique = [...new Set(values)];
      for (const kind of ERASURE_FIELDS[field]) {
        for (let i = 0; i < unique.length; i += ERASURE_CHUNK) {
          const path = `/${indexPattern(prefix, kind)}/_delete_by_query?conflicts=proceed&refresh=true`;
          const answer = await request('POST', path, {
            json: {
              query: { bool: { filter: [{ terms: { [field]: unique.slice(i, i + ERASURE_CHUNK) } }] } },
            },
          });
          const result = read(DeleteByQueryResponse, answer.body, 'a delete by query');
          if (result.failures.length > 0) {
            // What was deleted stays deleted; running it again finds the rest.
            throw new SearchStoreError(
              `OpenSearch at ${where} could not delete every match: ${JSON.stringify(result.failures[0])}`,
              true,
            );
          }
          deleted[kind] += result.deleted;
        }
      }
      return deleted;
    },

    /** Closes the client's pooled connections; calls after it fail. */
    async close(): Promise<void> {
      await client.close();
    },
  };
}

/** A connected sink: what `createSearchSink` answers. */
export type SearchSink = ReturnType<typeof createSearchSink>;
