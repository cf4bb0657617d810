import { describe, expect, it } from 'vitest';
import {
  type AffiliateInfo,
  type ClickEvent,
  type ConversionEvent,
  computeFeatures,
  DatacenterRanges,
  type PeriodEvents,
} from './features.ts';
import {
  assess,
  evaluateRules,
  loadRules,
  percentileOf,
  populationQuantiles,
  type ReasonCode,
} from './rules.ts';

const START = Date.parse('2026-10-01T00:00:00Z');
const DAY = 86_400_000;
const rules = loadRules();
const datacenter = DatacenterRanges.load();
const BROWSERS = [
  'Mozilla/5.0 (iPhone) Safari',
  'Mozilla/5.0 (Android 14) Chrome',
  'Mozilla/5.0 (Windows) Firefox',
  'Mozilla/5.0 (Mac) Safari',
];

/** A small world of one affiliate `a` whose events the test shapes. */
class World {
  private n = 0;
  clicks: ClickEvent[] = [];
  conversions: ConversionEvent[] = [];
  refunds: { orderId: string; amount: number }[] = [];
  previous: number[] = [];
  affiliate: AffiliateInfo = { id: 'a', subjectId: 'creator-a', coupons: ['ANNA10'] };
  ownIps = new Set<string>(['ip-own']);

  click(over: Partial<ClickEvent> = {}): ClickEvent {
    this.n += 1;
    const click: ClickEvent = {
      affiliateId: 'a',
      clickId: `c${this.n}`,
      ts: START + ((this.n * 7919) % 29) * DAY + ((this.n * 37) % 24) * 3_600_000,
      ipHash: `ip-${this.n}`,
      ipPrefix: `84.${this.n % 200}.${this.n % 7}.0/24`,
      userAgent: BROWSERS[this.n % BROWSERS.length] as string,
      country: 'DE',
      ...over,
    };
    this.clicks.push(click);
    return click;
  }

  convert(click: ClickEvent | null, delayMs: number, over: Partial<ConversionEvent> = {}): ConversionEvent {
    this.n += 1;
    const conversion: ConversionEvent = {
      affiliateId: click ? 'a' : null,
      clickId: click?.clickId ?? null,
      orderId: `o${this.n}`,
      subjectId: `s${this.n}`,
      ipHash: `buyer-${this.n}`,
      amount: 50,
      couponCode: null,
      newCustomer: 1,
      country: click?.country ?? 'DE',
      ts: (click?.ts ?? START + DAY) + delayMs,
      ...over,
    };
    this.conversions.push(conversion);
    return conversion;
  }

  /** An honest month: 400 clicks from varied people, 8 sales minutes to hours later, a usual history. */
  honest(): this {
    const clicks = Array.from({ length: 400 }, () => this.click());
    for (let i = 0; i < 8; i += 1) this.convert(clicks[i * 40] as ClickEvent, (3 + i * 17) * 60_000);
    this.previous = [380, 420, 350];
    return this;
  }

  events(): PeriodEvents {
    const clicksById = new Map(this.clicks.map((c) => [c.clickId as string, c]));
    return {
      start: START,
      end: START + 30 * DAY,
      clicks: this.clicks,
      clicksById,
      conversions: this.conversions,
      refunds: this.refunds,
      affiliates: new Map([['a', this.affiliate]]),
      ownIpHashes: new Map([['a', this.ownIps]]),
      previousClicks: new Map([['a', this.previous]]),
    };
  }

  reasons(): ReasonCode[] {
    const [features] = computeFeatures(this.events(), datacenter);
    if (!features) throw new Error('no features');
    return evaluateRules(rules, features).map((r) => r.code);
  }
}

