// Per affiliate and period, the traffic profile the fraud detector scores: pure functions over event rows,
// so they are tested with plain arrays. `payout-scorer.ts` does the loading around them.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandIPv6 } from '../../storage/identifiers.ts';
import { isPlatformSite, isWebmailHost, WEBMAIL } from './platform-sites.ts';

/** The features, in the order the model sees them. */
export const FEATURES = [
  'clicks',
  'conversions',
  'ipPrefixesPerClick',
  'maxClicksPerIp',
  'datacenterShare',
  'userAgentDiversity',
  'botUserAgentShare',
  'topUserAgentShare',
  'referrerSiteSpread',
  'shopReferrerShare',
  'paidSearchShare',
  'conversionRate',
  'fastConversionShare',
  'quickConversionShare',
  'slowConversionShare',
  'conversionDelayFlatness',
  'couponWithoutClickShare',
  'couponForeignShare',
  'couponCountrySpread',
  'couponGrowth',
  'selfReferralShare',
  'refundRate',
  'repeatRefunderShare',
  'repeatBuyerShare',
  'disputedSaleShare',
  'newCustomerShare',
  'geoMismatchShare',
  'unsoldCountryShare',
  'hourConcentration',
  'peakDayNetworkShare',
  'growth',
] as const;
export type FeatureName = (typeof FEATURES)[number];
export type FeatureVector = Record<FeatureName, number>;

/** How much evidence a feature rests on: rules need a minimum before they speak. */
export interface Support {
  clicks: number;
  conversions: number;
  /** Conversions whose click (by click id) is known, so a click-to-conversion delay exists. */
  timedConversions: number;
  /** Conversions carrying one of the affiliate's coupon codes. */
  couponConversions: number;
  /** Conversions whose click has a country, and the conversion too. */
  geoConversions: number;
  /** Clicks in the affiliate's earlier periods (same length), on average. */
  previousClicks: number;
  /** Sales with the affiliate's coupon codes in its earlier periods, on average (0 without any). */
  previousCouponSales: number;
  /** Coupon conversions without a click of the owner that carry a country. */
  couponGeoConversions: number;
  /** Clicks that came with a referrer. */
  referredClicks: number;
  /** Clicks that carry a country, while the countries the programme sells in are known. */
  geoClicks: number;
  /** Credited sales whose buyer (customer id or IP) is known. */
  buyerSales: number;
  /** Clicks on the affiliate's busiest day (UTC) of the period. */
  peakDayClicks: number;
  /** Refunded orders credited to the affiliate whose buyer (customer id, else IP) is known. */
  refundedOrders: number;
}

export interface AffiliateFeatures {
  affiliateId: string;
  /** The campaign most of its clicks carry (its peer group), or null. */
  campaignId: string | null;
  values: FeatureVector;
  support: Support;
}

export interface ClickEvent {
  affiliateId: string;
  clickId: string | null;
  ts: number;
  ipHash: string | null;
  ipPrefix: string | null;
  userAgent: string | null;
  country: string | null;
  campaignId: string | null;
  /** The host of the page the click came from, or null for direct traffic. */
  referrerHost: string | null;
  /** The landing URL carried a search-ad click id (`gclid`, `msclkid` …): the click was a paid ad. */
  adClick: boolean;
  /** The landing URL's host: the shop's site the click led to. */
  landingHost: string | null;
}

export interface ConversionEvent {
  /** The affiliate credited: the conversion's own, else its click's. */
  affiliateId: string | null;
  clickId: string | null;
  orderId: string;
  subjectId: string | null;
  ipHash: string | null;
  amount: number;
  couponCode: string | null;
  newCustomer: number | null;
  country: string | null;
  ts: number;
}

export interface RefundEvent {
  orderId: string;
  amount: number;
  /** Its reason names a bank dispute or fraud (a chargeback, a cancellation for fraud): see `isDisputeReason`. */
  disputed?: boolean;
}

const DISPUTE_WORDS = /charge[\s_-]?back|dispute|fraud|unauthori[sz]ed|stolen[\s_-]card|card[\s_-]stolen/i;

