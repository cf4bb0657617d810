import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../../http/problem.ts';
import { createTestContext, ON_SQLITE, type TestContext } from '../../test/harness.ts';

let ctx: TestContext;

const entry = (extra: Record<string, unknown> = {}) => ({
  ts: '2026-11-28T10:00:00Z',
  level: 'info',
  service: 'checkout',
  message: 'order placed',
  ...extra,
});

const send = (body: string, contentType: string, role: 'ingest' | 'sre' = 'ingest', c = ctx) =>
  c.app.request('/v1/logs', {
    method: 'POST',
    headers: { ...c.auth(role), 'content-type': contentType },
    body,
  });
const ndjson = (entries: unknown[]) => entries.map((e) => JSON.stringify(e)).join('\n');
const search = async (query: string) => {
  const res = await ctx.app.request(`/v1/logs?${query}`, { headers: ctx.auth('sre') });
  return {
    status: res.status,
    body: (await res.json()) as {
      items: { id: number; message: string; service: string; level: string }[];
      nextBefore: number | null;
      nextCursor: string | null;
      source: string;
    },
  };
};
const count = async (c = ctx) =>
  Number((await sql<{ n: number }>`select count(*) as n from server_logs`.execute(c.storage.db)).rows[0]?.n);

beforeEach(async () => {
  ctx = await createTestContext({ ingest: { maxBatchItems: 20, maxBodyBytes: 16 * 1024, pageRouteCap: 3 } });
});
afterEach(async () => {
  await ctx.close();
});

