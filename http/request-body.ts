import { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { ProblemError } from './problem.ts';

/** How long a body may go without a byte before the request is cut, unless the route says otherwise. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 5000;

/** Thrown when the client goes away before its body has arrived: nobody is left to answer. */
export class ClientAbortedError extends Error {
  constructor() {
    super('the client closed the connection before its body arrived');
    this.name = 'ClientAbortedError';
  }
}

/** The limits a body is read under. */
export interface BodyLimits {
  /** Largest body as sent; more is a 413, refused from Content-Length before reading when it is declared. */
  maxBytes: number;
  /** No byte for this long while reading → 408 with `Connection: close`. */
  idleTimeoutMs?: number;
  /** The 413 to throw, for a route that words its limit differently. */
  tooLarge?: () => ProblemError;
}

const decoder = new TextDecoder();

function idleProblem(idleTimeoutMs: number): ProblemError {
  // The rest of the body may still come; closing is the only way not to read it as the next request.
  return new ProblemError('request-timeout', `no part of the body arrived for ${idleTimeoutMs} ms`, {
    headers: { connection: 'close' },
  });
}

/** The Node.js request behind the context, when the app is served by `@hono/node-server`. */
function incomingOf(c: Context): IncomingMessage | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  return env.incoming instanceof IncomingMessage ? env.incoming : undefined;
}

/** Reads from the socket itself: no web stream is built, and a stall or an abort is seen as it happens. */
function readIncoming(
  incoming: IncomingMessage,
  maxBytes: number,
  idleTimeoutMs: number,
  tooLarge: () => ProblemError,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (incoming.readableDidRead) {
      reject(new Error('the request body was read already'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('aborted', onAborted);
      incoming.off('error', onAborted);
      incoming.off('close', onClose);
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(idleProblem(idleTimeoutMs))), idleTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        finish(() => reject(tooLarge()));
        return;
      }
      chunks.push(chunk);
      timer.refresh();
    };
    const onEnd = () =>
      finish(() => resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size)));
    const onAborted = () => finish(() => reject(new ClientAbortedError()));
    const onClose = () => {
      if (!incoming.readableEnded) onAborted();
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('aborted', onAborted);
    incoming.on('error', onAborted);
    incoming.on('close', onClose);
    if (incoming.destroyed) onAborted();
  });
}

/** Reads a web stream (in-process requests, other adapters) under the same limits. */
async function readStream(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  idleTimeoutMs: number,
  tooLarge: () => ProblemError,
): Promise<Buffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'idle'>((resolve) => {
      timer = setTimeout(() => resolve('idle'), idleTimeoutMs);
    });
    let result: Awaited<ReturnType<typeof reader.read>> | 'idle';
    try {
      result = await Promise.race([reader.read(), idle]);
    } catch {
      throw new ClientAbortedError();
    } finally {
      clearTimeout(timer);
    }
    if (result === 'idle') {
      void reader.cancel().catch(() => {});
      throw idleProblem(idleTimeoutMs);
    }
    if (result.done) break;
    size += result.value.byteLength;
    if (size > maxBytes) {
      void reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(result.value);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Reads the request body within `maxBytes` (413: from Content-Length before reading, or counted while reading)
 * and under the idle timeout (408 with `Connection: close` when no byte comes for that long, so that a slow
 * client holds its slot for no longer). A client that goes away mid-body is a `ClientAbortedError`.
 */
export async function readRequestBody(c: Context, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes } = limits;
  const idleTimeoutMs = limits.idleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS;
  const tooLarge =
    limits.tooLarge ??
    (() => new ProblemError('payload-too-large', `the body exceeds this route's limit of ${maxBytes} bytes`));
  const length = c.req.header('content-length');
  if (length !== undefined && !c.req.header('transfer-encoding') && /^\d+$/.test(length)) {
    if (Number(length) > maxBytes) throw tooLarge();
  }
  const incoming = incomingOf(c);
  if (incoming) return readIncoming(incoming, maxBytes, idleTimeoutMs, tooLarge);
  const body = c.req.raw.body;
  if (body === null) return Buffer.alloc(0);
  return readStream(body, maxBytes, idleTimeoutMs, tooLarge);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The deepest nesting of arrays and objects in the JSON text `bytes[start, end)`, in one pass over the raw
 * bytes (a scalar is 0, `[]` is 1, `[{}]` is 2); brackets inside strings do not count. It stops once the depth
 * passes `limit`, so a hostile body costs no more than its first `limit + 1` brackets. UTF-8 is safe to scan
 * bytewise: every byte of a multi-byte character is ≥ 0x80, never a quote, backslash or bracket.
 */
export function jsonDepth(
  bytes: Uint8Array,
  limit = Number.POSITIVE_INFINITY,
  start = 0,
  end = bytes.length,
): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = start; i < end; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth -= 1;
  }
  return deepest;
}

/** Where in the body a JSON text is, for the messages of its problems. */
export interface JsonTextOptions {
  start?: number;
  end?: number;
  /** Names the text in messages: `the body` (the default), `line 3`. */
  name?: string;
}

/**
 * Parses the JSON text `bytes[start, end)` once its nesting is known to be at most `maxDepth` (deeper → 422
 * `nesting-too-deep`, checked before parsing, which is what a deep body costs); not JSON → 400.
 */
export function parseJson(bytes: Uint8Array, maxDepth: number, options: JsonTextOptions = {}): unknown {
  const { start = 0, end = bytes.length, name = 'the body' } = options;
  if (jsonDepth(bytes, maxDepth, start, end) > maxDepth) {
    throw new ProblemError('nesting-too-deep', `${name} nests arrays and objects too deep`, {
      errors: [{ path: '', message: `arrays and objects may nest at most ${maxDepth} levels deep` }],
    });
  }
  try {
    return JSON.parse(decoder.decode(bytes.subarray(start, end)));
  } catch {
    throw new ProblemError('malformed-json', `${name} is not valid JSON`);
  }
}