/**
 * A refund reason that says the card holder's bank took the money back, or the shop cancelled the order as
 * fraud: what a stolen card or a fake order ends in. Returns, cancellations and "not received" (a parcel stolen
 * from the doorstep too) are not disputes.
 */
export function isDisputeReason(reason: string | null | undefined): boolean {
  return reason ? DISPUTE_WORDS.test(reason) : false;
}

export interface AffiliateInfo {
  id: string;
  subjectId: string | null;
  coupons: string[];
  /** The programme allows the affiliate to run search ads: its paid clicks are allowed traffic. */
  searchAdsAllowed?: boolean;
}

/** What the click-side features need of an affiliate's clicks in the period, as counts. */
interface ClickSummary {
  clicks: number;
  /** Clicks per stored IP prefix. */
  prefixes: Map<string, number>;
  /** Clicks per user agent. */
  agents: Map<string, number>;
  /** Clicks per UTC hour of day (24). */
  hours: number[];
  maxClicksPerIp: number;
  /** Clicks per country, where the click has one. */
  countries: Map<string, number>;
  /** Clicks per campaign, where the click has one. */
  campaigns: Map<string, number>;
  /** Clicks per referring site, where the click has a referrer. */
  referrerSites: Map<string, number>;
  /** Clicks referred by a page of the site they landed on: opened from the shop itself. */
  shopReferred: number;
  /** Clicks through a search ad (`ClickEvent.adClick`). */
  adClicks: number;
  /** Clicks per UTC day (days since the epoch). */
  days: Map<number, number>;
  /** Clicks on the busiest day, and of those the clicks from that day's three most frequent networks. */
  peakDay: { clicks: number; topNetworks: number };
}

/** Everything the features of one period need. */
export interface PeriodEvents {
  start: number;
  end: number;
  /** Clicks in the period, of the affiliates being scored. */
  clicks: ClickEvent[];
  /** Clicks a conversion in the period points to, wherever they fell (also before the period). */
  clicksById: Map<string, ClickEvent>;
  /** Conversions in the period: credited to the affiliates, or carrying their coupons. */
  conversions: ConversionEvent[];
  refunds: RefundEvent[];
  affiliates: Map<string, AffiliateInfo>;
  /** IP hashes the affiliate's own subject used (for self-referral). */
  ownIpHashes: Map<string, Set<string>>;
  /** Clicks of each affiliate in each of its earlier periods of the same length (most recent first). */
  previousClicks: Map<string, number[]>;
  /** Sales with each affiliate's coupon codes in each of its earlier periods (most recent first). */
  previousCouponSales: Map<string, number[]>;
  /**
   * The countries the programme sells in (`salesCountriesOf`), where the events are the whole period's; absent
   * when only one affiliate's are loaded (the model keeps the set of the population it was fitted on).
   */
  salesCountries?: ReadonlySet<string>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * User agents of automation rather than people: headless browsers, HTTP libraries (an Android app's own HTTP
 * stack, `Dalvik/` or `okhttp`, fires requests no person opened in a browser or an in-app web view), crawlers.
 */
const AUTOMATION_USER_AGENT =
  /headless|phantomjs|selenium|webdriver|puppeteer|playwright|python-requests|python-urllib|aiohttp|httpx|curl\/|wget\/|go-http-client|okhttp|dalvik\/|java\/|libwww|scrapy|node-fetch|axios\/|bot\b|spider|crawler/i;

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** Matches stored IP prefixes (`203.0.113.0/24`, `2001:db8:1::/48`) against provider ranges. */
export class DatacenterRanges {
  private readonly v4: { from: number; to: number }[] = [];
  private readonly v6: { bits: bigint; mask: bigint }[] = [];
  readonly compiled: string;

  constructor(ranges: Record<string, string[]>, compiled = '') {
    this.compiled = compiled;
    for (const cidr of Object.values(ranges).flat()) {
      const [base = '', lengthText = ''] = cidr.split('/');
      const length = Number(lengthText);
      if (base.includes(':')) {
        const bits = ipv6ToBigInt(base);
        const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(128 - length);
        if (bits !== undefined) this.v6.push({ bits: bits & mask, mask });
      } else {
        const start = ipv4ToInt(base);
        if (start === undefined) continue;
        const size = 2 ** (32 - length);
        const from = Math.floor(start / size) * size;
        this.v4.push({ from, to: from + size - 1 });
      }
    }
  }

