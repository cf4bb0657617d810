import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../../http/problem.ts';
import { createTestContext, ON_SQLITE, type TestContext } from '../../test/harness.ts';
import { createFaroApp, revokeFaroApp } from './apps.ts';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const sample = JSON.parse(fs.readFileSync(path.join(DATA, 'faro-payload-sample.json'), 'utf8')) as Record<
  string,
  unknown
>;
const traces = JSON.parse(
  fs.readFileSync(path.join(DATA, 'faro-payload-sample-traces.json'), 'utf8'),
) as Record<string, unknown>;
const ORIGIN = 'https://shop.example.test';
const actor = { name: 'test', role: 'operator' };

let ctx: TestContext;
let key: string;

async function grantAnalytics(c: TestContext, subjectId: string) {
  const res = await c.app.request('/v1/consents', {
    method: 'POST',
    headers: { ...c.auth('ingest'), 'content-type': 'application/json' },
    body: JSON.stringify({
      subjectId,
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
    }),
  });
  expect(res.status).toBe(201);
}

async function setup(ingest: Parameters<typeof createTestContext>[0] = {}) {
  ctx = await createTestContext(ingest);
  key = (await createFaroApp(ctx.storage.db, { name: 'shop', origins: [ORIGIN] }, actor, new Date())).key;
  await grantAnalytics(ctx, 'u-123');
  await grantAnalytics(ctx, 'u-9');
}

function collect(body: string | Uint8Array, headers: Record<string, string> = {}, url = `/collect/${key}`) {
  return ctx.app.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
    body,
  });
}

const rows = () => ctx.storage.db.selectFrom('browser_telemetry').selectAll().orderBy('id').execute();
const count = async (c = ctx) =>
  Number(
    (await sql<{ n: number }>`select count(*) as n from browser_telemetry`.execute(c.storage.db)).rows[0]?.n,
  );

