// The demo's fill against an in-process Vigil: the cheats end in the review queue, the honest creators do not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { type FillSummary, fillCampaign, lastMonth } from './fill-campaign.ts';
import { createVigilClient, VigilRequestError } from './vigil-client.ts';

const OPTIONS = {
  seed: 7,
  periodStart: new Date('2026-11-01T00:00:00Z'),
  periodEnd: new Date('2026-12-01T00:00:00Z'),
};

/** A client that sends its requests to the in-process app. */
function inProcess(ctx: TestContext) {
  return createVigilClient('', async (url, init) => ctx.app.request(url, init));
}

interface Flag {
  payoutId: string;
  affiliateId: string;
  score: { decision: string; reasons: { code: string }[] };
}

async function reviewQueue(ctx: TestContext): Promise<Flag[]> {
  const res = await ctx.app.request('/v1/flags?limit=500', { headers: ctx.auth('analyst') });
  expect(res.status).toBe(200);
  return ((await res.json()) as { flags: Flag[] }).flags;
}

describe('the demo campaign', () => {
  // One app, filled once: the fill is the slow part.
  let ctx: TestContext;
  let summary: FillSummary;
  beforeAll(async () => {
    ctx = await createTestContext();
    summary = await fillCampaign(inProcess(ctx), { admin: ctx.keys.admin, ingest: ctx.keys.ingest }, OPTIONS);
  });
  afterAll(() => ctx?.close());

  it('is modest: 60-120 creators, 3-8 of them cheating, at most 60,000 events', () => {
    const cheats = summary.creators.filter((a) => a.fraud !== null);
    expect(summary.creators.length).toBeGreaterThanOrEqual(60);
    expect(summary.creators.length).toBeLessThanOrEqual(120);
    expect(cheats.length).toBeGreaterThanOrEqual(3);
    expect(cheats.length).toBeLessThanOrEqual(8);
    expect(summary.events).toBeLessThanOrEqual(60_000);
  });

  it('fills the review queue with the cheats and leaves the honest creators approved', async () => {
    const flags = await reviewQueue(ctx);
    expect(flags.length).toBeGreaterThanOrEqual(3);
    expect(flags.length).toBe(summary.decisions.flagged + summary.decisions.held);
    const inReview = new Set(flags.map((f) => f.affiliateId));
    const cheats = summary.creators.filter((a) => a.fraud !== null);
    const honest = summary.creators.filter((a) => a.fraud === null);
    expect(cheats.filter((a) => inReview.has(a.id)).length).toBeGreaterThanOrEqual(cheats.length - 1);
    expect(honest.filter((a) => inReview.has(a.id)).length / honest.length).toBeLessThanOrEqual(0.05);

    const selfReferral = cheats.find((a) => a.fraud === 'self_referral');
    const held = flags.find((f) => f.affiliateId === selfReferral?.id);
    expect(held?.score.decision).toBe('held');
    expect(held?.score.reasons.map((r) => r.code)).toContain('SELF_REFERRAL');
  });

  it('asks for commissions in cents, at least 5 EUR, and names creators by handle', () => {
    for (const creator of summary.creators) {
      expect(creator.commission).toBeGreaterThanOrEqual(5);
      expect(Math.round(creator.commission * 100) / 100).toBe(creator.commission);
      expect(creator.name).toMatch(/^@[a-z]+[._]?[a-z]+$/);
    }
    expect(new Set(summary.creators.map((a) => a.name)).size).toBe(summary.creators.length);
  });

  it('changes nothing in the queue when the same month is filled again', async () => {
    const before = await reviewQueue(ctx);
    const again = await fillCampaign(
      inProcess(ctx),
      { admin: ctx.keys.admin, ingest: ctx.keys.ingest },
      OPTIONS,
    );
    expect(again.decisions).toEqual(summary.decisions);
    expect((await reviewQueue(ctx)).map((f) => f.payoutId)).toEqual(before.map((f) => f.payoutId));
  });
});

describe('a fill', () => {
  it('names the request and what Vigil answered when a request fails', async () => {
    const ctx = await createTestContext();
    try {
      const keys = { admin: ctx.keys.admin, ingest: ctx.keys.analyst };
      const failure = fillCampaign(inProcess(ctx), keys, OPTIONS);
      await expect(failure).rejects.toBeInstanceOf(VigilRequestError);
      await expect(failure).rejects.toThrow(/POST \/v1\/affiliates failed with 403: .*ingest/);
    } finally {
      await ctx.close();
    }
  });

  it('takes the last full calendar month as the payout period', () => {
    expect(lastMonth(new Date('2026-01-15T10:00:00Z'))).toEqual({
      start: new Date('2025-12-01T00:00:00Z'),
      end: new Date('2026-01-01T00:00:00Z'),
    });
  });
});
