import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../http/problem.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  // A route that fails the way a bug would, to see what a 500 gives away.
  ctx.app.get('/test-only/boom', () => {
    throw new Error('SELECT secret FROM internals at /srv/vigil/app.ts:42');
  });
});
afterAll(async () => {
  await ctx.close();
});

async function problem(res: Response, status: number, code: string): Promise<ProblemBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as ProblemBody;
  expect(body).toMatchObject({ type: `urn:vigil:problem:${code}`, status });
  expect(body.title).toEqual(expect.any(String));
  expect(body.requestId).toMatch(/^[\w-]+$/);
  expect(res.headers.get('x-request-id')).toBe(body.requestId);
  return body;
}

const liveKeyCount = async () =>
  (await ctx.storage.db.selectFrom('api_keys').select('id').where('revoked_at', 'is', null).execute()).length;

describe('error responses are RFC 9457 problems', () => {
  it('404 for an unknown path', async () => {
    const body = await problem(await ctx.app.request('/no/such/thing'), 404, 'not-found');
    expect(body.instance).toBe('/no/such/thing');
  });

  it('405 with Allow for a known path and another method', async () => {
    const res = await ctx.app.request('/v1/keys', { method: 'DELETE', headers: ctx.auth('admin') });
    await problem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('405 for a parameterised path', async () => {
    const res = await ctx.app.request('/v1/keys/someone/revoke', { method: 'GET' });
    await problem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('400 for malformed JSON', async () => {
    const res = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'admin'),
      body: '{"name": "x", "role": ',
    });
    await problem(res, 400, 'malformed-json');
  });

  it('400 for an empty JSON body', async () => {
    const res = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'admin'),
      body: '',
    });
    await problem(res, 400, 'malformed-json');
  });

  it('415 for a body that is not JSON, and for a missing content type', async () => {
    const form = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: { ...ctx.auth('admin'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=x&role=sre',
    });
    const body = await problem(form, 415, 'unsupported-media-type');
    expect(body.detail).toContain('application/x-www-form-urlencoded');
    const none = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: ctx.auth('admin'),
      body: '{}',
    });
    await problem(none, 415, 'unsupported-media-type');
  });

  it('413 from Content-Length, before the body is read', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(1024));
        if (pulled > 200) controller.close();
      },
    });
    const res = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: { ...jsonHeaders(ctx, 'admin'), 'content-length': String(200 * 1024) },
      body,
      duplex: 'half',
    } as RequestInit);
    await problem(res, 413, 'payload-too-large');
    expect(pulled).toBeLessThanOrEqual(2); // the stream's first pull happens eagerly; nothing more was read
  });

  it('413 for a chunked body that grows past the limit', async () => {
    const chunk = new TextEncoder().encode(`{"name":"${'x'.repeat(1000)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 500) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'admin'),
      body,
      duplex: 'half',
    } as RequestInit);
    await problem(res, 413, 'payload-too-large');
    expect(sent).toBeLessThan(500);
  });

  it('422 for a schema violation, naming each field as a JSON Pointer', async () => {
    const res = await ctx.app.request('/v1/keys', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'admin'),
      body: JSON.stringify({ name: 'bad name!', role: 'root', extra: 1 }),
    });
    const body = await problem(res, 422, 'validation-failed');
    const paths = (body.errors ?? []).map((e) => e.path).sort();
    expect(paths).toEqual(['', '/name', '/role']);
    for (const e of body.errors ?? []) expect(e.message.length).toBeGreaterThan(0);
  });

  it('422 for a bad query parameter', async () => {
    const res = await ctx.app.request('/v1/audit?limit=5000', { headers: ctx.auth('dpo') });
    const body = await problem(res, 422, 'validation-failed');
    expect(body.errors?.[0]?.path).toBe('/limit');
  });

  it('409 for a second live key with the same name', async () => {
    const send = () =>
      ctx.app.request('/v1/keys', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'admin'),
        body: JSON.stringify({ name: 'twice', role: 'sre' }),
      });
    expect((await send()).status).toBe(201);
    await problem(await send(), 409, 'conflict');
  });

  it('500 carries no stack, message or internals', async () => {
    const res = await ctx.app.request('/test-only/boom');
    const body = await problem(res, 500, 'internal');
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/SELECT|secret|internals|app\.ts|at \//);
    expect(body.detail).toBeUndefined();
  });
});

describe('arbitrary input to POST /v1/keys', () => {
  it('never yields a 5xx, and only a 201 writes anything', async () => {
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          name: fc.oneof(fc.string(), fc.integer()),
          role: fc.oneof(fc.constant('sre'), fc.string()),
        })
        .map((v) => JSON.stringify(v)),
    );
    const contentTypes = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/merge-patch+json',
      '',
    );
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (body, contentType) => {
        const before = await liveKeyCount();
        const headers: Record<string, string> = { ...ctx.auth('admin') };
        if (contentType) headers['content-type'] = contentType;
        const res = await ctx.app.request('/v1/keys', { method: 'POST', headers, body });
        expect(res.status).toBeLessThan(500);
        const after = await liveKeyCount();
        expect(after - before).toBe(res.status === 201 ? 1 : 0);
        if (res.status >= 400) expect(res.headers.get('content-type')).toBe('application/problem+json');
      }),
      { numRuns: 300 },
    );
  });
});
