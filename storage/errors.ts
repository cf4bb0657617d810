/**
 * The errors services throw: what went wrong in the domain's terms, with no HTTP in them. Only the HTTP layer
 * (`http/problem.ts`, `toProblem`) turns them into problem+json answers; the CLI prints their messages; the
 * write thread sends them across as `SerializedDomainError`.
 */

/** Where in the input a value is wrong (a JSON Pointer, `''` for the whole) and what is wrong with it. */
export interface FieldError {
  path: string;
  message: string;
}

/** Something the request names does not exist. */
export class NotFoundError extends Error {
  readonly kind = 'not-found';
}

/** An error that may say which input values it is about. */
class FieldsError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The request contradicts what is stored (a name taken, the same id with other details, a state that forbids it). */
export class ConflictError extends FieldsError {
  readonly kind = 'conflict';
}

/** The input is well-formed but not acceptable, with each wrong value's place. */
export class InvalidInputError extends FieldsError {
  readonly kind = 'invalid-input';
}

/** Vigil cannot take this now (a bound reached, the write path restarting); the caller may retry after a while. */
export class OverloadedError extends Error {
  readonly kind = 'overloaded';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export type DomainError = NotFoundError | ConflictError | InvalidInputError | OverloadedError;

/** SQLSTATE classes of a database that is away or overwhelmed: connection, resources, operator intervention. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;
/** Node's codes for a connection that failed or broke. */
const UNAVAILABLE_SYSTEM = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
/** How long a caller is asked to wait while the database cannot be reached. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Whether an error says that PostgreSQL cannot be reached now (refused, broken, shutting down, out of
 * connections), rather than that the query is wrong: such a request is a 503 with Retry-After, not a 500.
 */
export function databaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SYSTEM.has(code)))
    return true;
  if (error instanceof AggregateError) return error.errors.some(databaseUnavailable);
  return /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
}

/** SQLSTATEs of text PostgreSQL cannot store: a NUL character (in text, or `\u0000` in jsonb), bad encoding. */
const UNSTORABLE_TEXT_SQLSTATE = new Set(['22021', '22P05']);

/**
 * Whether PostgreSQL refused a value of the request itself (a NUL character in an identifier), which SQLite
 * would have stored: the request is at fault (a 422), and its transaction stored nothing. Free text never gets
 * here (scrubbing drops NUL).
 */
export function databaseRefusedText(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && UNSTORABLE_TEXT_SQLSTATE.has(code);
}

/** A domain error as plain data, to cross a worker thread's message port. */
export type SerializedDomainError =
  | { kind: 'not-found'; message: string }
  | { kind: 'conflict' | 'invalid-input'; message: string; errors: FieldError[] }
  | { kind: 'overloaded'; message: string; retryAfterSeconds: number };

/** Whether `error` is one of the domain's errors. */
export function isDomainError(error: unknown): error is DomainError {
  return (
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof InvalidInputError ||
    error instanceof OverloadedError
  );
}

export function serializeDomainError(error: DomainError): SerializedDomainError {
  switch (error.kind) {
    case 'conflict':
    case 'invalid-input':
      return { kind: error.kind, message: error.message, errors: error.errors };
    case 'overloaded':
      return { kind: error.kind, message: error.message, retryAfterSeconds: error.retryAfterSeconds };
    default:
      return { kind: error.kind, message: error.message };
  }
}

export function deserializeDomainError(data: SerializedDomainError): DomainError {
  switch (data.kind) {
    case 'not-found':
      return new NotFoundError(data.message);
    case 'conflict':
      return new ConflictError(data.message, data.errors);
    case 'invalid-input':
      return new InvalidInputError(data.message, data.errors);
    case 'overloaded':
      return new OverloadedError(data.message, data.retryAfterSeconds);
  }
}