describe('POST /collect with the SDK sample payloads', () => {
  beforeEach(() => setup());
  afterEach(() => ctx.close());

  it('stores texts holding NUL characters without them, on either database (PostgreSQL stores no NUL)', async () => {
    const payload = structuredClone(sample) as {
      meta: { browser: { userAgent: string }; page: { url: string } };
      logs: { message: string; context: Record<string, string> }[];
    };
    payload.meta.browser.userAgent += '\u0000';
    payload.meta.page.url += '\u0000';
    payload.logs[0] = { ...(payload.logs[0] as (typeof payload.logs)[0]), message: 'checkout\u0000started' };
    (payload.logs[0] as (typeof payload.logs)[0]).context = { 'st\u0000ep': 'ca\u0000rt' };
    const res = await collect(JSON.stringify(payload));
    expect(res.status).toBe(202);
    const stored = await rows();
    expect(stored).toHaveLength(5);
    expect(stored[0]?.message).toBe('checkoutstarted');
    expect(JSON.parse(stored[0]?.detail ?? 'null')).toMatchObject({ context: { step: 'cart' } });
    // A NUL stored raw or JSON-escaped reads `\u0000` here.
    expect(JSON.stringify(stored)).not.toContain('\\u0000');
  });

  it('stores logs, exceptions with frames, measurements and events with their meta', async () => {
    const res = await collect(JSON.stringify(sample));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 5, duplicate: false, dropped: 0 });
    const stored = await rows();
    expect(stored.map((r) => r.kind)).toEqual(['log', 'exception', 'measurement', 'measurement', 'event']);
    const [log, exception, vitals, , event] = stored;
    expect(log).toMatchObject({
      level: 'warn',
      message: 'checkout started [object Object]',
      ts: '2026-11-28T12:14:51.134Z',
      session_id: 'WwTcLkze7v',
      user_id: 'u-123',
      page_route: '/products/:id',
    });
    expect(exception).toMatchObject({
      name: 'Error',
      message: "Cannot read properties of undefined (reading 'price')",
    });
    expect(JSON.parse(exception?.detail ?? '{}').frames[0]).toMatchObject({
      filename: 'https://shop.example.test/assets/app.js',
      lineno: 53,
    });
    expect(JSON.parse(vitals?.detail ?? '{}').values).toEqual({ lcp: 2345.6, delta: 2345.6 });
    expect(event).toMatchObject({ name: 'affiliate_link_click' });
    expect(JSON.parse(log?.meta ?? '{}')).toMatchObject({
      sdk: { name: 'faro-web', version: '2.12.1' },
      app: { name: 'affiliate-web' },
    });
  });

  it('stores OTLP spans with their trace ids and attributes', async () => {
    expect((await collect(JSON.stringify(traces))).status).toBe(202);
    const spans = (await rows()).filter((r) => r.kind === 'span');
    expect(spans.length).toBeGreaterThanOrEqual(2);
    const checkout = spans.find((s) => s.name === 'checkout');
    expect(checkout).toMatchObject({
      trace_id: 'da88b665d6cb0dc529c94e4bfaf99e0b',
      span_id: '06e21cb5eec558d5',
    });
    expect(JSON.parse(checkout?.detail ?? '{}')).toMatchObject({
      attributes: { 'cart.items': 3 },
      service: 'affiliate-web',
    });
  });

  it.skipIf(!ON_SQLITE)(
    'drops the query string but allow-listed keys, and never stores email, name or user attributes',
    async () => {
      const payload = structuredClone(sample) as { meta: Record<string, Record<string, unknown>> };
      payload.meta.page = {
        url: 'https://shop.example.test/p/42?utm_source=ig&email=anna@example.com&token=s3cr3t#frag',
      };
      payload.meta.user = {
        id: 'u-9',
        email: 'anna@example.com',
        fullName: 'Anna Kowalska',
        username: 'annak',
        attributes: { phone: '+4915112345678' },
      };
      expect((await collect(JSON.stringify(payload))).status).toBe(202);
      const [first] = await rows();
      expect(first?.page_url).toBe('https://shop.example.test/p/42?utm_source=ig');
      expect(first?.user_id).toBe('u-9');
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.storage.db);
      const bytes = fs.readFileSync(path.join(ctx.dataDir, 'vigil.sqlite')).toString('latin1');
      for (const value of ['anna@example.com', 'Anna Kowalska', 'annak', '+4915112345678', 's3cr3t']) {
        expect(bytes).not.toContain(value);
      }
    },
  );

  it('exports web vitals by app and templated page, and browser exceptions', async () => {
    await collect(JSON.stringify(sample));
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain('vigil_web_vitals_lcp_seconds_count{app="shop",page="/products/:id"} 1');
    expect(text).toContain('vigil_web_vitals_lcp_seconds_bucket{le="2.5",app="shop",page="/products/:id"} 1');
    expect(text).toContain('vigil_browser_exceptions_total{app="shop"} 1');
    expect(text).toContain('vigil_ingest_items_total{kind="faro_log",outcome="accepted",reason="ok"} 1');
  });

  it('accepts gzip and the key as x-api-key', async () => {
    const res = await collect(
      gzipSync(JSON.stringify(sample)),
      { 'content-encoding': 'gzip', 'x-api-key': key },
      '/collect',
    );
    expect(res.status).toBe(202);
    expect(await count()).toBe(5);
  });

  it('counts a repeated Idempotency-Key once', async () => {
    const headers = { 'idempotency-key': 'batch-1' };
    expect(await (await collect(JSON.stringify(sample), headers)).json()).toEqual({
      accepted: 5,
      duplicate: false,
      dropped: 0,
    });
    expect(await (await collect(JSON.stringify(sample), headers)).json()).toEqual({
      accepted: 0,
      duplicate: true,
      dropped: 0,
    });
    expect(await count()).toBe(5);
  });
});

