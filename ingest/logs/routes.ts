import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { requireRole } from '../../api/auth.ts';
import type { AppDeps } from '../../api/context.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
  schemaProblem,
} from '../../api/openapi.ts';
import { ProblemError } from '../../api/problem.ts';
import type { ServerLogRow } from '../../storage/server-logs.table.ts';
import { inFlightBound } from '../in-flight.ts';
import { countRejections, ingestItemsCounter } from '../ingest-metrics.ts';
import { RedMetrics } from './red-metrics.ts';
import {
  CompiledLogBatchSchema,
  LOG_LEVELS,
  type LogEntry,
  LogEntrySchema,
  type LogLevel,
  QueryTime,
  StoredLogSchema,
} from './schemas.ts';
import { ftsQuery, insertLogs, searchLogs } from './store.ts';

const NDJSON = /^application\/(x-)?ndjson$/i;
const JSON_TYPE = /^application\/json$/i;

/** Counts the entries of a batch refused after it was read, by reason. */
type CountRefused = (entries: number, reason: 'too_large' | 'validation') => void;

/**
 * Reads a log batch as NDJSON (one object per line, blank lines skipped) or a JSON array: wrong type → 415,
 * over the size limit → 413 (counted while reading), a bad line → 400 naming it, too many items → 413, a schema
 * violation → 422 with the item's index first in each path. Sets `c.var.logEntries`.
 */
function logBody(maxBytes: number, maxItems: number, countRefused: CountRefused) {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ProblemError('payload-too-large', `the body exceeds the limit of ${maxBytes} bytes`);
    },
  });
  return createMiddleware<{ Variables: { logEntries: LogEntry[] } }>(async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const ndjson = NDJSON.test(mediaType);
    if (!ndjson && !JSON_TYPE.test(mediaType)) {
      throw new ProblemError('unsupported-media-type', 'send application/x-ndjson or application/json');
    }
    let items: unknown[] = [];
    await limit(c, async () => {
      const text = await c.req.text();
      if (ndjson) {
        const lines = text.split(/\r?\n/);
        lines.forEach((line, index) => {
          if (line.trim() === '') return;
          try {
            items.push(JSON.parse(line));
          } catch {
            throw new ProblemError('malformed-json', `line ${index + 1} is not valid JSON`);
          }
        });
      } else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new ProblemError('malformed-json', 'the body is not valid JSON');
        }
        if (!Array.isArray(parsed)) {
          throw new ProblemError('validation-failed', 'expected a JSON array of log entries', {
            errors: [{ path: '', message: 'expected an array' }],
          });
        }
        items = parsed;
      }
    });
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
      throw schemaProblem(result.error.issues, 'the batch does not match the schema; nothing was stored');
    }
    c.set('logEntries', result.data);
    await next();
  });
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

/** `POST /v1/logs` (ingest) and `GET /v1/logs` (sre). */
export function logRoutes(deps: AppDeps) {
  const items = ingestItemsCounter(deps.registry);
  const red = new RedMetrics(deps.registry, deps.ingest.pageRouteCap);
  const rejections = countRejections(deps.registry);
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
      inFlightBound(deps.writer),
      requireRole('ingest'),
      logBody(deps.ingest.maxBodyBytes, deps.ingest.maxBatchItems, countRefused),
    ] as const,
    // Plain OpenAPI schemas, not zod ones: `logBody` parses and validates both types, and a zod schema here
    // would make the router validate NDJSON as if it were JSON.
    request: {
      body: {
        required: true,
        content: {
          'application/x-ndjson': {
            schema: { type: 'string', description: 'One LogEntry (JSON) per line; blank lines are skipped' },
          },
          'application/json': {
            schema: { type: 'array', items: { $ref: '#/components/schemas/LogEntry' } },
          },
        },
      },
    },
    responses: {
      202: {
        description: 'Committed',
        content: { 'application/json': { schema: z.object({ accepted: z.number().int() }) } },
      },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS, 'unavailable'),
    },
  });

  const searchRoute = createRoute({
    method: 'get',
    path: '/',
    tags: ['logs'],
    summary: 'Searches stored logs, newest first',
    description:
      '`level` is a minimum (`warn` gives warn, error and fatal). `q` is full text on `message`: every word must ' +
      'occur (case-insensitive, whole words); quotes, `*`, `OR`, `NEAR` and other FTS5 syntax are searched for as ' +
      'text, never interpreted, and a `q` with no letter or digit is a 422. `since` is inclusive, `until` ' +
      'exclusive. Newest first by arrival; page backwards with `before` = `nextBefore` of the previous page.',
    security: BEARER_SECURITY,
    middleware: [requireRole('sre')] as const,
    request: {
      query: z.object({
        service: z.string().max(64).optional(),
        level: z.enum(LOG_LEVELS).optional(),
        q: z
          .string()
          .max(500)
          .refine((q) => ftsQuery(q) !== undefined, 'expected at least one word (a letter or digit)')
          .optional(),
        since: QueryTime.optional(),
        until: QueryTime.optional(),
        before: z.coerce.number().int().min(1).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
    },
    responses: {
      200: {
        description: 'Matching logs; `nextBefore` is null on the last page',
        content: {
          'application/json': {
            schema: z.object({ items: z.array(StoredLogSchema), nextBefore: z.number().int().nullable() }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });

  const router = createRouter();
  router.openAPIRegistry.register('LogEntry', LogEntrySchema);
  return router
    .openapi(ingestRoute, async (c) => {
      const entries = c.var.logEntries;
      let accepted: number;
      try {
        accepted = await deps.writer.submit(
          entries.length,
          insertLogs(entries, deps.secret, c.var.clock().toISOString()),
        );
      } catch (error) {
        const queueFull = error instanceof ProblemError && error.code === 'unavailable';
        items.inc(
          { kind: 'log', outcome: 'rejected', reason: queueFull ? 'queue_full' : 'error' },
          entries.length,
        );
        throw error;
      }
      items.inc({ kind: 'log', outcome: 'accepted', reason: 'ok' }, accepted);
      red.observe(entries);
      return c.json({ accepted }, 202);
    })
    .openapi(searchRoute, async (c) => {
      const q = c.req.valid('query');
      const rows = await searchLogs(c.var.db, {
        service: q.service,
        minLevel: q.level,
        text: q.q,
        since: q.since,
        until: q.until,
        before: q.before,
        limit: q.limit,
      });
      const last = rows.at(-1);
      return c.json(
        { items: rows.map(toStoredLog), nextBefore: rows.length === q.limit && last ? last.id : null },
        200,
      );
    });
}
