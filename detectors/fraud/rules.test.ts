import { describe, expect, it } from 'vitest';
import {
  type AffiliateFeatures,
  type AffiliateInfo,
  type ClickEvent,
  type ConversionEvent,
  computeFeatures,
  DatacenterRanges,
  isDisputeReason,
  type PeriodEvents,
  type RefundEvent,
  siteOf,
} from './features.ts';
import { type PeerStats, peerStats, percentileOf } from './peers.ts';
import { assess, evaluateRules, loadRules, type ReasonCode } from './rules.ts';

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
  refunds: RefundEvent[] = [];
  previous: number[] = [];
  previousCoupons: number[] = [];
  /** The countries the programme sells in, when the test says. */
  market: Set<string> | undefined;
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
      campaignId: null,
      referrerHost: this.n % 3 === 0 ? null : 'www.instagram.com',
      adClick: false,
      landingHost: 'www.shop.example',
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
      previousCouponSales: new Map([['a', this.previousCoupons]]),
      ...(this.market ? { salesCountries: this.market } : {}),
    };
  }

  features(): AffiliateFeatures {
    const [features] = computeFeatures(this.events(), datacenter);
    if (!features) throw new Error('no features');
    return features;
  }

  reasons(peers?: PeerStats): ReasonCode[] {
    return evaluateRules(rules, this.features(), peers).map((r) => r.code);
  }
}

/** A deterministic spread in [-1, 1] for peer i. */
const jitter = (i: number, salt = 1) => Math.sin(i * 12.9898 + salt * 78.233);

/**
 * Peers like the honest world's affiliate, each a little different (clicks, conversion rate, delays), in one
 * campaign; `shape` sets features of every peer, as a campaign whose honest population is itself extreme.
 */
function peers(
  n: number,
  campaignId: string | null,
  shape: (i: number) => Partial<AffiliateFeatures['values']> = () => ({}),
): AffiliateFeatures[] {
  const base = new World().honest().features();
  return Array.from({ length: n }, (_, i) => ({
    ...base,
    affiliateId: `p${i}`,
    campaignId,
    values: {
      ...base.values,
      clicks: Math.round(400 * (1 + 0.5 * jitter(i))),
      conversionRate: 0.02 * (1 + 0.4 * jitter(i, 2)),
      slowConversionShare: Math.max(0, 0.08 + 0.06 * jitter(i, 3)),
      fastConversionShare: Math.max(0, 0.02 + 0.02 * jitter(i, 4)),
      refundRate: Math.max(0, 0.05 + 0.03 * jitter(i, 5)),
      growth: 0.3 * jitter(i, 6),
      ...shape(i),
    },
  }));
}