describe('the consent gate on /collect', () => {
  beforeEach(() => setup());
  afterEach(() => ctx.close());

  const forSubject = (id: string | undefined) => {
    const payload = structuredClone(sample) as { meta: Record<string, unknown> };
    if (id === undefined) delete payload.meta.user;
    else payload.meta.user = { id };
    return JSON.stringify(payload);
  };

  it('drops telemetry of a subject without consent, and counts it', async () => {
    const res = await collect(forSubject('u-unknown'));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 0, duplicate: false, dropped: 5 });
    expect(await count()).toBe(0);
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain(
      'vigil_ingest_items_total{kind="faro_log",outcome="dropped",reason="no_record"} 1',
    );
    expect(text).toContain(
      'vigil_consent_gate_decisions_total{kind="browser_telemetry",action="drop",reason="no_record"} 1',
    );
  });

  it('drops telemetry that names no user and carries no consent reference (telemetry-policy.test.ts has the rest)', async () => {
    expect(await (await collect(forSubject(undefined))).json()).toMatchObject({ accepted: 0, dropped: 5 });
  });

  it('stores after a grant, drops after the withdrawal', async () => {
    await grantAnalytics(ctx, 'u-42');
    expect(await (await collect(forSubject('u-42'))).json()).toMatchObject({ accepted: 5 });
    const withdrawn = await ctx.app.request('/v1/subjects/u-42/consents/withdraw', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/json' },
      body: JSON.stringify({ purposes: ['analytics'] }),
    });
    expect(withdrawn.status).toBe(201);
    expect(await (await collect(forSubject('u-42'))).json()).toMatchObject({ accepted: 0, dropped: 5 });
    expect(await count()).toBe(5);
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain(
      'vigil_ingest_items_total{kind="faro_log",outcome="dropped",reason="withdrawn"} 1',
    );
  });
});

