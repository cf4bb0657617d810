import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eraseSubjectStores, subjectKeys } from '../../retention/subject-data.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
  const affiliate = { id: 'aff-1', name: 'Anna', couponCodes: ['ANNA10'] };
  const res = await post('/v1/affiliates', affiliate);
  expect(res.status).toBeLessThan(300);
});
afterEach(() => ctx.close());

const post = (p: string, body: unknown) =>
  ctx.app.request(p, { method: 'POST', headers: jsonHeaders(ctx, 'ingest'), body: JSON.stringify(body) });

const conversion = (id: string, orderId: string, subjectId: string) => ({
  id,
  type: 'conversion',
  ts: '2026-11-29T09:00:00Z',
  affiliateId: 'aff-1',
  orderId,
  subjectId,
  amount: 59.9,
  currency: 'EUR',
  ip: '198.51.100.7',
  userAgent: 'Mozilla/5.0 (iPhone)',
});
const refund = (id: string, orderId: string, reason: string) => ({
  id,
  type: 'refund',
  ts: '2026-11-29T10:00:00Z',
  orderId,
  amount: 59.9,
  currency: 'EUR',
  reason,
});

const refunds = async () => {
  await ctx.deps.writer.settle();
  return ctx.storage.db
    .selectFrom('affiliate_events')
    .select(['id', 'order_id', 'reason'])
    .where('type', '=', 'refund')
    .orderBy('id')
    .execute();
};

describe('refunds', () => {
  it('keep no e-mail or IP address in their reason', async () => {
    const res = await post('/v1/events', {
      events: [refund('r-1', 'o-1', 'customer jane.doe@example.com called from 203.0.113.9')],
    });
    expect(res.status).toBe(202);
    const [stored] = await refunds();
    expect(stored?.reason).not.toContain('jane.doe');
    expect(stored?.reason).not.toContain('203.0.113.9');
    expect(stored?.reason).toMatch(/^customer email:[0-9a-f]{32} called from ip:203\.0\.113\.0\/24#/);
  });

  it('are erased with the subject, found through the orders of its conversions', async () => {
    const res = await post('/v1/events', {
      events: [
        conversion('c-1', 'o-1', 'cust-1'),
        conversion('c-2', 'o-2', 'cust-2'),
        refund('r-1', 'o-1', 'damaged'),
        refund('r-2', 'o-2', 'late'),
      ],
    });
    expect(res.status).toBe(202);
    await ctx.deps.writer.settle();
    const keys = subjectKeys(ctx.deps.secret, { subjectId: 'cust-1' });
    const outcomes = await eraseSubjectStores(ctx.storage.db, keys, {
      ref: 'privacy-request:t',
      pseudonym: 'p',
    });
    expect(outcomes.find((o) => o.store === 'affiliate_events')?.rows).toBe(2);
    expect((await refunds()).map((r) => r.id)).toEqual(['r-2']);
  });
});
