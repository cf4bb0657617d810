import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  type DomainError,
  databaseRefusedText,
  databaseUnavailable,
  type FieldError,
  isDomainError,
} from '../storage/index.ts';

export type { FieldError };

/** The closed set of problem types Vigil answers with; each maps to exactly one status. */
export type ProblemCode =
  | 'bad-request'
  | 'malformed-json'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'request-timeout'
  | 'conflict'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'validation-failed'
  | 'nesting-too-deep'
  | 'rate-limited'
  | 'internal'
  | 'unavailable';

export function statusOf(code: ProblemCode): ContentfulStatusCode {
  switch (code) {
    case 'bad-request':
    case 'malformed-json':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not-found':
      return 404;
    case 'method-not-allowed':
      return 405;
    case 'request-timeout':
      return 408;
    case 'conflict':
      return 409;
    case 'payload-too-large':
      return 413;
    case 'unsupported-media-type':
      return 415;
    case 'validation-failed':
    case 'nesting-too-deep':
      return 422;
    case 'rate-limited':
      return 429;
    case 'internal':
      return 500;
    case 'unavailable':
      return 503;
  }
}

const TITLES: Record<ProblemCode, string> = {
  'bad-request': 'Bad request',
  'malformed-json': 'Malformed JSON',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'request-timeout': 'Request timeout',
  conflict: 'Conflict',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'validation-failed': 'Validation failed',
  'nesting-too-deep': 'Nesting too deep',
  'rate-limited': 'Too many requests',
  internal: 'Internal server error',
  unavailable: 'Service unavailable',
};

/** The stable `type` URI of a problem code. */
function problemType(code: ProblemCode): string {
  return `urn:vigil:problem:${code}`;
}

/** An RFC 9457 problem, thrown by the HTTP layer (middleware, handlers) and answered by the app's `onError`. */
export class ProblemError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? TITLES[code]);
    this.name = 'ProblemError';
    this.status = statusOf(code);
  }
}

/** The JSON body of a problem response. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(c: Context, problem: ProblemError): Response {
  const body: ProblemBody = {
    type: problemType(problem.code),
    title: TITLES[problem.code],
    status: problem.status,
    ...(problem.detail !== undefined && { detail: problem.detail }),
    instance: c.req.path,
    requestId: String(c.get('requestId') ?? ''),
    ...(problem.options.errors && { errors: problem.options.errors }),
  };
  // Through the context, so headers set earlier in the request (request id, security headers) are kept.
  return c.newResponse(JSON.stringify(body), problem.status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    ...problem.options.headers,
  });
}

function codeForStatus(status: number): ProblemCode {
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
      return 'method-not-allowed';
    case 408:
      return 'request-timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload-too-large';
    case 415:
      return 'unsupported-media-type';
    case 422:
      return 'validation-failed';
    case 429:
      return 'rate-limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad-request';
  }
}

/** The problem a service's domain error is answered with: the one place where the domain meets HTTP. */
function domainProblem(error: DomainError): ProblemError {
  switch (error.kind) {
    case 'not-found':
      return new ProblemError('not-found', error.message);
    case 'conflict':
      return new ProblemError(
        'conflict',
        error.message,
        error.errors.length > 0 ? { errors: error.errors } : {},
      );
    case 'invalid-input':
      return new ProblemError(
        'validation-failed',
        error.message,
        error.errors.length > 0 ? { errors: error.errors } : {},
      );
    case 'overloaded':
      return new ProblemError('unavailable', error.message, {
        headers: { 'retry-after': String(error.retryAfterSeconds) },
      });
  }
}

/**
 * Turns anything thrown into a problem, in three tiers: ours as they are (a service's domain error mapped to
 * its problem); Hono's `HTTPException` by its status (its message is written by Hono or us, never by the
 * input); anything else as a bare 500.
 */
export function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (isDomainError(error)) return domainProblem(error);
  if (databaseUnavailable(error)) {
    return new ProblemError('unavailable', 'the database cannot be reached now', {
      headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
    });
  }
  if (databaseRefusedText(error))
    return new ProblemError(
      'validation-failed',
      'a value holds a character the database cannot store (NUL); nothing was stored',
    );
  if (error instanceof HTTPException) {
    const code = codeForStatus(error.status);
    return new ProblemError(code, code === 'internal' ? undefined : error.message || undefined);
  }
  return new ProblemError('internal');
}

/** Converts a zod issue path to a JSON Pointer: `['events', 3, 'amount']` → `/events/3/amount`. */
export function toJsonPointer(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
