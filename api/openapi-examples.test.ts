// The examples in /openapi.json are what a user copies from /docs into a first request. Each must be accepted by
// the route it documents: a whole request body example gets a 2xx, and each field's example, put in the place of
// that field in the body example (or sent as its query parameter), passes the route's validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../http/roles.ts';
import { createFaroApp } from '../ingest/faro/index.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import { PROTECTED_ROUTES } from '../test/route-table.ts';

interface Schema {
  $ref?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

interface Operation {
  parameters?: { name: string; in: string; schema?: Schema; example?: unknown }[];
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const ORIGIN = 'https://shop.example';

let ctx: TestContext;
let doc: OpenApiDocument;
let appKey: string;

beforeAll(async () => {
  ctx = await createTestContext();
  doc = (await (await ctx.app.request('/openapi.json')).json()) as OpenApiDocument;
  appKey = (
    await createFaroApp(
      ctx.storage.db,
      { name: 'storefront', origins: [ORIGIN] },
      { name: 't', role: 'admin' },
      new Date(),
    )
  ).key;
});
afterAll(async () => {
  await ctx.close();
});

/** Every operation of the document, in its order, as `[method, path template, operation]`. */
function operations(): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]): [string, string, Operation] => [m.toUpperCase(), p, op]),
  );
}

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = doc.components.schemas[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(target);
}

/** Each field example found where `value` has that field, as `[path in value, example]`. */
function* fieldExamples(
  schema: Schema,
  value: unknown,
  at: (string | number)[] = [],
): Generator<[(string | number)[], unknown]> {
  const s = resolve(schema);
  if ('example' in s && at.length > 0) yield [at, s.example];
  for (const member of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) {
    yield* fieldExamples(member, value, at);
  }
  if (Array.isArray(value) && s.items) {
    for (const [i, item] of value.entries()) yield* fieldExamples(s.items, item, [...at, i]);
  } else if (value !== null && typeof value === 'object' && s.properties) {
    for (const [key, property] of Object.entries(s.properties)) {
      if (key in value) yield* fieldExamples(property, (value as Record<string, unknown>)[key], [...at, key]);
    }
  }
}

function withValue(value: unknown, at: (string | number)[], replacement: unknown): unknown {
  if (at.length === 0) return replacement;
  const [head, ...rest] = at as [string | number, ...(string | number)[]];
  const copy = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  (copy as Record<string | number, unknown>)[head] = withValue(
    (value as Record<string | number, unknown>)[head],
    rest,
    replacement,
  );
  return copy;
}

/** A role that may call the route, or none for a public one. */
function roleOf(method: string, template: string): Role | undefined {
  const honoTemplate = template.replace(/\{(\w+)\}/g, ':$1');
  return PROTECTED_ROUTES.find((r) => r.method === method && r.template === honoTemplate)?.roles[0];
}

/** A pending privacy request of its own, for an action's path. */
async function pendingRequestId(): Promise<string> {
  const res = await ctx.app.request('/v1/privacy-requests', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'dpo'),
    body: JSON.stringify({ type: 'access', subjectId: `u-${Math.random()}` }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The concrete path for a template, with path parameters naming things that exist. */
async function concretePath(template: string): Promise<string> {
  let path = template.replace('{appKey}', appKey).replace('/v1/subjects/{id}', '/v1/subjects/u-42');
  if (path.includes('/v1/privacy-requests/{id}')) path = path.replace('{id}', await pendingRequestId());
  return path;
}

async function send(method: string, template: string, mediaType: string, body: unknown): Promise<Response> {
  const role = roleOf(method, template);
  // A browser route takes the app key in its path or, at `/collect`, as `x-api-key`.
  const headers: Record<string, string> = role
    ? jsonHeaders(ctx, role)
    : { origin: ORIGIN, 'x-api-key': appKey };
  headers['content-type'] = mediaType;
  return ctx.app.request(await concretePath(template), {
    method,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * The example is valid, the state is not: only a failed request can be retried, and no request fails here; a
 * decision needs a payout in review, and none exists here.
 */
const STATE_REFUSALS: Record<string, number> = {
  'POST /v1/privacy-requests/{id}/retry': 409,
  'POST /v1/flags/{payoutId}/decision': 404,
};

const VALIDATION_STATUSES = [400, 413, 415, 422];

describe('the examples of /openapi.json', () => {
  it('include one for every request body, and the route accepts each', async () => {
    const bodies = operations().filter(([, , op]) => op.requestBody);
    expect(bodies.length).toBeGreaterThan(15);
    for (const [method, template, op] of bodies) {
      for (const [mediaType, media] of Object.entries(op.requestBody?.content ?? {})) {
        const name = `${method} ${template} (${mediaType})`;
        expect(media.example, `${name} documents an example`).toBeDefined();
        const res = await send(method, template, mediaType, media.example);
        const expected = STATE_REFUSALS[`${method} ${template}`];
        if (expected) expect(res.status, name).toBe(expected);
        else expect(res.status, `${name}: ${await res.clone().text()}`).toBeLessThan(300);
      }
    }
  });

  it("include field examples that pass the route's validation in place of the field", async () => {
    let checked = 0;
    for (const [method, template, op] of operations()) {
      for (const [mediaType, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (typeof media.example !== 'object') continue;
        for (const [at, example] of fieldExamples(media.schema, media.example)) {
          const res = await send(method, template, mediaType, withValue(media.example, at, example));
          expect(
            VALIDATION_STATUSES,
            `${method} ${template} /${at.join('/')} = ${JSON.stringify(example)}`,
          ).not.toContain(res.status);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('include query parameter examples that the route accepts', async () => {
    let checked = 0;
    for (const [method, template, op] of operations()) {
      for (const parameter of op.parameters ?? []) {
        const example = parameter.example ?? parameter.schema?.example;
        if (parameter.in !== 'query' || example === undefined) continue;
        const role = roleOf(method, template);
        const url = `${template}?${new URLSearchParams({ [parameter.name]: String(example) })}`;
        const res = await ctx.app.request(url, { method, headers: role ? ctx.auth(role) : {} });
        expect(res.status, `${method} ${url}: ${await res.clone().text()}`).toBe(200);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(1);
  });
});
