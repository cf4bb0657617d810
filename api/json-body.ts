import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './context.ts';
import { ProblemError } from './problem.ts';

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** The default cap on a JSON request body; routes that take batches set their own. */
export const DEFAULT_JSON_LIMIT_BYTES = 64 * 1024;

/**
 * Guards a JSON body before any validator sees it: wrong content type → 415, over `maxBytes` → 413 (from
 * Content-Length before reading, or counted while reading a chunked body), not JSON → 400. The parsed body
 * is kept on the request (parsed once), so the route's validator does not parse it again. With `optional`, a
 * request with no body at all counts as `{}`.
 */
export function jsonBody(maxBytes: number = DEFAULT_JSON_LIMIT_BYTES, options: { optional?: boolean } = {}) {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ProblemError('payload-too-large', `the body exceeds this route's limit of ${maxBytes} bytes`);
    },
  });
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
    const read = async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await c.req.text());
      } catch (error) {
        if (error instanceof ProblemError) throw error;
        throw new ProblemError('malformed-json', 'the body is not valid JSON');
      }
      // Hono caches a body's text but parses it again on every `json()` call; the route's validator calls it
      // once more, so hand it this parse instead of paying for a second one.
      Object.defineProperty(c.req, 'json', { value: () => Promise.resolve(parsed), configurable: true });
    };
    if (length !== undefined && !c.req.header('transfer-encoding')) {
      // A declared length is checked before reading (the HTTP parser never reads past it). Reading the body
      // as text without touching `body` lets the Node adapter skip building a web stream for it.
      if (!/^\d+$/.test(length) || Number(length) > maxBytes) await limit(c, read);
      else await read();
    } else await limit(c, read);
    await next();
  });
}