describe('POST /v1/logs', () => {
  it('stores NDJSON (blank lines skipped) and JSON arrays exactly', async () => {
    const res = await send(
      `${ndjson([entry({ route: '/orders/{id}', method: 'post', status: 201, durationMs: 42.5, traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', attrs: { cart: 3 } })])}\n\n${ndjson([entry({ level: 'error', message: 'payment declined' })])}\n`,
      'application/x-ndjson',
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    expect((await send(JSON.stringify([entry({ ts: 1_764_324_000_000 })]), 'application/json')).status).toBe(
      202,
    );
    const rows = await ctx.storage.db.selectFrom('server_logs').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      ts: '2026-11-28T10:00:00.000Z',
      level: 'info',
      severity: 3,
      service: 'checkout',
      message: 'order placed',
      route: '/orders/{id}',
      method: 'POST',
      status: 201,
      duration_ms: 42.5,
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
    expect(JSON.parse(rows[0]?.attrs ?? 'null')).toEqual({ cart: 3 });
    expect(rows[1]).toMatchObject({ level: 'error', severity: 5, message: 'payment declined' });
    expect(rows[2]?.ts).toBe(new Date(1_764_324_000_000).toISOString());
  });

  it('stores a message and attributes holding NUL characters without them, on either database', async () => {
    const res = await send(
      ndjson([entry({ message: 'order\u0000placed', attrs: { 'ca\u0000rt': 'thr\u0000ee' } })]),
      'application/x-ndjson',
    );
    expect(res.status).toBe(202);
    const [row] = await ctx.storage.db.selectFrom('server_logs').selectAll().execute();
    expect(row?.message).toBe('orderplaced');
    expect(JSON.parse(row?.attrs ?? 'null')).toEqual({ cart: 'three' });
  });

  it('rejects the whole batch for one bad entry, with its index first in the path', async () => {
    const res = await send(
      ndjson([entry(), entry(), entry({ level: 'loud' }), entry()]),
      'application/x-ndjson',
    );
    expect(res.status).toBe(422);
    expect(((await res.json()) as ProblemBody).errors?.map((e) => e.path)).toEqual(['/2/level']);
    expect(await count()).toBe(0);
    const metrics = await (await ctx.app.request('/metrics')).text();
    expect(metrics).toContain(
      'vigil_ingest_items_total{kind="log",outcome="rejected",reason="validation"} 4',
    );
    expect(metrics).toContain('vigil_ingest_rejected_requests_total{route="/v1/logs",reason="validation"} 1');
  });

  it('takes times as ISO 8601 with an offset or epoch milliseconds, within the years 0000 to 9999', async () => {
    const bad = [
      '2026-11-28T10:00:00',
      '2026-02-30T10:00:00Z',
      '9999-12-31T23:00:00-05:00',
      253_402_300_800_000,
      -1,
      1.5,
    ];
    for (const ts of bad) {
      const res = await send(JSON.stringify([entry({ ts })]), 'application/json');
      expect(res.status, String(ts)).toBe(422);
      const [error] = ((await res.json()) as ProblemBody).errors ?? [];
      expect(error?.path).toBe('/0/ts');
      expect(error?.message).toBe(
        `${
          ts === '9999-12-31T23:00:00-05:00'
            ? 'expected a time in the years 0000 to 9999'
            : 'expected an ISO 8601 date-time with an offset, such as 2026-11-28T12:00:00Z, or epoch milliseconds'
        }, got ${JSON.stringify(ts)}`,
      );
    }
    expect(
      (await send(JSON.stringify([entry({ ts: '2026-11-28T12:00:00+02:00' })]), 'application/json')).status,
    ).toBe(202);
    const row = await ctx.storage.db.selectFrom('server_logs').select('ts').executeTakeFirstOrThrow();
    expect(row.ts).toBe('2026-11-28T10:00:00.000Z');
  });

  it('answers 400 naming the bad NDJSON line', async () => {
    const res = await send(`${JSON.stringify(entry())}\n{"ts": oops}\n`, 'application/x-ndjson');
    expect(res.status).toBe(400);
    expect(((await res.json()) as ProblemBody).detail).toBe('line 2 is not valid JSON');
    expect(await count()).toBe(0);
  });

  it('answers 422 for JSON that is not an array, 415 for another type', async () => {
    expect((await send(JSON.stringify(entry()), 'application/json')).status).toBe(422);
    expect((await send(ndjson([entry()]), 'text/plain')).status).toBe(415);
  });

  it('answers 413 past the item limit and past the size limit, chunked bodies included', async () => {
    const many = Array.from({ length: 21 }, () => entry());
    expect((await send(ndjson(many), 'application/x-ndjson')).status).toBe(413);
    const line = `${JSON.stringify(entry({ message: 'x'.repeat(4000) }))}\n`;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 20) controller.close();
        else controller.enqueue(new TextEncoder().encode(line));
      },
    });
    const res = await ctx.app.request('/v1/logs', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await count()).toBe(0);
  });

  it.skipIf(!ON_SQLITE)(
    'stores emails and IPs from messages and attrs only as keyed-hash tokens',
    async () => {
      const raw = [
        'anna.k@example.com',
        '203.0.113.77',
        '2001:db8:1234:5678::9',
        'ben@example.org',
        '198.51.100.23',
        'carl@example.net',
      ];
      const res = await send(
        ndjson([
          entry({
            message: 'login failed for anna.k@example.com from 203.0.113.77 via 2001:db8:1234:5678::9',
            attrs: {
              user: { email: 'ben@example.org' },
              client_ip: '198.51.100.23',
              note: 'ok',
              vip: { 'carl@example.net': true },
            },
          }),
        ]),
        'application/x-ndjson',
      );
      expect(res.status).toBe(202);
      const row = await ctx.storage.db.selectFrom('server_logs').selectAll().executeTakeFirstOrThrow();
      expect(row.message).toMatch(
        /^login failed for email:[0-9a-f]{32} from ip:203\.0\.113\.0\/24#[0-9a-f]{32} via ip:2001:db8:1234::\/48#[0-9a-f]{32}$/,
      );
      const attrs = JSON.parse(row.attrs ?? '{}') as {
        user: { email: string };
        client_ip: string;
        note: string;
        vip: Record<string, boolean>;
      };
      expect(Object.keys(attrs.vip)).toEqual([expect.stringMatching(/^email:[0-9a-f]{32}$/)]);
      expect(attrs.user.email).toMatch(/^email:[0-9a-f]{32}$/);
      expect(attrs.client_ip).toMatch(/^ip:198\.51\.100\.0\/24#/);
      expect(attrs.note).toBe('ok');
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.storage.db);
      const bytes = fs.readFileSync(path.join(ctx.dataDir, 'vigil.sqlite')).toString('latin1');
      for (const value of raw) expect(bytes).not.toContain(value);
    },
  );

  it('feeds RED metrics with templated, bounded route labels', async () => {
    const requests = [
      entry({ route: '/orders/123', method: 'GET', status: 200, durationMs: 12 }),
      entry({ route: '/orders/456?email=a@b.c', method: 'GET', status: 503, durationMs: 900 }),
      // A sender's own placeholder is written as ours: `{id}` and `:id` are one route.
      entry({ route: '/orders/{id}', method: 'post', status: 201 }),
      entry({ route: '/users/dana@example.com/:tab', method: 'GET', status: 404 }),
      entry({ route: '/cart', method: 'GET', status: 200 }),
      entry({ message: 'no request fields' }),
      // The route cap is 3 in this context: a fourth distinct route of the service counts as `other`.
      entry({ route: '/health', method: 'HEAD', status: 200 }),
      entry({ route: '/health', service: 'search', status: 200 }),
    ];
    await send(ndjson(requests), 'application/x-ndjson');
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain(
      'vigil_service_requests_total{service="checkout",route="/orders/:id",method="GET",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'vigil_service_requests_total{service="checkout",route="/orders/:id",method="GET",status_class="5xx"} 1',
    );
    expect(text).toContain(
      'vigil_service_requests_total{service="checkout",route="/orders/:id",method="POST",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'vigil_service_request_duration_seconds_count{service="checkout",route="/orders/:id"} 2',
    );
    expect(text).toContain(
      'vigil_service_requests_total{service="checkout",route="/users/:id/:tab",method="GET",status_class="4xx"} 1',
    );
    expect(text).toContain(
      'vigil_service_requests_total{service="checkout",route="other",method="HEAD",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'vigil_service_requests_total{service="search",route="/health",method="OTHER",status_class="2xx"} 1',
    );
    // Only label values can leak a path's ids; sample values are timings and may hold any digits.
    const labels = text.match(/\{[^}]*\}/g) ?? [];
    expect(labels.length).toBeGreaterThan(0);
    for (const set of labels) expect(set).not.toMatch(/123|456|a@b\.c|dana@/);
  });

  it('answers 503 with Retry-After when the write queue is full, storing nothing of that batch', async () => {
    const small = await createTestContext({ ingest: { queueMaxRows: 1 } });
    try {
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          send(ndjson([entry(), entry()]), 'application/x-ndjson', 'ingest', small),
        ),
      );
      const accepted = answers.filter((r) => r.status === 202);
      const refused = answers.filter((r) => r.status === 503);
      expect(accepted.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      expect(accepted.length + refused.length).toBe(4);
      for (const r of refused) expect(r.headers.get('retry-after')).toBe('1');
      expect(await count(small)).toBe(2 * accepted.length);
      const text = await (await small.app.request('/metrics')).text();
      expect(text).toContain(
        `vigil_ingest_items_total{kind="log",outcome="rejected",reason="queue_full"} ${2 * refused.length}`,
      );
    } finally {
      await small.close();
    }
  });

  it('counts RED metrics only for committed batches', async () => {
    await send(
      ndjson([entry({ route: '/cart', status: 200 }), entry({ level: 'loud' })]),
      'application/x-ndjson',
    );
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).not.toContain('vigil_service_requests_total{');
  });
});

