// The review queue's gauges, read from the payouts table at scrape time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../test/harness.ts';

let ctx: TestContext;
const now = new Date('2026-11-30T12:00:00Z');
beforeEach(async () => {
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

async function payout(id: string, status: string, hoursAgo: number) {
  await ctx.storage.db
    .insertInto('affiliates')
    .values({
      id: 'aff-1',
      name: 'Anna',
      subject_id: null,
      payout_account_hash: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const at = new Date(now.getTime() - hoursAgo * 3_600_000).toISOString();
  await ctx.storage.db
    .insertInto('payouts')
    .values({
      id,
      affiliate_id: 'aff-1',
      period_start: '2026-11-01T00:00:00Z',
      period_end: '2026-11-15T00:00:00Z',
      amount: 120,
      currency: 'EUR',
      status,
      created_at: at,
      updated_at: at,
    })
    .execute();
}

describe('the review queue metrics', () => {
  it('say zero and no age while nothing waits, and the SLA from the start', async () => {
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_fraud_review_payouts{status="flagged"} 0');
    expect(metrics).toContain('vigil_fraud_review_payouts{status="held"} 0');
    expect(metrics).toContain('vigil_fraud_review_oldest_age_seconds 0');
    expect(metrics).toContain(`vigil_fraud_review_sla_seconds ${48 * 3600}`);
  });

  it('count flagged and held payouts and age the oldest waiting one, not decided ones', async () => {
    await payout('p-1', 'flagged', 5);
    await payout('p-2', 'flagged', 50);
    await payout('p-3', 'held', 1);
    await payout('p-4', 'approved', 500);
    await payout('p-5', 'paid', 900);
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_fraud_review_payouts{status="flagged"} 2');
    expect(metrics).toContain('vigil_fraud_review_payouts{status="held"} 1');
    expect(metrics).toContain(`vigil_fraud_review_oldest_age_seconds ${50 * 3600}`);
  });
});
