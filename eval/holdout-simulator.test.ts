import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventBatchSchema } from '../ingest/events/schemas.ts';
import {
  FRAUD_KINDS,
  HONEST_SHAPES,
  type HoldoutCampaign,
  simulateHoldoutCampaign,
} from './holdout-simulator.ts';

// Half the traffic keeps the suite quick; the shapes and kinds do not depend on the scale.
const SCALE = 0.5;
const CHUNK = 5000;

function digest(campaign: HoldoutCampaign): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(campaign.affiliates));
  for (const event of campaign.events) hash.update(JSON.stringify(event));
  return hash.digest('hex');
}

/** What a seed drew, as far as the events show it. */
function drawnParameters(campaign: HoldoutCampaign) {
  let clicks = 0;
  let orders = 0;
  let revenue = 0;
  let currency = '';
  for (const event of campaign.events) {
    if (event.type === 'click') clicks++;
    if (event.type === 'conversion') {
      orders++;
      revenue += event.amount as number;
      currency = event.currency as string;
    }
  }
  return { currency, averageOrder: revenue / orders, ordersPerClick: orders / clicks };
}

describe('simulateHoldoutCampaign', () => {
  const seeds = [11, 12];
  const campaigns = seeds.map((seed) => simulateHoldoutCampaign({ seed, scale: SCALE }));

  it.each(seeds.map((seed, i) => [seed, i] as const))(
    'emits valid, unique, sorted events (seed %i)',
    (_, i) => {
      const campaign = campaigns[i] as HoldoutCampaign;
      const { events } = campaign;
      expect(events.length).toBeGreaterThan(10_000);
      for (let start = 0; start < events.length; start += CHUNK) {
        const result = EventBatchSchema.safeParse({ events: events.slice(start, start + CHUNK) });
        if (!result.success) throw new Error(JSON.stringify(result.error.issues.slice(0, 3)));
      }
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      const unsorted = events.filter((e, k) => k > 0 && (events[k - 1]?.ts ?? '') > e.ts);
      expect(unsorted).toEqual([]);
      // History before the payout period, nothing after it.
      expect((events[0]?.ts ?? '') < campaign.periodStart.toISOString()).toBe(true);
      expect((events.at(-1)?.ts ?? '') < campaign.periodEnd.toISOString()).toBe(true);
    },
  );

  it('has every honest shape and every fraud kind at every intensity', () => {
    for (const campaign of campaigns) {
      const honest = new Set(campaign.affiliates.filter((a) => a.fraud === null).map((a) => a.shape));
      expect([...honest].sort()).toEqual([...HONEST_SHAPES].sort());
      const kinds = new Set(campaign.affiliates.map((a) => `${a.fraud}/${a.intensity}`));
      for (const kind of FRAUD_KINDS) {
        for (const intensity of ['blatant', 'moderate', 'subtle'])
          expect(kinds).toContain(`${kind}/${intensity}`);
      }
      const active = new Set(campaign.events.map((e) => e.affiliateId));
      for (const a of campaign.affiliates.filter((a) => a.fraud)) expect(active).toContain(a.id);
    }
  });

  it('credits coupon codes to their owners', () => {
    for (const campaign of campaigns) {
      const owner = new Map(
        campaign.affiliates.flatMap((a) => a.couponCodes.map((code) => [code, a.id] as const)),
      );
      for (const event of campaign.events) {
        if (event.type === 'conversion' && event.couponCode) {
          expect(owner.get(event.couponCode as string)).toBe(event.affiliateId);
        }
      }
    }
  });

  it('is deterministic per seed, and seeds draw different programmes', () => {
    const again = simulateHoldoutCampaign({ seed: seeds[0] as number, scale: SCALE });
    expect(digest(again)).toBe(digest(campaigns[0] as HoldoutCampaign));
    const [a, b] = campaigns.map(drawnParameters);
    expect(a).not.toEqual(b);
    expect(a?.averageOrder).not.toBeCloseTo(b?.averageOrder ?? 0, 0);
  });
});
