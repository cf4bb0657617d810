import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../storage/index.ts';
import { createTestContext, jsonHeaders, ON_SQLITE, type TestContext } from '../test/harness.ts';
import { processErasureQueue } from './privacy-requests.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests read responses loosely
type Json = Record<string, any>;
let ctx: TestContext;
let now: Date;
beforeEach(async () => {
  now = new Date('2026-01-31T09:00:00Z');
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

async function post(route: string, body?: unknown) {
  const res = await ctx.app.request(route, {
    method: 'POST',
    headers: body === undefined ? ctx.auth('dpo') : jsonHeaders(ctx, 'dpo'),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as Json,
  };
}

async function get(route: string) {
  const res = await ctx.app.request(route, { headers: ctx.auth('dpo') });
  return { status: res.status, body: (await res.json()) as Json };
}

async function file(type: 'access' | 'erasure' = 'erasure', subjectId = 'subj-1') {
  const created = await post('/v1/privacy-requests', {
    type,
    subjectId,
    identifiers: { email: 'Ann@Example.org' },
  });
  expect(created.status).toBe(201);
  return created.body;
}

/** What the erasure queue runs with in the server, on this test's context and clock. */
const erasureContext = () => ({
  storage: ctx.storage,
  secret: ctx.deps.secret,
  logger: ctx.deps.logger,
  forgetSubject: () => {},
  journal: ctx.deps.writer,
  now: () => now,
});

describe('a privacy request', () => {
  it.skipIf(!ON_SQLITE)(
    'erases an event acknowledged a moment before, while it still waits in the event journal',
    async () => {
      const { id } = await file();
      await post(`/v1/privacy-requests/${id}/approve`);
      const conversion = {
        id: 'just-acknowledged',
        type: 'conversion',
        ts: '2026-01-31T08:59:00Z',
        affiliateId: 'aff-1',
        orderId: 'order-1',
        subjectId: 'subj-1',
        amount: 20,
        currency: 'EUR',
        ip: '198.51.100.23',
        userAgent: 'Mozilla/5.0',
      };
      const sent = await ctx.app.request('/v1/events', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'ingest'),
        body: JSON.stringify({ events: [conversion] }),
      });
      expect(sent.status).toBe(202);
      // Acknowledged, not yet applied: the apply thread waits for more before its transaction.
      expect(ctx.deps.writer.backlogEvents).toBe(1);
      expect(await processErasureQueue(erasureContext())).toEqual({ processed: 1, completed: 1, failed: 0 });
      const left = await ctx.storage.db
        .selectFrom('affiliate_events')
        .select('id')
        .where('id', '=', 'just-acknowledged')
        .execute();
      expect(left).toEqual([]);
      const { body } = await get(`/v1/privacy-requests/${id}`);
      const events = body.steps.find((s: { store: string }) => s.store === 'affiliate_events');
      expect(events.rows).toBe(1);
    },
  );

  it('is filed pending, due one calendar month after receipt, with identifiers kept only as hashes', async () => {
    const request = await file();
    expect(request).toMatchObject({
      status: 'pending',
      type: 'erasure',
      subjectId: 'subj-1',
      identifiers: { email: true, ip: false },
      receivedAt: '2026-01-31T09:00:00.000Z',
      dueAt: '2026-02-28T09:00:00.000Z',
      overdue: false,
    });
    const row = await ctx.storage.db.selectFrom('privacy_requests').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row).toLowerCase()).not.toContain('ann@example.org');
    expect(row.email_hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('goes pending → approved → in_processing → complete, each step audited', async () => {
    const { id } = await file();
    expect((await post(`/v1/privacy-requests/${id}/approve`)).body.status).toBe('approved');
    const summary = await processErasureQueue(erasureContext());
    expect(summary).toEqual({ processed: 1, completed: 1, failed: 0 });
    const { body } = await get(`/v1/privacy-requests/${id}`);
    expect(body.request).toMatchObject({ status: 'complete', subjectId: null, attempts: 1 });
    expect(body.steps.map((s: { store: string }) => s.store)).toContain('affiliate_events');
    const actions = (
      await ctx.storage.db.selectFrom('audit_log').select('action').orderBy('id').execute()
    ).map((r) => r.action);
    expect(actions.filter((a) => a.startsWith('privacy.'))).toEqual([
      'privacy.request.create',
      'privacy.request.approve',
      'privacy.erasure.start',
      'privacy.erasure.complete',
    ]);
    expect(await verifyAuditChain(ctx.storage.db)).toMatchObject({ ok: true });
  });

  it('is denied only with a reason, and a denied request cannot be approved', async () => {
    const { id } = await file();
    const bare = await post(`/v1/privacy-requests/${id}/deny`, {});
    expect(bare.status).toBe(422);
    expect(bare.type).toContain('application/problem+json');
    expect(bare.body.errors[0].path).toBe('/reason');
    expect((await post(`/v1/privacy-requests/${id}/deny`, { reason: '   ' })).status).toBe(422);
    const denied = await post(`/v1/privacy-requests/${id}/deny`, { reason: 'identity not verified' });
    expect(denied.body).toMatchObject({ status: 'denied', statusReason: 'identity not verified' });
    const again = await post(`/v1/privacy-requests/${id}/approve`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('denied');
  });

  it('is extended by up to two further months in all, with a reason', async () => {
    const { id } = await file();
    expect((await post(`/v1/privacy-requests/${id}/extend`, { months: 1 })).status).toBe(422);
    expect((await post(`/v1/privacy-requests/${id}/extend`, { months: 3, reason: 'complex' })).status).toBe(
      422,
    );
    const once = await post(`/v1/privacy-requests/${id}/extend`, { months: 1, reason: 'many stores' });
    expect(once.body).toMatchObject({ extendedMonths: 1, dueAt: '2026-03-31T09:00:00.000Z' });
    const past = await post(`/v1/privacy-requests/${id}/extend`, { months: 2, reason: 'more' });
    expect(past.status).toBe(422);
    expect(past.body.errors[0].message).toContain('at most 1 more');
    const twice = await post(`/v1/privacy-requests/${id}/extend`, { months: 1, reason: 'more' });
    expect(twice.body).toMatchObject({ extendedMonths: 2, dueAt: '2026-04-30T09:00:00.000Z' });
  });

  it('is canceled only while nothing is running, and retried only after an error', async () => {
    const { id } = await file();
    expect((await post(`/v1/privacy-requests/${id}/retry`)).status).toBe(409);
    expect((await post(`/v1/privacy-requests/${id}/cancel`)).body.status).toBe('canceled');
    expect((await post(`/v1/privacy-requests/${id}/cancel`)).status).toBe(409);
    expect((await post('/v1/privacy-requests/pr_missing/approve')).status).toBe(404);
  });

  it.skipIf(!ON_SQLITE)(
    'lands in error when erasure fails, keeps its subject for the retry, and completes on retry',
    async () => {
      const { id } = await file();
      await post(`/v1/privacy-requests/${id}/approve`);
      // A store that cannot be written: the trigger makes every delete of affiliate events fail.
      await ctx.storage.db.executeQuery({
        sql: `create trigger no_delete before delete on affiliate_events begin select raise(abort, 'disk says no'); end`,
        parameters: [],
        query: { kind: 'RawNode' } as never,
        queryId: { queryId: 'x' } as never,
      });
      await ctx.app.request('/v1/events', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'ingest'),
        body: JSON.stringify({
          events: [
            {
              id: 'e1',
              type: 'click',
              ts: '2026-01-30T00:00:00Z',
              affiliateId: 'a',
              clickId: 'c',
              ip: '203.0.113.1',
              userAgent: 'UA',
              subjectId: 'subj-1',
            },
          ],
        }),
      });
      const erasure = erasureContext();
      expect(await processErasureQueue(erasure)).toEqual({ processed: 1, completed: 0, failed: 1 });
      const failed = await get(`/v1/privacy-requests/${id}`);
      expect(failed.body.request).toMatchObject({
        status: 'error',
        subjectId: 'subj-1',
        statusReason: 'disk says no',
      });
      expect(failed.body.steps.at(-1)).toMatchObject({ store: 'affiliate_events', status: 'failed' });

      await ctx.storage.sqlite.exec('drop trigger no_delete');
      expect((await post(`/v1/privacy-requests/${id}/retry`)).body.status).toBe('approved');
      expect(await processErasureQueue(erasure)).toEqual({ processed: 1, completed: 1, failed: 0 });
      const done = await get(`/v1/privacy-requests/${id}`);
      expect(done.body.request).toMatchObject({ status: 'complete', attempts: 2 });
      expect(await ctx.storage.db.selectFrom('affiliate_events').selectAll().execute()).toEqual([]);
    },
  );

  it('is listed by status, type and overdue, newest first', async () => {
    const first = await file('access', 'a');
    now = new Date('2026-02-10T00:00:00Z');
    const second = await file('erasure', 'b');
    await post(`/v1/privacy-requests/${second.id}/deny`, { reason: 'duplicate' });
    now = new Date('2026-02-25T00:00:00Z'); // the first one is due within a week
    const soon = await ctx.registry.metrics();
    expect(soon).toContain('vigil_privacy_requests_due_soon{type="access"} 1');
    expect(soon).toContain('vigil_privacy_requests_overdue{type="access"} 0');
    now = new Date('2026-03-05T00:00:00Z'); // past the first one's due date
    const ids = async (query: string) =>
      (await get(`/v1/privacy-requests${query}`)).body.requests.map((r: { id: string }) => r.id);
    expect(await ids('')).toEqual([second.id, first.id]);
    expect(await ids('?type=access')).toEqual([first.id]);
    expect(await ids('?status=denied')).toEqual([second.id]);
    expect(await ids('?overdue=true')).toEqual([first.id]);
    expect(await ids('?overdue=false')).toEqual([second.id]);
    expect(await ids(`?before=${second.id}`)).toEqual([first.id]);
    expect((await get('/v1/privacy-requests?status=lost')).status).toBe(422);
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_privacy_requests_overdue{type="access"} 1');
    expect(metrics).toContain('vigil_privacy_requests_due_soon{type="access"} 0');
    expect(metrics).toContain('vigil_privacy_requests_open{type="erasure"} 0');
    expect(metrics).toMatch(/vigil_privacy_request_oldest_open_age_seconds \d+/);
  });

  it('exports only for an approved access request', async () => {
    const access = await file('access');
    expect(
      (await ctx.app.request(`/v1/privacy-requests/${access.id}/export`, { headers: ctx.auth('dpo') }))
        .status,
    ).toBe(409);
    const erasure = await file('erasure');
    await post(`/v1/privacy-requests/${erasure.id}/approve`);
    expect(
      (await ctx.app.request(`/v1/privacy-requests/${erasure.id}/export`, { headers: ctx.auth('dpo') }))
        .status,
    ).toBe(409);
    await post(`/v1/privacy-requests/${access.id}/approve`);
    const res = await ctx.app.request(`/v1/privacy-requests/${access.id}/export`, {
      headers: ctx.auth('dpo'),
    });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { request: { subjectId: string }; stores: object; manifest: unknown[] };
    expect(doc.request.subjectId).toBe('subj-1');
    expect(Object.keys(doc.stores)).toContain('consent_records');
    expect(doc.manifest.length).toBe(Object.keys(doc.stores).length);
  });

  it('refuses malformed input with a problem, never a 5xx', async () => {
    for (const body of [
      { type: 'rectification', subjectId: 's' },
      { type: 'access' },
      { type: 'access', subjectId: '' },
      { type: 'access', subjectId: 's', identifiers: { email: 'not-an-email' } },
      { type: 'access', subjectId: 's', identifiers: { ip: '999.1.1.1' } },
      { type: 'access', subjectId: 's', extra: true },
    ]) {
      const res = await post('/v1/privacy-requests', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.type).toContain('application/problem+json');
    }
    expect(await ctx.storage.db.selectFrom('privacy_requests').selectAll().execute()).toEqual([]);
  });
});

describe('privacy-request input', () => {
  it('never yields a 5xx, and a refused request writes nothing', async () => {
    const { default: fc } = await import('fast-check');
    const { id } = await file();
    const routes = [
      '/v1/privacy-requests',
      ...['approve', 'deny', 'cancel', 'retry', 'extend'].map((a) => `/v1/privacy-requests/${id}/${a}`),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(fc.json(), fc.string()), async (route, text) => {
        const before = await ctx.storage.db.selectFrom('privacy_requests').selectAll().execute();
        const res = await ctx.app.request(route, {
          method: 'POST',
          headers: jsonHeaders(ctx, 'dpo'),
          body: text,
        });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type')).toContain('application/problem+json');
          expect(await ctx.storage.db.selectFrom('privacy_requests').selectAll().execute()).toEqual(before);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('erasure by IP', () => {
  it("takes the subject's anonymous events from its IP, not another subject's events from a shared IP", async () => {
    const click = (id: string, subjectId?: string) => ({
      id,
      type: 'click',
      ts: '2026-01-30T00:00:00Z',
      affiliateId: 'a',
      clickId: `c-${id}`,
      ip: '198.51.100.7',
      userAgent: 'UA',
      ...(subjectId ? { subjectId } : {}),
    });
    await ctx.app.request('/v1/events', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: JSON.stringify({ events: [click('own', 'subj-1'), click('anon'), click('neighbour', 'subj-2')] }),
    });
    const created = await post('/v1/privacy-requests', {
      type: 'erasure',
      subjectId: 'subj-1',
      identifiers: { ip: '198.51.100.7' },
    });
    await post(`/v1/privacy-requests/${created.body.id}/approve`);
    await processErasureQueue(erasureContext());
    const left = await ctx.storage.db.selectFrom('affiliate_events').select('id').execute();
    expect(left.map((r) => r.id)).toEqual(['neighbour']);
  });
});
