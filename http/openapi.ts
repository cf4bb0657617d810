import { OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.ts';
import { PROBLEM_CONTENT_TYPE, type ProblemCode, ProblemError, statusOf, toJsonPointer } from './problem.ts';

const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:vigil:problem:validation-failed' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', {
    description: 'An RFC 9457 problem; `type` is stable, `errors` lists invalid fields.',
  });

const DESCRIPTIONS: Partial<Record<ProblemCode, string>> = {
  'malformed-json': 'The body is not valid JSON',
  unauthorized: 'No API key, or an unknown or revoked one',
  forbidden: "The key's role may not use this route",
  'not-found': 'No such resource',
  conflict: 'The change conflicts with the current state',
  'payload-too-large': "The body exceeds the route's limit",
  'unsupported-media-type': 'The body is not application/json',
  'validation-failed': 'The input violates the schema; `errors` says where',
  'rate-limited': 'Too many requests; retry after `Retry-After` seconds',
  unavailable: 'Not ready or overloaded; retry after `Retry-After` seconds',
};

/** The problem responses a route can give, for its `responses` in `createRoute`. */
export function problemResponses(...codes: ProblemCode[]) {
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const code of codes) {
    const status = statusOf(code);
    const previous = responses[status]?.description;
    const description = DESCRIPTIONS[code] ?? code;
    responses[status] = {
      description: previous ? `${previous}; or ${description.toLowerCase()}` : description,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    };
  }
  return responses;
}

/** Problem responses shared by every route that takes an API key. */
export const AUTH_PROBLEMS = ['unauthorized', 'forbidden'] as const satisfies ProblemCode[];
/** Problem responses shared by every route that takes a JSON body. */
export const BODY_PROBLEMS = [
  'malformed-json',
  'payload-too-large',
  'unsupported-media-type',
  'validation-failed',
] as const satisfies ProblemCode[];

/** The security requirement of routes that take `Authorization: Bearer <api key>`. */
export const BEARER_SECURITY = [{ apiKey: [] }];

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  query: 'query string',
  param: 'path',
  header: 'headers',
  cookie: 'cookies',
  form: 'form',
};

const ARTICLES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
  undefined: 'nothing',
};

function described(type: string): string {
  return ARTICLES[type] ?? type;
}

/** The JSON type of a received value, in the words of `ARTICLES`. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

// Every schema's messages say what was expected in words a client developer reads without zod's vocabulary:
// "required: expected a string", "expected a number, received an array", "unknown field \"purposes\"".
// Issues with a message of their own (a schema's custom message) keep it.
z.config({
  customError: (issue) => {
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) return `required: expected ${described(issue.expected)}`;
        // A scalar received is quoted after the message by `schemaProblem`; an object or array is named.
        return typeof issue.input === 'object' && issue.input !== null
          ? `expected ${described(issue.expected)}, received ${described(typeOf(issue.input))}`
          : `expected ${described(issue.expected)}`;
      case 'invalid_value':
        return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      case 'unrecognized_keys':
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      default:
        return undefined;
    }
  },
});

/** The longest received string quoted back in an error message, in code points. */
const QUOTED_MAX = 64;

/** The value at `path` in `input`, or undefined where the path leads nowhere. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A received scalar as the message quotes it (`"shop.example"`, `7`, `null`); nothing for objects and arrays. */
function quoted(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const points = [...value];
    return JSON.stringify(points.length > QUOTED_MAX ? `${points.slice(0, QUOTED_MAX).join('')}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return undefined;
}

/**
 * One issue's message, ending with the value received where it is a scalar, so that a client reads what was
 * expected and what it sent (`expected an absolute URL such as https://shop.example/p/1, got "shop.example"`).
 * The value goes back only to the client that sent it; problems are not logged with their errors.
 */
function issueMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (input === undefined || issue.code === 'unrecognized_keys') return issue.message;
  const got = quoted(valueAt(input, issue.path));
  return got === undefined ? issue.message : `${issue.message}, got ${got}`;
}

/**
 * A schema violation as a 422 problem listing each issue's field as a JSON Pointer; given the `input` that was
 * validated, each message quotes the scalar received at its field.
 */
export function schemaProblem(
  issues: readonly z.core.$ZodIssue[],
  detail: string,
  input?: unknown,
): ProblemError {
  return new ProblemError('validation-failed', detail, {
    errors: issues.map((issue) => ({ path: toJsonPointer(issue.path), message: issueMessage(issue, input) })),
  });
}

/** The validators' hook: a schema violation becomes a 422 problem listing each field as a JSON Pointer. */
function validationProblem(
  result: { success: true } | { success: false; error: z.ZodError; target?: string; data?: unknown },
  _c: Context,
): void {
  if (result.success) return;
  throw schemaProblem(
    result.error.issues,
    `the ${TARGET_NAMES[result.target ?? 'json'] ?? 'input'} does not match the schema`,
    result.data,
  );
}

/** A router for one area, answering validation failures as problems. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationProblem });
}

/**
 * Serves `route` with plain handlers — for a route that streams its answer, or validates on a fast path of its
 * own — and documents it from the same object, so that the method and path served cannot drift from the ones
 * documented (an OpenAPI `{id}` is Hono's `:id`).
 */
export function servePlain(
  router: OpenAPIHono<AppEnv>,
  route: RouteConfig,
  ...handlers: [MiddlewareHandler<AppEnv>, ...MiddlewareHandler<AppEnv>[]]
): void {
  router.openAPIRegistry.registerPath(route);
  router.on(route.method.toUpperCase(), route.path.replaceAll(/\{(\w+)\}/g, ':$1'), ...handlers);
}

/** An IPv4 or IPv6 address, documented with JSON Schema's own formats (the generator would call both `ip`). */
export const IpAddressSchema = z.union(
  [z.ipv4().openapi({ format: 'ipv4' }), z.ipv6().openapi({ format: 'ipv6' })],
  { message: 'expected an IPv4 or IPv6 address' },
);
