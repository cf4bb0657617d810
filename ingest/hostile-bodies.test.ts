import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import { createFaroApp } from './faro/apps.ts';

const ORIGIN = 'https://shop.example.test';

let ctx: TestContext;
let appKey: string;
beforeAll(async () => {
  ctx = await createTestContext({ ingest: { bodyIdleTimeoutMs: 200, faroAnonymous: 'exempt' } });
  appKey = (
    await createFaroApp(
      ctx.storage.db,
      { name: 'shop', origins: [ORIGIN] },
      { name: 't', role: 'operator' },
      new Date(),
    )
  ).key;
});
afterAll(async () => {
  await ctx.close();
});

/** A value nested `depth` levels deep: `{"a":{"a":…1…}}`. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** A body that sends `head` and then nothing more, never ending. */
function stalled(head: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(head));
    },
  });
}

const collect = (body: string | ReadableStream<Uint8Array>) =>
  ctx.app.request(`/collect/${appKey}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body,
    duplex: 'half',
  } as RequestInit);

async function expectProblem(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(((await res.json()) as { type: string }).type).toBe(`urn:vigil:problem:${type}`);
}

describe('hostile bodies on the ingest routes', () => {
  it('refuses nesting deeper than the schemas use with 422 before parsing, on every ingest route', async () => {
    const events = await ctx.app.request('/v1/events', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: `{"events":[${nested(50)}]}`,
    });
    await expectProblem(events, 422, 'nesting-too-deep');
    const logs = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/x-ndjson' },
      body: `{"ts":"2026-11-28T10:00:00Z","level":"info","service":"s","message":"ok"}\n{"attrs":${nested(100)}}\n`,
    });
    await expectProblem(logs, 422, 'nesting-too-deep');
    expect(
      JSON.stringify(
        await (
          await ctx.app.request('/v1/logs', {
            method: 'POST',
            headers: { ...ctx.auth('ingest'), 'content-type': 'application/x-ndjson' },
            body: `{"attrs":${nested(100)}}`,
          })
        ).json(),
      ),
    ).toContain('line 1');
    // A deep Faro `context` was a stack overflow inside the schema (a 500); it is a 422 before parsing now.
    const faro = await collect(
      JSON.stringify({ meta: {}, logs: [{ message: 'x', context: JSON.parse(nested(2000)) }] }),
    );
    await expectProblem(faro, 422, 'nesting-too-deep');
    // A megabyte of brackets costs a scan that stops at the limit, never a parse.
    const brackets = await collect(`${'['.repeat(500_000)}${']'.repeat(500_000)}`);
    await expectProblem(brackets, 422, 'nesting-too-deep');
  });

  it('takes nesting the payloads really have: the Faro context a little deep, log attrs a few levels', async () => {
    const faro = await collect(
      JSON.stringify({ meta: {}, logs: [{ message: 'x', context: { a: { b: { c: 'd' } } } }] }),
    );
    expect(faro.status).toBe(202);
    const logs = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: JSON.stringify([
        {
          ts: '2026-11-28T10:00:00Z',
          level: 'info',
          service: 's',
          message: 'ok',
          attrs: JSON.parse(nested(10)),
        },
      ]),
    });
    expect(logs.status).toBe(202);
  });

  it('answers 408 with Connection: close to a body that stops arriving, and stores nothing of it', async () => {
    const before = await ctx.storage.db
      .selectFrom('server_logs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const logs = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: stalled('[{"ts":"2026-11-28T10:00:00Z","level":"info","service":"s","message":"half'),
      duplex: 'half',
    } as RequestInit);
    await expectProblem(logs, 408, 'request-timeout');
    expect(logs.headers.get('connection')).toBe('close');
    const events = await ctx.app.request('/v1/events', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: stalled('{"events":['),
      duplex: 'half',
    } as RequestInit);
    await expectProblem(events, 408, 'request-timeout');
    const faro = await collect(stalled('{"meta":'));
    await expectProblem(faro, 408, 'request-timeout');
    // The browser can read the refusal.
    expect(faro.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const after = await ctx.storage.db
      .selectFrom('server_logs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    // The slots are free again: the bound on requests in flight is back at zero.
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain('vigil_ingest_requests_in_flight 0');
    expect(text).toContain('vigil_faro_requests_in_flight 0');
  });
});
