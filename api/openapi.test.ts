import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx.close();
});

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await (await ctx.app.request('/openapi.json')).json();
    const result = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route the app serves, except the documents themselves and the review UI pages', async () => {
    const doc = (await (await ctx.app.request('/openapi.json')).json()) as OpenApiDocument;
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const served = ctx.app.routes
      .filter((r) => r.method !== 'ALL' && !['/openapi.json', '/docs', '/docs/assets/:name'].includes(r.path))
      // Pages for people, not an API: /review and below.
      .filter((r) => r.path !== '/review' && !r.path.startsWith('/review/'))
      .map((r) => `${r.method} ${r.path}`);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('documents the auth problems and the security scheme on every /v1 route', async () => {
    const doc = (await (await ctx.app.request('/openapi.json')).json()) as OpenApiDocument;
    for (const [p, ops] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/'))) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${p}`).toEqual(expect.arrayContaining(['401', '403']));
        expect(op.security, `${method} ${p}`).toEqual([{ apiKey: [] }]);
      }
    }
  });
});

/** Every `[key, value]` of the document, depth first, with its JSON Pointer. */
function* entries(value: unknown, pointer = ''): Generator<[string, string, unknown]> {
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    yield [pointer, key, child];
    yield* entries(child, `${pointer}/${key}`);
  }
}

describe('what /openapi.json says is what the routes do', () => {
  const document = async () => (await ctx.app.request('/openapi.json')).json() as Promise<unknown>;

  it('publishes patterns that compile as ECMA-262 regexes, with no JavaScript flags leaked into them', async () => {
    const patterns = [...entries(await document())].filter(
      ([, key, v]) => key === 'pattern' && typeof v === 'string',
    );
    expect(patterns.length).toBeGreaterThan(10);
    for (const [pointer, , pattern] of patterns) {
      expect(() => new RegExp(pattern as string, 'u'), pointer).not.toThrow();
      expect(pattern, pointer).not.toMatch(/\/[dgimsuvy]+$/);
    }
  });

  it('lists no alternative twice in an anyOf (an IP is ipv4 or ipv6)', async () => {
    for (const [pointer, key, value] of entries(await document())) {
      if (key !== 'anyOf' || !Array.isArray(value)) continue;
      const members = value.map((m) => JSON.stringify(m));
      expect(new Set(members).size, pointer).toBe(members.length);
    }
  });

  it('documents the batch limit the events route applies, from the same configuration', async () => {
    const doc = (await document()) as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const schema = doc.paths['/v1/events']?.post?.requestBody.content['application/json']?.schema as {
      properties: { events: { maxItems: number } };
    };
    expect(schema.properties.events.maxItems).toBe(ctx.deps.ingest.maxBatchItems);
    const affiliates = doc.paths['/v1/affiliates']?.post?.requestBody.content['application/json']?.schema as {
      anyOf: { properties?: { affiliates?: { maxItems: number } } }[];
    };
    const batch = affiliates.anyOf.find((s) => s.properties?.affiliates);
    expect(batch?.properties?.affiliates?.maxItems).toBe(ctx.deps.ingest.maxBatchItems);
  });

  it('answers a batch past the documented limit with 413, as the README says, not with a schema error', async () => {
    const limit = ctx.deps.ingest.maxBatchItems;
    const affiliates = Array.from({ length: limit + 1 }, (_, i) => ({
      id: `a${i}`,
      name: 'A',
      couponCodes: [],
    }));
    const res = await ctx.app.request('/v1/affiliates', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/json' },
      body: JSON.stringify({ affiliates }),
    });
    expect(res.status).toBe(413);
  });
});

describe('GET /docs', () => {
  it("is a page of Vigil's own assets under a strict CSP, started by a script of its own", async () => {
    const res = await ctx.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>/);
    const start = await ctx.app.request('/docs/assets/start.js');
    expect(await start.text()).toMatch(/SwaggerUIBundle\(\{ url: '\/openapi.json'/);
    const bundle = await ctx.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await ctx.app.request('/docs/assets/package.json')).status).toBe(404);
  });
});
