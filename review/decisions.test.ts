// Analysts' decisions through the API: notes, conflicts, escalation to an admin, payment, history, audit, the
// outbox and the labels the next model learns from.
import { afterEach, describe, expect, it } from 'vitest';
import { insertPayoutInReview, installation } from '../test/affiliate-installation.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import { setWebhookEndpoint } from './webhooks.ts';

// biome-ignore lint/suspicious/noExplicitAny: responses are read loosely here
type Json = Record<string, any>;

let ctx: TestContext;
afterEach(async () => {
  await ctx?.close();
});

const PERIOD = { periodStart: '2026-10-01T00:00:00Z', periodEnd: '2026-10-15T00:00:00Z' };

/** A payout of a fresh affiliate, put in review with the given status (as the detector would). */
const payoutInReview = (id: string, status: 'flagged' | 'held' = 'flagged') =>
  insertPayoutInReview(ctx.storage.db, { id, status, at: new Date(), ...PERIOD, amount: 240 });

async function decide(id: string, body: unknown, role: 'analyst' | 'admin' | 'sre' = 'analyst') {
  const res = await ctx.app.request(`/v1/flags/${id}/decision`, {
    method: 'POST',
    headers: jsonHeaders(ctx, role),
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Json };
}

async function paid(id: string) {
  const res = await ctx.app.request(`/v1/payouts/${id}/paid`, {
    method: 'POST',
    headers: ctx.auth('ingest'),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function view(id: string, role: 'ingest' | 'analyst' | 'admin' | 'sre' = 'analyst') {
  const res = await ctx.app.request(`/v1/payouts/${id}`, { headers: ctx.auth(role) });
  return { status: res.status, body: (await res.json()) as Json };
}

describe('a decision on a payout in review', () => {
  it('needs a note to reject, is history and audit once made, and is not made twice', async () => {
    ctx = await createTestContext();
    let woken = 0;
    ctx.deps.onDecision = () => {
      woken += 1;
    };
    await payoutInReview('p-1');
    const bare = await decide('p-1', { decision: 'reject' });
    expect(bare.status).toBe(422);
    expect(bare.type).toContain('application/problem+json');
    expect(JSON.stringify(bare.body)).toContain('/note');
    expect((await view('p-1')).body.review.status).toBe('pending');

    const rejected = await decide('p-1', {
      decision: 'reject',
      note: 'Sales 2 s after clicks; buyer anna@example.com',
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      id: 'p-1',
      status: 'rejected',
      review: { status: 'rejected', decidedBy: 'test-analyst' },
    });
    // Free text is scrubbed: the e-mail address is a keyed-hash token.
    expect(rejected.body.review.note).toContain('Sales 2 s after clicks');
    expect(rejected.body.review.note).not.toContain('anna@example.com');
    expect(rejected.body.history.at(-1)).toMatchObject({
      kind: 'decided',
      actor: 'test-analyst',
      detail: { decision: 'reject', status: 'rejected' },
    });

    const again = await decide('p-1', { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already rejected by test-analyst');
    // The webhook delivery is woken once, for the decision made; refusals wake nothing.
    expect(woken).toBe(1);

    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_review_decisions_total{decision="reject"} 1');
    expect(metrics).toContain('vigil_review_time_to_decision_seconds_count{decision="reject"} 1');
    const audit = await ctx.app.request('/v1/audit?action=payout.reject', { headers: ctx.auth('dpo') });
    expect(JSON.stringify(await audit.json())).toContain('payout:p-1');
  });

  it('when escalated, waits for an admin: an analyst is refused, an admin decides', async () => {
    ctx = await createTestContext();
    await payoutInReview('p-2', 'held');
    expect((await decide('p-2', { decision: 'escalate' })).status).toBe(422);
    const escalated = await decide('p-2', { decision: 'escalate', note: 'Own IP, but a shared household?' });
    expect(escalated.body).toMatchObject({ status: 'held', review: { status: 'escalated' } });
    const analyst = await decide('p-2', { decision: 'approve' });
    expect(analyst.status).toBe(409);
    expect(analyst.body.detail).toContain('escalated by test-analyst');
    expect(analyst.body.detail).toContain('an admin decides');
    const admin = await decide('p-2', { decision: 'approve', note: 'Checked with the creator' }, 'admin');
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({
      status: 'approved',
      review: { status: 'approved', decidedBy: 'test-admin' },
    });
    expect(admin.body.history.map((h: Json) => h.detail.decision)).toEqual(['escalate', 'approve']);
  });

  it('is refused for a payout not in review, an unknown payout, and roles other than analyst and admin', async () => {
    ctx = await createTestContext();
    await payoutInReview('p-3');
    await ctx.storage.db.updateTable('payouts').set({ status: 'approved' }).where('id', '=', 'p-3').execute();
    expect((await decide('p-3', { decision: 'reject', note: 'late' })).status).toBe(409);
    expect((await decide('p-none', { decision: 'approve' })).status).toBe(404);
    expect((await decide('p-3', { decision: 'approve' }, 'sre')).status).toBe(403);
    expect((await decide('p-3', { decision: 'maybe' })).status).toBe(422);
  });

  it('lets the marketplace record payment of an approved payout only', async () => {
    ctx = await createTestContext();
    await payoutInReview('p-4');
    const inReview = await paid('p-4');
    expect(inReview.status).toBe(409);
    expect(inReview.body.detail).toContain('still in review');
    await decide('p-4', { decision: 'approve' });
    const done = await paid('p-4');
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'paid' });
    expect(done.body.history.at(-1)).toMatchObject({ kind: 'paid', actor: 'test-ingest' });
    expect((await paid('p-4')).status).toBe(200);
    await payoutInReview('p-5');
    await decide('p-5', { decision: 'reject', note: 'refund abuse ring' });
    const rejected = await paid('p-5');
    expect(rejected.status).toBe(409);
    expect(rejected.body.detail).toContain('rejected by test-analyst');
    expect((await paid('p-none')).status).toBe(404);
  });

  it('is read back by the marketplace and the analysts, not by other roles', async () => {
    ctx = await createTestContext();
    await payoutInReview('p-6');
    await decide('p-6', { decision: 'approve' });
    for (const role of ['ingest', 'analyst', 'admin'] as const) {
      const res = await view('p-6', role);
      expect(res.status).toBe(200);
      expect(res.body.review).toMatchObject({ status: 'approved', decidedBy: 'test-analyst' });
    }
    expect((await view('p-6', 'sre')).status).toBe(403);
    expect((await view('p-none')).status).toBe(404);
  });

  it('goes to the outbox with the decision when a webhook is set, in the same transaction', async () => {
    ctx = await createTestContext();
    await payoutInReview('p-7');
    await payoutInReview('p-8');
    await decide('p-7', { decision: 'approve' });
    expect(await ctx.storage.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
    await setWebhookEndpoint(ctx.storage.db, 'https://marketplace.example/hooks/vigil', new Date());
    await decide('p-8', { decision: 'reject', note: 'bots' });
    const rows = await ctx.storage.db.selectFrom('webhook_deliveries').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'pending', payout_id: 'p-8', attempts: 0 });
    expect(JSON.parse(rows[0]?.payload ?? '{}')).toMatchObject({
      type: 'payout.decided',
      data: { payoutId: 'p-8', affiliateId: 'aff-p-8', decision: 'reject', status: 'rejected', note: 'bots' },
    });
    // A refused decision leaves nothing behind.
    await decide('p-8', { decision: 'approve' });
    expect(await ctx.storage.db.selectFrom('webhook_deliveries').selectAll().execute()).toHaveLength(1);
  });
});

describe('decisions and the fraud detector', () => {
  it('a re-score leaves a decided payout as decided, and is written to its history', async () => {
    ctx = await installation(24);
    const request = async (id: string) =>
      ctx.app.request('/v1/payouts', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'ingest'),
        body: JSON.stringify({
          id,
          affiliateId: id.replace('p-', ''),
          ...PERIOD,
          amount: 50,
          currency: 'EUR',
        }),
      });
    for (const a of ['a0', 'a1']) expect((await request(`p-${a}`)).status).toBe(201);
    // The analysts saw these two: one flagged and approved, one held and rejected.
    await ctx.storage.db
      .updateTable('payouts')
      .set({ status: 'flagged' })
      .where('id', 'in', ['p-a0', 'p-a1'])
      .execute();
    expect((await decide('p-a0', { decision: 'approve' })).status).toBe(200);
    expect(
      (await decide('p-a1', { decision: 'reject', note: 'confirmed with the shop: self-referral' })).status,
    ).toBe(200);
    const run = await ctx.app.request('/v1/detectors/fraud/run', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'admin'),
      body: JSON.stringify({ ...PERIOD, retrain: true }),
    });
    expect(run.status).toBe(200);
    const a0 = (await view('p-a0')).body;
    expect(a0.status).toBe('approved');
    expect(a0.history.map((h: Json) => h.kind)).toEqual(['scored', 'decided', 'scored']);
    expect((await view('p-a1')).body.status).toBe('rejected');
    // The rejected affiliate is confirmed fraud: the model learned what is usual from the 23 others.
    const model = await ctx.storage.db
      .selectFrom('fraud_models')
      .select('training_rows')
      .orderBy('version', 'desc')
      .executeTakeFirstOrThrow();
    expect(model.training_rows).toBe(23);
  });
});