describe('GET /v1/logs', () => {
  beforeEach(async () => {
    const entries = [
      entry({
        ts: '2026-11-28T09:00:00Z',
        service: 'checkout',
        level: 'info',
        message: 'cart opened by creator anna',
      }),
      entry({
        ts: '2026-11-28T10:00:00Z',
        service: 'checkout',
        level: 'warn',
        message: 'slow payment provider',
      }),
      entry({
        ts: '2026-11-28T11:00:00Z',
        service: 'search',
        level: 'error',
        message: 'payment index unavailable',
      }),
      entry({
        ts: '2026-11-28T12:00:00Z',
        service: 'checkout',
        level: 'fatal',
        message: 'payment provider down',
      }),
    ];
    expect((await send(ndjson(entries), 'application/x-ndjson')).status).toBe(202);
  });

  it('filters by service, minimum level, time and words, newest first', async () => {
    expect((await search('service=checkout')).body.items.map((i) => i.message)).toEqual([
      'payment provider down',
      'slow payment provider',
      'cart opened by creator anna',
    ]);
    expect((await search('level=error')).body.items.map((i) => i.level)).toEqual(['fatal', 'error']);
    expect((await search('since=2026-11-28T10:00:00Z&until=2026-11-28T12:00:00Z')).body.items).toHaveLength(
      2,
    );
    expect((await search('q=payment%20provider')).body.items.map((i) => i.message)).toEqual([
      'payment provider down',
      'slow payment provider',
    ]);
    expect((await search('q=PAYMENT&service=search')).body.items).toHaveLength(1);
  });

  it('pages backwards with before', async () => {
    const first = await search('limit=3');
    expect(first.body.items).toHaveLength(3);
    expect(first.body.nextBefore).not.toBeNull();
    const second = await search(`limit=3&before=${first.body.nextBefore}`);
    expect(second.body.items.map((i) => i.message)).toEqual(['cart opened by creator anna']);
    expect(second.body.nextBefore).toBeNull();
  });

  it('pages with the cursor each page gives, like every list', async () => {
    const first = await search('limit=3');
    expect(first.body.source).toBe('database');
    expect(first.body.nextCursor).toBe(String(first.body.nextBefore));
    const second = await search(`limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((i) => i.message)).toEqual(['cart opened by creator anna']);
    expect(second.body.nextCursor).toBeNull();
    for (const bad of ['abc', '0', '-3', '99999999999999999999']) {
      const refused = await ctx.app.request(`/v1/logs?cursor=${bad}`, { headers: ctx.auth('sre') });
      expect(refused.status).toBe(422);
    }
  });

  it.each([
    ['NEAR(payment', 0],
    ['payment OR cart', 0],
    ['"unbalanced payment', 0],
    ['payment"', 3],
    ['provider*', 2],
    ['provider* down', 1],
    ['message:payment', 0],
    ['^slow', 1],
    ['AND', 0],
    ['NOT payment', 0],
    ['-payment', 3],
    ['payment) OR (cart', 0],
    ["'; drop table server_logs; --", 0],
  ])('searches FTS5 syntax in q as text, never interprets it (%s)', async (q, found) => {
    const res = await search(`q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(found);
  });

  it.each(['"', '*', '()', '-', '""', ' ', '( "" )', '\0'])(
    'answers 422 for a q with no word in it (%j)',
    async (q) => {
      const res = await search(`q=${encodeURIComponent(q)}`);
      expect(res.status).toBe(422);
    },
  );

  it('answers 422 for a q of more than 16 words rather than searching some of them, and searches 16', async () => {
    const words = Array.from({ length: 17 }, (_, i) => `word${i}`);
    const tooMany = await search(`q=${encodeURIComponent(words.join(' '))}`);
    expect(tooMany.status).toBe(422);
    expect(JSON.stringify(tooMany.body)).toContain('at most 16 words');
    // All 16 must occur: the stored messages hold none of these words, so nothing is found.
    const sixteen = await search(`q=${encodeURIComponent(words.slice(0, 16).join(' '))}`);
    expect(sixteen.status).toBe(200);
    expect(sixteen.body.items).toHaveLength(0);
  });

  it('answers arbitrary q with 200 or 422, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 40, unit: 'grapheme' }),
          fc.string({
            maxLength: 40,
            unit: fc.constantFrom('"', '*', '(', ')', ':', '^', '-', '+', ' ', 'a', 'OR', 'NEAR', '\0'),
          }),
        ),
        async (q) => {
          const res = await ctx.app.request(`/v1/logs?q=${encodeURIComponent(q)}`, {
            headers: ctx.auth('sre'),
          });
          expect([200, 422]).toContain(res.status);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers 422 for bad filters', async () => {
    for (const query of [
      'level=loud',
      'limit=0',
      'limit=1001',
      'since=yesterday',
      'until=1764324000000',
      'before=x',
    ]) {
      expect((await search(query)).status, query).toBe(422);
    }
  });

  it('finds a subject by the hashed token of an identifier', async () => {
    await send(ndjson([entry({ message: 'reset requested by anna.k@example.com' })]), 'application/x-ndjson');
    const row = await ctx.storage.db
      .selectFrom('server_logs')
      .select('message')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    const token = row.message.split(' ').at(-1) ?? '';
    const hash = token.split(':')[1] ?? '';
    expect((await search(`q=${hash}`)).body.items).toHaveLength(1);
  });

  it.skipIf(!ON_SQLITE)(
    'leaves no bytes of a deleted log in the table, the FTS5 index or the WAL',
    async () => {
      await send(ndjson([entry({ message: 'quokkaflavoured checkout banner' })]), 'application/x-ndjson');
      expect((await search('q=quokkaflavoured')).body.items).toHaveLength(1);
      await ctx.storage.db.deleteFrom('server_logs').where('message', 'like', 'quokka%').execute();
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.storage.db);
      expect((await search('q=quokkaflavoured')).body.items).toHaveLength(0);
      const bytes = fs.readFileSync(path.join(ctx.dataDir, 'vigil.sqlite')).toString('latin1');
      expect(bytes).not.toContain('quokkaflavoured');
      expect(bytes).toContain('provider');
    },
  );
});

