// A 422 tells a client developer which field is wrong, what was expected and what was received, on every
// validation path: the routers' hook, and the compiled schemas of the ingest routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../http/roles.ts';
import { createFaroApp } from '../ingest/faro/index.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';

let ctx: TestContext;
let appKey: string;
const ORIGIN = 'https://shop.example';

beforeAll(async () => {
  ctx = await createTestContext();
  appKey = (
    await createFaroApp(
      ctx.storage.db,
      { name: 'shop', origins: [ORIGIN] },
      { name: 't', role: 'admin' },
      new Date(),
    )
  ).key;
});
afterAll(async () => {
  await ctx.close();
});

interface FieldError {
  path: string;
  message: string;
}

async function errorsOf(res: Response): Promise<FieldError[]> {
  expect(res.status).toBe(422);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return ((await res.json()) as { errors: FieldError[] }).errors;
}

async function post(path: string, role: Role, body: unknown, contentType = 'application/json') {
  return errorsOf(
    await ctx.app.request(path, {
      method: 'POST',
      headers: { ...jsonHeaders(ctx, role), 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

const click = {
  id: 'c-1',
  type: 'click',
  ts: '2026-11-28T12:00:00Z',
  affiliateId: 'aff-1',
  clickId: 'k-1',
  ip: '198.51.100.23',
  userAgent: 'UA',
};

describe('validation errors', () => {
  it('name the field by JSON Pointer, the expectation, and the value received', async () => {
    const errors = await post('/v1/events', 'ingest', {
      events: [click, click, click, { ...click, id: 'c-4', landingUrl: 'shop.example' }],
    });
    expect(errors).toEqual([
      {
        path: '/events/3/landingUrl',
        message: 'expected an absolute URL such as https://shop.example/p/1, got "shop.example"',
      },
    ]);
  });

  it('say that a field is required, and name a type received where it is not a scalar', async () => {
    const { clickId: _, ...withoutClickId } = click;
    const errors = await post('/v1/events', 'ingest', { events: [{ ...withoutClickId, userAgent: ['UA'] }] });
    expect(errors).toEqual([
      { path: '/events/0/clickId', message: 'required: expected a string' },
      { path: '/events/0/userAgent', message: 'expected a string, received an array' },
    ]);
  });

  it('list the allowed values of an enumeration and the unknown fields, on a route validated by its router', async () => {
    const errors = await post('/v1/consents', 'ingest', {
      subjectId: 7,
      policyVersion: '2026-11',
      source: 'web',
      purposes: 'all',
    });
    expect(errors).toEqual([
      { path: '/subjectId', message: 'expected a string, got 7' },
      { path: '/source', message: 'expected one of "banner", "app", "api", "import", got "web"' },
      { path: '', message: 'unknown field "purposes"' },
    ]);
  });

  it('quote a query parameter, and cut a long value short', async () => {
    const res = await ctx.app.request(`/v1/logs?since=${'9'.repeat(100)}`, { headers: ctx.auth('sre') });
    const [error] = await errorsOf(res);
    expect(error?.path).toBe('/since');
    expect(error?.message).toMatch(new RegExp(`, got "${'9'.repeat(64)}…"$`));
  });

  it('point into NDJSON log batches by entry index', async () => {
    const body = `${JSON.stringify({ ts: '2026-11-28T12:00:00Z', level: 'info', service: 's', message: 'ok' })}\n${JSON.stringify({ ts: 'now', level: 'info', service: 's', message: 'x' })}`;
    const errors = await post('/v1/logs', 'ingest', body, 'application/x-ndjson');
    expect(errors).toEqual([
      {
        path: '/1/ts',
        message: expect.stringMatching(/^expected an ISO 8601 date-time.*, got "now"$/),
      },
    ]);
  });

  it('quote the browser payload field at fault', async () => {
    const res = await ctx.app.request(`/collect/${appKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({
        meta: { app: { name: 'shop' } },
        measurements: [{ type: 'web-vitals', values: { lcp: 'slow' } }],
      }),
    });
    const errors = await errorsOf(res);
    expect(errors.map((e) => e.message)).toContainEqual(expect.stringMatching(/, got "slow"$/));
  });
});
