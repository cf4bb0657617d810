import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requireRole } from '../../http/auth.ts';
import type { Logger } from '../../http/logger.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
  schemaProblem,
} from '../../http/openapi.ts';
import { ProblemError } from '../../http/problem.ts';
import { parseJson, readRequestBody } from '../../http/request-body.ts';
import { InvalidInputError, OverloadedError } from '../../storage/index.ts';
import type { ServerLogRow } from '../../storage/server-logs.table.ts';
import type { IngestDeps } from '../deps.ts';
import { inFlightBound } from '../in-flight.ts';
import { countRejections } from '../ingest-metrics.ts';
import { SearchStoreError } from '../opensearch/client.ts';
import {
  CompiledLogBatchSchema,
  LOG_LEVELS,
  type LogEntry,
  LogEntrySchema,
  type LogLevel,
  QueryTime,
  StoredLogSchema,
} from './schemas.ts';
import {
  insertLogs,
  insertLogsPostgres,
  MAX_QUERY_TERMS,
  queryTerms,
  requestTemplates,
  searchLogs,
} from './store.ts';

const NDJSON = /^application\/(x-)?ndjson$/i;
/** How long a client waits before asking OpenSearch again. */
const SEARCH_RETRY_SECONDS = '5';
const JSON_TYPE = /^application\/json$/i;

/** Counts the entries of a batch refused after it was read, by reason. */
type CountRefused = (entries: number, reason: 'too_large' | 'validation') => void;

/** Nesting a log entry may have: the entry, `attrs`, and free values under it (a JSON array adds one). */
const MAX_ENTRY_DEPTH = 32;

/** A request log and an error: the batch shown in the API reference. */
const LOG_BATCH_EXAMPLE = [
  {
    ts: '2026-11-28T12:00:00.250Z',
    level: 'info',
    service: 'checkout',
    message: 'order placed',
    route: '/api/orders',
    method: 'POST',
    status: 201,
    durationMs: 182,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  },
  {
    ts: '2026-11-28T12:00:01Z',
    level: 'error',
    service: 'checkout',
    message: 'payment provider timeout after 3000 ms',
    route: '/api/payments',
    method: 'POST',
    status: 504,
    durationMs: 3004,
    attrs: { provider: 'psp-a', attempt: 2 },
  },
];
const NEWLINE = 0x0a;

/**
 * Reads a log batch as NDJSON (one object per line, blank lines skipped) or a JSON array: wrong type → 415,
 * over the size limit → 413 (counted while reading), stalled → 408, nested too deep → 422 (scanned before
 * parsing, per line for NDJSON), a bad line → 400 naming it, too many items → 413, a schema violation → 422
 * with the item's index first in each path. Sets `c.var.logEntries`.
 */
function logBody(maxBytes: number, maxItems: number, idleTimeoutMs: number, countRefused: CountRefused) {
  const tooLarge = () =>
    new ProblemError('payload-too-large', `the body exceeds the limit of ${maxBytes} bytes`);
  return createMiddleware<{ Variables: { logEntries: LogEntry[] } }>(async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const ndjson = NDJSON.test(mediaType);
    if (!ndjson && !JSON_TYPE.test(mediaType)) {
      throw new ProblemError('unsupported-media-type', 'send application/x-ndjson or application/json');
    }
    const body = await readRequestBody(c, { maxBytes, idleTimeoutMs, tooLarge });
    let items: unknown[] = [];
    if (ndjson) {
      for (let start = 0, line = 1; start < body.length; line += 1) {
        const newline = body.indexOf(NEWLINE, start);
        const end = newline === -1 ? body.length : newline;
        if (!isBlank(body, start, end)) {
          items.push(parseJson(body, MAX_ENTRY_DEPTH, { start, end, name: `line ${line}` }));
        }
        start = end + 1;
      }
    } else {
      const parsed = parseJson(body, MAX_ENTRY_DEPTH + 1);
      if (!Array.isArray(parsed)) {
        throw new ProblemError('validation-failed', 'expected a JSON array of log entries', {
          errors: [{ path: '', message: 'expected an array' }],
        });
      }
      items = parsed;
    }
    if (items.length > maxItems) {
      countRefused(items.length, 'too_large');
      throw new ProblemError(
        'payload-too-large',
        `${items.length} log entries exceed the batch limit of ${maxItems}`,
      );
    }
    const result = CompiledLogBatchSchema.safeParse(items);
    if (!result.success) {
      countRefused(items.length, 'validation');
      throw schemaProblem(
        result.error.issues,
        'the batch does not match the schema; nothing was stored',
        items,
      );
    }
    c.set('logEntries', result.data);
    await next();
  });
}