describe('arbitrary input to POST /v1/logs', () => {
  let shared: TestContext;
  beforeAll(async () => {
    shared = await createTestContext({ ingest: { maxBatchItems: 10 } });
  });
  afterAll(async () => {
    await shared.close();
  });

  it('never yields a 5xx, and stores a batch whole or not at all', async () => {
    const nearlyValid = fc.record(
      {
        ts: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.integer(),
          fc.string(),
        ),
        level: fc.constantFrom('info', 'warn', 'loud', ''),
        service: fc.oneof(fc.constant('api'), fc.string({ maxLength: 10 })),
        message: fc.oneof(
          fc.string({ maxLength: 50, unit: 'grapheme' }),
          fc.emailAddress().map((e) => `denied ${e} from 203.0.113.9`),
        ),
        route: fc.oneof(fc.webPath(), fc.string({ maxLength: 20 })),
        method: fc.constantFrom('get', 'POST', 'BREW'),
        status: fc.oneof(fc.integer(), fc.constant(200)),
        durationMs: fc.oneof(fc.double(), fc.nat()),
        traceId: fc.oneof(
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 32 }),
          fc.string(),
        ),
        attrs: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()),
      },
      { requiredKeys: ['message'] },
    );
    const valid = fc.record(
      {
        ts: fc.oneof(
          fc
            .date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.nat({ max: 4_102_444_800_000 }),
        ),
        level: fc.constantFrom('trace', 'debug', 'info', 'warn', 'error', 'fatal'),
        service: fc.constantFrom('api', 'checkout'),
        message: fc.oneof(
          fc.string({ maxLength: 50, unit: 'grapheme' }),
          fc.emailAddress().map((e) => `denied ${e} from 203.0.113.9`),
        ),
        route: fc.webPath().map((p) => p || '/'),
        method: fc.constantFrom('get', 'POST'),
        status: fc.integer({ min: 100, max: 599 }),
        durationMs: fc.nat({ max: 60_000 }),
        attrs: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })),
      },
      { requiredKeys: ['ts', 'level', 'service', 'message'] },
    );
    // Mostly valid batches, some with one nearly valid entry somewhere in them.
    const batches = fc
      .tuple(fc.array(valid, { maxLength: 12 }), fc.option(fc.tuple(fc.nat(), nearlyValid), { freq: 2 }))
      .map(([items, bad]) =>
        bad === null
          ? items
          : [
              ...items.slice(0, bad[0] % (items.length + 1)),
              bad[1],
              ...items.slice(bad[0] % (items.length + 1)),
            ],
      );
    const anyType = fc.constantFrom(
      'application/x-ndjson',
      'application/x-ndjson; charset=utf-8',
      'application/json',
      'text/csv',
      '',
    );
    // [body, content type]: batches under their own type half the time, anything under any type otherwise.
    const requests = fc.oneof(
      { arbitrary: fc.tuple(batches.map(ndjson), fc.constant('application/x-ndjson')), weight: 2 },
      {
        arbitrary: fc.tuple(
          batches.map((a) => JSON.stringify(a)),
          fc.constant('application/json'),
        ),
        weight: 2,
      },
      {
        arbitrary: fc.tuple(
          fc.oneof(
            fc.string(),
            batches.map(ndjson),
            batches.map((a) => JSON.stringify(a)),
            fc.array(nearlyValid, { maxLength: 12 }).map(ndjson),
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          anyType,
        ),
        weight: 4,
      },
    );
    let committed = 0;
    await fc.assert(
      fc.asyncProperty(requests, async ([body, type]) => {
        const before = await count(shared);
        const res = await send(body, type, 'ingest', shared);
        expect(res.status).toBeLessThan(500);
        const after = await count(shared);
        if (res.status === 202) {
          expect(after - before).toBe(((await res.json()) as { accepted: number }).accepted);
          committed += 1;
        } else expect(after).toBe(before);
      }),
      { numRuns: 300 },
    );
    // The property means little unless whole batches do get through.
    expect(committed).toBeGreaterThan(30);
  });
});