  static load(file = path.join(HERE, 'datacenter-ranges.json')): DatacenterRanges {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      compiled: string;
      ranges: Record<string, string[]>;
    };
    return new DatacenterRanges(json.ranges, json.compiled);
  }

  /** Whether a stored prefix lies in a provider's range. */
  contains(prefix: string | null): boolean {
    if (!prefix) return false;
    const base = prefix.split('/')[0] ?? '';
    if (base.includes(':')) {
      const bits = ipv6ToBigInt(base);
      return bits !== undefined && this.v6.some((r) => (bits & r.mask) === r.bits);
    }
    const value = ipv4ToInt(base);
    return value !== undefined && this.v4.some((r) => value >= r.from && value <= r.to);
  }
}

function ipv6ToBigInt(ip: string): bigint | undefined {
  const groups = expandIPv6(ip);
  return groups?.some(Number.isNaN) === false
    ? groups.reduce((value, g) => (value << 16n) + BigInt(g), 0n)
    : undefined;
}

const SECOND = 1000;
const DAY = 86_400 * SECOND;
/** Click-to-conversion delay bins for the flatness measure: log-spaced from 1 s to 30 days. */
const DELAY_BINS = 12;
const LOG_MAX_DELAY = Math.log((30 * DAY) / SECOND);

/** Normalised entropy (0 = all in one bin, 1 = spread evenly) of a histogram. */
function flatness(bins: number[]): number {
  const total = bins.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let entropy = 0;
  for (const count of bins) {
    if (count > 0) {
      const p = count / total;
      entropy -= p * Math.log(p);
    }
  }
  return entropy / Math.log(bins.length);
}

interface Tally {
  clicks: number;
  /** Distinct IP prefixes and user agents. */
  prefixes: number;
  maxPerIp: number;
  datacenter: number;
  agents: number;
  bots: number;
  /** Clicks of the most frequent user agent. */
  topAgent: number;
  hours: number[];
  conversions: number;
  timed: number;
  fast: number;
  /** Under a minute from click to sale. */
  quick: number;
  slow: number;
  delayBins: number[];
  couponConversions: number;
  couponWithoutClick: number;
  /** Countries of the coupon conversions without a click of the owner. */
  couponCountries: Map<string, number>;
  /** Countries of the conversions credited through the affiliate's own clicks. */
  clickedCountries: Map<string, number>;
  selfReferrals: number;
  amount: number;
  refunded: number;
  /** Refunded orders per buyer (customer id, else IP hash), of the orders credited to the affiliate. */
  refundsByBuyer: Map<string, number>;
  /** Credited orders refunded as a dispute (a chargeback, a cancellation for fraud). */
  disputed: number;
  /** The credited sales' customer ids and IP hashes, each with its number of sales (`s:` and `i:` keys). */
  buyers: Map<string, number>;
  /** Each credited sale's buyer keys in `buyers` (customer id, IP hash), for sales with either. */
  buyerKeys: [string | null, string | null][];
  newCustomerKnown: number;
  newCustomers: number;
  geoKnown: number;
  geoMismatch: number;
}

