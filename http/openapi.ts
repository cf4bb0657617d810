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

/** A schema violation as a 422 problem listing each issue's field as a JSON Pointer. */
export function schemaProblem(issues: readonly z.core.$ZodIssue[], detail: string): ProblemError {
  return new ProblemError('validation-failed', detail, {
    errors: issues.map((issue) => ({ path: toJsonPointer(issue.path), message: issue.message })),
  });
}

/** The validators' hook: a schema violation becomes a 422 problem listing each field as a JSON Pointer. */
function validationProblem(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  _c: Context,
): void {
  if (result.success) return;
  throw schemaProblem(
    result.error.issues,
    `the ${TARGET_NAMES[result.target ?? 'json'] ?? 'input'} does not match the schema`,
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