describe('what /collect refuses', () => {
  beforeEach(() => setup({ ingest: { faroMaxBodyBytes: 8 * 1024 } }));
  afterEach(() => ctx.close());

  const expectProblem = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    return (await res.json()) as ProblemBody;
  };
  const expectRejected = async (reason: string, n: number) => {
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain(
      `vigil_ingest_items_total{kind="faro_payload",outcome="rejected",reason="${reason}"} ${n}`,
    );
  };

  it('401 for a missing, unknown or revoked app key', async () => {
    await expectProblem(await collect('{}', {}, '/collect'), 401);
    await expectProblem(await collect('{}', {}, `/collect/${key.slice(0, -3)}abc`), 401);
    await revokeFaroApp(ctx.storage.db, 'shop', actor, new Date());
    await expectProblem(await collect(JSON.stringify(sample)), 401);
    await expectRejected('unauthorized', 3);
  });

  it('403 for an origin the app does not allow, without CORS headers', async () => {
    const res = await collect(JSON.stringify(sample), { origin: 'https://evil.example' });
    await expectProblem(res, 403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for an allowed origin only', async () => {
    const ok = await ctx.app.request(`/collect/${key}`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-faro-session-id',
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-faro-session-id');
    expect(ok.headers.get('access-control-allow-headers')).toContain('idempotency-key');
    const anyApp = await ctx.app.request('/collect', { method: 'OPTIONS', headers: { origin: ORIGIN } });
    expect(anyApp.status).toBe(204);
    const refused = await ctx.app.request(`/collect/${key}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-headers')).toBeNull();
    expect(refused.headers.get('vary')).toBe('Origin');
    expect(ok.headers.get('vary')).toBe('Origin');
  });

  it('exposes Retry-After to the page, and answers 429 past the rate limit', async () => {
    await ctx.close();
    await setup({ ingest: { faroBurst: 3, faroRatePerSecond: 0.5 } });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i += 1) {
      const res = await collect(JSON.stringify({ meta: {}, logs: [{ message: `m${i}` }] }));
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 3)).toEqual([202, 202, 202]);
    expect(statuses).toContain(429);
    expect(limited?.headers.get('retry-after')).toBe('2');
    expect(limited?.headers.get('access-control-expose-headers')).toBe('Retry-After');
    expect(limited?.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    await expectRejected('rate_limited', statuses.filter((s) => s === 429).length);
  });

  it('answers 503 that the page can read while the app has as many requests in flight as it may, and leaves the backends theirs', async () => {
    await ctx.close();
    // The backends' pool is as small as it gets: a Faro request must not take its one slot.
    await setup({ ingest: { faroMaxInFlight: 1, maxInFlight: 1 } });
    const payload = (message: string) =>
      JSON.stringify({ meta: { user: { id: 'u-123' } }, logs: [{ message }] });
    // One request whose body has not arrived yet holds the app's only slot.
    let finish = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        finish = () => {
          controller.enqueue(new TextEncoder().encode(payload('held')));
          controller.close();
        };
      },
    });
    const held = ctx.app.request(`/collect/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body,
      duplex: 'half',
    } as RequestInit);
    await expect
      .poll(
        async () =>
          (await (await ctx.app.request('/metrics')).text()).includes('vigil_faro_requests_in_flight 1'),
        { timeout: 5000 },
      )
      .toBe(true);
    const refused = await collect(payload('refused'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(refused.headers.get('access-control-expose-headers')).toBe('Retry-After');
    // Another app of the same shop has slots of its own.
    const other = (
      await createFaroApp(ctx.storage.db, { name: 'blog', origins: [ORIGIN] }, actor, new Date())
    ).key;
    expect((await collect(payload('other app'), {}, `/collect/${other}`)).status).toBe(202);
    // The backends' pool is untouched: a log batch of an ingest key goes through.
    const log = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/json' },
      body: JSON.stringify([{ ts: '2026-11-28T12:00:00Z', level: 'info', service: 'shop', message: 'hi' }]),
    });
    expect(log.status).toBe(202);
    finish();
    expect((await held).status).toBe(202);
    expect((await collect(payload('after'))).status).toBe(202);
    expect((await rows()).map((r) => r.message)).toEqual(['other app', 'held', 'after']);
  });

  it('413 for a large body, a large chunked body and a gzip bomb; nothing stored', async () => {
    const big = JSON.stringify({ logs: [{ message: 'x'.repeat(9000) }] });
    await expectProblem(await collect(big), 413);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 10) controller.close();
        else controller.enqueue(new Uint8Array(2048).fill(32));
      },
    });
    await expectProblem(
      await ctx.app.request(`/collect/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: stream,
        duplex: 'half',
      } as RequestInit),
      413,
    );
    const bomb = gzipSync(JSON.stringify({ logs: [{ message: 'y'.repeat(1_000_000) }] }));
    expect(bomb.length).toBeLessThan(8 * 1024);
    await expectProblem(await collect(bomb, { 'content-encoding': 'gzip' }), 413);
    expect(await count()).toBe(0);
    await expectRejected('too_large', 3);
  });

  it('400 for bad JSON or bad gzip, 415 for another type or encoding, 422 for a wrong shape', async () => {
    await expectProblem(await collect('{"logs": ['), 400);
    await expectProblem(await collect('not gzip', { 'content-encoding': 'gzip' }), 400);
    await expectProblem(await collect('{}', { 'content-type': 'application/xml' }), 415);
    await expectProblem(await collect('{}', { 'content-encoding': 'br' }), 415);
    const body = await expectProblem(await collect(JSON.stringify({ logs: [{ level: 'info' }] })), 422);
    expect(body.errors?.[0]?.path).toBe('/logs/0/message');
    expect(await count()).toBe(0);
    await expectRejected('malformed', 2);
    await expectRejected('unsupported_media_type', 2);
    await expectRejected('validation', 1);
  });
});

describe('arbitrary bodies to /collect', () => {
  let shared: TestContext;
  let sharedKey: string;
  beforeAll(async () => {
    shared = await createTestContext({ ingest: { faroBurst: 100_000, faroRatePerSecond: 100_000 } });
    sharedKey = (await createFaroApp(shared.storage.db, { name: 'p', origins: [ORIGIN] }, actor, new Date()))
      .key;
  });
  afterAll(() => shared.close());

  it('never yield a 5xx, and a payload is stored whole or not at all', async () => {
    const item = fc.record(
      {
        message: fc.oneof(fc.string(), fc.integer()),
        level: fc.string({ maxLength: 5 }),
        timestamp: fc.string({ maxLength: 30 }),
      },
      { requiredKeys: [] },
    );
    const bodies = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            meta: fc.jsonValue(),
            logs: fc.array(item, { maxLength: 5 }),
            events: fc.array(fc.record({ name: fc.string() }), { maxLength: 3 }),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const before = await count(shared);
        const res = await shared.app.request(`/collect/${sharedKey}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN },
          body,
        });
        expect(res.status).toBeLessThan(500);
        const after = await count(shared);
        if (res.status === 202)
          expect(after - before).toBe(((await res.json()) as { accepted: number }).accepted);
        else expect(after).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