function statsOf(rows: AffiliateFeatures[]): PeerStats {
  const stats = peerStats(rows);
  if (!stats) throw new Error('too few peers');
  return stats;
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

  it('CLICK_INJECTION: an eighth of many sales seconds after their click, beyond the rare express checkout', () => {
    const stats = statsOf(peers(40, null));
    /** 150 sales minutes after their click, `fast` of them 3 s after it instead. */
    const sales = (fast: number) => {
      const w = new World();
      for (let i = 0; i < 150; i += 1) w.convert(w.click(), i < fast ? 3_000 : (4 + (i % 50)) * 60_000);
      return w;
    };
    // The peers' quickest checkouts: 2 % of their sales, give or take 2 %; the bar is a little over 10 %.
    expect(sales(20).features().values.fastConversionShare).toBeCloseTo(20 / 150, 3);
    expect(sales(20).reasons(stats)).toEqual(['CLICK_INJECTION']);
    // Four of 150 (under 3 %): what a shop's quickest checkouts may give.
    expect(sales(4).reasons(stats)).toEqual([]);
  });

  it('CLICK_INJECTION: most sales within a minute of their click, beyond the quick buyers any audience has', () => {
    const stats = statsOf(peers(40, null));
    const injected = new World().honest();
    for (let i = 0; i < 10; i += 1) injected.convert(injected.click(), (15 + i * 4) * 1_000);
    const [reason] = evaluateRules(rules, injected.features(), stats);
    expect(reason?.code).toBe('CLICK_INJECTION');
    expect(reason?.evidence[0]?.feature).toBe('quickConversionShare');
    // Two returning customers with a full cart among eight sales: chance.
    const quick = new World().honest();
    for (let i = 0; i < 2; i += 1) quick.convert(quick.click(), 40_000);
    expect(quick.reasons(stats)).toEqual([]);
  });

  it('CHECKOUT_HIJACKING: clicks opened from the shop’s own cart and checkout pages', () => {
    const stats = statsOf(peers(40, null));
    const extension = new World().honest();
    for (let i = 0; i < 12; i += 1) {
      const click = extension.click({ referrerHost: i % 2 ? 'www.shop.example' : 'checkout.shop.example' });
      extension.convert(click, 20_000);
    }
    expect(extension.features().values.shopReferrerShare).toBeCloseTo(12 / 412, 3);
    expect(extension.reasons(stats)).toContain('CHECKOUT_HIJACKING');
    // One visitor who followed a link back into the shop is no case.
    const back = new World().honest();
    back.click({ referrerHost: 'www.shop.example' });
    expect(back.reasons(stats)).toEqual([]);
    // Another shop's pages are not this shop's.
    const other = new World().honest();
    for (let i = 0; i < 12; i += 1) other.click({ referrerHost: 'www.other-shop.example' });
    expect(other.features().values.shopReferrerShare).toBe(0);
  });

  it('REPEAT_BUYERS: the same few buyers again and again; regular customers of a cashback portal are no ring', () => {
    const stats = statsOf(peers(40, null));
    const ring = new World().honest();
    for (let i = 0; i < 12; i += 1)
      ring.convert(ring.click(), 8 * 60_000, { subjectId: `ring-${i % 3}`, ipHash: `home-${i % 2}` });
    const [reason] = evaluateRules(rules, ring.features(), stats);
    expect(reason?.code).toBe('REPEAT_BUYERS');
    expect(ring.features().values.repeatBuyerShare).toBeCloseTo(12 / 20, 3);
    // Different accounts behind one address (a household, or a ring on a few routers) count as one buyer too.
    const household = new World().honest();
    for (let i = 0; i < 12; i += 1)
      household.convert(household.click(), 8 * 60_000, { subjectId: `member-${i}`, ipHash: `home-${i % 2}` });
    expect(household.reasons(stats)).toContain('REPEAT_BUYERS');
    // A cashback portal's regulars: a quarter of its sales by customers who bought twice, as its peers'.
    const portals = statsOf(peers(40, 'cashback', (i) => ({ repeatBuyerShare: 0.25 + 0.05 * jitter(i, 9) })));
    const portal = new World().honest();
    for (const c of portal.clicks) c.campaignId = 'cashback';
    for (let i = 0; i < 24; i += 1)
      portal.convert(portal.click({ campaignId: 'cashback' }), 8 * 60_000, {
        subjectId: i < 6 ? `regular-${i % 3}` : `s-new-${i}`,
      });
    expect(portal.features().values.repeatBuyerShare).toBeCloseTo(6 / 32, 3);
    expect(portal.reasons(portals)).toEqual([]);
  });

  it('DISPUTED_SALES: sales charged back or cancelled as fraud, beyond the rare dispute any audience has', () => {
    const stats = statsOf(peers(40, null));
    /** The honest month plus 12 sales, `disputed` of which come back as disputes and `returned` as returns. */
    const withRefunds = (disputed: number, returned: number) => {
      const w = new World().honest();
      const sales = Array.from({ length: 12 }, () => w.convert(w.click(), 20 * 60_000));
      for (const [i, sale] of sales.slice(0, disputed + returned).entries())
        w.refunds.push({ orderId: sale.orderId, amount: sale.amount, disputed: i < disputed });
      return w;
    };
    const stolen = withRefunds(5, 0);
    expect(stolen.features().values.disputedSaleShare).toBeCloseTo(5 / 20, 3);
    const [reason] = evaluateRules(rules, stolen.features(), stats);
    expect(reason?.code).toBe('DISPUTED_SALES');
    // One chargeback among twenty sales is chance; returns are no disputes.
    expect(withRefunds(1, 0).reasons(stats)).toEqual([]);
    expect(withRefunds(0, 5).features().values.disputedSaleShare).toBe(0);
    expect(withRefunds(0, 5).reasons(stats)).toEqual([]);
    // A category where disputes are common (tickets resold, say): a fifth of every peer's sales.
    const risky = statsOf(peers(40, 'tickets', (i) => ({ disputedSaleShare: 0.2 + 0.05 * jitter(i, 11) })));
    const ticketSeller = withRefunds(5, 0);
    for (const c of ticketSeller.clicks) c.campaignId = 'tickets';
    expect(ticketSeller.features().campaignId).toBe('tickets');
    expect(ticketSeller.reasons(risky)).toEqual([]);
  });

  it('reads a refund reason as a dispute when it names a chargeback, a dispute or fraud', () => {
    for (const reason of [
      'chargeback',
      'Charge-back',
      'CHARGEBACK_RECEIVED',
      'dispute',
      'cancelled: fraud',
      'stolen_card',
    ])
      expect(isDisputeReason(reason), reason).toBe(true);
    for (const reason of [
      'returned',
      'cancelled',
      'not_received',
      'parcel stolen from doorstep',
      '',
      null,
      undefined,
    ])
      expect(isDisputeReason(reason), String(reason)).toBe(false);
  });

  it('CLICK_SPAMMING: sprayed clicks converting far under the peers, sales credited days later', () => {
    const w = new World();
    const clicks = Array.from({ length: 3000 }, () => w.click());
    for (let i = 0; i < 6; i += 1) w.convert(clicks[i * 400] as ClickEvent, (2 + i) * DAY);
    w.previous = [2800, 3100, 2900];
    expect(w.reasons(statsOf(peers(40, null)))).toContain('CLICK_SPAMMING');
    // Without peers there is no conversion rate to call low: the rule does not guess.
    expect(w.reasons()).not.toContain('CLICK_SPAMMING');
  });

  it('CLICK_SPAMMING spares slow buyers who convert like their peers (long consideration)', () => {
    const w = new World();
    const clicks = Array.from({ length: 400 }, () => w.click());
    for (let i = 0; i < 8; i += 1) w.convert(clicks[i * 50] as ClickEvent, (2 + i) * DAY);
    expect(w.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('CLICK_SPAMMING: clicks stuffed into many unrelated sites, with sales no better than the peers', () => {
    const w = new World().honest();
    const sites = ['daily-4f2a1.com', 'top-9c0d2.net', 'best-11ab3.info', 'my-77e01.site', 'news-0b9f4.com'];
    for (let i = 0; i < 300; i += 1) w.click({ referrerHost: i % 2 === 0 ? null : `www.${sites[i % 5]}` });
    const reasons = evaluateRules(rules, w.features(), statsOf(peers(40, null)));
    expect(reasons.map((r) => r.code)).toEqual(['CLICK_SPAMMING']);
    expect(reasons[0]?.evidence[0]).toMatchObject({ feature: 'referrerSiteSpread', threshold: 0.2 });
    expect(reasons[0]?.evidence[0]?.condition).toMatch(/where a rate of 0\.05 gives/);
  });

  it('CLICK_SPAMMING on a small affiliate: the chance test, not a click count, decides', () => {
    const stats = statsOf(peers(40, null));
    const small = (strays: number) => {
      const w = new World();
      for (let i = 0; i < 60; i += 1)
        w.click({
          referrerHost: i < strays ? `www.news-${(i % 12).toString(16)}a1f.com` : 'www.instagram.com',
        });
      return w;
    };
    // Sixty clicks, half of them from a dozen unrelated sites: stuffed.
    expect(small(30).reasons(stats)).toEqual(['CLICK_SPAMMING']);
    // A small deal community posted on a few forums (a fifth of its clicks), or three strays: no case.
    expect(small(12).reasons(stats)).toEqual([]);
    expect(small(3).reasons(stats)).toEqual([]);
    // From 100 clicks a fifth of them from unrelated sites is enough.
    const larger = new World();
    for (let i = 0; i < 100; i += 1)
      larger.click({
        referrerHost: i < 30 ? `www.news-${(i % 12).toString(16)}a1f.com` : 'www.instagram.com',
      });
    expect(larger.reasons(stats)).toEqual(['CLICK_SPAMMING']);
  });

  /** An honest month whose 400 clicks arrive from `hosts` in turn. */
  const arrivingFrom = (hosts: string[]) => {
    const w = new World();
    const clicks = Array.from({ length: 400 }, (_, i) =>
      w.click({ referrerHost: hosts[i % hosts.length] as string }),
    );
    for (let i = 0; i < 8; i += 1) w.convert(clicks[i * 40] as ClickEvent, (3 + i * 17) * 60_000);
    return w;
  };

  it('CLICK_SPAMMING spares an audience arriving from its platforms, however many hosts they use', () => {
    const w = arrivingFrom([
      'www.instagram.com',
      'l.instagram.com',
      'instagram.com',
      'm.youtube.com',
      'www.youtube.com',
    ]);
    // Clicks from search, messengers, webmail and link-in-bio pages are the audience's too: no strays.
    for (let i = 0; i < 60; i += 1)
      w.click({
        referrerHost: ['www.google.de', 'web.whatsapp.com', 't.co', 'mail.google.com', 'linktr.ee'][
          i % 5
        ] as string,
      });
    expect(w.features().values.referrerSiteSpread).toBe(0);
    // A few strays from small sites stay under the bar.
    for (let i = 0; i < 20; i += 1)
      w.click({ referrerHost: ['a-blog.example', 'forum.example.org'][i % 2] as string });
    expect(w.features().values.referrerSiteSpread).toBeCloseTo(20 / 480, 3);
    expect(w.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('CLICK_SPAMMING: a newsletter read in many webmail clients is one site, whatever the providers', () => {
    const w = arrivingFrom([
      'poczta.wp.pl',
      'poczta.onet.pl',
      'poczta.interia.pl',
      'mail.orange.fr',
      'webmail.ziggo.nl',
    ]);
    expect(w.features().values.referrerSiteSpread).toBe(0);
    expect(w.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('CLICK_SPAMMING spares a campaign whose creators are all syndicated across many sites', () => {
    // A campaign of bloggers whose posts are republished by aggregators: spread referrers are its normal.
    const syndicated = peers(30, 'syndicated', (i) => ({ referrerSiteSpread: 0.45 + 0.1 * jitter(i, 11) }));
    const stats = statsOf([...syndicated, ...peers(60, 'links')]);
    const w = new World().honest();
    for (const c of w.clicks) c.campaignId = 'syndicated';
    for (let i = 0; i < 300; i += 1) w.click({ campaignId: 'syndicated', referrerHost: `blog-${i % 9}.org` });
    expect(w.features().values.referrerSiteSpread).toBeGreaterThan(0.4);
    expect(w.reasons(stats)).toEqual([]);
  });

  it('reads a referrer host as its site', () => {
    expect(siteOf('l.instagram.com')).toBe('instagram.com');
    expect(siteOf('WWW.TikTok.com.')).toBe('tiktok.com');
    expect(siteOf('shop.example.co.uk')).toBe('example.co.uk');
    expect(siteOf('news.example.com.au')).toBe('example.com.au');
    expect(siteOf('localhost')).toBe('localhost');
  });

  it('DATACENTER_TRAFFIC: clicks from a few cloud networks (matched by stored prefix)', () => {
    const w = new World().honest();
    for (let i = 0; i < 150; i += 1) w.click({ ipPrefix: `3.120.${i % 4}.0/24` });
    expect(w.reasons(statsOf(peers(40, null)))).toContain('DATACENTER_TRAFFIC');
    // A newsletter: mail scanners open every link for its readers, from their providers' large pools.
    const newsletter = new World().honest();
    for (let i = 0; i < 90; i += 1)
      newsletter.click({ ipPrefix: `3.${120 + (i % 8)}.${i}.0/24`, referrerHost: null });
    expect(newsletter.features().values.datacenterShare).toBeGreaterThan(0.15);
    expect(newsletter.reasons(statsOf(peers(40, null)))).toEqual([]);
    // Bots rotating through a cloud's pools: many networks, but half of all clicks.
    const rotating = new World().honest();
    for (let i = 0; i < 400; i += 1) rotating.click({ ipPrefix: `3.${120 + (i % 8)}.${i % 250}.0/24` });
    expect(rotating.reasons(statsOf(peers(40, null)))).toContain('DATACENTER_TRAFFIC');
    expect(datacenter.contains('2a01:4f8:10::/48')).toBe(true);
    expect(datacenter.contains('84.12.3.0/24')).toBe(false);
  });

  it('DATACENTER_TRAFFIC and BOT_USER_AGENTS on a small affiliate: the chance test, not a click count, decides', () => {
    const small = () => {
      const w = new World();
      for (let i = 0; i < 12; i += 1) w.click();
      return w;
    };
    const hosted = small();
    for (let i = 0; i < 14; i += 1) hosted.click({ ipPrefix: `3.120.${i % 2}.0/24` });
    expect(hosted.reasons(statsOf(peers(40, null)))).toEqual(['DATACENTER_TRAFFIC']);
    const scripted = small();
    for (let i = 0; i < 14; i += 1) scripted.click({ userAgent: 'python-requests/2.32' });
    expect(scripted.reasons(statsOf(peers(40, null)))).toEqual(['BOT_USER_AGENTS']);
    // Two link previews (a cloud fetch with a crawler's agent) when the post went up: any small creator's.
    const previewed = small();
    for (let i = 0; i < 8; i += 1) previewed.click();
    for (let i = 0; i < 2; i += 1)
      previewed.click({ ipPrefix: `3.120.${i}.0/24`, userAgent: 'facebookexternalhit/1.1' });
    expect(previewed.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('BOT_USER_AGENTS: clicks fired by an app’s own HTTP stack, not by a person in a browser or a web view', () => {
    const stats = statsOf(peers(40, null));
    const injected = new World().honest();
    for (let i = 0; i < 40; i += 1)
      injected.click({
        userAgent: `Dalvik/2.1.0 (Linux; U; Android 14; SM-A54${i % 10}B Build/UP1A.231005.007)`,
      });
    expect(injected.features().values.botUserAgentShare).toBeCloseTo(40 / 440, 3);
    expect(injected.reasons(stats)).toEqual(['BOT_USER_AGENTS']);
    // Instagram's in-app browser on Android is a web view a person tapped in.
    const inApp = new World().honest();
    for (let i = 0; i < 40; i += 1)
      inApp.click({
        userAgent: `Mozilla/5.0 (Linux; Android 14; SM-A54${i % 10}B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 Instagram 361.0.0.35.82 Android`,
      });
    expect(inApp.features().values.botUserAgentShare).toBe(0);
    expect(inApp.reasons(stats)).toEqual([]);
  });

  it('BOT_USER_AGENTS: one browser string replayed from a few networks; a newsletter’s link scanners are not', () => {
    const stats = statsOf(peers(40, null));
    const replayed = new World().honest();
    for (let i = 0; i < 300; i += 1)
      replayed.click({
        userAgent: 'Mozilla/5.0 (Linux; Android 10; K) Chrome/124',
        ipPrefix: `91.64.${i % 3}.0/24`,
      });
    expect(replayed.reasons(stats)).toEqual(['BOT_USER_AGENTS']);
    // Security scanners open every link of a mailing for its readers, with one string, from large pools.
    const scanned = new World().honest();
    for (let i = 0; i < 250; i += 1)
      scanned.click({
        userAgent: 'Mozilla/5.0 (Windows NT 10.0) Scanner',
        ipPrefix: `91.${i % 250}.${i % 7}.0/24`,
      });
    expect(scanned.features().values.topUserAgentShare).toBeGreaterThan(0.3);
    expect(scanned.reasons(stats)).toEqual([]);
  });

  it('BOT_USER_AGENTS: automation user agents', () => {
    const w = new World().honest();
    for (let i = 0; i < 80; i += 1) w.click({ userAgent: 'Mozilla/5.0 HeadlessChrome/119.0' });
    expect(w.reasons()).toContain('BOT_USER_AGENTS');
  });

  it('COUPON_LEAKAGE: the code sold without a click from countries outside the audience', () => {
    const w = new World().honest();
    const abroad = ['US', 'BR', 'IN', 'MX', 'TR', 'PL'];
    for (let i = 0; i < 12; i += 1)
      w.convert(null, 0, { couponCode: 'anna10', country: abroad[i % 6] as string });
    expect(w.reasons()).toEqual(['COUPON_LEAKAGE']);
    const [reason] = evaluateRules(rules, w.features(), statsOf(peers(40, null)));
    expect(reason?.evidence[0]).toMatchObject({ feature: 'couponForeignShare', value: 1, threshold: 0.3 });
  });

  it('COUPON_LEAKAGE spares followers who type the code they saw, however many buy without a click', () => {
    const w = new World().honest();
    for (let i = 0; i < 40; i += 1)
      w.convert(null, 0, { couponCode: 'anna10', country: i % 10 === 0 ? 'AT' : 'DE' });
    const features = w.features();
    expect(features.values.couponWithoutClickShare).toBe(1);
    expect(w.reasons()).toEqual([]);
    expect(w.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('SELF_REFERRAL holds the payout: the affiliate bought through its own link', () => {
    const w = new World().honest();
    w.convert(w.click(), 600_000, { subjectId: 'creator-a' });
    expect(w.reasons()).toEqual(['SELF_REFERRAL']);
    // As a guest, from an IP the affiliate's own account used.
    const viaIp = new World().honest();
    viaIp.convert(viaIp.click(), 600_000, { ipHash: 'ip-own', subjectId: null });
    expect(viaIp.reasons()).toEqual(['SELF_REFERRAL']);
    const [features] = computeFeatures(viaIp.events(), datacenter);
    expect(features && assess(rules, features, undefined).decision).toBe('held');
    // Another customer's account behind the same address (carrier NAT, a privacy relay) is that customer.
    const sharedIp = new World().honest();
    sharedIp.convert(sharedIp.click(), 600_000, { ipHash: 'ip-own', subjectId: 'neighbour-7' });
    expect(sharedIp.reasons()).toEqual([]);
  });

  it('REFUND_ABUSE: most credited sales refunded', () => {
    const w = new World().honest();
    for (const c of w.conversions) w.refunds.push({ orderId: c.orderId, amount: c.amount });
    expect(w.reasons()).toEqual(['REFUND_ABUSE']);
    expect(w.reasons(statsOf(peers(40, null)))).toEqual(['REFUND_ABUSE']);
  });

  it('VELOCITY_SPIKE: clicks far above the affiliate’s own history that hardly buy, from few networks', () => {
    const w = new World();
    for (let i = 0; i < 500; i += 1) w.click();
    // A bought blast: a thousand clicks from five networks.
    for (let i = 0; i < 1000; i += 1) w.click({ ipPrefix: `185.220.${i % 5}.0/24` });
    // Or from every network, behind a few replayed browser strings.
    const proxied = new World();
    for (let i = 0; i < 1500; i += 1) proxied.click();
    proxied.convert(proxied.clicks[10] as ClickEvent, 600_000);
    proxied.previous = [160, 180, 170];
    expect(proxied.reasons(statsOf(peers(40, null, () => ({ userAgentDiversity: 0.6 }))))).toEqual([
      'VELOCITY_SPIKE',
    ]);
    w.convert(w.clicks[10] as ClickEvent, 600_000);
    w.previous = [160, 180, 170];
    expect(w.reasons(statsOf(peers(40, null)))).toEqual(['VELOCITY_SPIKE']);
    // A viral post: as many new clicks, and its visitors buy like the peers' do.
    const viral = new World();
    for (let i = 0; i < 1500; i += 1) viral.click();
    for (let i = 0; i < 30; i += 1) viral.convert(viral.clicks[i * 50] as ClickEvent, (5 + i) * 60_000);
    viral.previous = [160, 180, 170];
    expect(viral.reasons(statsOf(peers(40, null)))).toEqual([]);
    // Nor when its wider audience buys less: people on their own connections and phones (their browser
    // strings differ by model and version), not a few networks or a few replayed browsers.
    const wide = new World();
    for (let i = 0; i < 1500; i += 1)
      wide.click({
        userAgent: `Mozilla/5.0 (Linux; Android ${10 + (i % 5)}; SM-A${i % 400}) Chrome/14${i % 3}`,
      });
    wide.convert(wide.clicks[10] as ClickEvent, 600_000);
    wide.previous = [160, 180, 170];
    expect(wide.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('VELOCITY_SPIKE: new clicks from a few networks, even when some of them buy', () => {
    const farmed = new World();
    for (let i = 0; i < 300; i += 1) farmed.click();
    for (let i = 0; i < 1200; i += 1) farmed.click({ ipPrefix: `102.89.${i % 40}.0/24` });
    for (let i = 0; i < 30; i += 1) farmed.convert(farmed.clicks[i * 50] as ClickEvent, (5 + i) * 60_000);
    farmed.previous = [160, 180, 170];
    const [reason] = evaluateRules(rules, farmed.features(), statsOf(peers(40, null)));
    expect(reason?.code).toBe('VELOCITY_SPIKE');
    expect(reason?.evidence.map((e) => e.feature).sort()).toEqual(['growth', 'ipPrefixesPerClick']);
    // A history of a few clicks a period is enough to compare with.
    farmed.previous = [4, 6, 5];
    expect(farmed.reasons(statsOf(peers(40, null)))).toEqual(['VELOCITY_SPIKE']);
  });

  it('VELOCITY_SPIKE: a blast of clicks from a few subnets on one day; a post that takes off is people', () => {
    const stats = statsOf(peers(40, null));
    /** The honest month plus 200 clicks within hours of one day, from `networks` networks. */
    const burst = (networks: number) => {
      const w = new World().honest();
      for (let i = 0; i < 200; i += 1)
        w.click({ ts: START + 10 * DAY + i * 60_000, ipPrefix: `102.89.${i % networks}.0/24` });
      return w;
    };
    const bought = burst(3);
    // The busiest day holds the blast and the day's share of the honest clicks (about 14), from their networks.
    expect(bought.features().support.peakDayClicks).toBeGreaterThan(200);
    expect(bought.features().values.peakDayNetworkShare).toBeGreaterThan(0.9);
    const [reason] = evaluateRules(rules, bought.features(), stats);
    expect(reason?.code).toBe('VELOCITY_SPIKE');
    expect(reason?.evidence.map((e) => e.feature)).toEqual(['peakDayNetworkShare']);
    // A story that takes off: as many clicks that day, from people on their own connections.
    expect(burst(200).features().values.peakDayNetworkShare).toBeLessThan(0.1);
    expect(burst(200).reasons(stats)).toEqual([]);
    // A busiest day of 20 clicks says nothing, wherever they came from.
    const small = new World();
    for (let i = 0; i < 20; i += 1)
      small.click({ ts: START + 3 * DAY + i * 60_000, ipPrefix: '102.89.1.0/24' });
    expect(small.features().values.peakDayNetworkShare).toBe(0);
  });

  it('GEO_MISMATCH: sales in another country than their clicks', () => {
    const w = new World().honest();
    for (const c of w.conversions.slice(0, 6)) c.country = 'US';
    expect(w.reasons()).toEqual(['GEO_MISMATCH']);
  });

  it('PAID_SEARCH: clicks through search ads the affiliate paid for; a stray paid click is no case', () => {
    const bidder = new World().honest();
    for (let i = 0; i < 120; i += 1) bidder.click({ referrerHost: 'www.google.de', adClick: true });
    expect(bidder.reasons(statsOf(peers(40, null)))).toEqual(['PAID_SEARCH']);
    const stray = new World().honest();
    for (let i = 0; i < 3; i += 1) stray.click({ referrerHost: 'www.google.de', adClick: true });
    expect(stray.reasons(statsOf(peers(40, null)))).toEqual([]);
    // A partner the programme allows to run search ads (a price comparison site's product ads): allowed traffic.
    bidder.affiliate = { ...bidder.affiliate, searchAdsAllowed: true };
    expect(bidder.features().values.paidSearchShare).toBe(0);
    expect(bidder.reasons(statsOf(peers(40, null)))).toEqual([]);
  });

  it('OFF_MARKET_CLICKS: clicks from countries the programme sells nothing in, beyond what travellers give', () => {
    const stats = statsOf(
      peers(40, null, (i) => ({ unsoldCountryShare: Math.max(0, 0.02 + 0.02 * jitter(i, 13)) })),
    );
    const farmed = new World().honest();
    farmed.market = new Set(['DE', 'AT']);
    for (let i = 0; i < 300; i += 1)
      farmed.click({ country: ['BD', 'PK', 'VN'][i % 3] as string, ipPrefix: `103.7.${i % 4}.0/24` });
    expect(farmed.reasons(stats)).toEqual(['OFF_MARKET_CLICKS']);
    // An expatriate creator's audience at home: as many clicks from there, each person on its own connection.
    const expat = new World().honest();
    expat.market = new Set(['DE', 'AT']);
    for (let i = 0; i < 300; i += 1) expat.click({ country: 'BR', ipPrefix: `177.${i % 250}.${i % 9}.0/24` });
    expect(expat.reasons(stats)).toEqual([]);
    // Without the programme's markets (one affiliate's events alone) nothing is off-market.
    farmed.market = undefined;
    expect(farmed.reasons(stats)).toEqual([]);
    // Expatriates and travellers: a few clicks from abroad are any audience's.
    const travelled = new World().honest();
    travelled.market = new Set(['DE', 'AT']);
    for (let i = 0; i < 25; i += 1) travelled.click({ country: ['TH', 'US', 'AE'][i % 3] as string });
    expect(travelled.reasons(stats)).toEqual([]);
    // A small audience abroad, 30 clicks of which two pairs share a network: too few clicks to call them few
    // networks.
    const abroad = new World();
    abroad.market = new Set(['DE', 'AT']);
    for (let i = 0; i < 30; i += 1)
      abroad.click({ country: 'BR', ipPrefix: `177.${i < 4 ? i % 2 : i}.3.0/24` });
    expect(abroad.features().values.unsoldCountryShare).toBe(1);
    expect(abroad.reasons(stats)).toEqual([]);
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
    const calm = assess(rules, honest, { version: 3, score: 0.42, contributions: { clicks: 1 } });
    expect(calm).toMatchObject({ decision: 'approved', level: 'low', modelVersion: 3, reasons: [] });
    const population = peers(40, null);
    const odd = assess(
      rules,
      { ...honest, values: { ...honest.values, hourConcentration: 0.9 } },
      { version: 3, score: 0.71, contributions: { hourConcentration: 0.6, clicks: 0.3, growth: 0.1 } },
      statsOf(population),
    );
    expect(odd.decision).toBe('flagged');
    expect(odd.reasons[0]).toMatchObject({
      code: 'ANOMALOUS_PROFILE',
      evidence: [
        { feature: 'hourConcentration', percentile: 100 },
        { feature: 'clicks' },
        { feature: 'growth' },
      ],
    });
  });

  it('places values among the peers by quantiles, without keeping any row', () => {
    const population = Array.from({ length: 200 }, (_, i) => ({
      ...honest,
      affiliateId: `p${i}`,
      values: { ...honest.values, clicks: i },
    }));
    const { quantiles, median } = statsOf(population).population.features.clicks;
    expect(quantiles).toHaveLength(101);
    expect(median).toBe(99.5);
    expect(percentileOf(quantiles, 100)).toBeGreaterThanOrEqual(49);
    expect(percentileOf(quantiles, 100)).toBeLessThanOrEqual(51);
    expect(percentileOf(quantiles, 1000)).toBe(100);
  });

  it('refuses a rules file that names an unknown feature or has no conditions', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-')), 'rules.yaml');
    const text = fs.readFileSync(new URL('./rules.yaml', import.meta.url), 'utf8');
    fs.writeFileSync(file, text.replace('fastConversionShare:', 'fastShare:'));
    expect(() => loadRules(file)).toThrow(/fastShare/);
    fs.writeFileSync(file, text.replace('{ above: 0.06, peersAbove: 4,', '{ peersAbove: 4,'));
    expect(() => loadRules(file)).toThrow(/absolute floor/);
    fs.writeFileSync(file, text.replace('minimum: { referredClicks: 30 }', 'minimum: { referrers: 30 }'));
    expect(() => loadRules(file)).toThrow(/referrers/);
  });

  it("asks an alternative for the evidence it names, beside its rule's", () => {
    // Sprayed from many sites, but on too few referred clicks to tell: the alternative's own minimum keeps it quiet.
    const w = new World();
    for (let i = 0; i < 100; i += 1) w.click({ referrerHost: null });
    for (let i = 0; i < 40; i += 1) w.click({ referrerHost: `site-${i % 10}.net` });
    const features = w.features();
    expect(features.values.referrerSiteSpread).toBeGreaterThan(0.2);
    expect(features.support.referredClicks).toBeLessThan(300);
    const strict = structuredClone(rules);
    const spamming = strict.rules.CLICK_SPAMMING;
    if (!spamming || !Array.isArray(spamming.when)) throw new Error('CLICK_SPAMMING has alternatives');
    // The referrer alternative alone (not its stricter twin for small affiliates).
    spamming.when = spamming.when.slice(0, 2);
    const alternative = spamming.when[1];
    if (!alternative) throw new Error('the referrer alternative');
    alternative.minimum = { referredClicks: 300 };
    expect(evaluateRules(strict, features, statsOf(peers(40, null))).map((r) => r.code)).toEqual([]);
    alternative.minimum = { referredClicks: 30 };
    expect(evaluateRules(strict, features, statsOf(peers(40, null))).map((r) => r.code)).toEqual([
      'CLICK_SPAMMING',
    ]);
  });
});

describe('the chance test', () => {
  it('keeps a rule quiet on a share that a handful of events gives by chance', () => {
    const w = new World();
    const clicks = Array.from({ length: 400 }, () => w.click());
    // 2 of 7 sales within seconds: 29 %, over the floor, yet what a 3 % rate gives one affiliate in 60.
    w.convert(clicks[0] as ClickEvent, 4_000);
    w.convert(clicks[1] as ClickEvent, 6_000);
    for (let i = 2; i < 7; i += 1) w.convert(clicks[i * 20] as ClickEvent, (4 + i) * 60_000);
    expect(w.features().values.fastConversionShare).toBeCloseTo(2 / 7);
    expect(w.reasons()).toEqual([]);
  });
});

describe('rules against peers whose honest population is itself extreme', () => {
  it('a campaign where most sales come by code: its code-typers are normal, a leaked code is not', () => {
    // Thirty creators who post stories: 70-90 % of their coupon sales without a click, from their own audience.
    const campaign = peers(30, 'stories', (i) => ({
      couponWithoutClickShare: 0.8 + 0.1 * jitter(i, 7),
      couponForeignShare: Math.max(0, 0.05 + 0.05 * jitter(i, 8)),
      couponCountrySpread: Math.max(0, 0.04 + 0.04 * jitter(i, 9)),
    }));
    const stats = statsOf([...campaign, ...peers(60, 'links')]);
    const typer = new World().honest();
    for (const c of typer.clicks) c.campaignId = 'stories';
    for (let i = 0; i < 40; i += 1)
      typer.convert(null, 0, { couponCode: 'ANNA10', country: i % 8 === 0 ? 'AT' : 'DE' });
    expect(typer.reasons(stats)).toEqual([]);
    const leaked = new World().honest();
    for (const c of leaked.clicks) c.campaignId = 'stories';
    const abroad = ['US', 'BR', 'IN', 'MX', 'TR', 'PL', 'FR', 'ES'];
    for (let i = 0; i < 40; i += 1)
      leaked.convert(null, 0, { couponCode: 'ANNA10', country: abroad[i % 8] as string });
    const reasons = evaluateRules(rules, leaked.features(), stats);
    expect(reasons.map((r) => r.code)).toEqual(['COUPON_LEAKAGE']);
    expect(reasons[0]?.evidence[0]).toMatchObject({
      feature: 'couponForeignShare',
      peers: 'the 30 affiliates of campaign stories',
      percentile: 100,
    });
    expect(reasons[0]?.evidence[0]?.peerMedian).toBeCloseTo(0.05, 1);
  });

  it('a code that leaks at home: sales by code far beyond its own earlier periods and beyond its clicks', () => {
    const stats = statsOf(peers(40, null, (i) => ({ couponGrowth: 0.3 * jitter(i, 11) })));
    const leakedAt = (w: World) => {
      w.previousCoupons = [5, 6, 4];
      // Home-market buyers, as the creator's own followers would be: only the sudden start tells.
      for (let i = 0; i < 40; i += 1) w.convert(null, 0, { couponCode: 'ANNA10' });
      return w;
    };
    const leaked = leakedAt(new World().honest());
    const reasons = evaluateRules(rules, leaked.features(), stats);
    expect(reasons.map((r) => r.code)).toEqual(['COUPON_LEAKAGE']);
    expect(reasons[0]?.evidence.map((e) => e.feature).sort()).toEqual([
      'couponGrowth',
      'couponWithoutClickShare',
    ]);
    // The same sales for a creator whose clicks grew tenfold: its audience grew.
    const grown = leakedAt(new World().honest());
    grown.previous = [40, 45, 35];
    expect(grown.reasons(stats)).toEqual([]);
    // A code that had not sold before: the creator has started to use it.
    const started = leakedAt(new World().honest());
    started.previousCoupons = [];
    expect(started.reasons(stats)).toEqual([]);
    // A season in which every code sells three to six times as much as before.
    const season = statsOf(peers(40, null, (i) => ({ couponGrowth: 2.2 + 0.4 * jitter(i, 11) })));
    expect(leaked.reasons(season)).toEqual([]);
    // A podcast sells by code alone: a new episode lifts its sales as suddenly, with no clicks to measure it by.
    const podcast = leakedAt(new World());
    expect(podcast.features().values.couponGrowth).toBeGreaterThan(1.58);
    expect(podcast.reasons(stats)).toEqual([]);
  });

  it('a campaign with a 30 % refund rate: the bar is its own median plus its spread', () => {
    const fashion = peers(30, 'fashion', (i) => ({ refundRate: 0.3 + 0.12 * jitter(i, 10) }));
    const stats = statsOf([...fashion, ...peers(60, 'electronics')]);
    const returns = (refunded: number, campaignId: string) => {
      const w = new World().honest();
      for (let i = 0; i < 12; i += 1) w.convert(w.clicks[i * 30 + 7] as ClickEvent, (20 + i) * 60_000);
      for (const c of w.clicks) c.campaignId = campaignId;
      for (const c of w.conversions.slice(0, refunded))
        w.refunds.push({ orderId: c.orderId, amount: c.amount });
      return w;
    };
    // 13 of 20 sales returned: above the absolute floor of one half, yet within what fashion buyers do.
    expect(returns(13, 'fashion').reasons(stats)).toEqual([]);
    // The same share among electronics peers, whose median is 5 %, is abuse.
    expect(returns(13, 'electronics').reasons(stats)).toEqual(['REFUND_ABUSE']);
    // And everything returned is abuse in fashion too.
    const abuse = evaluateRules(rules, returns(20, 'fashion').features(), stats);
    expect(abuse.map((r) => r.code)).toEqual(['REFUND_ABUSE']);
    expect(abuse[0]?.evidence[0]?.condition).toMatch(
      /^1 is above 0\.68\d* \(at least 0\.5, and the peers. median 0\.\d+ plus 3 robust deviations of 0\.\d+\); 20 of 20, where a rate of 0\.3 gives 6 \(chance 3\.5e-11\); 100th percentile of the 30 affiliates of campaign fashion$/,
    );
    expect(abuse[0]?.compares).toMatch(/fashion returns/);
  });

  it('a campaign with a 30 % refund rate: returns spread over its buyers are normal, a ring of a few is not', () => {
    const fashion = peers(30, 'fashion', (i) => ({
      refundRate: 0.3 + 0.12 * jitter(i, 10),
      // Now and then a buyer returns two orders of a creator's in a period.
      repeatRefunderShare: i % 5 === 0 ? 0.3 : 0,
    }));
    const stats = statsOf([...fashion, ...peers(60, 'electronics')]);
    const returns = (refunded: number, buyers: number) => {
      const w = new World().honest();
      for (let i = 0; i < 12; i += 1) w.convert(w.clicks[i * 30 + 7] as ClickEvent, (20 + i) * 60_000);
      for (const c of w.clicks) c.campaignId = 'fashion';
      w.conversions.slice(0, refunded).forEach((c, i) => {
        // `buyers` customers behind the refunded orders (guest checkouts: the IP is the buyer then).
        c.subjectId = null;
        c.ipHash = `ring-${i % buyers}`;
        w.refunds.push({ orderId: c.orderId, amount: c.amount });
      });
      return w;
    };
    // 8 of 20 returned by 8 different buyers: fashion.
    expect(returns(8, 8).reasons(stats)).toEqual([]);
    // One serial returner among them (two orders) changes nothing.
    expect(returns(8, 7).reasons(stats)).toEqual([]);
    // 8 of 20 returned by two buyers, four orders each: a ring, though the share is fashion's own.
    const ring = evaluateRules(rules, returns(8, 2).features(), stats);
    expect(ring.map((r) => r.code)).toEqual(['REFUND_ABUSE']);
    expect(ring[0]?.evidence.map((e) => e.feature)).toEqual(['refundRate', 'repeatRefunderShare']);
    // Too few refunds to tell a ring from chance: three orders by one buyer.
    expect(returns(3, 1).reasons(stats)).toEqual([]);
  });

  it('a programme whose partners run search ads: a share like theirs is normal, far beyond it is not', () => {
    const stats = statsOf(peers(40, 'ppc', (i) => ({ paidSearchShare: 0.3 + 0.05 * jitter(i, 7) })));
    const like = new World().honest();
    for (const c of like.clicks) c.campaignId = 'ppc';
    for (let i = 0; i < 160; i += 1) like.click({ campaignId: 'ppc', adClick: true });
    expect(like.features().values.paidSearchShare).toBeCloseTo(160 / 560, 3);
    expect(like.reasons(stats)).toEqual([]);
    const far = new World().honest();
    for (const c of far.clicks) c.campaignId = 'ppc';
    for (let i = 0; i < 1200; i += 1) far.click({ campaignId: 'ppc', adClick: true });
    expect(far.reasons(stats)).toContain('PAID_SEARCH');
  });

  it('a small campaign is compared with the whole population instead', () => {
    const stats = statsOf([...peers(5, 'tiny'), ...peers(40, 'big')]);
    const w = new World().honest();
    for (const c of w.clicks) c.campaignId = 'tiny';
    for (const c of w.conversions) w.refunds.push({ orderId: c.orderId, amount: c.amount });
    const [reason] = evaluateRules(rules, w.features(), stats);
    expect(reason?.evidence[0]?.peers).toBe('all 45 affiliates of the period');
  });
});