describe('fraud rules on crafted events', () => {
  it('leave an honest affiliate alone', () => {
    expect(new World().honest().reasons()).toEqual([]);
  });

  it('CLICK_INJECTION: sales seconds after their click', () => {
    const w = new World().honest();
    for (let i = 0; i < 6; i += 1) w.convert(w.click(), 3_000);
    expect(w.reasons()).toEqual(['CLICK_INJECTION']);
  });

  it('CLICK_SPAMMING: sprayed clicks, sales credited days later', () => {
    const w = new World();
    const clicks = Array.from({ length: 3000 }, () => w.click());
    for (let i = 0; i < 6; i += 1) w.convert(clicks[i * 400] as ClickEvent, (2 + i) * DAY);
    w.previous = [2800, 3100, 2900];
    expect(w.reasons()).toContain('CLICK_SPAMMING');
  });

  it('DATACENTER_TRAFFIC: clicks from cloud networks (matched by stored prefix)', () => {
    const w = new World().honest();
    for (let i = 0; i < 150; i += 1) w.click({ ipPrefix: `3.120.${i}.0/24` });
    expect(w.reasons()).toContain('DATACENTER_TRAFFIC');
    expect(datacenter.contains('2a01:4f8:10::/48')).toBe(true);
    expect(datacenter.contains('84.12.3.0/24')).toBe(false);
  });

  it('BOT_USER_AGENTS: automation user agents', () => {
    const w = new World().honest();
    for (let i = 0; i < 80; i += 1) w.click({ userAgent: 'Mozilla/5.0 HeadlessChrome/119.0' });
    expect(w.reasons()).toContain('BOT_USER_AGENTS');
  });

  it('COUPON_LEAKAGE: the code used without any click of its owner', () => {
    const w = new World().honest();
    for (let i = 0; i < 12; i += 1) w.convert(null, 0, { couponCode: 'anna10' });
    expect(w.reasons()).toEqual(['COUPON_LEAKAGE']);
  });

  it('SELF_REFERRAL holds the payout: the affiliate bought through its own link', () => {
    const w = new World().honest();
    w.convert(w.click(), 600_000, { subjectId: 'creator-a' });
    expect(w.reasons()).toEqual(['SELF_REFERRAL']);
    const viaIp = new World().honest();
    viaIp.convert(viaIp.click(), 600_000, { ipHash: 'ip-own' });
    expect(viaIp.reasons()).toEqual(['SELF_REFERRAL']);
    const [features] = computeFeatures(viaIp.events(), datacenter);
    expect(features && assess(rules, features, undefined).decision).toBe('held');
  });

  it('REFUND_ABUSE: most credited sales refunded', () => {
    const w = new World().honest();
    for (const c of w.conversions.slice(0, 4)) w.refunds.push({ orderId: c.orderId, amount: c.amount });
    expect(w.reasons()).toEqual(['REFUND_ABUSE']);
  });

  it('VELOCITY_SPIKE: clicks far above the affiliate’s own history', () => {
    const w = new World().honest();
    w.previous = [60, 80, 70];
    expect(w.reasons()).toEqual(['VELOCITY_SPIKE']);
  });

  it('GEO_MISMATCH: sales in another country than their clicks', () => {
    const w = new World().honest();
    for (const c of w.conversions.slice(0, 6)) c.country = 'US';
    expect(w.reasons()).toEqual(['GEO_MISMATCH']);
  });

  it('speak only with enough evidence', () => {
    const w = new World();
    w.convert(w.click(), 2_000);
    w.convert(w.click(), 2_000);
    expect(w.reasons()).toEqual([]);
  });
});

describe('the assessment', () => {
  const [honest] = computeFeatures(new World().honest().events(), datacenter);
  if (!honest) throw new Error('no features');

  it('approves below the review threshold and flags above it, with the model version', () => {
    const calm = assess(rules, honest, {
      version: 3,
      score: 0.42,
      contributions: { clicks: 1 },
      percentiles: {},
    });
    expect(calm).toMatchObject({ decision: 'approved', level: 'low', modelVersion: 3, reasons: [] });
    const odd = assess(rules, honest, {
      version: 3,
      score: 0.71,
      contributions: { hourConcentration: 0.6, clicks: 0.3, growth: 0.1 },
      percentiles: { hourConcentration: 99 },
    });
    expect(odd.decision).toBe('flagged');
    expect(odd.reasons[0]).toMatchObject({
      code: 'ANOMALOUS_PROFILE',
      evidence: [
        { feature: 'hourConcentration', percentile: 99 },
        { feature: 'clicks' },
        { feature: 'growth' },
      ],
    });
  });

  it('places values in the population by quantiles, without keeping any row', () => {
    const population = Array.from({ length: 200 }, (_, i) => ({
      ...honest,
      values: { ...honest.values, clicks: i },
    }));
    const quantiles = populationQuantiles(population);
    expect(quantiles.clicks).toHaveLength(101);
    expect(percentileOf(quantiles.clicks, 100)).toBeGreaterThanOrEqual(49);
    expect(percentileOf(quantiles.clicks, 100)).toBeLessThanOrEqual(51);
    expect(percentileOf(quantiles.clicks, 1000)).toBe(100);
  });

  it('refuses a rules file that names an unknown feature or has no conditions', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-')), 'rules.yaml');
    const text = fs.readFileSync(new URL('./rules.yaml', import.meta.url), 'utf8');
    fs.writeFileSync(
      file,
      text.replace('fastConversionShare: { above: 0.25 }', 'fastShare: { above: 0.25 }'),
    );
    expect(() => loadRules(file)).toThrow(/fastShare/);
  });
});
