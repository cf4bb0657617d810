import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventBatchSchema } from '../ingest/events/schemas.ts';
import {
  FRAUD_KINDS,
  HONEST_SHAPES,
  type MarketAffiliate,
  type MarketCampaign,
  type MarketOptions,
  simulateMarketCampaign,
} from './market-simulator.ts';

const DAY = 86_400_000;
const COOKIE_WINDOW = 30 * DAY;

function label(affiliate: MarketAffiliate): string {
  return `${affiliate.fraud ?? 'honest'} ${affiliate.intensity ?? ''} in ${affiliate.shape}`;
}

function digest(campaign: MarketCampaign): string {
  return createHash('sha256').update(JSON.stringify(campaign)).digest('hex');
}

/** Small worlds keep the suite fast; the default affiliate counts still bring every shape and kind. */
const SMALL: Omit<MarketOptions, 'seed'> = { honest: 30, fraudPerKind: 1, scale: 0.2 };

describe('simulateMarketCampaign', () => {
  let campaign: MarketCampaign;

  beforeAll(() => {
    campaign = simulateMarketCampaign({ seed: 11, scale: 0.1 });
  });

  it('draws the same world from the same seed and another from another seed', () => {
    const first = simulateMarketCampaign({ seed: 3, ...SMALL });
    const again = simulateMarketCampaign({ seed: 3, ...SMALL });
    const other = simulateMarketCampaign({ seed: 4, ...SMALL });
    expect(digest(again)).toBe(digest(first));
    expect(digest(other)).not.toBe(digest(first));
    const ids = (c: MarketCampaign) => c.affiliates.map((a) => a.id).sort();
    expect(ids(other)).not.toEqual(ids(first));
  });

  it('emits only events that the events API accepts', () => {
    expect(campaign.events.length).toBeGreaterThan(1000);
    for (let i = 0; i < campaign.events.length; i += 5000) {
      const result = EventBatchSchema.safeParse({ events: campaign.events.slice(i, i + 5000) });
      expect(result.success, result.success ? '' : JSON.stringify(result.error.issues.slice(0, 3))).toBe(
        true,
      );
    }
  });

  it('has unique event ids and keeps the events in time order', () => {
    expect(new Set(campaign.events.map((e) => e.id)).size).toBe(campaign.events.length);
    const late = campaign.events.filter((event, i) => i > 0 && event.ts < (campaign.events[i - 1]?.ts ?? ''));
    expect(late).toEqual([]);
  });

  it('has every honest shape and every fraud kind at every intensity at the defaults', () => {
    const honest = campaign.affiliates.filter((a) => a.fraud === null);
    expect(honest).toHaveLength(200);
    expect(new Set(honest.map((a) => a.shape))).toEqual(new Set(HONEST_SHAPES));
    expect(honest.every((a) => a.intensity === null)).toBe(true);
    for (const kind of FRAUD_KINDS) {
      const fraudsters = campaign.affiliates.filter((a) => a.fraud === kind);
      expect(fraudsters, kind).toHaveLength(6);
      expect(new Set(fraudsters.map((a) => a.intensity))).toEqual(new Set(['blatant', 'moderate', 'subtle']));
    }
  });

  it('gives every fraudster traffic or credited orders of its own', () => {
    const active = new Set(campaign.events.map((e) => e.affiliateId));
    for (const affiliate of campaign.affiliates.filter((a) => a.fraud !== null))
      expect(active.has(affiliate.id), label(affiliate)).toBe(true);
  });

  it('describes affiliates with valid ids, unique coupon codes and their own customer id', () => {
    const codes = campaign.affiliates.flatMap((a) => a.couponCodes);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(campaign.affiliates.map((a) => a.id)).size).toBe(campaign.affiliates.length);
    for (const affiliate of campaign.affiliates) {
      expect(affiliate.id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(affiliate.name.length).toBeGreaterThan(0);
      expect(affiliate.subjectId).toMatch(/^[\x21-\x7e]{1,128}$/);
      for (const code of affiliate.couponCodes) expect(code).toMatch(/^[\w-]{1,64}$/);
    }
  });

  it('refunds only earlier orders, and nothing happens after the period ends', () => {
    const end = campaign.periodEnd.toISOString();
    expect(campaign.events.filter((event) => event.ts >= end)).toEqual([]);
    const ordered = new Map<unknown, string>();
    const wrong: string[] = [];
    let refunds = 0;
    for (const event of campaign.events) {
      if (event.type === 'conversion') ordered.set(event.orderId, event.ts);
      if (event.type !== 'refund') continue;
      refunds++;
      const at = ordered.get(event.orderId);
      if (at === undefined || event.ts <= at) wrong.push(event.id);
    }
    expect(refunds).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  });

  it('has at least two earlier periods of history', () => {
    const length = campaign.periodEnd.getTime() - campaign.periodStart.getTime();
    const first = Date.parse(campaign.events[0]?.ts ?? '');
    expect(first).toBeLessThan(campaign.periodStart.getTime() - 2 * length + DAY);
    const inHistory = campaign.events.filter((e) => Date.parse(e.ts) < campaign.periodStart.getTime());
    expect(inHistory.length).toBeGreaterThan(campaign.events.length / 3);
  });

  it('credits conversions by the last click in the window or by the affiliate code', () => {
    const clicks = new Map<unknown, { affiliateId: unknown; ts: number }>();
    const owners = new Map(
      campaign.affiliates.flatMap((a) => a.couponCodes.map((code) => [code, a.id] as const)),
    );
    const wrong: string[] = [];
    let byCodeAlone = 0;
    for (const event of campaign.events) {
      if (event.type === 'click')
        clicks.set(event.clickId, { affiliateId: event.affiliateId, ts: Date.parse(event.ts) });
      if (event.type !== 'conversion') continue;
      const click = event.clickId === undefined ? undefined : clicks.get(event.clickId);
      if (event.clickId !== undefined && click?.affiliateId !== event.affiliateId) wrong.push(event.id);
      if (click && Date.parse(event.ts) - click.ts > COOKIE_WINDOW) wrong.push(event.id);
      const owner = typeof event.couponCode === 'string' ? owners.get(event.couponCode) : undefined;
      if (owner && event.affiliateId !== owner) wrong.push(event.id);
      if (owner && event.clickId === undefined) byCodeAlone++;
    }
    expect(wrong).toEqual([]);
    expect(byCodeAlone).toBeGreaterThan(0);
  });

  it('rejects options it cannot simulate', () => {
    expect(() => simulateMarketCampaign({ seed: 1, scale: 0 })).toThrow(RangeError);
    expect(() => simulateMarketCampaign({ seed: 1, periodDays: 0 })).toThrow(RangeError);
  });
});