/** Whether `bytes[start, end)` holds only JSON whitespace (a blank NDJSON line). */
function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    const byte = bytes[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

function toStoredLog(row: ServerLogRow): z.infer<typeof StoredLogSchema> {
  return {
    id: row.id,
    ts: row.ts,
    level: row.level as LogLevel,
    service: row.service,
    message: row.message,
    route: row.route,
    method: row.method,
    status: row.status,
    durationMs: row.duration_ms,
    traceId: row.trace_id,
    attrs: row.attrs === null ? null : (JSON.parse(row.attrs) as Record<string, unknown>),
  };
}

/** A database page's cursor: the id the next page starts below. */
function databaseCursor(cursor: string): number {
  const id = /^[1-9][0-9]{0,15}$/.test(cursor) ? Number(cursor) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new InvalidInputError('invalid cursor', [{ path: '/cursor', message: 'not a cursor a page gave' }]);
  }
  return id;
}

/** Searches the logs shipped to OpenSearch; its documents answer in the database's shape. */
async function searchShippedLogs(
  index: NonNullable<IngestDeps['logSearch']>,
  logger: Logger,
  q: {
    service?: string;
    level?: LogLevel;
    q?: string;
    since?: string;
    until?: string;
    cursor?: string;
    limit: number;
  },
) {
  let page: Awaited<ReturnType<typeof index.searchLogs>>;
  try {
    page = await index.searchLogs({
      ...(q.service === undefined ? {} : { service: q.service }),
      ...(q.level === undefined ? {} : { level: q.level }),
      ...(q.q === undefined ? {} : { q: q.q }),
      ...(q.since === undefined ? {} : { from: q.since }),
      ...(q.until === undefined ? {} : { to: q.until }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      limit: q.limit,
    });
  } catch (error) {
    if (error instanceof SearchStoreError) {
      logger.warn('log search failed', { error });
      throw new ProblemError(
        'unavailable',
        'the log search (OpenSearch) does not answer; try again shortly',
        {
          headers: { 'retry-after': SEARCH_RETRY_SECONDS },
        },
      );
    }
    throw error;
  }
  return {
    items: page.items.map((doc) => ({
      id: Number(doc.id),
      ts: doc.ts,
      level: doc.level as LogLevel,
      service: doc.service,
      message: doc.message,
      route: doc.route,
      method: doc.method,
      status: doc.status,
      durationMs: doc.duration_ms,
      traceId: doc.trace_id,
      attrs: doc.attrs,
    })),
    nextCursor: page.nextCursor ?? null,
  };
}

/** `POST /v1/logs` (ingest) and `GET /v1/logs` (sre). */
export function logRoutes(deps: IngestDeps) {
  const { items, red } = deps.ingestMetrics;
  const rejections = countRejections(deps.ingestMetrics);
  const countRefused: CountRefused = (entries, reason) =>
    items.inc({ kind: 'log', outcome: 'rejected', reason }, entries);

  const ingestRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['ingest'],
    summary: 'Structured server logs, as NDJSON or a JSON array',
    description:
      'Validated whole: one bad entry rejects the batch (422, its index first in `errors[].path`; for NDJSON the ' +
      'index counts non-blank lines). Emails and IPs in `message` and `attrs` are stored as keyed-hash tokens. ' +
      'Entries with `route` and `status` feed the RED metrics per service and route.',
    security: BEARER_SECURITY,
    middleware: [
      rejections,
      requireRole('ingest'),
      inFlightBound(deps.writer.admission),
      logBody(
        deps.ingest.maxBodyBytes,
        deps.ingest.maxBatchItems,
        deps.ingest.bodyIdleTimeoutMs,
        countRefused,
      ),
    ] as const,
    // Plain OpenAPI schemas, not zod ones: `logBody` parses and validates both types, and a zod schema here
    // would make the router validate NDJSON as if it were JSON.
    request: {
      body: {
        required: true,
        content: {
          'application/x-ndjson': {
            schema: { type: 'string', description: 'One LogEntry (JSON) per line; blank lines are skipped' },
            example: LOG_BATCH_EXAMPLE.map((entry) => JSON.stringify(entry)).join('\n'),
          },
          'application/json': {
            schema: { type: 'array', items: { $ref: '#/components/schemas/LogEntry' } },
            example: LOG_BATCH_EXAMPLE,
          },
        },
      },
    },
    responses: {
      202: {
        description: 'Committed',
        content: { 'application/json': { schema: z.object({ accepted: z.number().int() }) } },
      },
      ...problemResponses(
        ...AUTH_PROBLEMS,
        ...BODY_PROBLEMS,
        'nesting-too-deep',
        'request-timeout',
        'unavailable',
      ),
    },
  });

  const searchRoute = createRoute({
    method: 'get',
    path: '/',
    tags: ['logs'],
    summary: 'Searches stored logs, newest first',
    description:
      '`level` is a minimum (`warn` gives warn, error and fatal). `q` is full text on `message`: every word must ' +
      'occur (case-insensitive, whole words); quotes, `*`, `OR`, `NEAR` and other query syntax are searched for as ' +
      'text, never interpreted; a `q` with no letter or digit, or with more than 16 words, is a 422. `since` is ' +
      'inclusive, `until` exclusive. Pages follow with `cursor` = `nextCursor` of the previous page (null on the ' +
      'last). `source` says where the answer comes from: `database` (newest first by arrival; `before` = ' +
      '`nextBefore` pages too) or, when Vigil ships logs to OpenSearch, `search` (newest first by time, holding ' +
      'what was shipped: a log reaches it within seconds of its arrival, and stays for the search retention). ' +
      'OpenSearch away: 503 with Retry-After.',
    security: BEARER_SECURITY,
    middleware: [requireRole('sre')] as const,
    request: {
      query: z.object({
        service: z.string().max(64).optional(),
        level: z.enum(LOG_LEVELS).optional(),
        q: z
          .string()
          .max(500)
          .refine((q) => queryTerms(q).length > 0, 'expected at least one word (a letter or digit)')
          .refine(
            (q) => queryTerms(q).length <= MAX_QUERY_TERMS,
            `expected at most ${MAX_QUERY_TERMS} words: every word must occur, so leave out the least telling`,
          )
          .optional(),
        since: QueryTime.optional(),
        until: QueryTime.optional(),
        before: z.coerce.number().int().min(1).optional(),
        cursor: z.string().min(1).max(512).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
    },
    responses: {
      200: {
        description: 'Matching logs; `nextCursor` is null on the last page',
        content: {
          'application/json': {
            schema: z.object({
              items: z.array(StoredLogSchema),
              nextCursor: z.string().nullable(),
              nextBefore: z.number().int().nullable().openapi({ description: 'The database source only' }),
              source: z.enum(['database', 'search']),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed', 'unavailable'),
    },
  });

  const router = createRouter();
  router.openAPIRegistry.register('LogEntry', LogEntrySchema);
  return router
    .openapi(ingestRoute, async (c) => {
      const entries = c.var.logEntries;
      const templates = requestTemplates(entries);
      let accepted: number;
      try {
        const now = c.var.clock().toISOString();
        accepted = await deps.writer.submit(entries.length, {
          sqlite: insertLogs(entries, deps.secret, now, templates),
          postgres: (db) => insertLogsPostgres(db, entries, deps.secret, now, templates),
        });
      } catch (error) {
        const queueFull = error instanceof OverloadedError;
        items.inc(
          { kind: 'log', outcome: 'rejected', reason: queueFull ? 'queue_full' : 'error' },
          entries.length,
        );
        throw error;
      }
      items.inc({ kind: 'log', outcome: 'accepted', reason: 'ok' }, accepted);
      red.observe(entries, templates);
      return c.json({ accepted }, 202);
    })
    .openapi(searchRoute, async (c) => {
      const q = c.req.valid('query');
      if (deps.logSearch) {
        if (q.before !== undefined) {
          throw new InvalidInputError('before pages the database only', [
            {
              path: '/before',
              message: 'logs are searched in OpenSearch here: page with cursor = nextCursor',
            },
          ]);
        }
        const page = await searchShippedLogs(deps.logSearch, c.var.logger, q);
        return c.json({ ...page, nextBefore: null, source: 'search' as const }, 200);
      }
      const before = q.cursor === undefined ? q.before : databaseCursor(q.cursor);
      const rows = await searchLogs(c.var.db, {
        service: q.service,
        minLevel: q.level,
        text: q.q,
        since: q.since,
        until: q.until,
        before,
        limit: q.limit,
      });
      const last = rows.at(-1);
      const nextBefore = rows.length === q.limit && last ? last.id : null;
      return c.json(
        {
          items: rows.map(toStoredLog),
          nextCursor: nextBefore === null ? null : String(nextBefore),
          nextBefore,
          source: 'database' as const,
        },
        200,
      );
    });
}