function emptyTally(): Tally {
  return {
    clicks: 0,
    prefixes: 0,
    maxPerIp: 0,
    datacenter: 0,
    agents: 0,
    bots: 0,
    topAgent: 0,
    hours: new Array(24).fill(0),
    conversions: 0,
    timed: 0,
    fast: 0,
    quick: 0,
    slow: 0,
    delayBins: new Array(DELAY_BINS).fill(0),
    couponConversions: 0,
    couponWithoutClick: 0,
    couponCountries: new Map(),
    clickedCountries: new Map(),
    selfReferrals: 0,
    amount: 0,
    refunded: 0,
    refundsByBuyer: new Map(),
    disputed: 0,
    buyers: new Map(),
    buyerKeys: [],
    newCustomerKnown: 0,
    newCustomers: 0,
    geoKnown: 0,
    geoMismatch: 0,
  };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function total(counts: Map<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}

/** Fewer observations than this, and an audience's countries are not known well enough to compare with. */
const MIN_AUDIENCE = 10;
/** A country with less than this share of an audience is outside it. */
const AUDIENCE_SHARE = 0.05;

/**
 * The countries of an affiliate's own audience: those of its clicks, or else of the sales its clicks brought,
 * each with at least 5 % of them; undefined while fewer than 10 carry a country.
 */
function audienceCountries(
  clicks: Map<string, number>,
  clicked: Map<string, number>,
): Set<string> | undefined {
  for (const counts of [clicks, clicked]) {
    const n = total(counts);
    if (n >= MIN_AUDIENCE) {
      return new Set([...counts].filter(([, c]) => c >= AUDIENCE_SHARE * n).map(([country]) => country));
    }
  }
  return undefined;
}

/** The share of `counts` outside the two largest keys: 0 when they come from one or two places. */
function spread(counts: Map<string, number>): number {
  const n = total(counts);
  if (n === 0) return 0;
  const [first = 0, second = 0] = [...counts.values()].sort((a, b) => b - a);
  return 1 - (first + second) / n;
}

/**
 * The share of referred clicks from sites beyond the affiliate's two main ones that are not platforms an
 * audience follows a creator from (`isPlatformSite`): a creator on many platforms, or a newsletter read in
 * several webmail clients, has none; clicks sprayed through ad stacks and page loads come from small sites.
 */
function straySiteShare(counts: Map<string, number>): number {
  const n = total(counts);
  if (n === 0) return 0;
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  let stray = 0;
  for (const [site, clicks] of ranked.slice(2)) if (!isPlatformSite(site)) stray += clicks;
  return stray / n;
}

/**
 * The site a referrer host belongs to: its last two labels, or three under a two-level public suffix
 * (`l.instagram.com` and `www.instagram.com` are one site, `shop.example.co.uk` is `example.co.uk`).
 */
export function siteOf(host: string): string {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length <= 2) return labels.join('.');
  const second = labels.at(-2) as string;
  const keep =
    second.length <= 3 && ['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'ne', 'or'].includes(second)
      ? 3
      : 2;
  return labels.slice(-keep).join('.');
}

/** The key with the largest count, or null. */
function largest(counts: Map<string, number> | undefined): string | null {
  let best: string | null = null;
  let most = 0;
  for (const [key, n] of counts ?? []) {
    if (n > most || (n === most && best !== null && key < best)) {
      best = key;
      most = n;
    }
  }
  return best;
}

/** Counts an affiliate's clicks the way the click-side features read them. */
function summariseClicks(clicks: ClickEvent[]): Map<string, ClickSummary> {
  const summaries = new Map<string, ClickSummary>();
  const perIp = new Map<string, Map<string, number>>();
  /** Referrer host to site, once per host; and landing host to site. */
  const sites = new Map<string, string>();
  const landingSites = new Map<string, string>();
  for (const click of clicks) {
    let s = summaries.get(click.affiliateId);
    if (!s) {
      s = {
        clicks: 0,
        prefixes: new Map(),
        agents: new Map(),
        hours: new Array(24).fill(0),
        maxClicksPerIp: 0,
        countries: new Map(),
        campaigns: new Map(),
        referrerSites: new Map(),
        shopReferred: 0,
        adClicks: 0,
        days: new Map(),
        peakDay: { clicks: 0, topNetworks: 0 },
      };
      summaries.set(click.affiliateId, s);
      perIp.set(click.affiliateId, new Map());
    }
    s.clicks += 1;
    if (click.adClick) s.adClicks += 1;
    if (click.ipPrefix) s.prefixes.set(click.ipPrefix, (s.prefixes.get(click.ipPrefix) ?? 0) + 1);
    if (click.userAgent) s.agents.set(click.userAgent, (s.agents.get(click.userAgent) ?? 0) + 1);
    if (click.country) s.countries.set(click.country, (s.countries.get(click.country) ?? 0) + 1);
    if (click.campaignId) s.campaigns.set(click.campaignId, (s.campaigns.get(click.campaignId) ?? 0) + 1);
    if (click.referrerHost) {
      let site = sites.get(click.referrerHost);
      if (site === undefined) {
        site = isWebmailHost(click.referrerHost) ? WEBMAIL : siteOf(click.referrerHost);
        sites.set(click.referrerHost, site);
      }
      s.referrerSites.set(site, (s.referrerSites.get(site) ?? 0) + 1);
      if (click.landingHost) {
        let shop = landingSites.get(click.landingHost);
        if (shop === undefined) {
          shop = siteOf(click.landingHost);
          landingSites.set(click.landingHost, shop);
        }
        if (shop === site) s.shopReferred += 1;
      }
    }
    const hour = Math.floor(click.ts / 3_600_000) % 24; // UTC hour, without a Date per click
    s.hours[hour] = (s.hours[hour] as number) + 1;
    const day = Math.floor(click.ts / DAY);
    s.days.set(day, (s.days.get(day) ?? 0) + 1);
    if (click.ipHash) {
      const ips = perIp.get(click.affiliateId) as Map<string, number>;
      const n = (ips.get(click.ipHash) ?? 0) + 1;
      ips.set(click.ipHash, n);
      if (n > s.maxClicksPerIp) s.maxClicksPerIp = n;
    }
  }
  summarisePeakDays(clicks, summaries);
  return summaries;
}

/** A busiest day with fewer clicks says nothing about where they came from. */
const PEAK_DAY_MIN_CLICKS = 30;

/**
 * Each affiliate's busiest day (UTC) of the period, and how many of its clicks came from that day's three most
 * frequent networks: a blast of bought traffic comes from a few subnets within hours, while a post that takes
 * off brings people on their own connections. A second pass over the clicks, for the busiest days of at least
 * 30 clicks only.
 */
function summarisePeakDays(clicks: ClickEvent[], summaries: Map<string, ClickSummary>): void {
  const peakOf = new Map<string, number>();
  for (const [affiliateId, s] of summaries) {
    let peak = -1;
    for (const [day, n] of s.days)
      if (n > s.peakDay.clicks) {
        s.peakDay.clicks = n;
        peak = day;
      }
    if (s.peakDay.clicks >= PEAK_DAY_MIN_CLICKS) peakOf.set(affiliateId, peak);
  }
  if (peakOf.size === 0) return;
  const networks = new Map<string, Map<string, number>>();
  for (const click of clicks) {
    if (!click.ipPrefix || peakOf.get(click.affiliateId) !== Math.floor(click.ts / DAY)) continue;
    let counts = networks.get(click.affiliateId);
    if (!counts) {
      counts = new Map();
      networks.set(click.affiliateId, counts);
    }
    increment(counts, click.ipPrefix);
  }
  for (const [affiliateId, counts] of networks) {
    const top = [...counts.values()].sort((a, b) => b - a);
    (summaries.get(affiliateId) as ClickSummary).peakDay.topNetworks =
      (top[0] ?? 0) + (top[1] ?? 0) + (top[2] ?? 0);
  }
}

/** A country with fewer than this share of the period's sales (that carry a country) is not a market. */
const MARKET_SHARE = 0.002;

/**
 * The countries the programme sells in: those with at least 0.2 % of the period's sales that carry a country
 * (and at least one). Clicks from elsewhere cannot become sales: shops ship to some countries only.
 */
export function salesCountriesOf(conversions: readonly ConversionEvent[]): Set<string> {
  const counts = new Map<string, number>();
  for (const c of conversions) if (c.country) increment(counts, c.country);
  const floor = Math.max(1, MARKET_SHARE * total(counts));
  return new Set([...counts].filter(([, n]) => n >= floor).map(([country]) => country));
}

/**
 * The features of every affiliate in `affiliates` with any activity in the period. Conversions count for the
 * affiliate they are credited to; a conversion with an affiliate's coupon but credited elsewhere (or to no
 * click at all) counts as that coupon's leakage. `market` is the set of countries the programme sells in, where
 * the events do not give it (`PeriodEvents.salesCountries`); without either, no click counts as off-market.
 */
export function computeFeatures(
  events: PeriodEvents,
  datacenter: DatacenterRanges,
  market: ReadonlySet<string> | undefined = events.salesCountries,
): AffiliateFeatures[] {
  const tallies = new Map<string, Tally>();
  const tally = (id: string) => {
    let t = tallies.get(id);
    if (!t) {
      t = emptyTally();
      tallies.set(id, t);
    }
    return t;
  };
  const couponOwner = new Map<string, string>();
  for (const a of events.affiliates.values())
    for (const code of a.coupons) couponOwner.set(code.toUpperCase(), a.id);
  const datacenterCache = new Map<string, boolean>();

  const summaries = summariseClicks(events.clicks);
  for (const [affiliateId, summary] of summaries) {
    if (!events.affiliates.has(affiliateId)) continue;
    const t = tally(affiliateId);
    t.clicks = summary.clicks;
    t.prefixes = summary.prefixes.size;
    t.agents = summary.agents.size;
    t.maxPerIp = summary.maxClicksPerIp;
    t.hours = summary.hours;
    for (const [prefix, n] of summary.prefixes) {
      let dc = datacenterCache.get(prefix);
      if (dc === undefined) {
        dc = datacenter.contains(prefix);
        datacenterCache.set(prefix, dc);
      }
      if (dc) t.datacenter += n;
    }
    for (const [agent, n] of summary.agents) {
      if (AUTOMATION_USER_AGENT.test(agent)) t.bots += n;
      if (n > t.topAgent) t.topAgent = n;
    }
  }

  const orderAffiliate = new Map<string, { affiliateId: string; amount: number; buyer: string | null }>();
  for (const conversion of events.conversions) {
    const click = conversion.clickId ? events.clicksById.get(conversion.clickId) : undefined;
    const credited = conversion.affiliateId ?? click?.affiliateId ?? null;
    const owner = conversion.couponCode ? couponOwner.get(conversion.couponCode.toUpperCase()) : undefined;
    if (owner !== undefined) {
      const o = tally(owner);
      o.couponConversions += 1;
      // Leakage: the code was used, but no click of its owner led to the sale.
      if (!click || click.affiliateId !== owner) {
        o.couponWithoutClick += 1;
        if (conversion.country) increment(o.couponCountries, conversion.country);
      }
    }
    if (credited === null || !events.affiliates.has(credited)) continue;
    const t = tally(credited);
    t.conversions += 1;
    t.amount += conversion.amount;
    const account = conversion.subjectId ? `s:${conversion.subjectId}` : null;
    const address = conversion.ipHash ? `i:${conversion.ipHash}` : null;
    orderAffiliate.set(conversion.orderId, {
      affiliateId: credited,
      amount: conversion.amount,
      buyer: account ?? address,
    });
    if (account) increment(t.buyers, account);
    if (address) increment(t.buyers, address);
    if (account || address) t.buyerKeys.push([account, address]);
    if (conversion.newCustomer !== null) {
      t.newCustomerKnown += 1;
      t.newCustomers += conversion.newCustomer;
    }
    const info = events.affiliates.get(credited);
    const own = events.ownIpHashes.get(credited);
    // The affiliate's own customer account, or (for a guest checkout) an IP its account used. A sale to another
    // customer account from one of those IPs is that customer's: carrier NAT and privacy relays put many
    // people behind one address.
    if (
      (info?.subjectId && conversion.subjectId === info.subjectId) ||
      (conversion.subjectId === null && conversion.ipHash !== null && own?.has(conversion.ipHash))
    ) {
      t.selfReferrals += 1;
    }
    if (click && click.affiliateId === credited) {
      if (conversion.country) increment(t.clickedCountries, conversion.country);
      const delay = conversion.ts - click.ts;
      if (delay >= 0) {
        t.timed += 1;
        if (delay < 10 * SECOND) t.fast += 1;
        if (delay < 60 * SECOND) t.quick += 1;
        if (delay > DAY) t.slow += 1;
        const position = Math.log(Math.max(1, delay / SECOND)) / LOG_MAX_DELAY;
        const bin = Math.min(DELAY_BINS - 1, Math.floor(position * DELAY_BINS));
        t.delayBins[bin] = (t.delayBins[bin] as number) + 1;
      }
      if (click.country && conversion.country) {
        t.geoKnown += 1;
        if (click.country !== conversion.country) t.geoMismatch += 1;
      }
    }
  }
  const refundedOrders = new Set<string>();
  const disputedOrders = new Set<string>();
  for (const refund of events.refunds) {
    const order = orderAffiliate.get(refund.orderId);
    if (!order) continue;
    const t = tally(order.affiliateId);
    t.refunded += Math.min(refund.amount, order.amount);
    if (refund.disputed && !disputedOrders.has(refund.orderId)) {
      disputedOrders.add(refund.orderId);
      t.disputed += 1;
    }
    // An order refunded in parts is one refunded order.
    if (order.buyer !== null && !refundedOrders.has(refund.orderId)) {
      refundedOrders.add(refund.orderId);
      increment(t.refundsByBuyer, order.buyer);
    }
  }

  const result: AffiliateFeatures[] = [];
  for (const [affiliateId, t] of tallies) {
    const summary = summaries.get(affiliateId);
    const audience = audienceCountries(summary?.countries ?? new Map(), t.clickedCountries);
    const couponGeo = total(t.couponCountries);
    let foreign = 0;
    if (audience) for (const [country, n] of t.couponCountries) if (!audience.has(country)) foreign += n;
    const previous = events.previousClicks.get(affiliateId) ?? [];
    const previousMean = previous.length > 0 ? previous.reduce((a, b) => a + b, 0) / previous.length : 0;
    const growth = previousMean > 0 ? Math.log2((t.clicks + 1) / (previousMean + 1)) : 0;
    const couponPrevious = previousCouponMean(events.previousCouponSales.get(affiliateId), previous.length);
    const maxHour = Math.max(...t.hours);
    let geoClicks = 0;
    let offMarket = 0;
    if (market && market.size > 0) {
      for (const [country, n] of summary?.countries ?? []) {
        geoClicks += n;
        if (!market.has(country)) offMarket += n;
      }
    }
    const refundedKnown = total(t.refundsByBuyer);
    let repeatRefunds = 0;
    for (const n of t.refundsByBuyer.values()) if (n >= 2) repeatRefunds += n;
    let repeatSales = 0;
    for (const [account, address] of t.buyerKeys)
      if (
        (account && (t.buyers.get(account) as number) >= 2) ||
        (address && (t.buyers.get(address) as number) >= 2)
      )
        repeatSales += 1;
    result.push({
      affiliateId,
      campaignId: largest(summary?.campaigns),
      values: {
        clicks: t.clicks,
        conversions: t.conversions,
        ipPrefixesPerClick: ratio(t.prefixes, t.clicks),
        maxClicksPerIp: t.maxPerIp,
        datacenterShare: ratio(t.datacenter, t.clicks),
        userAgentDiversity: ratio(t.agents, t.clicks),
        botUserAgentShare: ratio(t.bots, t.clicks),
        // One browser string behind many clicks: a script replaying its user agent.
        topUserAgentShare: ratio(t.topAgent, t.clicks),
        // Referred clicks from sites beyond the affiliate's two main ones and beyond the known platforms: a
        // creator's audience arrives from the platforms it posts on; clicks sprayed through ad stacks and
        // page-load pixels arrive from many small sites.
        referrerSiteSpread: straySiteShare(summary?.referrerSites ?? new Map()),
        // Clicks opened from a page of the shop they led to (its cart, its checkout): a visitor already there
        // needs no link to it; an extension or script that opens the link as the customer pays does.
        shopReferrerShare: ratio(summary?.shopReferred ?? 0, t.clicks),
        // Clicks through search ads the affiliate paid for, unless the programme allows it to run them: a
        // creator's link is shared, not advertised on search.
        paidSearchShare: events.affiliates.get(affiliateId)?.searchAdsAllowed
          ? 0
          : ratio(summary?.adClicks ?? 0, t.clicks),
        conversionRate: ratio(t.conversions, t.clicks),
        fastConversionShare: ratio(t.fast, t.timed),
        // Sales under a minute after their click: a returning customer with a full cart pays that fast now and
        // then; a click fired as the customer checks out (an app or extension taking the credit) always does.
        quickConversionShare: ratio(t.quick, t.timed),
        slowConversionShare: ratio(t.slow, t.timed),
        conversionDelayFlatness: t.timed >= 2 ? flatness(t.delayBins) : 0,
        couponWithoutClickShare: ratio(t.couponWithoutClick, t.couponConversions),
        // Coupon sales without a click, from countries outside the affiliate's own audience.
        couponForeignShare: ratio(foreign, couponGeo),
        // Coupon sales without a click spread beyond two countries: an audience is local, a leaked code is not.
        couponCountrySpread: spread(t.couponCountries),
        selfReferralShare: ratio(t.selfReferrals, t.conversions),
        refundRate: ratio(t.refunded, t.amount),
        // Refunded orders whose buyer refunded another order of the affiliate's too: returns are spread over
        // an audience's many buyers; a ring that buys to earn the commission and sends it back is a few, again.
        repeatRefunderShare: ratio(repeatRefunds, refundedKnown),
        // Sales whose buyer (the same customer account, or the same IP address) bought through the affiliate
        // again in the period: an audience is many people buying once; a ring buying to earn the commission,
        // or a household, is a few buying again and again.
        repeatBuyerShare: ratio(repeatSales, t.buyerKeys.length),
        // Sales the card holder's bank took back, or the shop cancelled as fraud, within the period: an honest
        // audience's chargebacks are rare and come weeks later; stolen cards and fake orders end so quickly.
        disputedSaleShare: ratio(t.disputed, t.conversions),
        newCustomerShare: ratio(t.newCustomers, t.newCustomerKnown),
        geoMismatchShare: ratio(t.geoMismatch, t.geoKnown),
        // Clicks from countries the programme sells nothing in: they cannot become sales (a shop ships to some
        // countries only), so they are bought or farmed clicks, or an audience the shop cannot serve.
        unsoldCountryShare: ratio(offMarket, geoClicks),
        hourConcentration: ratio(maxHour, t.clicks),
        // On the busiest day (of at least 30 clicks, else 0), the share of its clicks from its three most
        // frequent networks: bought traffic arrives in a blast from a few subnets; a post that takes off, from
        // people.
        peakDayNetworkShare: ratio(summary?.peakDay.topNetworks ?? 0, summary?.peakDay.clicks ?? 0),
        // Clicks against the affiliate's own earlier periods: log2 of the ratio, 0 without history.
        growth,
        // Coupon sales against the affiliate's own earlier periods, beyond what its clicks grew: a code that leaks
        // starts selling suddenly to people the creator did not reach; an audience that grows clicks more too.
        couponGrowth:
          couponPrevious > 0
            ? Math.log2((t.couponConversions + 1) / (couponPrevious + 1)) - Math.max(0, growth)
            : 0,
      },
      support: {
        clicks: t.clicks,
        conversions: t.conversions,
        timedConversions: t.timed,
        couponConversions: t.couponConversions,
        geoConversions: t.geoKnown,
        previousClicks: previousMean,
        previousCouponSales: couponPrevious,
        couponGeoConversions: couponGeo,
        referredClicks: total(summary?.referrerSites ?? new Map()),
        geoClicks,
        refundedOrders: refundedKnown,
        buyerSales: t.buyerKeys.length,
        peakDayClicks: summary?.peakDay.clicks ?? 0,
      },
    });
  }
  return result.sort((a, b) => (a.affiliateId < b.affiliateId ? -1 : 1));
}

/**
 * The mean coupon sales of the earlier periods the affiliate was active in: those its clicks show, or back to
 * its oldest coupon sale (a podcast has no clicks); 0 without any.
 */
function previousCouponMean(sales: number[] | undefined, clickPeriods: number): number {
  const periods = Math.max(clickPeriods, sales?.length ?? 0);
  if (!sales || periods === 0) return 0;
  return sales.reduce((a, b) => a + b, 0) / periods;
}

/** Heavy-tailed counts enter the model on a log scale; shares and rates as they are. */
const LOG_SCALED: ReadonlySet<FeatureName> = new Set(['clicks', 'conversions', 'maxClicksPerIp']);

/** The vector the model scores, in FEATURES order. */
export function modelInput(values: FeatureVector): number[] {
  return FEATURES.map((f) => (LOG_SCALED.has(f) ? Math.log1p(values[f]) : values[f]));
}
