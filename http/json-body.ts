import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './context.ts';
import { ProblemError } from './problem.ts';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, parseJson, readRequestBody } from './request-body.ts';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** The default cap on a JSON request body; routes that take batches set their own. */
const DEFAULT_JSON_LIMIT_BYTES = 64 * 1024;

/** Nesting allowed by default: deeper than any schema of ours, far below what costs the parser. */
const DEFAULT_JSON_MAX_DEPTH = 32;

/** Options of `jsonBody`. */
export interface JsonBodyOptions {
  /** A request with no body at all counts as `{}`. */
  optional?: boolean;
  /** Deepest nesting of arrays and objects taken (422 past it, before parsing). */
  maxDepth?: number;
  /** No byte of the body for this long → 408. */
  idleTimeoutMs?: number;
}

/**
 * Guards a JSON body before any validator sees it: wrong content type → 415, over `maxBytes` → 413 (from
 * Content-Length before reading, or counted while reading a chunked body), stalled → 408, nested deeper than
 * `maxDepth` → 422, not JSON → 400. The parsed body is kept on the request (parsed once), so the route's
 * validator does not parse it again.
 */
export function jsonBody(maxBytes: number = DEFAULT_JSON_LIMIT_BYTES, options: JsonBodyOptions = {}) {
  const maxDepth = options.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS;
  return createMiddleware<AppEnv>(async (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const length = c.req.header('content-length');
    if (
      options.optional &&
      !mediaType &&
      (length === '0' || (!length && !c.req.header('transfer-encoding')))
    ) {
      // An action whose body is optional, sent without one: it is an empty object.
      Object.defineProperty(c.req, 'json', { value: () => Promise.resolve({}), configurable: true });
      await next();
      return;
    }
    if (!JSON_MEDIA_TYPE.test(mediaType)) {
      throw new ProblemError(
        'unsupported-media-type',
        mediaType ? `expected application/json, got ${mediaType.slice(0, 100)}` : 'expected application/json',
      );
    }
    const parsed = parseJson(await readRequestBody(c, { maxBytes, idleTimeoutMs }), maxDepth);
    // The route's validator calls `json()` again: hand it this parse instead of reading and parsing twice.
    Object.defineProperty(c.req, 'json', { value: () => Promise.resolve(parsed), configurable: true });
    await next();
  });
}
