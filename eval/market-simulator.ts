/**
 * A simulated marketplace influencer and affiliate programme: one payout period of clicks, conversions and
 * refunds, plus two or three earlier periods of the same length as history, with fraud of eleven kinds hidden
 * inside honest-looking affiliates at three intensities.
 *
 * Written from a plain description of how real influencer and affiliate programmes behave, without reading
 * the detector's code, its rules or the other simulators, so that an evaluation against it does not inherit
 * their assumptions.
 *
 * Modelling assumptions:
 * - Each seed draws its own world: home market (currency, order values, time zone, share of phones, iPhones
 *   and browsers), the shop's category mix with each category's refund rate, the click-to-order rate, how
 *   often people type codes, in-app browser use, sale days. Everything is drawn from ranges, so that no
 *   fixed threshold fits every seed.
 * - Attribution is the last click within a 30-day cookie window, per browser: an in-app browser has its own
 *   cookie jar, and an order placed in another browser or device loses the click. A coupon code of an
 *   affiliate wins over another affiliate's cookie; the conversion then carries the code owner's own click
 *   only if that affiliate has one in the window.
 * - A click's country is where its IP address is (a VPN moves it); a conversion's country is the customer's
 *   billing and shipping country. The two differ honestly for VPN users and dishonestly for stolen cards.
 * - The shop's own orders (no affiliate) are in the stream: regular customers buy on their own, and those
 *   orders are what cookie stuffing, click injection, click spamming, brand bidding and extension hijacking
 *   take the credit for.
 * - A refund arrives at least half a day after its order (returns take days, chargebacks weeks) and is in the
 *   stream only if it arrives before the period ends; so most chargebacks of the current period are unseen.
 * - `scale` scales the volumes (clicks, orders, customers), not the number of affiliates.
 * - IP blocks are synthetic but shaped like the real allocation: regional registries, datacentre and crawler
 *   ranges, carrier-grade NAT pools shared by many phones, iCloud Private Relay egress.
 * - Time zones are November standard time; each audience's local evening and weekend drive its peaks.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const COOKIE_WINDOW = 30 * DAY;

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/** How to draw one simulated programme: the seed draws the world, the rest sizes it. */
export interface MarketOptions {
  seed: number;
  honest?: number;
  fraudPerKind?: number;
  periodStart?: Date;
  periodDays?: number;
  scale?: number;
}

/** One affiliate of the programme with its ground truth (`fraud`, `shape`, `intensity`). */
export interface MarketAffiliate {
  id: string;
  name: string;
  couponCodes: string[];
  subjectId: string;
  fraud: string | null;
  shape: string;
  intensity: 'blatant' | 'moderate' | 'subtle' | null;
}

/** The simulated payout period, its affiliates and every event up to its end, history included. */
export interface MarketCampaign {
  periodStart: Date;
  periodEnd: Date;
  affiliates: MarketAffiliate[];
  events: Array<
    Record<string, unknown> & { id: string; type: 'click' | 'conversion' | 'refund'; ts: string }
  >;
}

type MarketEvent = MarketCampaign['events'][number];

export const HONEST_SHAPES = [
  'nano-creator',
  'micro-creator',
  'mid-creator',
  'mega-creator',
  'youtube-reviewer',
  'seo-blog',
  'cashback-portal',
  'coupon-site',
  'price-comparison',
  'newsletter',
  'podcast',
  'viral-post',
  'new-creator',
  'expat-creator',
  'try-on-haul',
  'b2b-partner',
  'community-member',
] as const;

export const FRAUD_KINDS = [
  'cookie-stuffing',
  'click-injection',
  'click-spamming',
  'coupon-leakage',
  'self-referral',
  'refund-abuse',
  'bot-traffic',
  'incentivized-traffic',
  'brand-bidding',
  'stolen-card-orders',
  // The eleventh kind: a "coupon finder" or cashback browser extension run by the affiliate silently opens
  // its affiliate link on the shop's cart or checkout page, taking the credit from whoever referred the
  // customer (the practice reported of PayPal Honey in 2024, and of many smaller extensions before it).
  'extension-hijacking',
] as const;

type HonestShape = (typeof HONEST_SHAPES)[number];
type FraudKind = (typeof FRAUD_KINDS)[number];
type Intensity = 'blatant' | 'moderate' | 'subtle';
type Range = readonly [number, number];

const INTENSITIES: readonly Intensity[] = ['blatant', 'moderate', 'subtle'];

/** Simulates one payout period and its history; the same options give the same events. */
export function simulateMarketCampaign(options: MarketOptions): MarketCampaign {
  return new MarketSimulation(resolveSettings(options)).run();
}

interface Settings {
  readonly seed: number;
  readonly honest: number;
  readonly fraudPerKind: number;
  readonly periodStart: number;
  readonly periodDays: number;
  readonly scale: number;
}

function resolveSettings(options: MarketOptions): Settings {
  const settings = {
    seed: options.seed,
    honest: options.honest ?? 200,
    fraudPerKind: options.fraudPerKind ?? 6,
    periodStart: (options.periodStart ?? new Date('2026-11-01T00:00:00Z')).getTime(),
    periodDays: options.periodDays ?? 14,
    scale: options.scale ?? 1,
  };
  if (!Number.isFinite(settings.seed)) throw new RangeError('seed must be a finite number');
  if (!Number.isInteger(settings.honest) || settings.honest < 0) throw new RangeError('honest must be ≥ 0');
  if (!Number.isInteger(settings.fraudPerKind) || settings.fraudPerKind < 0)
    throw new RangeError('fraudPerKind must be ≥ 0');
  if (!Number.isInteger(settings.periodDays) || settings.periodDays < 1)
    throw new RangeError('periodDays must be a whole number ≥ 1');
  if (!(settings.scale > 0 && settings.scale <= 20)) throw new RangeError('scale must be in (0, 20]');
  if (!Number.isFinite(settings.periodStart)) throw new RangeError('periodStart must be a valid date');
  return settings;
}

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness: sfc32, seeded through splitmix32 of a hash of the seed, so that any number is a seed.
// ---------------------------------------------------------------------------------------------------------

function hashSeed(seed: number): number {
  const text = String(seed);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = hashSeed(seed);
    const split = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  range(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  between(range: Range): number {
    return this.range(range[0], range[1]);
  }

  /** An integer in [low, high], both included. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }

  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let count = 0;
    let product = this.next();
    while (product > limit) {
      count++;
      product *= this.next();
    }
    return count;
  }

  /** Rounds a non-negative expectation to a whole count without losing its fraction on average. */
  round(expected: number): number {
    const whole = Math.floor(expected);
    return whole + (this.chance(expected - whole) ? 1 : 0);
  }

  /** Base-36 characters, five at a time: one draw each, few intermediate strings. */
  token(length: number): string {
    let text = '';
    while (text.length < length)
      text += Math.floor(this.next() * 60_466_176)
        .toString(36)
        .padStart(5, '0');
    return text.slice(0, length);
  }

  hex(length: number): string {
    let text = '';
    while (text.length < length)
      text += Math.floor(this.next() * 65_536)
        .toString(16)
        .padStart(4, '0');
    return text.slice(0, length);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const held = items[i] as T;
      items[i] = items[j] as T;
      items[j] = held;
    }
    return items;
  }
}

/** A weighted choice among a few items (linear scan: the lists are short). */
class Weighted<T> {
  private readonly items: T[] = [];
  private readonly cumulative: number[] = [];
  private total = 0;

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    for (const [item, weight] of entries) {
      if (!(weight > 0)) continue;
      this.total += weight;
      this.items.push(item);
      this.cumulative.push(this.total);
    }
    if (this.items.length === 0) throw new Error('a weighted choice needs a positive weight');
  }

  pick(rng: Rng): T {
    const target = rng.next() * this.total;
    for (let i = 0; i < this.items.length; i++) {
      if (target < (this.cumulative[i] ?? 0)) return this.items[i] as T;
    }
    return this.items[this.items.length - 1] as T;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reference data: countries, markets, categories
// ---------------------------------------------------------------------------------------------------------

type Registry = 'ripe' | 'arin' | 'lacnic' | 'apnic' | 'afrinic';

interface CountryInfo {
  /** Hours from UTC in November. */
  readonly offset: number;
  readonly registry: Registry;
  readonly locale: string;
  /** Share of phones that are iPhones. */
  readonly ios: number;
}

const COUNTRIES: Readonly<Record<string, CountryInfo>> = {
  DE: { offset: 1, registry: 'ripe', locale: 'de_DE', ios: 0.36 },
  AT: { offset: 1, registry: 'ripe', locale: 'de_AT', ios: 0.38 },
  CH: { offset: 1, registry: 'ripe', locale: 'de_CH', ios: 0.5 },
  NL: { offset: 1, registry: 'ripe', locale: 'nl_NL', ios: 0.4 },
  BE: { offset: 1, registry: 'ripe', locale: 'nl_BE', ios: 0.4 },
  LU: { offset: 1, registry: 'ripe', locale: 'fr_LU', ios: 0.45 },
  FR: { offset: 1, registry: 'ripe', locale: 'fr_FR', ios: 0.33 },
  MC: { offset: 1, registry: 'ripe', locale: 'fr_MC', ios: 0.5 },
  GB: { offset: 0, registry: 'ripe', locale: 'en_GB', ios: 0.5 },
  IE: { offset: 0, registry: 'ripe', locale: 'en_IE', ios: 0.45 },
  PL: { offset: 1, registry: 'ripe', locale: 'pl_PL', ios: 0.2 },
  CZ: { offset: 1, registry: 'ripe', locale: 'cs_CZ', ios: 0.25 },
  SK: { offset: 1, registry: 'ripe', locale: 'sk_SK', ios: 0.2 },
  LT: { offset: 2, registry: 'ripe', locale: 'lt_LT', ios: 0.2 },
  UA: { offset: 2, registry: 'ripe', locale: 'uk_UA', ios: 0.15 },
  RO: { offset: 2, registry: 'ripe', locale: 'ro_RO', ios: 0.2 },
  RU: { offset: 3, registry: 'ripe', locale: 'ru_RU', ios: 0.3 },
  FI: { offset: 2, registry: 'ripe', locale: 'fi_FI', ios: 0.35 },
  SE: { offset: 1, registry: 'ripe', locale: 'sv_SE', ios: 0.5 },
  ES: { offset: 1, registry: 'ripe', locale: 'es_ES', ios: 0.25 },
  PT: { offset: 0, registry: 'ripe', locale: 'pt_PT', ios: 0.25 },
  AD: { offset: 1, registry: 'ripe', locale: 'ca_AD', ios: 0.3 },
  IT: { offset: 1, registry: 'ripe', locale: 'it_IT', ios: 0.3 },
  SM: { offset: 1, registry: 'ripe', locale: 'it_SM', ios: 0.3 },
  MT: { offset: 1, registry: 'ripe', locale: 'en_MT', ios: 0.35 },
  TR: { offset: 3, registry: 'ripe', locale: 'tr_TR', ios: 0.15 },
  US: { offset: -5, registry: 'arin', locale: 'en_US', ios: 0.57 },
  CA: { offset: -5, registry: 'arin', locale: 'en_CA', ios: 0.55 },
  PR: { offset: -4, registry: 'arin', locale: 'es_PR', ios: 0.5 },
  MX: { offset: -6, registry: 'lacnic', locale: 'es_MX', ios: 0.2 },
  BR: { offset: -3, registry: 'lacnic', locale: 'pt_BR', ios: 0.16 },
  AR: { offset: -3, registry: 'lacnic', locale: 'es_AR', ios: 0.15 },
  VE: { offset: -4, registry: 'lacnic', locale: 'es_VE', ios: 0.05 },
  JP: { offset: 9, registry: 'apnic', locale: 'ja_JP', ios: 0.65 },
  KR: { offset: 9, registry: 'apnic', locale: 'ko_KR', ios: 0.3 },
  TW: { offset: 8, registry: 'apnic', locale: 'zh_TW', ios: 0.4 },
  SG: { offset: 8, registry: 'apnic', locale: 'en_SG', ios: 0.5 },
  AU: { offset: 11, registry: 'apnic', locale: 'en_AU', ios: 0.55 },
  IN: { offset: 5.5, registry: 'apnic', locale: 'en_IN', ios: 0.05 },
  BD: { offset: 6, registry: 'apnic', locale: 'bn_BD', ios: 0.03 },
  PK: { offset: 5, registry: 'apnic', locale: 'ur_PK', ios: 0.04 },
  VN: { offset: 7, registry: 'apnic', locale: 'vi_VN', ios: 0.25 },
  ID: { offset: 7, registry: 'apnic', locale: 'id_ID', ios: 0.1 },
  PH: { offset: 8, registry: 'apnic', locale: 'en_PH', ios: 0.15 },
  EG: { offset: 2, registry: 'afrinic', locale: 'ar_EG', ios: 0.08 },
  NG: { offset: 1, registry: 'afrinic', locale: 'en_NG', ios: 0.1 },
};

/** A list written as one string, so that the formatter keeps it on a line or two. */
function list(text: string, separator = ' '): readonly string[] {
  return text.split(separator);
}

function countryInfo(code: string): CountryInfo {
  const info = COUNTRIES[code];
  if (!info) throw new Error(`no reference data for country ${code}`);
  return info;
}

/** Where paid-to-click and click-farm traffic typically comes from; a home shop ships to none of them. */
const CLICK_FARM_COUNTRIES = ['BD', 'PK', 'IN', 'VN', 'EG', 'NG', 'ID', 'PH', 'VE'] as const;
/** Where stolen-card fraudsters' connections appear from, beside anonymous datacentres. */
const CARDING_ORIGINS = ['NG', 'RO', 'VN', 'UA', 'RU', 'BR', 'ID', 'US'] as const;

interface MarketInfo {
  readonly country: string;
  readonly currency: string;
  readonly decimals: 0 | 2;
  readonly tld: string;
  readonly google: string;
  /** Typical order value in the local currency. */
  readonly aov: Range;
  readonly mobile: Range;
  readonly ios: Range;
  /** Share of Android phones browsing with Samsung Internet. */
  readonly samsung: number;
  /** Desktop browser weights: Chrome, Edge, Firefox, Safari on a Mac. */
  readonly desktop: readonly [number, number, number, number];
  /** Where expat and multilingual audiences live. */
  readonly abroad: readonly string[];
  /** Countries the shop ships to besides home. */
  readonly ships: readonly string[];
  readonly webmail: readonly string[];
  readonly dealSites: readonly string[];
  readonly couponPath: string;
  readonly companySuffix: string;
}

const MARKETS: readonly MarketInfo[] = [
  {
    country: 'DE',
    currency: 'EUR',
    decimals: 2,
    tld: 'de',
    google: 'www.google.de',
    aov: [45, 95],
    mobile: [0.55, 0.7],
    ios: [0.3, 0.42],
    samsung: 0.25,
    desktop: [0.45, 0.15, 0.2, 0.2],
    abroad: ['AT', 'CH', 'US', 'ES', 'GB', 'TR', 'PL'],
    ships: ['AT', 'LU', 'NL', 'BE'],
    webmail: ['https://mail.google.com/', 'https://email.t-online.de/', 'https://navigator-bs.gmx.net/'],
    dealSites: ['https://www.mydealz.de/', 'https://www.gutscheinsammler.de/'],
    couponPath: 'gutscheine',
    companySuffix: 'GmbH',
  },
  {
    country: 'FR',
    currency: 'EUR',
    decimals: 2,
    tld: 'fr',
    google: 'www.google.fr',
    aov: [40, 85],
    mobile: [0.6, 0.72],
    ios: [0.28, 0.4],
    samsung: 0.22,
    desktop: [0.5, 0.15, 0.15, 0.2],
    abroad: ['BE', 'CH', 'CA', 'LU', 'ES', 'GB'],
    ships: ['BE', 'LU', 'MC'],
    webmail: ['https://mail.google.com/', 'https://mail.orange.fr/', 'https://outlook.live.com/'],
    dealSites: ['https://www.dealabs.com/', 'https://www.ma-reduc.com/'],
    couponPath: 'codes-promo',
    companySuffix: 'SAS',
  },
  {
    country: 'US',
    currency: 'USD',
    decimals: 2,
    tld: 'com',
    google: 'www.google.com',
    aov: [55, 120],
    mobile: [0.6, 0.75],
    ios: [0.52, 0.62],
    samsung: 0.18,
    desktop: [0.45, 0.15, 0.05, 0.35],
    abroad: ['CA', 'MX', 'GB', 'PR'],
    ships: ['CA', 'PR'],
    webmail: ['https://mail.google.com/', 'https://mail.yahoo.com/', 'https://outlook.live.com/'],
    dealSites: ['https://slickdeals.net/', 'https://www.retailmenot.com/'],
    couponPath: 'coupons',
    companySuffix: 'Inc.',
  },
  {
    country: 'GB',
    currency: 'GBP',
    decimals: 2,
    tld: 'co.uk',
    google: 'www.google.co.uk',
    aov: [40, 85],
    mobile: [0.6, 0.72],
    ios: [0.46, 0.55],
    samsung: 0.2,
    desktop: [0.45, 0.15, 0.05, 0.35],
    abroad: ['IE', 'US', 'ES', 'AU'],
    ships: ['IE'],
    webmail: ['https://mail.google.com/', 'https://outlook.live.com/', 'https://mail.yahoo.com/'],
    dealSites: ['https://www.hotukdeals.com/', 'https://www.vouchercodes.co.uk/'],
    couponPath: 'voucher-codes',
    companySuffix: 'Ltd',
  },
  {
    country: 'PL',
    currency: 'PLN',
    decimals: 2,
    tld: 'pl',
    google: 'www.google.pl',
    aov: [150, 330],
    mobile: [0.65, 0.78],
    ios: [0.15, 0.26],
    samsung: 0.22,
    desktop: [0.6, 0.12, 0.15, 0.13],
    abroad: ['DE', 'GB', 'NL', 'IE', 'UA'],
    ships: ['CZ', 'SK', 'LT'],
    webmail: ['https://poczta.wp.pl/', 'https://poczta.onet.pl/', 'https://poczta.interia.pl/'],
    dealSites: ['https://www.pepper.pl/', 'https://www.kodyrabatowe.pl/'],
    couponPath: 'kody-rabatowe',
    companySuffix: 'sp. z o.o.',
  },
  {
    country: 'ES',
    currency: 'EUR',
    decimals: 2,
    tld: 'es',
    google: 'www.google.es',
    aov: [35, 75],
    mobile: [0.62, 0.75],
    ios: [0.2, 0.3],
    samsung: 0.22,
    desktop: [0.6, 0.15, 0.07, 0.18],
    abroad: ['MX', 'AR', 'GB', 'FR', 'DE'],
    ships: ['PT', 'AD'],
    webmail: ['https://mail.google.com/', 'https://outlook.live.com/', 'https://mail.yahoo.com/'],
    dealSites: ['https://www.chollometro.com/', 'https://www.cuponation.es/'],
    couponPath: 'cupones',
    companySuffix: 'S.L.',
  },
  {
    country: 'NL',
    currency: 'EUR',
    decimals: 2,
    tld: 'nl',
    google: 'www.google.nl',
    aov: [45, 90],
    mobile: [0.58, 0.7],
    ios: [0.35, 0.46],
    samsung: 0.22,
    desktop: [0.5, 0.15, 0.1, 0.25],
    abroad: ['BE', 'DE', 'GB', 'ES'],
    ships: ['BE', 'LU', 'DE'],
    webmail: ['https://mail.google.com/', 'https://outlook.live.com/', 'https://webmail.ziggo.nl/'],
    dealSites: ['https://nl.pepper.com/', 'https://www.kortingscode.nl/'],
    couponPath: 'kortingscodes',
    companySuffix: 'B.V.',
  },
  {
    country: 'IT',
    currency: 'EUR',
    decimals: 2,
    tld: 'it',
    google: 'www.google.it',
    aov: [40, 85],
    mobile: [0.62, 0.75],
    ios: [0.25, 0.36],
    samsung: 0.22,
    desktop: [0.6, 0.15, 0.08, 0.17],
    abroad: ['CH', 'DE', 'GB', 'FR', 'AR'],
    ships: ['SM', 'MT'],
    webmail: ['https://mail.google.com/', 'https://mail.libero.it/', 'https://mail.virgilio.it/'],
    dealSites: ['https://www.pepper.it/', 'https://www.codicesconto.com/'],
    couponPath: 'codici-sconto',
    companySuffix: 'S.r.l.',
  },
  {
    country: 'BR',
    currency: 'BRL',
    decimals: 2,
    tld: 'com.br',
    google: 'www.google.com.br',
    aov: [120, 320],
    mobile: [0.7, 0.82],
    ios: [0.12, 0.2],
    samsung: 0.28,
    desktop: [0.7, 0.12, 0.05, 0.13],
    abroad: ['PT', 'US', 'JP', 'AR'],
    ships: [],
    webmail: ['https://mail.google.com/', 'https://outlook.live.com/', 'https://email.uol.com.br/'],
    dealSites: ['https://www.pelando.com.br/', 'https://www.promobit.com.br/'],
    couponPath: 'cupons',
    companySuffix: 'Ltda.',
  },
  {
    country: 'JP',
    currency: 'JPY',
    decimals: 0,
    tld: 'co.jp',
    google: 'www.google.co.jp',
    aov: [4500, 11000],
    mobile: [0.65, 0.78],
    ios: [0.6, 0.7],
    samsung: 0.1,
    desktop: [0.5, 0.25, 0.05, 0.2],
    abroad: ['US', 'KR', 'TW', 'SG'],
    ships: [],
    webmail: ['https://mail.yahoo.co.jp/', 'https://mail.google.com/', 'https://outlook.live.com/'],
    dealSites: ['https://kakaku.com/', 'https://www.coupon-matome.jp/'],
    couponPath: 'coupon',
    companySuffix: 'K.K.',
  },
];

interface CategoryInfo {
  readonly name: string;
  readonly refund: Range;
  /** Order value relative to the shop's typical order. */
  readonly aov: number;
  /** Median days from order to refund for a return. */
  readonly returnDays: number;
  readonly reasons: readonly string[];
  /** How likely a marketplace sells it; the always-present ones are 1. */
  readonly presence: number;
}

const CATEGORIES: readonly CategoryInfo[] = [
  {
    name: 'fashion',
    refund: [0.2, 0.4],
    aov: 1,
    returnDays: 11,
    reasons: ['return', 'size', 'not_as_described'],
    presence: 1,
  },
  {
    name: 'shoes',
    refund: [0.18, 0.35],
    aov: 1.4,
    returnDays: 11,
    reasons: ['size', 'return'],
    presence: 0.6,
  },
  {
    name: 'electronics',
    refund: [0.05, 0.1],
    aov: 2.8,
    returnDays: 9,
    reasons: ['defective', 'return', 'not_as_described'],
    presence: 1,
  },
  {
    name: 'beauty',
    refund: [0.03, 0.08],
    aov: 0.55,
    returnDays: 8,
    reasons: ['damaged', 'return'],
    presence: 0.75,
  },
  {
    name: 'home',
    refund: [0.07, 0.14],
    aov: 1.5,
    returnDays: 13,
    reasons: ['damaged', 'return', 'not_as_described'],
    presence: 1,
  },
  {
    name: 'groceries',
    refund: [0.01, 0.03],
    aov: 0.6,
    returnDays: 3,
    reasons: ['damaged', 'missing_item'],
    presence: 0.35,
  },
  {
    name: 'sports',
    refund: [0.1, 0.18],
    aov: 1.2,
    returnDays: 11,
    reasons: ['size', 'return'],
    presence: 0.55,
  },
  {
    name: 'toys',
    refund: [0.04, 0.09],
    aov: 0.8,
    returnDays: 10,
    reasons: ['damaged', 'return'],
    presence: 0.5,
  },
  {
    name: 'books',
    refund: [0.02, 0.05],
    aov: 0.4,
    returnDays: 9,
    reasons: ['damaged', 'return'],
    presence: 0.4,
  },
];

// ---------------------------------------------------------------------------------------------------------
// Honest shapes and fraud kinds as data
// ---------------------------------------------------------------------------------------------------------

/** Where an affiliate's visitors click from: decides referrers, in-app browsers and preview bots. */
type Channel =
  | 'social'
  | 'youtube'
  | 'blog'
  | 'portal'
  | 'coupon'
  | 'compare'
  | 'mail'
  | 'audio'
  | 'forum'
  | 'b2b';
/** How long a visitor takes from the click to the order. */
type LagModel = 'social' | 'video' | 'search' | 'checkout' | 'compare' | 'mail' | 'business';
/** How an affiliate's traffic is spread over the days. */
type Pattern = 'posts' | 'steady' | 'sends' | 'episodes';
/** How a day's traffic is spread over the local hours. */
type Profile = 'evening' | 'daytime' | 'business' | 'flat';

interface ShapeSpec {
  /** Share among honest affiliates (relative). */
  readonly weight: number;
  readonly channel: Channel;
  /** Mean clicks a day at scale 1, outside bursts. */
  readonly clicks: Range;
  /** Click-to-order rate relative to the world's. */
  readonly conversion: Range;
  /** Orders by code alone per order by click, before the world's coupon culture. */
  readonly codeRatio: Range;
  /** Orders by code alone a day at scale 1, for shapes whose audience hardly clicks (podcasts). */
  readonly codePerDay?: Range;
  /** Probability that the affiliate has a coupon code at all. */
  readonly codeChance: number;
  readonly lag: LagModel;
  readonly pattern: Pattern;
  /** Posts, sends or episodes a week. */
  readonly cadence: Range;
  /** Share of the audience in the home market. */
  readonly home: Range;
  readonly mobile: Range;
  /** Share of visitors who are already the shop's customers. */
  readonly existing: Range;
  readonly aov: Range;
  readonly refund: Range;
  readonly profile: Profile;
  /** Whether posting a link brings link-preview crawlers. */
  readonly previews: boolean;
}

const CREATOR = {
  channel: 'social',
  codeChance: 0.92,
  lag: 'social',
  pattern: 'posts',
  home: [0.85, 0.97],
  mobile: [0.86, 0.95],
  existing: [0.08, 0.25],
  aov: [0.8, 1.15],
  refund: [0.9, 1.15],
  profile: 'evening',
  previews: true,
} as const;

const SHAPES: Readonly<Record<HonestShape, ShapeSpec>> = {
  'nano-creator': {
    ...CREATOR,
    weight: 50,
    clicks: [1.5, 6],
    conversion: [1.2, 2],
    codeRatio: [0.6, 2],
    cadence: [1, 4],
  },
  'micro-creator': {
    ...CREATOR,
    weight: 40,
    clicks: [4, 14],
    conversion: [0.8, 1.5],
    codeRatio: [0.5, 1.6],
    cadence: [2, 5],
  },
  'mid-creator': {
    ...CREATOR,
    weight: 18,
    clicks: [12, 40],
    conversion: [0.6, 1.1],
    codeRatio: [0.4, 1.2],
    cadence: [3, 6],
  },
  'mega-creator': {
    ...CREATOR,
    weight: 4,
    clicks: [50, 150],
    conversion: [0.3, 0.7],
    codeRatio: [0.3, 1],
    cadence: [4, 7],
    home: [0.75, 0.92],
    existing: [0.12, 0.3],
  },
  'youtube-reviewer': {
    weight: 12,
    channel: 'youtube',
    clicks: [6, 25],
    conversion: [1, 2],
    codeRatio: [0.15, 0.5],
    codeChance: 0.6,
    lag: 'video',
    pattern: 'posts',
    cadence: [0.5, 2],
    home: [0.8, 0.95],
    mobile: [0.3, 0.5],
    existing: [0.15, 0.35],
    aov: [1.3, 2.2],
    refund: [0.9, 1.1],
    profile: 'evening',
    previews: true,
  },
  'seo-blog': {
    weight: 14,
    channel: 'blog',
    clicks: [6, 30],
    conversion: [0.8, 1.5],
    codeRatio: [0, 0.1],
    codeChance: 0.25,
    lag: 'search',
    pattern: 'steady',
    cadence: [0, 0],
    home: [0.9, 0.99],
    mobile: [0.45, 0.65],
    existing: [0.2, 0.4],
    aov: [0.9, 1.3],
    refund: [0.9, 1.1],
    profile: 'daytime',
    previews: false,
  },
  'cashback-portal': {
    weight: 4,
    channel: 'portal',
    clicks: [35, 100],
    conversion: [4, 8],
    codeRatio: [0, 0.02],
    codeChance: 0.1,
    lag: 'checkout',
    pattern: 'steady',
    cadence: [0, 0],
    home: [0.95, 1],
    mobile: [0.4, 0.6],
    existing: [0.45, 0.7],
    aov: [1, 1.3],
    refund: [1, 1.2],
    profile: 'daytime',
    previews: false,
  },
  'coupon-site': {
    weight: 5,
    channel: 'coupon',
    clicks: [15, 50],
    conversion: [2.5, 5],
    codeRatio: [1, 3],
    codeChance: 1,
    lag: 'checkout',
    pattern: 'steady',
    cadence: [0, 0],
    home: [0.93, 0.99],
    mobile: [0.35, 0.55],
    existing: [0.4, 0.6],
    aov: [0.9, 1.2],
    refund: [0.95, 1.1],
    profile: 'daytime',
    previews: false,
  },
  'price-comparison': {
    weight: 3,
    channel: 'compare',
    clicks: [20, 60],
    conversion: [1.3, 2.5],
    codeRatio: [0, 0.02],
    codeChance: 0,
    lag: 'compare',
    pattern: 'steady',
    cadence: [0, 0],
    home: [0.95, 1],
    mobile: [0.45, 0.6],
    existing: [0.2, 0.4],
    aov: [1.3, 2],
    refund: [0.9, 1.05],
    profile: 'daytime',
    previews: false,
  },
  newsletter: {
    weight: 8,
    channel: 'mail',
    clicks: [5, 20],
    conversion: [1, 2],
    codeRatio: [0.3, 1],
    codeChance: 0.7,
    lag: 'mail',
    pattern: 'sends',
    cadence: [1, 2],
    home: [0.9, 0.99],
    mobile: [0.5, 0.65],
    existing: [0.35, 0.6],
    aov: [0.9, 1.2],
    refund: [0.95, 1.05],
    profile: 'daytime',
    previews: true,
  },
  podcast: {
    weight: 8,
    channel: 'audio',
    clicks: [0.1, 0.6],
    conversion: [1, 2],
    codeRatio: [0, 0],
    codePerDay: [0.6, 3.5],
    codeChance: 1,
    lag: 'social',
    pattern: 'episodes',
    cadence: [1, 2],
    home: [0.92, 0.99],
    mobile: [0.6, 0.75],
    existing: [0.1, 0.25],
    aov: [0.9, 1.3],
    refund: [0.95, 1.05],
    profile: 'daytime',
    previews: false,
  },
  'viral-post': {
    ...CREATOR,
    weight: 4,
    clicks: [4, 14],
    conversion: [0.8, 1.4],
    codeRatio: [0.4, 1.2],
    cadence: [1, 4],
  },
  'new-creator': {
    ...CREATOR,
    weight: 10,
    clicks: [4, 18],
    conversion: [0.8, 1.4],
    codeRatio: [0.5, 1.5],
    cadence: [2, 5],
  },
  'expat-creator': {
    ...CREATOR,
    weight: 8,
    clicks: [5, 20],
    conversion: [0.7, 1.3],
    codeRatio: [0.4, 1.2],
    cadence: [2, 5],
    home: [0.1, 0.4],
  },
  'try-on-haul': {
    ...CREATOR,
    weight: 6,
    clicks: [10, 35],
    conversion: [1, 1.6],
    codeRatio: [0.5, 1.5],
    cadence: [2, 4],
    aov: [1.1, 1.6],
    refund: [1, 1.3],
  },
  'b2b-partner': {
    weight: 4,
    channel: 'b2b',
    clicks: [0.5, 3],
    conversion: [1.5, 4],
    codeRatio: [0.1, 0.4],
    codeChance: 0.3,
    lag: 'business',
    pattern: 'steady',
    cadence: [0, 0],
    home: [0.9, 1],
    mobile: [0.05, 0.2],
    existing: [0.3, 0.6],
    aov: [6, 25],
    refund: [0.4, 0.8],
    profile: 'business',
    previews: false,
  },
  'community-member': {
    weight: 12,
    channel: 'forum',
    clicks: [0.5, 4],
    conversion: [1.5, 3],
    codeRatio: [0.2, 0.8],
    codeChance: 0.6,
    lag: 'search',
    pattern: 'posts',
    cadence: [0.5, 2],
    home: [0.85, 0.98],
    mobile: [0.4, 0.6],
    existing: [0.3, 0.5],
    aov: [0.9, 1.4],
    refund: [0.9, 1.1],
    profile: 'evening',
    previews: true,
  },
};

/** The honest shapes each fraud kind plausibly hides in. */
const FRAUD_COVERS: Readonly<Record<FraudKind, readonly HonestShape[]>> = {
  'cookie-stuffing': ['seo-blog', 'coupon-site', 'price-comparison', 'micro-creator'],
  'click-injection': ['cashback-portal', 'coupon-site', 'seo-blog'],
  'click-spamming': ['cashback-portal', 'price-comparison', 'mid-creator', 'seo-blog'],
  'coupon-leakage': ['micro-creator', 'mid-creator', 'podcast', 'nano-creator', 'youtube-reviewer'],
  'self-referral': ['nano-creator', 'micro-creator', 'community-member', 'new-creator'],
  'refund-abuse': ['try-on-haul', 'nano-creator', 'micro-creator', 'community-member'],
  'bot-traffic': ['seo-blog', 'new-creator', 'micro-creator', 'price-comparison'],
  'incentivized-traffic': ['micro-creator', 'mid-creator', 'new-creator'],
  'brand-bidding': ['coupon-site', 'seo-blog', 'price-comparison', 'cashback-portal'],
  'stolen-card-orders': ['new-creator', 'nano-creator', 'community-member', 'micro-creator'],
  'extension-hijacking': ['coupon-site', 'cashback-portal'],
};

/** The fraud's share of the affiliate's credited orders (or of its clicks, for the traffic kinds). */
const FRAUD_SHARE: Readonly<Record<Intensity, Range>> = {
  blatant: [0.55, 0.85],
  moderate: [0.25, 0.45],
  subtle: [0.06, 0.18],
};

/** The fewest fraudulent orders per intensity, so that even a tiny cover carries the fraud. */
const FRAUD_FLOOR: Readonly<Record<Intensity, number>> = { blatant: 10, moderate: 4, subtle: 2 };

/** The fewest fraudulent orders a day at scale 1: a blatant fraud is large even inside a small creator. */
const FRAUD_DAILY_FLOOR: Readonly<Record<Intensity, number>> = { blatant: 1, moderate: 0.35, subtle: 0 };

/**
 * The most fraudulent orders a day (and twenty-five times as many clicks) at scale 1: a large portal's share
 * would otherwise dwarf the whole programme, and fraudsters stay below what a programme manager would see.
 */
const FRAUD_DAILY_CAP: Readonly<Record<Intensity, number>> = { blatant: 10, moderate: 4, subtle: 2 };

// ---------------------------------------------------------------------------------------------------------
// User agents, crawlers, address blocks
// ---------------------------------------------------------------------------------------------------------

type Os = 'ios' | 'android' | 'windows' | 'mac' | 'linux';
type Browser = 'safari' | 'chrome' | 'edge' | 'firefox' | 'samsung' | 'in-app';

/** A browser with its own cookie jar: clicks and orders in one context share attribution. */
interface Context {
  readonly key: string;
  readonly userAgent: string;
  readonly os: Os;
  readonly browser: Browser;
  readonly mobile: boolean;
  readonly osVersion: string;
  readonly model: string;
}

const IPHONES = list('iPhone14,5 iPhone14,7 iPhone15,2 iPhone15,4 iPhone16,1 iPhone16,2 iPhone17,1');
const IOS_TOKENS = ['17_7', '18_6', '18_6', '18_7'];
const SAFARI_VERSIONS = ['18.6', '26.0', '26.1', '26.1', '26.2'];
const ANDROID_MODELS = list(
  'SM-S921B|SM-S918B|SM-A556B|SM-A546B|SM-A155F|SM-G991B|Pixel 8|Pixel 9a|23129RAA4G|2201117TY|CPH2591|moto g54 5G|RMX3761|V2247',
  '|',
);
const BUDGET_ANDROID_MODELS = list('SM-A055F|SM-A145F|RMX3834|TECNO KI5q|Infinix X6525|23106RN0DA', '|');
const ANDROID_VERSIONS = ['12', '13', '14', '14', '15', '15', '16'];
const ANDROID_BUILDS = list(
  'UP1A.231005.007 AP2A.240905.003 TP1A.220624.014 AP3A.241005.015 BP1A.250405.007',
);

function chromeMajor(rng: Rng): number {
  return rng.chance(0.88) ? rng.int(150, 155) : rng.int(138, 149);
}

function safariIos(osToken: string, version: string): string {
  return `Mozilla/5.0 (iPhone; CPU iPhone OS ${osToken} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${version} Mobile/15E148 Safari/604.1`;
}

function chromeIos(osToken: string, major: number): string {
  return `Mozilla/5.0 (iPhone; CPU iPhone OS ${osToken} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${major}.0.7390.${major} Mobile/15E148 Safari/604.1`;
}

/** Chrome on Android sends the reduced user agent ("Android 10; K") since version 110. */
function chromeAndroid(major: number): string {
  return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Mobile Safari/537.36`;
}

function samsungAndroid(version: string, model: string, major: number): string {
  return `Mozilla/5.0 (Linux; Android ${version}; SAMSUNG ${model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/${major - 8}.0.0.0 Mobile Safari/537.36`;
}

function androidWebView(version: string, model: string, build: string, major: number): string {
  return `Mozilla/5.0 (Linux; Android ${version}; ${model} Build/${build}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${major}.0.7390.${major} Mobile Safari/537.36`;
}

function desktopUserAgent(os: Os, browser: Browser, major: number): string {
  const windows = 'Windows NT 10.0; Win64; x64';
  const mac = 'Macintosh; Intel Mac OS X 10_15_7';
  const linux = 'X11; Linux x86_64';
  const platform = os === 'mac' ? mac : os === 'linux' ? linux : windows;
  if (browser === 'firefox')
    return `Mozilla/5.0 (${platform}; rv:${major}.0) Gecko/20100101 Firefox/${major}.0`;
  if (browser === 'safari')
    return `Mozilla/5.0 (${mac}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15`;
  const chrome = `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`;
  return browser === 'edge' ? `${chrome} Edg/${major}.0.0.0` : chrome;
}

/** The user agent of Instagram's, TikTok's or Facebook's in-app browser on the given phone. */
type App = 'instagram' | 'tiktok' | 'facebook';

/** The random parts of an in-app browser's user agent. */
interface AppRelease {
  /** Most users run one of the last few app releases: 0–5. */
  readonly release: number;
  readonly chrome: number;
  readonly build: string;
  readonly dark: number;
}

function inAppUserAgent(phone: Context, app: App, locale: string, draw: AppRelease): string {
  const lang = locale.slice(0, 2);
  const region = locale.slice(3);
  const release = draw.release;
  const instagram = `${405 + release}.0.0.${20 + release}.${90 + release}`;
  const facebook = `${528 + release}.0.0.${41 + release}.${107 + release}`;
  const build = 650_523_480 + release * 7919;
  if (phone.os === 'ios') {
    const base = `Mozilla/5.0 (iPhone; CPU iPhone OS ${phone.osVersion} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148`;
    if (app === 'instagram')
      return `${base} Instagram ${instagram} (${phone.model}; iOS ${phone.osVersion}; ${locale}; ${lang}; scale=3.00; 1179x2556; ${build})`;
    if (app === 'tiktok')
      return `${base} musical_ly_${42 + (release >> 1)}.${release}.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/${lang} Region/${region} isDarkMode/${draw.dark} WKWebView/1 BytedanceWebview/d8a21c6`;
    return `${base} [FBAN/FBIOS;FBAV/${facebook};FBBV/${build + 100_000_000};FBDV/${phone.model};FBMD/iPhone;FBSN/iOS;FBSV/${phone.osVersion.replace(/_/g, '.')};FBSS/3;FBCR/;FBID/phone;FBLC/${locale};FBOP/5]`;
  }
  const base = androidWebView(phone.osVersion, phone.model, draw.build, draw.chrome);
  if (app === 'instagram')
    return `${base} Instagram ${instagram} Android (${Number(phone.osVersion) + 20}/${phone.osVersion}; 420dpi; 1080x2340; ${phone.model.startsWith('SM-') ? 'samsung' : 'Xiaomi'}; ${phone.model}; qcom; ${locale}; ${build + 7})`;
  if (app === 'tiktok')
    return `${base} trill_${420_000 + release * 101} JsSdk/1.0 NetType/4G Channel/googleplay AppName/musical_ly app_version/${42 + (release >> 1)}.${release}.0 ByteLocale/${lang} Region/${region} BytedanceWebview/d8a21c6`;
  return `${base} [FB_IAB/FB4A;FBAV/${facebook};]`;
}

interface Crawler {
  readonly userAgent: string;
  readonly prefixes: readonly string[];
  readonly country: string;
}

/** Link-preview fetchers and mail link scanners: they fetch a link once when it is posted or sent. */
const CRAWLERS: Readonly<Record<string, Crawler>> = {
  facebook: {
    userAgent: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    prefixes: ['31.13.', '66.220.', '69.171.', '173.252.'],
    country: 'US',
  },
  twitter: { userAgent: 'Twitterbot/1.0', prefixes: ['199.16.156.', '199.59.150.'], country: 'US' },
  telegram: { userAgent: 'TelegramBot (like TwitterBot)', prefixes: ['149.154.'], country: 'NL' },
  discord: {
    userAgent: 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
    prefixes: ['35.'],
    country: 'US',
  },
  slack: {
    userAgent: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    prefixes: ['3.', '54.'],
    country: 'US',
  },
  bytespider: {
    userAgent:
      'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
    prefixes: ['47.128.'],
    country: 'SG',
  },
  google: {
    userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    prefixes: ['66.249.'],
    country: 'US',
  },
  // Microsoft Defender's Safe Links opens every link of a received mail, with a browser user agent.
  safelinks: {
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    prefixes: ['40.94.', '52.100.', '40.107.'],
    country: 'US',
  },
};

const PREVIEWERS: Readonly<Partial<Record<Channel, ReadonlyArray<readonly [string, number]>>>> = {
  social: [
    ['facebook', 6],
    ['telegram', 1],
    ['twitter', 1],
    ['discord', 1],
  ],
  youtube: [
    ['google', 3],
    ['discord', 1],
    ['telegram', 1],
    ['twitter', 1],
  ],
  forum: [
    ['discord', 3],
    ['telegram', 2],
    ['slack', 1],
  ],
  mail: [['safelinks', 1]],
};

/** Ranges of cloud and hosting providers (the first octets), with the country they geolocate to. */
const DATACENTRES: ReadonlyArray<{ readonly prefix: string; readonly country: string }> = [
  { prefix: '3.', country: 'US' },
  { prefix: '18.', country: 'US' },
  { prefix: '52.', country: 'IE' },
  { prefix: '54.', country: 'US' },
  { prefix: '34.', country: 'US' },
  { prefix: '35.', country: 'NL' },
  { prefix: '20.', country: 'NL' },
  { prefix: '88.198.', country: 'DE' },
  { prefix: '95.216.', country: 'FI' },
  { prefix: '116.202.', country: 'DE' },
  { prefix: '135.181.', country: 'FI' },
  { prefix: '51.38.', country: 'FR' },
  { prefix: '51.68.', country: 'GB' },
  { prefix: '145.239.', country: 'PL' },
  { prefix: '159.89.', country: 'DE' },
  { prefix: '167.99.', country: 'US' },
  { prefix: '206.189.', country: 'NL' },
  { prefix: '172.104.', country: 'DE' },
  { prefix: '139.162.', country: 'JP' },
  { prefix: '45.77.', country: 'US' },
  { prefix: '149.28.', country: 'SG' },
];

/** First octets that regional registries hand to access providers. */
const REGISTRY_V4: Readonly<Record<Registry, readonly number[]>> = {
  ripe: [
    2, 5, 37, 46, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 93, 94, 109, 176, 178, 188,
    217,
  ],
  arin: [24, 47, 50, 64, 65, 67, 68, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 107, 108, 174],
  lacnic: [177, 179, 181, 186, 187, 189, 190, 191, 200, 201],
  apnic: [
    1, 27, 36, 39, 42, 49, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 118, 119, 121, 180, 182,
    183,
  ],
  afrinic: [41, 102, 105, 154, 196, 197],
};

const REGISTRY_V6: Readonly<Record<Registry, readonly string[]>> = {
  ripe: ['2a00', '2a01', '2a02', '2a03', '2a04', '2001'],
  arin: ['2600', '2601', '2602', '2603', '2605', '2607'],
  lacnic: ['2800', '2801', '2803', '2804'],
  apnic: ['2400', '2401', '2402', '2404', '2405', '2407', '240d'],
  afrinic: ['2c0f'],
};

// ---------------------------------------------------------------------------------------------------------
// The world of one seed
// ---------------------------------------------------------------------------------------------------------

interface WorldCategory {
  readonly info: CategoryInfo;
  readonly weight: number;
  readonly refundRate: number;
}

interface World {
  readonly market: MarketInfo;
  readonly home: string;
  readonly shopHost: string;
  readonly aov: number;
  readonly mobileShare: number;
  readonly iosShare: number;
  readonly categories: readonly WorldCategory[];
  readonly categoryMix: Weighted<WorldCategory>;
  readonly clickToOrder: number;
  /** How readily people type a code, as a multiplier. */
  readonly couponCulture: number;
  readonly inAppShare: number;
  readonly relayShare: number;
  readonly vpnShare: number;
  readonly loggedInShare: number;
  readonly guestShare: number;
  readonly mobileDataShare: number;
  readonly strippedReferrer: number;
  /** Share of cross-site clicks whose referrer is only the origin (the browsers' default referrer policy). */
  readonly originOnly: number;
  readonly chargebackRate: number;
  readonly lagScale: number;
  readonly weekendLift: number;
  readonly regularCustomers: number;
  /** Orders a day of one regular customer on average, without any affiliate. */
  readonly regularRate: number;
  readonly newOrganicPerDay: number;
  readonly shipping: ReadonlySet<string>;
  readonly saleDays: ReadonlyMap<number, number>;
  readonly shopCodes: readonly string[];
  readonly historyPeriods: number;
  readonly timelineStart: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly periodDays: number;
  readonly days: number;
}

const BRAND_SYLLABLES = list('lu mo ra ki no va sel tri bo fen da mi zo ria len');

function drawWorld(rng: Rng, settings: Settings): World {
  const market = rng.pick(MARKETS);
  const categories = drawCategories(rng);
  const historyPeriods = rng.chance(0.5) ? 2 : 3;
  const days = settings.periodDays * (historyPeriods + 1);
  const saleDays = new Map<number, number>();
  for (let i = rng.int(0, 3); i > 0; i--) saleDays.set(rng.int(0, days - 1), rng.range(1.4, 2.8));
  let brand = '';
  for (let i = rng.int(2, 3); i > 0; i--) brand += rng.pick(BRAND_SYLLABLES);
  return {
    market,
    home: market.country,
    shopHost: `www.${brand}.${market.tld}`,
    aov: rng.between(market.aov),
    mobileShare: rng.between(market.mobile),
    iosShare: rng.between(market.ios),
    categories,
    categoryMix: new Weighted(categories.map((category) => [category, category.weight] as const)),
    clickToOrder: rng.range(0.012, 0.035),
    couponCulture: rng.range(0.35, 1.4),
    inAppShare: rng.range(0.5, 0.85),
    relayShare: rng.range(0.05, 0.2),
    vpnShare: rng.range(0.005, 0.03),
    loggedInShare: rng.range(0.25, 0.6),
    guestShare: rng.range(0.05, 0.3),
    mobileDataShare: rng.range(0.3, 0.6),
    strippedReferrer: rng.range(0.03, 0.12),
    originOnly: rng.range(0.5, 0.9),
    chargebackRate: rng.range(0.001, 0.005),
    lagScale: rng.range(0.7, 1.4),
    weekendLift: rng.range(0.05, 0.35),
    regularCustomers: rng.int(9000, 20000),
    regularRate: 1 / rng.range(35, 90),
    newOrganicPerDay: rng.range(40, 140),
    shipping: new Set([market.country, ...market.ships]),
    saleDays,
    shopCodes: [
      `WELCOME${rng.pick([5, 10, 15])}`,
      `NEWSLETTER${rng.pick([10, 15])}`,
      `APP${rng.pick([5, 10])}`,
    ],
    historyPeriods,
    timelineStart: settings.periodStart - historyPeriods * settings.periodDays * DAY,
    periodStart: settings.periodStart,
    periodEnd: settings.periodStart + settings.periodDays * DAY,
    periodDays: settings.periodDays,
    days,
  };
}

function drawCategories(rng: Rng): WorldCategory[] {
  const drawn: WorldCategory[] = [];
  for (const info of CATEGORIES) {
    if (info.presence < 1 && !rng.chance(info.presence)) continue;
    drawn.push({ info, weight: rng.range(0.2, 2), refundRate: rng.between(info.refund) });
  }
  return drawn;
}

// ---------------------------------------------------------------------------------------------------------
// Networks: where IP addresses come from
// ---------------------------------------------------------------------------------------------------------

interface Isp {
  readonly v4: string;
  readonly v6: string;
  readonly v6Share: number;
}

/** A mobile carrier: its phones leave through a small carrier-grade NAT pool, or by IPv6. */
interface Carrier {
  readonly pool: readonly string[];
  readonly v6: string;
  readonly v6Share: number;
}

interface CountryNetwork {
  readonly isps: Weighted<Isp>;
  readonly carriers: Weighted<Carrier>;
}

interface Located {
  readonly ip: string;
  readonly country: string;
}

class Networks {
  private readonly countries = new Map<string, CountryNetwork>();

  constructor(private readonly rng: Rng) {}

  homeAddress(country: string): string {
    const isp = this.of(country).isps.pick(this.rng);
    if (this.rng.chance(isp.v6Share))
      return `${isp.v6}:${this.rng.hex(4)}:${this.rng.hex(2)}00:${this.interfaceId()}`;
    return `${isp.v4}${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
  }

  carrier(country: string): Carrier {
    return this.of(country).carriers.pick(this.rng);
  }

  mobileAddress(carrier: Carrier): string {
    if (this.rng.chance(carrier.v6Share))
      return `${carrier.v6}:${this.rng.hex(4)}:${this.rng.hex(4)}:${this.interfaceId()}`;
    return this.rng.pick(carrier.pool);
  }

  /** iCloud Private Relay egress (Akamai, Cloudflare, Fastly), which keeps the user's region. */
  relayAddress(): string {
    const u = this.rng.next();
    if (u < 0.45) return `172.${this.rng.int(224, 226)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
    if (u < 0.65) return `104.28.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
    if (u < 0.8) return `146.75.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
    return `2a02:26f7:${this.rng.hex(4)}:${this.rng.hex(4)}:${this.interfaceId()}`;
  }

  datacentre(): Located {
    const centre = this.rng.pick(DATACENTRES);
    return { ip: this.complete(centre.prefix), country: centre.country };
  }

  crawler(crawler: Crawler): Located {
    return { ip: this.complete(this.rng.pick(crawler.prefixes)), country: crawler.country };
  }

  private complete(prefix: string): string {
    const given = prefix.split('.').length - 1;
    const octets: number[] = [];
    for (let i = given; i < 4; i++) octets.push(i === 3 ? this.rng.int(1, 254) : this.rng.int(0, 255));
    return prefix + octets.join('.');
  }

  private interfaceId(): string {
    return `${this.rng.hex(4)}:${this.rng.hex(4)}:${this.rng.hex(4)}:${this.rng.hex(4)}`;
  }

  private of(country: string): CountryNetwork {
    const known = this.countries.get(country);
    if (known) return known;
    const registry = countryInfo(country).registry;
    const isps: Array<readonly [Isp, number]> = [];
    for (let i = this.rng.int(3, 5); i > 0; i--) {
      const isp = { v4: this.v4Block(registry), v6: this.v6Block(registry), v6Share: this.rng.range(0, 0.5) };
      isps.push([isp, this.rng.range(0.2, 1)]);
    }
    const carriers: Array<readonly [Carrier, number]> = [];
    for (let i = this.rng.int(3, 4); i > 0; i--) {
      const block = this.v4Block(registry);
      const pool: string[] = [];
      // Carrier-grade NAT: thousands of phones leave through a few dozen public addresses.
      for (let n = this.rng.int(8, 40); n > 0; n--)
        pool.push(`${block}${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`);
      carriers.push([
        { pool, v6: this.v6Block(registry), v6Share: this.rng.range(0, 0.7) },
        this.rng.range(0.2, 1),
      ]);
    }
    const network = { isps: new Weighted(isps), carriers: new Weighted(carriers) };
    this.countries.set(country, network);
    return network;
  }

  private v4Block(registry: Registry): string {
    return `${this.rng.pick(REGISTRY_V4[registry])}.${this.rng.int(0, 255)}.`;
  }

  private v6Block(registry: Registry): string {
    return `${this.rng.pick(REGISTRY_V6[registry])}:${this.rng.hex(4)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// People: customers, visitors and their browsers
// ---------------------------------------------------------------------------------------------------------

interface Person {
  readonly id: string;
  /** Billing and shipping country. */
  readonly country: string;
  readonly account: boolean;
  /** Orders placed so far, counted again while emitting; > 0 before the window for regular customers. */
  orders: number;
  readonly contexts: Context[];
  readonly homeIp: string;
  readonly carrier: Carrier | null;
  readonly relay: boolean;
  readonly vpn: Located | null;
  inApp: Map<string, Context> | null;
}

interface PersonOptions {
  readonly mobileShare?: number;
  readonly os?: Os;
  readonly desktop?: boolean;
  readonly account?: boolean;
  readonly orders?: number;
  readonly homeIp?: string;
  readonly carrier?: Carrier | null;
  readonly vpn?: Located | null;
  readonly budgetPhone?: boolean;
}

class People {
  private persons = 0;
  private contexts = 0;
  /** One instance of each user agent: hundreds of thousands of equal strings would otherwise fill the heap. */
  private readonly userAgents = new Map<string, string>();

  constructor(
    private readonly rng: Rng,
    private readonly world: World,
    private readonly networks: Networks,
  ) {}

  person(country: string, options: PersonOptions = {}): Person {
    const rng = this.rng;
    const home = country === this.world.home;
    const mobileFirst = options.desktop
      ? false
      : options.os === 'ios' ||
        options.os === 'android' ||
        rng.chance(options.mobileShare ?? this.world.mobileShare);
    const primary = mobileFirst ? this.phone(country, options) : this.computer(country);
    const contexts = [primary];
    if (rng.chance(0.35)) contexts.push(mobileFirst ? this.computer(country) : this.phone(country, {}));
    const hasPhone = contexts.some((context) => context.mobile);
    const vpn =
      options.vpn !== undefined
        ? options.vpn
        : rng.chance(this.world.vpnShare)
          ? this.vpnExit(country)
          : null;
    return {
      id: `cust_${(++this.persons).toString(36)}${rng.token(4)}`,
      country,
      account: options.account ?? !rng.chance(this.world.guestShare),
      orders: options.orders ?? 0,
      contexts,
      homeIp: options.homeIp ?? this.networks.homeAddress(country),
      carrier:
        options.carrier !== undefined ? options.carrier : hasPhone ? this.networks.carrier(country) : null,
      relay: home && primary.os === 'ios' && rng.chance(this.world.relayShare),
      vpn,
      inApp: null,
    };
  }

  /** The person's browser inside Instagram's, TikTok's or Facebook's app: a cookie jar of its own. */
  inApp(person: Person, app: App): Context {
    const phone = person.contexts.find((context) => context.mobile);
    if (!phone) return this.main(person);
    person.inApp ??= new Map();
    const known = person.inApp.get(app);
    if (known) return known;
    const context: Context = {
      ...phone,
      key: `${phone.key}~${app}`,
      userAgent: this.inAppUserAgent(phone, app, countryInfo(person.country).locale),
      browser: 'in-app',
    };
    person.inApp.set(app, context);
    return context;
  }

  main(person: Person): Context {
    const context = person.contexts[0];
    if (!context) throw new Error('a person without a browser');
    return context;
  }

  desktop(person: Person): Context | undefined {
    return person.contexts.find((context) => !context.mobile);
  }

  /** Where a request of this person in this browser comes from at this moment. */
  address(person: Person, context: Context): Located {
    if (person.vpn) return person.vpn;
    if (context.mobile) {
      if (person.relay && context.browser === 'safari')
        return { ip: this.networks.relayAddress(), country: person.country };
      if (person.carrier && this.rng.chance(this.world.mobileDataShare))
        return { ip: this.networks.mobileAddress(person.carrier), country: person.country };
    }
    return { ip: person.homeIp, country: person.country };
  }

  phone(country: string, options: PersonOptions): Context {
    const rng = this.rng;
    const iosShare = country === this.world.home ? this.world.iosShare : countryInfo(country).ios;
    const os: Os = options.os ?? (options.budgetPhone ? 'android' : rng.chance(iosShare) ? 'ios' : 'android');
    const key = `ctx${(++this.contexts).toString(36)}`;
    if (os === 'ios') {
      const osVersion = rng.pick(IOS_TOKENS);
      const model = rng.pick(IPHONES);
      const chrome = rng.chance(0.12);
      const major = chromeMajor(rng);
      const safari = rng.pick(SAFARI_VERSIONS);
      const userAgent = chrome
        ? this.shared(`ic${osVersion}/${major}`, () => chromeIos(osVersion, major))
        : this.shared(`is${osVersion}/${safari}`, () => safariIos(osVersion, safari));
      const browser = chrome ? 'chrome' : 'safari';
      return { key, userAgent, os, browser, mobile: true, osVersion, model };
    }
    const osVersion = rng.pick(ANDROID_VERSIONS);
    const model = rng.pick(options.budgetPhone ? BUDGET_ANDROID_MODELS : ANDROID_MODELS);
    // About half the Android models are Samsung's, so twice the market share among them.
    const samsung = model.startsWith('SM-') && rng.chance(this.world.market.samsung * 2);
    const major = chromeMajor(rng);
    const userAgent = samsung
      ? this.shared(`as${osVersion}/${model}/${major}`, () => samsungAndroid(osVersion, model, major))
      : this.shared(`ac${major}`, () => chromeAndroid(major));
    return {
      key,
      userAgent,
      os: 'android',
      browser: samsung ? 'samsung' : 'chrome',
      mobile: true,
      osVersion,
      model,
    };
  }

  computer(country: string): Context {
    const rng = this.rng;
    const weights =
      country === this.world.home ? this.world.market.desktop : ([0.55, 0.15, 0.1, 0.2] as const);
    const choice = new Weighted<Browser>([
      ['chrome', weights[0]],
      ['edge', weights[1]],
      ['firefox', weights[2]],
      ['safari', weights[3]],
    ]).pick(rng);
    const os: Os =
      choice === 'safari' || (choice === 'chrome' && rng.chance(0.15))
        ? 'mac'
        : rng.chance(0.03)
          ? 'linux'
          : 'windows';
    const major = choice === 'firefox' ? rng.int(150, 158) : chromeMajor(rng);
    const key = `ctx${(++this.contexts).toString(36)}`;
    return {
      key,
      userAgent: this.shared(`d${os}/${choice}/${major}`, () => desktopUserAgent(os, choice, major)),
      os,
      browser: choice,
      mobile: false,
      osVersion: '',
      model: '',
    };
  }

  /** A fresh browser context with no cookies: bots and scripts keep none. */
  cookieless(userAgent: string, mobile: boolean): Context {
    const key = `ctx${(++this.contexts).toString(36)}`;
    return {
      key,
      userAgent,
      os: mobile ? 'android' : 'linux',
      browser: 'chrome',
      mobile,
      osVersion: '',
      model: '',
    };
  }

  /** The one instance of a user agent, by a short key of what varies in it. */
  private shared(key: string, make: () => string): string {
    const known = this.userAgents.get(key);
    if (known) return known;
    const userAgent = make();
    this.userAgents.set(key, userAgent);
    return userAgent;
  }

  private inAppUserAgent(phone: Context, app: App, locale: string): string {
    const rng = this.rng;
    const draw = {
      release: rng.int(0, 5),
      chrome: chromeMajor(rng),
      build: rng.pick(ANDROID_BUILDS),
      dark: rng.int(0, 1),
    };
    const key = `${app}/${phone.os}/${phone.osVersion}/${phone.model}/${locale}/${draw.release}/${draw.chrome}/${draw.build}/${draw.dark}`;
    return this.shared(key, () => inAppUserAgent(phone, app, locale, draw));
  }

  private vpnExit(country: string): Located {
    // Commercial VPNs exit from datacentres, mostly nearby or in the US.
    const exit = this.networks.datacentre();
    return this.rng.chance(0.5) ? { ip: exit.ip, country } : exit;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The ledger: clicks and orders before attribution
// ---------------------------------------------------------------------------------------------------------

interface RefundPlan {
  at: number;
  amount: number;
  reason: string;
}

/** An event with its instant; the id and the ISO time are filled in once all events are in order. */
interface Timed {
  readonly ts: number;
  /** Orders events of the same millisecond: click, conversion, refund. */
  readonly rank: number;
  readonly event: MarketEvent;
}

/** A click event with what attribution needs to know about it. */
interface ClickRecord extends Timed {
  readonly contextKey: string;
  readonly affiliateId: string;
  readonly clickId: string;
  readonly campaignId: string | undefined;
}

interface OrderRecord {
  readonly ts: number;
  readonly orderId: string;
  readonly person: Person;
  readonly contextKey: string;
  readonly ip: string;
  readonly userAgent: string;
  readonly amount: number;
  readonly couponCode: string | undefined;
  refund: RefundPlan | null;
  /** The affiliate whose traffic produced the order (ground truth), not who gets the credit. */
  readonly intended: string | null;
}

interface ClickInput {
  readonly ts: number;
  readonly affiliateId: string;
  readonly campaignId?: string | undefined;
  readonly context: Context;
  readonly userAgent?: string;
  readonly at: Located;
  readonly referrer: string;
  readonly landingUrl: string;
  readonly subjectId?: string | undefined;
}

interface OrderInput {
  readonly ts: number;
  readonly person: Person;
  readonly context: Context;
  readonly intended: string | null;
  readonly category?: WorldCategory;
  readonly aovFactor?: number;
  readonly refundFactor?: number;
  readonly couponCode?: string | undefined;
  readonly discount?: number;
  readonly at?: Located;
}

class Ledger {
  readonly clicks: ClickRecord[] = [];
  readonly orders: OrderRecord[] = [];
  private clickCount = 0;
  private orderCount = 0;

  constructor(
    private readonly rng: Rng,
    private readonly world: World,
    private readonly people: People,
  ) {}

  /** Records a click; one outside the simulated window never happened as far as the stream goes. */
  click(input: ClickInput): ClickRecord | null {
    const ts = Math.round(input.ts);
    if (ts < this.world.timelineStart || ts >= this.world.periodEnd) return null;
    const clickId = `clk_${(++this.clickCount).toString(36)}${this.rng.token(8)}`;
    const event: MarketEvent = { id: '', type: 'click', ts: '', affiliateId: input.affiliateId };
    if (input.campaignId) event.campaignId = input.campaignId;
    event.clickId = clickId;
    event.ip = input.at.ip;
    event.userAgent = input.userAgent ?? input.context.userAgent;
    event.referrer = input.referrer;
    event.landingUrl = input.landingUrl;
    if (input.subjectId) event.subjectId = input.subjectId;
    event.country = input.at.country;
    const record: ClickRecord = {
      ts,
      rank: 0,
      event,
      contextKey: input.context.key,
      affiliateId: input.affiliateId,
      clickId,
      campaignId: input.campaignId,
    };
    this.clicks.push(record);
    return record;
  }

  order(input: OrderInput): OrderRecord | null {
    const ts = Math.round(input.ts);
    if (ts < this.world.timelineStart || ts >= this.world.periodEnd) return null;
    const category = input.category ?? this.world.categoryMix.pick(this.rng);
    const gross = this.amount(category, input.aovFactor ?? 1);
    const discount = input.couponCode ? (input.discount ?? 0.1) : 0;
    const amount = this.money(gross * (1 - discount));
    const at = input.at ?? this.people.address(input.person, input.context);
    const record: OrderRecord = {
      ts,
      orderId: `ord-${this.world.home.toLowerCase()}-${(1_000_000 + ++this.orderCount).toString()}`,
      person: input.person,
      contextKey: input.context.key,
      ip: at.ip,
      userAgent: input.context.userAgent,
      amount,
      couponCode: input.couponCode,
      refund: this.refundPlan(ts, amount, category, input.refundFactor ?? 1),
      intended: input.intended,
    };
    this.orders.push(record);
    return record;
  }

  /** Rounds to the currency: yen in tens, others to cents, often as a .99 price. */
  money(value: number): number {
    if (this.world.market.decimals === 0) return Math.max(100, Math.round(value / 10) * 10);
    if (value > 5 && this.rng.chance(0.45)) return Math.round(value) - 0.01;
    return Math.max(1, Math.round(value * 100) / 100);
  }

  private amount(category: WorldCategory, factor: number): number {
    return this.world.aov * category.info.aov * factor * this.rng.logNormal(0.9, 0.5);
  }

  private refundPlan(ts: number, amount: number, category: WorldCategory, factor: number): RefundPlan | null {
    const rng = this.rng;
    // A few honest orders are disputed with the bank, weeks later.
    if (rng.chance(this.world.chargebackRate))
      return { at: ts + rng.range(20, 75) * DAY, amount, reason: 'chargeback' };
    if (!rng.chance(Math.min(0.95, category.refundRate * factor))) return null;
    if (rng.chance(0.12)) return { at: ts + rng.range(12, 48) * HOUR, amount, reason: 'cancelled' };
    const days = Math.max(1, Math.min(45, rng.logNormal(category.info.returnDays, 0.45)));
    const partial = rng.chance(0.35) ? rng.range(0.25, 0.75) : 1;
    return {
      at: ts + days * DAY,
      amount: this.money(amount * partial),
      reason: rng.pick(category.info.reasons),
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Affiliates
// ---------------------------------------------------------------------------------------------------------

interface Agent {
  readonly affiliate: MarketAffiliate;
  readonly id: string;
  readonly shape: HonestShape;
  readonly spec: ShapeSpec;
  readonly fraud: FraudKind | null;
  readonly intensity: Intensity | null;
  /** The fraudster's number within its kind: decides, alternating, whether it was active in the history. */
  readonly ordinal: number;
  readonly own: Person;
  readonly app: App;
  readonly startDay: number;
  readonly clicksPerDay: number;
  readonly conversion: number;
  readonly codePerDay: number;
  readonly home: number;
  readonly mobile: number;
  readonly existing: number;
  readonly repeat: number;
  readonly aovFactor: number;
  readonly refundFactor: number;
  readonly discount: number;
  readonly categories: Weighted<WorldCategory>;
  readonly abroad: Weighted<string>;
  readonly activity: Float64Array;
  readonly codeActivity: Float64Array;
  readonly postDays: readonly number[];
  readonly viralDay: number;
  readonly viralConversion: number;
  /** Price comparison: share of clicks from its Google Shopping ads (with a gclid, legitimately). */
  readonly comparisonAds: number;
  /** SEO blogs: share of clicks straight from search results, on the blog's indexed redirect pages. */
  readonly organicSearch: number;
  readonly campaigns: readonly string[];
  readonly site: string;
  /** The few shop pages the affiliate links to (home, categories, the products it features). */
  readonly landings: readonly string[];
  /** The affiliate's own pages visitors click from: articles, comparison pages, forum threads. */
  readonly pages: readonly string[];
  readonly followers: Person[];
}

const FIRST_NAMES = list(
  'Lena Mira Jonas Sofia Luca Emma Noah Mia Leo Zoe Nina Tom Ana Kai Lea Ella Finn Ida Max Yuki Hana Ola Kuba Chloe Jade Hugo Ines Marta Giulia Bruna Sam Alex Nora Elif Maya Theo',
);
const LAST_NAMES = list('Vogt Kovac Martin Rossi Silva Tanaka Nowak Smith Garcia Jansen Berg');
const SITE_HEADS = list('Deal Spar Save Bonus Cash Price Smart Happy Top Clever Mega Best');
const SITE_TAILS = list('Nest Fox Hub Point Radar Scout Club Box Base Corner Planet');
const SHOW_HEADS = list('Morning Late Daily Weekend Nerd Family Money Crime Sport Kitchen');
const SHOW_TAILS = ['Talk', 'Pod', 'Show', 'Cast', 'Hour', 'Stories'];
const UNRELATED_TOPICS = list('recipes lyrics weather horoscope wallpapers quiz puzzles streams jokes');
const PAID_TO_CLICK = [
  'https://www.paidverts-hub.com/',
  'https://earn-clicks.net/',
  'https://www.ptc-rewards.io/',
];

class MarketSimulation {
  private readonly rng: Rng;
  private readonly world: World;
  private readonly scale: number;
  private readonly networks: Networks;
  private readonly people: People;
  private readonly ledger: Ledger;
  private readonly agents: Agent[] = [];
  private readonly regulars: Person[] = [];
  private readonly regularAndroid: Person[] = [];
  private readonly regularDesktop: Person[] = [];
  private readonly codeOwners = new Map<string, string>();
  private readonly usedIds = new Set<string>();
  private readonly weekdays: number[] = [];
  private readonly hours: Readonly<Record<Profile, Weighted<number>>>;

  constructor(private readonly settings: Settings) {
    this.rng = new Rng(settings.seed);
    this.world = drawWorld(this.rng, settings);
    this.scale = settings.scale;
    this.networks = new Networks(this.rng);
    this.people = new People(this.rng, this.world, this.networks);
    this.ledger = new Ledger(this.rng, this.world, this.people);
    const offset = countryInfo(this.world.home).offset;
    for (let d = 0; d < this.world.days; d++)
      this.weekdays.push(new Date(this.dayStart(d) + (12 - offset) * HOUR).getUTCDay());
    this.hours = {
      evening: hourWeights([
        2.2, 1.2, 0.7, 0.4, 0.3, 0.4, 0.9, 1.8, 2.8, 3.4, 3.9, 4.3, 4.8, 4.6, 4.3, 4.3, 4.7, 5.4, 6.6, 8.2,
        9.2, 8.8, 6.8, 4.2,
      ]),
      daytime: hourWeights([
        1.2, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.6, 4.2, 5.2, 5.8, 6, 6.2, 6, 5.8, 5.6, 5.6, 5.8, 6, 6.2, 6, 5,
        3.6, 2.2,
      ]),
      business: hourWeights([
        0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.9, 2.6, 6.5, 9, 9.4, 8.6, 6.2, 7.8, 9, 8.4, 6.8, 3.6, 1.6, 1, 0.8,
        0.6, 0.4, 0.3,
      ]),
      flat: hourWeights(new Array<number>(24).fill(1)),
    };
  }

  run(): MarketCampaign {
    this.createRegulars();
    this.organicOrders();
    this.createAgents();
    for (const agent of this.agents) this.simulateAgent(agent);
    const affiliates = this.rng.shuffle(this.agents.map((agent) => agent.affiliate));
    return {
      periodStart: new Date(this.world.periodStart),
      periodEnd: new Date(this.world.periodEnd),
      affiliates,
      events: emitEvents(this.world, this.ledger, this.codeOwners),
    };
  }

  // ----- time -----

  private dayStart(day: number): number {
    return this.world.timelineStart + day * DAY;
  }

  private periodStartDay(): number {
    return this.world.historyPeriods * this.world.periodDays;
  }

  /** A moment on a local day of the given country, following the hourly profile. */
  private timeOn(day: number, country: string, profile: Profile): number {
    const hour = this.hours[profile].pick(this.rng);
    return this.dayStart(day) + (hour - countryInfo(country).offset) * HOUR + this.rng.next() * HOUR;
  }

  private dayFactor(day: number, profile: Profile): number {
    const weekday = this.weekdays[day] ?? 1;
    const weekend = weekday === 0 || weekday === 6;
    if (profile === 'flat') return 1;
    if (profile === 'business') return weekend ? 0.12 : 1.2;
    const lift = weekend ? 1 + this.world.weekendLift : weekday === 5 ? 1.05 : 0.95;
    return lift * (this.world.saleDays.get(day) ?? 1);
  }

  /** The end of the payout period an instant falls in, when its commission is paid. */
  private payoutAfter(ts: number): number {
    const length = this.world.periodDays * DAY;
    return this.world.timelineStart + Math.ceil((ts - this.world.timelineStart + 1) / length) * length;
  }

  // ----- the shop's own customers -----

  private createRegulars(): void {
    const count = Math.max(200, Math.round(this.world.regularCustomers * this.scale));
    const neighbours = [...this.world.shipping].filter((country) => country !== this.world.home);
    for (let i = 0; i < count; i++) {
      const country =
        neighbours.length > 0 && this.rng.chance(0.05) ? this.rng.pick(neighbours) : this.world.home;
      const person = this.people.person(country, {
        account: this.rng.chance(0.97),
        orders: 1 + Math.floor(this.rng.logNormal(2, 0.8)),
      });
      this.regulars.push(person);
      if (this.people.main(person).os === 'android') this.regularAndroid.push(person);
      const desktop = this.people.desktop(person);
      if (desktop && (desktop.browser === 'chrome' || desktop.browser === 'edge'))
        this.regularDesktop.push(person);
    }
  }

  /** Orders nobody referred: regular customers buying again, and new customers from search and ads. */
  private organicOrders(): void {
    const world = this.world;
    let busiest = 0;
    for (let day = 0; day < world.days; day++) busiest = Math.max(busiest, this.dayFactor(day, 'evening'));
    for (const person of this.regulars) {
      const rate = world.regularRate * this.rng.logNormal(0.8, 0.7);
      for (let n = this.rng.poisson((rate * world.days * busiest) / 1.1); n > 0; n--) {
        const day = this.rng.int(0, world.days - 1);
        // Thinning by the day's factor puts more orders on weekends and sale days.
        if (!this.rng.chance(this.dayFactor(day, 'evening') / busiest)) continue;
        const coupon = this.rng.chance(0.04) ? this.rng.pick(world.shopCodes) : undefined;
        this.ledger.order({
          ts: this.timeOn(day, person.country, 'evening'),
          person,
          context: this.rng.chance(0.8) ? this.people.main(person) : this.rng.pick(person.contexts),
          intended: null,
          couponCode: coupon,
        });
      }
    }
    for (let day = 0; day < world.days; day++) {
      const count = this.rng.poisson(world.newOrganicPerDay * this.scale * this.dayFactor(day, 'evening'));
      for (let i = 0; i < count; i++) {
        const person = this.people.person(world.home);
        const coupon = this.rng.chance(0.25) ? world.shopCodes[0] : undefined;
        const ts = this.timeOn(day, person.country, 'evening');
        this.ledger.order({
          ts,
          person,
          context: this.people.main(person),
          intended: null,
          couponCode: coupon,
        });
      }
    }
  }

  private regular(): Person {
    return this.rng.pick(this.regulars);
  }

  // ----- creating the affiliates -----

  private createAgents(): void {
    for (const shape of this.allocateShapes()) this.agents.push(this.createAgent(shape, null, null, 0));
    for (const kind of FRAUD_KINDS) {
      for (let i = 0; i < this.settings.fraudPerKind; i++) {
        const intensity = INTENSITIES[i % INTENSITIES.length] as Intensity;
        this.agents.push(this.createAgent(this.rng.pick(FRAUD_COVERS[kind]), kind, intensity, i));
      }
    }
  }

  /** Honest shapes in realistic proportions, each at least once when there are enough affiliates. */
  private allocateShapes(): HonestShape[] {
    const total = this.settings.honest;
    const weights = HONEST_SHAPES.map((shape) => SHAPES[shape].weight * this.rng.range(0.7, 1.3));
    const sum = weights.reduce((a, b) => a + b, 0);
    const everyOnce = total >= HONEST_SHAPES.length;
    const rest = total - (everyOnce ? HONEST_SHAPES.length : 0);
    const counts = weights.map((weight) => (everyOnce ? 1 : 0) + Math.floor((rest * weight) / sum));
    const remainders = weights
      .map((weight, index) => ({
        index,
        remainder: (rest * weight) / sum - Math.floor((rest * weight) / sum),
      }))
      .sort((a, b) => b.remainder - a.remainder);
    let missing = total - counts.reduce((a, b) => a + b, 0);
    for (const { index } of remainders) {
      if (missing <= 0) break;
      counts[index] = (counts[index] ?? 0) + 1;
      missing--;
    }
    const shapes: HonestShape[] = [];
    HONEST_SHAPES.forEach((shape, index) => {
      for (let n = counts[index] ?? 0; n > 0; n--) shapes.push(shape);
    });
    return shapes;
  }

  private createAgent(
    shape: HonestShape,
    fraud: FraudKind | null,
    intensity: Intensity | null,
    ordinal: number,
  ): Agent {
    const rng = this.rng;
    const spec = SHAPES[shape];
    const id = this.newAffiliateId();
    const name = this.affiliateName(spec.channel);
    const startDay = this.agentStartDay(shape);
    const clicksPerDay = rng.between(spec.clicks);
    const conversion = this.world.clickToOrder * rng.between(spec.conversion);
    const codes =
      rng.chance(spec.codeChance) || fraud === 'coupon-leakage' ? this.couponCodes(name, spec.channel) : [];
    const codePerDay =
      codes.length === 0
        ? 0
        : spec.codePerDay
          ? rng.between(spec.codePerDay)
          : clicksPerDay * conversion * rng.between(spec.codeRatio) * this.world.couponCulture;
    const multilingual = spec.channel === 'social' && shape !== 'expat-creator' && rng.chance(0.15);
    const { activity, codeActivity, postDays } = this.activity(spec, startDay);
    const viralDay = shape === 'viral-post' ? this.viralDay(startDay, activity) : -1;
    const categories = this.agentCategories(shape);
    const site = this.affiliateSite(spec.channel, name);
    const own = this.people.person(this.world.home, {
      account: true,
      orders: rng.int(0, 4),
      mobileShare: 0.8,
    });
    const affiliate: MarketAffiliate = {
      id,
      name,
      couponCodes: codes,
      subjectId: own.id,
      fraud,
      shape,
      intensity,
    };
    for (const code of codes) this.codeOwners.set(code, id);
    return {
      affiliate,
      id,
      shape,
      spec,
      fraud,
      intensity,
      ordinal,
      own,
      app: rng.chance(0.58) ? 'instagram' : rng.chance(0.85) ? 'tiktok' : 'facebook',
      startDay,
      clicksPerDay,
      conversion,
      codePerDay,
      home: multilingual ? rng.range(0.55, 0.8) : rng.between(spec.home),
      mobile: rng.between(spec.mobile),
      existing: rng.between(spec.existing),
      repeat: rng.range(0.08, 0.3),
      aovFactor: rng.between(spec.aov),
      refundFactor: rng.between(spec.refund),
      discount: rng.pick([0.1, 0.1, 0.15, 0.15, 0.2]),
      categories,
      abroad: new Weighted(this.world.market.abroad.map((country) => [country, rng.range(0.2, 1)] as const)),
      activity,
      codeActivity,
      postDays,
      viralDay,
      viralConversion: rng.range(0.15, 0.4),
      comparisonAds: shape === 'price-comparison' ? rng.range(0, 0.4) : 0,
      organicSearch: shape === 'seo-blog' ? rng.range(0.05, 0.25) : 0,
      campaigns: Array.from({ length: rng.int(1, 3) }, () => `cmp-${rng.token(6)}`),
      site,
      landings: this.landings(id, categories),
      pages: this.pages(spec.channel, site),
      followers: [],
    };
  }

  private agentStartDay(shape: HonestShape): number {
    if (shape === 'new-creator')
      return this.periodStartDay() + this.rng.int(0, Math.floor(this.world.periodDays / 2));
    // Some affiliates joined during the history; most were there before it.
    return this.rng.chance(0.12) ? this.rng.int(1, this.world.periodDays) : 0;
  }

  private agentCategories(shape: HonestShape): Weighted<WorldCategory> {
    const categories = this.world.categories;
    const niche = this.rng.pick(categories).info.name;
    return new Weighted(
      categories.map((category) => {
        const name = category.info.name;
        if (shape === 'try-on-haul')
          return [category, name === 'fashion' ? 8 : name === 'shoes' ? 2 : 0] as const;
        if (shape === 'b2b-partner')
          return [category, name === 'electronics' ? 6 : name === 'home' ? 2 : 0] as const;
        if (shape === 'youtube-reviewer')
          return [category, name === 'electronics' ? 5 : category.weight] as const;
        return [category, category.weight * (name === niche ? this.rng.range(2, 6) : 1)] as const;
      }),
    );
  }

  private newAffiliateId(): string {
    for (;;) {
      const id = `aff_${this.rng.token(8)}`;
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
    }
  }

  private affiliateName(channel: Channel): string {
    const rng = this.rng;
    switch (channel) {
      case 'social':
      case 'youtube':
      case 'forum':
        return `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
      case 'audio':
        return `${rng.pick(SHOW_HEADS)} ${rng.pick(SHOW_TAILS)}`;
      case 'mail':
        return `${rng.pick(SITE_HEADS)} ${rng.pick(['Weekly', 'Letter', 'Digest', 'Picks'])}`;
      case 'b2b':
        return `${rng.pick(SITE_HEADS)}${rng.pick(SITE_TAILS)} ${this.world.market.companySuffix}`;
      default:
        return `${rng.pick(SITE_HEADS)}${rng.pick(SITE_TAILS)}`;
    }
  }

  private couponCodes(name: string, channel: Channel): string[] {
    const stem = (
      channel === 'social' || channel === 'youtube' || channel === 'forum'
        ? (name.split(' ')[0] ?? name)
        : name
    )
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '');
    const codes: string[] = [];
    for (let n = this.rng.chance(0.25) ? 2 : 1; n > 0; n--) {
      let code = `${stem}${this.rng.pick([10, 15, 20])}`;
      while (this.codeOwners.has(code) || codes.includes(code))
        code = `${stem}${this.rng.int(2, 99)}${this.rng.token(2).toUpperCase()}`;
      codes.push(code);
    }
    return codes;
  }

  private affiliateSite(channel: Channel, name: string): string {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const tld = this.rng.chance(0.6) ? this.world.market.tld : 'com';
    if (channel === 'forum') return `https://forum.${slug}${this.rng.token(2)}.${tld}`;
    return `https://www.${slug}.${tld}`;
  }

  /** Daily multipliers of clicks and of typed codes, with a mean of 1 over the active days. */
  private activity(
    spec: ShapeSpec,
    startDay: number,
  ): { activity: Float64Array; codeActivity: Float64Array; postDays: number[] } {
    const days = this.world.days;
    const activity = new Float64Array(days);
    const codeActivity = new Float64Array(days);
    const postDays: number[] = [];
    const kernels: Record<Pattern, { clicks: readonly number[]; codes: readonly number[]; floor: number }> = {
      posts: { clicks: [1, 0.35, 0.12, 0.05], codes: [1, 0.6, 0.35, 0.2, 0.1, 0.05], floor: 0.12 },
      sends: { clicks: [1, 0.3, 0.08], codes: [1, 0.4, 0.15, 0.05], floor: 0.05 },
      episodes: {
        clicks: [1, 0.6, 0.45, 0.35, 0.28, 0.22, 0.18],
        codes: [1, 0.7, 0.55, 0.45, 0.38, 0.3, 0.25, 0.2, 0.16, 0.12],
        floor: 0.1,
      },
      steady: { clicks: [], codes: [], floor: 1 },
    };
    const kernel = kernels[spec.pattern];
    const perDay = this.rng.between(spec.cadence) / 7;
    const sendWeekday = this.rng.int(1, 5);
    for (let d = startDay; d < days; d++) {
      activity[d] = kernel.floor * (spec.pattern === 'steady' ? this.rng.logNormal(1, 0.15) : 1);
      codeActivity[d] = kernel.floor * (spec.pattern === 'steady' ? 1 : 1.5);
      const post =
        spec.pattern === 'sends'
          ? this.weekdays[d] === sendWeekday ||
            (perDay > 1.5 / 7 && this.weekdays[d] === ((sendWeekday + 2) % 5) + 1)
          : spec.pattern !== 'steady' && this.rng.chance(perDay);
      if (post) postDays.push(d);
    }
    for (const d of postDays) {
      kernel.clicks.forEach((weight, i) => {
        if (d + i < days) activity[d + i] = (activity[d + i] ?? 0) + weight;
      });
      kernel.codes.forEach((weight, i) => {
        if (d + i < days) codeActivity[d + i] = (codeActivity[d + i] ?? 0) + weight;
      });
    }
    normaliseFrom(activity, startDay);
    normaliseFrom(codeActivity, startDay);
    return { activity, codeActivity, postDays };
  }

  /** One day with 20–50 times the usual clicks, and some spill-over the day after. */
  private viralDay(startDay: number, activity: Float64Array): number {
    const day = this.rng.chance(0.6)
      ? this.rng.int(this.periodStartDay(), this.world.days - 2)
      : this.rng.int(startDay, this.periodStartDay() - 1);
    const boost = this.rng.range(20, 50);
    activity[day] = (activity[day] ?? 0) + boost;
    activity[day + 1] = (activity[day + 1] ?? 0) + boost * this.rng.range(0.15, 0.35);
    return day;
  }

  // ----- honest traffic -----

  private simulateAgent(agent: Agent): void {
    const clicksBefore = this.ledger.clicks.length;
    const ordersBefore = this.ledger.orders.length;
    this.honestTraffic(agent);
    this.ownPurchases(agent);
    if (agent.fraud && agent.intensity)
      this.commitFraud(agent, agent.fraud, agent.intensity, clicksBefore, ordersBefore);
  }

  private honestTraffic(agent: Agent): void {
    for (let day = agent.startDay; day < this.world.days; day++) {
      const factor = this.dayFactor(day, agent.spec.profile) * this.scale;
      const viral = day === agent.viralDay || day === agent.viralDay + 1;
      const clicks = this.rng.poisson(agent.clicksPerDay * (agent.activity[day] ?? 0) * factor);
      for (let i = 0; i < clicks; i++) this.honestClick(agent, day, viral);
      const coded = this.rng.poisson(agent.codePerDay * (agent.codeActivity[day] ?? 0) * factor);
      for (let i = 0; i < coded; i++) this.codeOrder(agent, day);
    }
    for (const day of agent.postDays) this.previewFetches(agent, day);
  }

  private honestClick(agent: Agent, day: number, viral: boolean): void {
    const person = this.audienceMember(agent, viral);
    const context = this.clickContext(agent, person);
    const ts = this.timeOn(day, person.country, agent.spec.profile);
    const search = agent.comparisonAds > 0 && this.rng.chance(agent.comparisonAds);
    const click = this.personClick(
      agent,
      ts,
      person,
      context,
      search ? `https://${this.world.market.google}/` : this.referrer(agent, context),
      search ? this.landingUrl(agent, `&gclid=${this.gclid()}`) : this.landingUrl(agent),
    );
    if (!click || !this.world.shipping.has(person.country)) return;
    const rate =
      agent.conversion * (viral ? agent.viralConversion : 1) * (this.world.saleDays.has(day) ? 1.2 : 1);
    if (!this.rng.chance(rate)) return;
    const typed = agent.affiliate.couponCodes.length > 0 && this.rng.chance(0.2 * this.world.couponCulture);
    this.ledger.order({
      ts: ts + this.lag(agent.spec.lag, context),
      person,
      context: this.orderContext(person, context),
      intended: agent.id,
      category: agent.categories.pick(this.rng),
      aovFactor: agent.aovFactor,
      refundFactor: agent.refundFactor,
      couponCode: typed ? this.rng.pick(agent.affiliate.couponCodes) : undefined,
      discount: agent.discount,
    });
  }

  /** An order by code alone: someone who saw the story, heard the episode, or read the post without a link. */
  private codeOrder(agent: Agent, day: number): void {
    const person = this.audienceMember(agent, false);
    if (!this.world.shipping.has(person.country)) return;
    this.ledger.order({
      ts: this.timeOn(day, person.country, agent.spec.profile === 'business' ? 'business' : 'evening'),
      person,
      context: this.people.main(person),
      intended: agent.id,
      category: agent.categories.pick(this.rng),
      aovFactor: agent.aovFactor,
      refundFactor: agent.refundFactor,
      couponCode: this.rng.pick(agent.affiliate.couponCodes),
      discount: agent.discount,
    });
  }

  /** A visitor: a returning follower, an existing customer, or someone new (at home or abroad). */
  private audienceMember(agent: Agent, viral: boolean): Person {
    const rng = this.rng;
    if (!viral && agent.followers.length > 0 && rng.chance(agent.repeat)) return rng.pick(agent.followers);
    if (!viral && rng.chance(agent.existing)) return this.remember(agent, this.regular());
    const home = rng.chance(viral ? agent.home * 0.8 : agent.home);
    const country = home ? this.world.home : agent.abroad.pick(rng);
    const business = agent.spec.channel === 'b2b';
    return this.remember(
      agent,
      this.people.person(country, {
        mobileShare: viral ? 0.95 : agent.mobile,
        account: business ? true : undefined,
      }),
    );
  }

  private remember(agent: Agent, person: Person): Person {
    if (agent.followers.length < 300) agent.followers.push(person);
    else agent.followers[this.rng.int(0, 299)] = person;
    return person;
  }

  private clickContext(agent: Agent, person: Person): Context {
    const main = this.people.main(person);
    if (agent.spec.channel === 'social' && main.mobile && this.rng.chance(this.world.inAppShare))
      return this.people.inApp(person, agent.app);
    if (agent.spec.channel === 'youtube' && main.mobile && this.rng.chance(0.3))
      return this.people.desktop(person) ?? main;
    return main;
  }

  /** Mostly the browser of the click; an in-app browser often hands over to the phone's own browser. */
  private orderContext(person: Person, clicked: Context): Context {
    if (clicked.browser === 'in-app') return this.rng.chance(0.55) ? clicked : this.people.main(person);
    if (person.contexts.length > 1 && this.rng.chance(0.08)) return this.rng.pick(person.contexts);
    return clicked;
  }

  private personClick(
    agent: Agent,
    ts: number,
    person: Person,
    context: Context,
    referrer: string,
    landingUrl: string,
    userAgent?: string,
  ): ClickRecord | null {
    return this.ledger.click({
      ts,
      affiliateId: agent.id,
      campaignId: this.rng.chance(0.7) ? this.rng.pick(agent.campaigns) : undefined,
      context,
      userAgent,
      at: this.people.address(person, context),
      referrer,
      landingUrl,
      subjectId: this.knownVisitor(person, context) ? person.id : undefined,
    });
  }

  /** Whether the shop recognises the visitor: a logged-in customer in a browser that keeps its cookies. */
  private knownVisitor(person: Person, context: Context): boolean {
    if (!person.account || context.browser === 'in-app') return false;
    return this.rng.chance(this.world.loggedInShare * (person.orders > 0 ? 1 : 0.3));
  }

  private referrer(agent: Agent, context: Context): string {
    const rng = this.rng;
    if (rng.chance(this.world.strippedReferrer)) return '';
    if (agent.organicSearch > 0 && rng.chance(agent.organicSearch))
      return `https://${this.world.market.google}/`;
    const brand = this.world.shopHost.split('.')[1] ?? 'shop';
    switch (agent.spec.channel) {
      case 'social':
        if (agent.app === 'tiktok') return rng.chance(0.6) ? '' : 'https://www.tiktok.com/';
        if (agent.app === 'facebook') return rng.chance(0.4) ? '' : 'https://l.facebook.com/';
        return context.browser === 'in-app' && rng.chance(0.5)
          ? ''
          : rng.chance(0.85)
            ? 'https://l.instagram.com/'
            : 'https://www.instagram.com/';
      case 'youtube':
        return context.mobile ? 'https://m.youtube.com/' : 'https://www.youtube.com/';
      case 'blog':
        return rng.chance(this.world.originOnly) ? `${agent.site}/` : rng.pick(agent.pages);
      case 'portal':
        return rng.chance(this.world.originOnly) ? `${agent.site}/` : `${agent.site}/shops/${brand}`;
      case 'coupon':
        return rng.chance(this.world.originOnly)
          ? `${agent.site}/`
          : `${agent.site}/${this.world.market.couponPath}/${brand}`;
      case 'compare':
        return rng.chance(this.world.originOnly) ? `${agent.site}/` : rng.pick(agent.pages);
      case 'mail':
        return rng.chance(0.5) ? '' : rng.pick(this.world.market.webmail);
      case 'audio':
        return rng.pick(['', '', 'https://open.spotify.com/', 'https://podcasts.apple.com/']);
      case 'forum':
        if (rng.chance(0.2)) return 'https://www.reddit.com/';
        return rng.chance(this.world.originOnly) ? `${agent.site}/` : rng.pick(agent.pages);
      case 'b2b':
        return rng.chance(0.5) ? '' : `${agent.site}/procurement`;
    }
  }

  private landingUrl(agent: Agent, extra = ''): string {
    return `${this.rng.pick(agent.landings)}${extra}`;
  }

  private landings(id: string, categories: Weighted<WorldCategory>): string[] {
    const rng = this.rng;
    return Array.from({ length: rng.int(3, 12) }, (_, i) => {
      const path =
        i === 0
          ? '/'
          : rng.chance(0.4)
            ? `/c/${categories.pick(rng).info.name}`
            : `/p/${rng.int(100000, 999999)}`;
      return `https://${this.world.shopHost}${path}?utm_source=${id}&utm_medium=affiliate`;
    });
  }

  private pages(channel: Channel, site: string): string[] {
    const rng = this.rng;
    const topics = ['best', 'review', 'guide', 'test', 'top-10', 'vs'];
    switch (channel) {
      case 'blog':
        return Array.from({ length: rng.int(8, 30) }, () => `${site}/${rng.pick(topics)}-${rng.token(6)}/`);
      case 'compare':
        return Array.from({ length: rng.int(20, 60) }, () => `${site}/p/${rng.int(100000, 999999)}`);
      case 'forum':
        return Array.from({ length: rng.int(4, 15) }, () => `${site}/t/${rng.token(7)}/${rng.int(1, 400)}`);
      default:
        return [`${site}/`];
    }
  }

  private gclid(): string {
    return `Cj0KCQiA${this.rng.token(24)}_${this.rng.token(20)}BwE`;
  }

  /** How long from click to order; a few iPhone buyers pay with Apple Pay within a minute. */
  private lag(model: LagModel, context: Context): number {
    const rng = this.rng;
    const s = this.world.lagScale;
    if (model !== 'business' && context.os === 'ios' && rng.chance(0.04)) return rng.range(18, 60) * SECOND;
    const u = rng.next();
    let lag: number;
    switch (model) {
      case 'social':
        lag =
          u < 0.5
            ? rng.logNormal(12 * MINUTE * s, 1)
            : u < 0.82
              ? rng.logNormal(5 * HOUR * s, 0.9)
              : rng.range(1, 20) * DAY;
        break;
      case 'video':
        lag =
          u < 0.2
            ? rng.logNormal(40 * MINUTE * s, 0.9)
            : u < 0.6
              ? rng.logNormal(1.5 * DAY * s, 0.8)
              : rng.logNormal(6 * DAY * s, 0.6);
        break;
      case 'search':
        lag =
          u < 0.55
            ? rng.logNormal(20 * MINUTE * s, 1)
            : u < 0.8
              ? rng.logNormal(6 * HOUR * s, 0.8)
              : rng.range(1, 15) * DAY;
        break;
      case 'checkout':
        lag = u < 0.85 ? rng.logNormal(4 * MINUTE * s, 0.7) : rng.logNormal(2 * HOUR * s, 1);
        break;
      case 'compare':
        lag =
          u < 0.6
            ? rng.logNormal(25 * MINUTE * s, 1)
            : u < 0.9
              ? rng.logNormal(8 * HOUR * s, 0.8)
              : rng.range(1, 10) * DAY;
        break;
      case 'mail':
        lag =
          u < 0.55
            ? rng.logNormal(40 * MINUTE * s, 1)
            : u < 0.85
              ? rng.logNormal(10 * HOUR * s, 0.8)
              : rng.range(1, 12) * DAY;
        break;
      case 'business':
        lag = rng.logNormal(2 * DAY * s, 1);
        break;
    }
    return Math.min(29.5 * DAY, Math.max(40 * SECOND, lag));
  }

  /**
   * Link-preview crawlers fetch a freshly posted link once, from datacentres, within a minute or two; only
   * where a link unfurls (messengers, Facebook, X, Discord, mail scanners), and fewer at smaller scales.
   */
  private previewFetches(agent: Agent, day: number): void {
    const previewers = PREVIEWERS[agent.spec.channel];
    if (!agent.spec.previews || !previewers) return;
    const mail = agent.spec.channel === 'mail';
    if (!this.rng.chance((mail ? 1 : 0.35) * Math.min(1, this.scale))) return;
    const choice = new Weighted(previewers);
    const postedAt =
      this.dayStart(day) + (this.rng.range(17, 21) - countryInfo(this.world.home).offset) * HOUR;
    const fetches = mail ? this.rng.int(2, 12) : this.rng.int(1, 3);
    for (let i = 0; i < fetches; i++) {
      const crawler = CRAWLERS[choice.pick(this.rng)];
      if (!crawler) continue;
      this.ledger.click({
        ts: postedAt + this.rng.range(1, 120) * SECOND,
        affiliateId: agent.id,
        context: this.people.cookieless(crawler.userAgent, false),
        at: this.networks.crawler(crawler),
        referrer: '',
        landingUrl: this.landingUrl(agent),
      });
    }
  }

  /** The affiliate as a customer: mostly ordinary orders, now and then with their own code. */
  private ownPurchases(agent: Agent): void {
    if (!this.rng.chance(0.3)) return;
    for (let n = this.rng.int(1, 3); n > 0; n--) {
      const day = this.rng.int(0, this.world.days - 1);
      const ownCode = agent.affiliate.couponCodes.length > 0 && this.rng.chance(0.08);
      this.ledger.order({
        ts: this.timeOn(day, this.world.home, 'evening'),
        person: agent.own,
        context: this.people.main(agent.own),
        intended: ownCode ? agent.id : null,
        couponCode: ownCode ? agent.affiliate.couponCodes[0] : undefined,
      });
    }
  }

  // ----- fraud -----

  private commitFraud(
    agent: Agent,
    kind: FraudKind,
    intensity: Intensity,
    clicksBefore: number,
    ordersBefore: number,
  ): void {
    const plan = this.fraudPlan(agent, kind, intensity);
    const cover = this.coverVolume(agent, plan, clicksBefore, ordersBefore);
    const share = plan.share / (1 - plan.share);
    const cap = FRAUD_DAILY_CAP[intensity] * this.fraudDays(plan) * this.scale;
    const floor = Math.max(
      FRAUD_FLOOR[intensity],
      FRAUD_DAILY_FLOOR[intensity] * this.fraudDays(plan) * this.scale,
    );
    const orders = Math.round(Math.max(floor, Math.min(cap, this.rng.round(cover.orders * share))));
    const clicks = Math.max(
      FRAUD_FLOOR[intensity] * 20,
      Math.min(cap * 25, this.rng.round(cover.clicks * share)),
    );
    const traffic = kind === 'bot-traffic' || kind === 'incentivized-traffic';
    this.fraudActs[kind].call(this, agent, plan, traffic ? clicks : orders);
  }

  /** What each kind does, given how many orders it should take (or clicks it should add, for traffic). */
  private readonly fraudActs: Readonly<
    Record<FraudKind, (this: MarketSimulation, agent: Agent, plan: FraudPlan, volume: number) => void>
  > = {
    'cookie-stuffing': this.cookieStuffing,
    'click-injection': this.clickInjection,
    'click-spamming': this.clickSpamming,
    'coupon-leakage': this.couponLeakage,
    'self-referral': this.selfReferral,
    'refund-abuse': this.refundAbuse,
    'bot-traffic': this.botTraffic,
    'incentivized-traffic': this.incentivizedTraffic,
    'brand-bidding': this.brandBidding,
    'stolen-card-orders': this.stolenCardOrders,
    'extension-hijacking': this.extensionHijacking,
  };

  /** When the fraud starts: some were at it throughout the history, others begin in this period. */
  private fraudPlan(agent: Agent, kind: FraudKind, intensity: Intensity): FraudPlan {
    const periodStartDay = this.periodStartDay();
    // Alternating, so that each kind has some of both (intensities cycle in threes, this in twos); a leaked
    // code mostly starts suddenly in the period.
    const early = kind === 'coupon-leakage' ? agent.ordinal % 4 === 0 : agent.ordinal % 2 === 0;
    const inHistory = agent.startDay < periodStartDay && early;
    const startDay = inHistory
      ? this.rng.int(agent.startDay, Math.max(agent.startDay, Math.floor(periodStartDay * 0.6)))
      : Math.max(agent.startDay, periodStartDay + this.rng.int(0, Math.floor(this.world.periodDays * 0.4)));
    return {
      intensity,
      startDay,
      start: this.dayStart(startDay),
      share: this.rng.between(FRAUD_SHARE[intensity]),
    };
  }

  private coverVolume(
    agent: Agent,
    plan: FraudPlan,
    clicksBefore: number,
    ordersBefore: number,
  ): { clicks: number; orders: number } {
    let clicks = 0;
    let orders = 0;
    for (let i = clicksBefore; i < this.ledger.clicks.length; i++)
      if ((this.ledger.clicks[i]?.ts ?? 0) >= plan.start) clicks++;
    for (let i = ordersBefore; i < this.ledger.orders.length; i++) {
      const order = this.ledger.orders[i];
      if (order && order.intended === agent.id && order.ts >= plan.start) orders++;
    }
    return { clicks, orders };
  }

  /** A moment within the fraud's active days. */
  private fraudTime(plan: FraudPlan, country: string, profile: Profile): number {
    return this.timeOn(this.rng.int(plan.startDay, this.world.days - 1), country, profile);
  }

  private fraudDays(plan: FraudPlan): number {
    return this.world.days - plan.startDay;
  }

  /** Hidden iframes on unrelated sites drop the cookie on their visitors, some of whom buy anyway later. */
  private cookieStuffing(agent: Agent, plan: FraudPlan, wanted: number): void {
    const rng = this.rng;
    // Near-zero orders per click: the impressions budget bounds the credited orders, not the other way round.
    const ratio =
      plan.intensity === 'blatant'
        ? rng.range(120, 300)
        : plan.intensity === 'moderate'
          ? rng.range(80, 200)
          : rng.range(40, 120);
    const budget = Math.round(100 * this.fraudDays(plan) * this.scale) + 50;
    const orders = Math.max(FRAUD_FLOOR[plan.intensity], Math.min(wanted, Math.round(budget / ratio)));
    const impressions = Math.min(budget, Math.round(orders * ratio));
    const sites = Array.from(
      { length: plan.intensity === 'subtle' ? rng.int(1, 2) : rng.int(3, 8) },
      () =>
        `https://www.${rng.pick(UNRELATED_TOPICS)}-${rng.token(5)}.${rng.pick(['com', 'net', 'info', this.world.market.tld])}`,
    );
    const stuff = (person: Person, ts: number): void => {
      const context = this.people.main(person);
      // An iframe's request carries the embedding page, cut to its origin by the default referrer policy.
      const site = rng.pick(sites);
      const referrer = rng.chance(this.world.originOnly) ? `${site}/` : `${site}/${rng.token(6)}`;
      this.personClick(
        agent,
        ts,
        person,
        context,
        referrer,
        `https://${this.world.shopHost}/?utm_source=${agent.id}&utm_medium=affiliate`,
      );
    };
    for (let k = 0; k < orders; k++) {
      const person = this.regular();
      const ts = this.fraudTime(plan, person.country, 'evening');
      const room = ts - plan.start;
      if (room < HOUR) continue;
      stuff(person, ts - Math.min(room - MINUTE, rng.range(2 * HOUR, 29 * DAY)));
      this.ledger.order({ ts, person, context: this.people.main(person), intended: agent.id });
    }
    for (let i = 0; i < impressions; i++) {
      const person = rng.chance(0.15)
        ? this.regular()
        : this.people.person(rng.chance(0.85) ? this.world.home : rng.pick(this.world.market.abroad));
      const ts = this.fraudTime(plan, person.country, 'daytime');
      stuff(person, ts);
      if (plan.intensity === 'blatant' && rng.chance(0.25)) stuff(person, ts + rng.range(1, 6) * DAY);
    }
  }

  /** An app on the phone sees the shop's app open and fires the affiliate's click seconds before the order. */
  private clickInjection(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const lag: Range =
      plan.intensity === 'blatant' ? [1.5, 12] : plan.intensity === 'moderate' ? [3, 30] : [8, 75];
    const dalvik = plan.intensity === 'blatant' ? 0.9 : plan.intensity === 'moderate' ? 0.4 : 0;
    const pool = this.regularAndroid.length > 0 ? this.regularAndroid : this.regulars;
    const inject = (person: Person, ts: number): Located => {
      const context = this.people.main(person);
      const at = this.people.address(person, context);
      const ua = rng.chance(dalvik)
        ? `Dalvik/2.1.0 (Linux; U; Android ${context.osVersion || '14'}; ${context.model || 'SM-A546B'} Build/${rng.pick(ANDROID_BUILDS)})`
        : undefined;
      this.ledger.click({
        ts,
        affiliateId: agent.id,
        context,
        userAgent: ua,
        at,
        referrer: '',
        landingUrl: this.landingUrl(agent),
        subjectId: undefined,
      });
      return at;
    };
    for (let k = 0; k < orders; k++) {
      const person = rng.pick(pool);
      const ts = this.fraudTime(plan, person.country, 'evening');
      const at = inject(person, ts - rng.between(lag) * SECOND);
      this.ledger.order({ ts, person, context: this.people.main(person), intended: agent.id, at });
    }
    // The shopping app is opened more often than it sells: injected clicks without an order.
    for (let n = Math.round(orders * rng.range(0.4, 1.5)); n > 0; n--) {
      const person = rng.chance(0.5)
        ? rng.pick(pool)
        : this.people.person(this.world.home, { os: 'android' });
      inject(person, this.fraudTime(plan, person.country, 'evening'));
    }
  }

  /** Background clicks from many real phones, hoping one of them buys within the cookie window. */
  private clickSpamming(agent: Agent, plan: FraudPlan, wanted: number): void {
    const rng = this.rng;
    const perDay =
      (plan.intensity === 'blatant'
        ? rng.range(120, 250)
        : plan.intensity === 'moderate'
          ? rng.range(50, 100)
          : rng.range(15, 35)) * this.scale;
    // A tiny click-to-order rate: at most one credited order per few hundred clicks.
    const orders = Math.max(
      FRAUD_FLOOR[plan.intensity],
      Math.min(wanted, Math.round((perDay * this.fraudDays(plan)) / rng.range(150, 400))),
    );
    for (let day = plan.startDay; day < this.world.days; day++) {
      for (let n = rng.poisson(perDay); n > 0; n--) {
        const person = this.people.person(
          rng.chance(0.92) ? this.world.home : rng.pick(this.world.market.abroad),
          { os: rng.chance(0.8) ? 'android' : 'ios' },
        );
        this.personClick(
          agent,
          this.timeOn(day, person.country, 'daytime'),
          person,
          this.people.main(person),
          '',
          this.landingUrl(agent),
        );
      }
    }
    for (let k = 0; k < orders; k++) {
      const person = this.regular();
      const ts = this.fraudTime(plan, person.country, 'evening');
      const room = Math.min(COOKIE_WINDOW - MINUTE, ts - plan.start);
      if (room < MINUTE) continue;
      const context = this.people.main(person);
      this.personClick(agent, ts - rng.range(MINUTE, room), person, context, '', this.landingUrl(agent));
      this.ledger.order({ ts, person, context, intended: agent.id });
    }
  }

  /** The code reaches deal sites and coupon extensions: strangers who were about to buy anyway use it. */
  private couponLeakage(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const code = agent.affiliate.couponCodes[0];
    if (!code) return;
    const clickShare = plan.intensity === 'blatant' ? 0.35 : plan.intensity === 'moderate' ? 0.25 : 0.15;
    const destinations = [...this.world.shipping];
    for (let k = 0; k < orders; k++) {
      const person = rng.chance(0.45)
        ? this.regular()
        : this.people.person(rng.chance(0.85) ? this.world.home : rng.pick(destinations), {
            mobileShare: 0.4,
          });
      const ts = this.fraudTime(plan, person.country, 'daytime');
      const context = this.people.main(person);
      if (rng.chance(clickShare)) {
        const referrer = `${rng.pick(this.world.market.dealSites)}${this.world.market.couponPath}/${rng.token(6)}`;
        this.personClick(
          agent,
          ts - rng.range(30, 360) * SECOND,
          person,
          context,
          referrer,
          this.landingUrl(agent),
        );
      }
      this.ledger.order({
        ts,
        person,
        context,
        intended: agent.id,
        couponCode: code,
        discount: agent.discount,
      });
    }
  }

  /** The affiliate and their household buy through their own link or code. */
  private selfReferral(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const own = agent.own;
    const household = Array.from({ length: rng.int(1, 3) }, () =>
      this.people.person(this.world.home, { account: true, homeIp: own.homeIp, carrier: own.carrier }),
    );
    // The subtle ones also use a few friends' addresses: many orders from few places.
    const friends =
      plan.intensity === 'subtle'
        ? Array.from({ length: rng.int(2, 3) }, () => this.people.person(this.world.home, { account: true }))
        : [];
    const ownShare = plan.intensity === 'blatant' ? 0.75 : plan.intensity === 'moderate' ? 0.4 : 0.2;
    const codes = agent.affiliate.couponCodes;
    for (let k = 0; k < orders; k++) {
      const person = rng.chance(ownShare) ? own : rng.pick([...household, ...friends]);
      // The blatant ones do it all on the affiliate's own phone.
      const context = plan.intensity === 'blatant' ? this.people.main(own) : this.people.main(person);
      const ts = this.fraudTime(plan, person.country, 'evening');
      const byCode = codes.length > 0 && rng.chance(0.4);
      if (!byCode)
        this.personClick(
          agent,
          ts - rng.range(15, 900) * SECOND,
          person,
          context,
          this.referrer(agent, context),
          this.landingUrl(agent),
        );
      this.ledger.order({
        ts,
        person,
        context,
        intended: agent.id,
        category: agent.categories.pick(rng),
        couponCode: byCode ? rng.pick(codes) : undefined,
        discount: agent.discount,
      });
    }
  }

  /** A ring buys through the affiliate, keeps the commission paid, and sends the goods back after payout. */
  private refundAbuse(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const size =
      plan.intensity === 'blatant'
        ? rng.int(3, 5)
        : plan.intensity === 'moderate'
          ? rng.int(4, 8)
          : rng.int(6, 12);
    const homes = Array.from({ length: Math.max(2, Math.ceil(size / 3)) }, () =>
      this.networks.homeAddress(this.world.home),
    );
    const ring = Array.from({ length: size }, () =>
      this.people.person(this.world.home, { account: true, homeIp: rng.pick(homes) }),
    );
    const refundShare =
      plan.intensity === 'blatant'
        ? rng.range(0.85, 0.95)
        : plan.intensity === 'moderate'
          ? rng.range(0.6, 0.8)
          : rng.range(0.4, 0.6);
    const codes = agent.affiliate.couponCodes;
    for (let k = 0; k < orders; k++) {
      const person = rng.pick(ring);
      const context = this.people.main(person);
      const ts = this.fraudTime(plan, person.country, 'evening');
      const byCode = codes.length > 0 && rng.chance(0.3);
      if (!byCode)
        this.personClick(
          agent,
          ts - rng.logNormal(8 * MINUTE, 0.8),
          person,
          context,
          this.referrer(agent, context),
          this.landingUrl(agent),
        );
      const order = this.ledger.order({
        ts,
        person,
        context,
        intended: agent.id,
        category: agent.categories.pick(rng),
        aovFactor: agent.aovFactor * rng.range(1.3, 2.5),
        couponCode: byCode ? rng.pick(codes) : undefined,
        discount: agent.discount,
      });
      if (order && rng.chance(refundShare)) {
        const reason = rng.pick(['return', 'not_as_described', 'damaged']);
        order.refund = { at: this.payoutAfter(ts) + rng.range(1, 12) * DAY, amount: order.amount, reason };
      }
    }
  }

  /** Scripted clicks: blatant from a few datacentre addresses on a timer, subtle through residential proxies. */
  private botTraffic(agent: Agent, plan: FraudPlan, clicks: number): void {
    const rng = this.rng;
    const intensity = plan.intensity;
    const scripted = rng.pick([
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36',
      'python-requests/2.32.3',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36',
    ]);
    const addresses = Array.from({ length: intensity === 'blatant' ? rng.int(1, 3) : rng.int(15, 50) }, () =>
      this.networks.datacentre(),
    );
    const agents =
      intensity === 'blatant'
        ? [scripted]
        : Array.from({ length: intensity === 'moderate' ? rng.int(3, 5) : rng.int(5, 8) }, () =>
            intensity === 'moderate'
              ? desktopUserAgent('windows', 'chrome', rng.int(109, 124))
              : this.people.phone(this.world.home, {}).userAgent,
          );
    const days = this.fraudDays(plan);
    const perDay = Math.max(1, Math.round(clicks / days));
    const interval = rng.range(20, 90) * SECOND;
    for (let day = plan.startDay; day < this.world.days; day++) {
      let ts = this.dayStart(day) + rng.range(0, 20) * HOUR;
      for (let n = 0; n < perDay; n++) {
        // Blatant bots fire on a timer; moderate ones jitter it; subtle ones spread over the day, at night too.
        ts =
          intensity === 'subtle'
            ? this.dayStart(day) + rng.next() * DAY
            : ts + interval * (intensity === 'blatant' ? 1 + rng.range(-0.01, 0.01) : rng.range(0.85, 1.15));
        const at =
          intensity === 'subtle'
            ? { ip: this.networks.homeAddress(this.world.home), country: this.world.home }
            : rng.pick(addresses);
        const context = this.people.cookieless(rng.pick(agents), intensity === 'subtle');
        const referrer =
          intensity === 'subtle'
            ? this.referrer(agent, context)
            : intensity === 'moderate' && rng.chance(0.5)
              ? agent.site
              : '';
        this.ledger.click({
          ts,
          affiliateId: agent.id,
          context,
          at,
          referrer,
          landingUrl: this.landingUrl(agent),
        });
        if (intensity === 'moderate' && rng.chance(0.006)) this.fakeAccountOrder(agent, ts, context, at);
      }
    }
  }

  /** A bot's fake account places a cheap order from the same address; the shop cancels most of them. */
  private fakeAccountOrder(agent: Agent, clickTs: number, context: Context, at: Located): void {
    const person = this.people.person(this.world.home, { account: true, desktop: true });
    const order = this.ledger.order({
      ts: clickTs + this.rng.range(20, 120) * SECOND,
      person,
      context,
      intended: agent.id,
      aovFactor: 0.35,
      at,
    });
    if (order && this.rng.chance(0.6))
      order.refund = {
        at: order.ts + this.rng.range(1, 5) * DAY,
        amount: order.amount,
        reason: this.rng.pick(['cancelled', 'fraud']),
      };
  }

  /** Bought or paid-per-click visits in bursts from a few networks, often where the shop does not ship. */
  private incentivizedTraffic(agent: Agent, plan: FraudPlan, clicks: number): void {
    const rng = this.rng;
    const intensity = plan.intensity;
    const countries =
      intensity === 'blatant'
        ? Array.from({ length: rng.int(1, 2) }, () => rng.pick(CLICK_FARM_COUNTRIES))
        : intensity === 'moderate'
          ? [this.world.home]
          : [this.world.home, rng.pick(CLICK_FARM_COUNTRIES)];
    const carriers = Array.from({ length: rng.int(2, 3) }, () => {
      const country = rng.pick(countries);
      return { country, carrier: this.networks.carrier(country) };
    });
    const bursts =
      intensity === 'blatant' ? rng.int(4, 8) : intensity === 'moderate' ? rng.int(3, 6) : rng.int(2, 4);
    const conversion =
      this.world.clickToOrder * (intensity === 'blatant' ? 0.02 : intensity === 'moderate' ? 0.1 : 0.25);
    const ptc = rng.pick(PAID_TO_CLICK);
    for (let b = 0; b < bursts; b++) {
      const { country, carrier } = rng.pick(carriers);
      const start = this.fraudTime(plan, country, 'daytime');
      const length = rng.range(1, 4) * HOUR;
      for (let n = Math.round(clicks / bursts); n > 0; n--) {
        const person = this.people.person(country, {
          budgetPhone: intensity !== 'subtle',
          carrier,
          os: intensity === 'subtle' ? undefined : 'android',
        });
        // Moderate: cheap social ads bought for the link, opened in Facebook's in-app browser.
        const context =
          intensity === 'moderate' ? this.people.inApp(person, 'facebook') : this.people.main(person);
        const at = { ip: this.networks.mobileAddress(carrier), country };
        const referrer =
          intensity === 'blatant'
            ? rng.chance(0.6)
              ? `${ptc}view/${rng.token(8)}`
              : ''
            : intensity === 'moderate'
              ? ''
              : this.referrer(agent, context);
        const ts = start + rng.next() * length;
        this.ledger.click({
          ts,
          affiliateId: agent.id,
          context,
          at,
          referrer,
          landingUrl: this.landingUrl(agent),
        });
        if (this.world.shipping.has(country) && rng.chance(conversion))
          this.ledger.order({
            ts: ts + this.lag('social', context),
            person,
            context,
            intended: agent.id,
            aovFactor: 0.5,
            at,
          });
      }
    }
  }

  /** Search ads on the shop's own name: people who were looking for the shop anyway click the ad first. */
  private brandBidding(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const withId = plan.intensity === 'blatant' ? 1 : plan.intensity === 'moderate' ? 0.75 : 0.35;
    const conversion = rng.range(0.08, 0.22);
    const searchClick = (person: Person, context: Context, ts: number): void => {
      const bing = rng.chance(0.15);
      const referrer = bing ? 'https://www.bing.com/' : `https://${this.world.market.google}/`;
      const id = rng.chance(withId) ? (bing ? `&msclkid=${rng.hex(32)}` : `&gclid=${this.gclid()}`) : '';
      this.personClick(
        agent,
        ts,
        person,
        context,
        referrer,
        `https://${this.world.shopHost}/?utm_source=${agent.id}&utm_medium=affiliate${id}`,
      );
    };
    for (let k = 0; k < orders; k++) {
      const person = rng.chance(0.65) ? this.regular() : this.people.person(this.world.home);
      const context = this.people.main(person);
      const ts = this.fraudTime(plan, person.country, 'evening');
      searchClick(person, context, ts - Math.max(20 * SECOND, rng.logNormal(5 * MINUTE, 0.9)));
      this.ledger.order({ ts, person, context, intended: agent.id });
    }
    for (let n = Math.round(orders * (1 / conversion - 1)); n > 0; n--) {
      const person = rng.chance(0.5) ? this.regular() : this.people.person(this.world.home);
      searchClick(person, this.people.main(person), this.fraudTime(plan, person.country, 'evening'));
    }
  }

  /** Fresh accounts pay with stolen cards through the affiliate's link; the banks claw it back weeks later. */
  private stolenCardOrders(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const foreign = plan.intensity === 'blatant' ? 0.95 : plan.intensity === 'moderate' ? 0.75 : 0.45;
    const chargebacks = plan.intensity === 'blatant' ? 0.85 : plan.intensity === 'moderate' ? 0.7 : 0.6;
    const electronics = this.world.categories.find((category) => category.info.name === 'electronics');
    let account: Person | null = null;
    for (let k = 0; k < orders; k++) {
      if (!account || rng.chance(0.6)) account = this.cardingAccount(foreign, plan.intensity);
      const context = this.people.main(account);
      const ts = this.fraudTime(plan, this.world.home, 'daytime');
      this.personClick(
        agent,
        ts - rng.range(2, 25) * MINUTE,
        account,
        context,
        this.referrer(agent, context),
        this.landingUrl(agent),
      );
      const order = this.ledger.order({
        ts,
        person: account,
        context,
        intended: agent.id,
        category: electronics && rng.chance(0.7) ? electronics : undefined,
        aovFactor: rng.range(2, 5),
      });
      if (!order) continue;
      if (rng.chance(0.2))
        order.refund = { at: ts + rng.range(1, 3) * DAY, amount: order.amount, reason: 'fraud' };
      else if (rng.chance(chargebacks))
        order.refund = { at: ts + rng.range(12, 60) * DAY, amount: order.amount, reason: 'chargeback' };
    }
  }

  private cardingAccount(foreign: number, intensity: Intensity): Person {
    const rng = this.rng;
    let vpn: Located;
    if (!rng.chance(foreign))
      vpn = { ip: this.networks.homeAddress(this.world.home), country: this.world.home };
    else if (intensity === 'blatant' || rng.chance(0.4)) vpn = this.networks.datacentre();
    else {
      const country = rng.pick(CARDING_ORIGINS);
      vpn = { ip: this.networks.homeAddress(country), country };
    }
    return this.people.person(this.world.home, { account: true, orders: 0, vpn, mobileShare: 0.4 });
  }

  /** A browser extension opens the affiliate link on the cart page seconds before the customer pays. */
  private extensionHijacking(agent: Agent, plan: FraudPlan, orders: number): void {
    const rng = this.rng;
    const lag: Range =
      plan.intensity === 'blatant' ? [2, 20] : plan.intensity === 'moderate' ? [4, 45] : [8, 120];
    const cart = plan.intensity === 'blatant' ? 1 : plan.intensity === 'moderate' ? 0.7 : 0.4;
    const pool = this.regularDesktop.length > 0 ? this.regularDesktop : this.regulars;
    const activate = (person: Person, ts: number): Located => {
      const context = this.people.desktop(person) ?? this.people.main(person);
      const at = this.people.address(person, context);
      const referrer = rng.chance(cart)
        ? `https://${this.world.shopHost}/${rng.pick(['cart', 'checkout', 'checkout/payment'])}`
        : '';
      this.ledger.click({
        ts,
        affiliateId: agent.id,
        context,
        at,
        referrer,
        landingUrl: this.landingUrl(agent),
        subjectId: undefined,
      });
      return at;
    };
    for (let k = 0; k < orders; k++) {
      const person = rng.pick(pool);
      const ts = this.fraudTime(plan, person.country, 'daytime');
      const at = activate(person, ts - rng.between(lag) * SECOND);
      this.ledger.order({
        ts,
        person,
        context: this.people.desktop(person) ?? this.people.main(person),
        intended: agent.id,
        at,
      });
    }
    for (let n = Math.round(orders * rng.range(0.3, 0.9)); n > 0; n--) {
      const person = rng.pick(pool);
      activate(person, this.fraudTime(plan, person.country, 'daytime'));
    }
  }
}

interface FraudPlan {
  readonly intensity: Intensity;
  readonly startDay: number;
  readonly start: number;
  readonly share: number;
}

function hourWeights(weights: readonly number[]): Weighted<number> {
  return new Weighted(weights.map((weight, hour) => [hour, weight] as const));
}

/** Scales the values from `from` on to a mean of 1. */
function normaliseFrom(values: Float64Array, from: number): void {
  let sum = 0;
  for (let i = from; i < values.length; i++) sum += values[i] ?? 0;
  const count = values.length - from;
  if (sum <= 0 || count <= 0) return;
  const factor = count / sum;
  for (let i = from; i < values.length; i++) values[i] = (values[i] ?? 0) * factor;
}

// ---------------------------------------------------------------------------------------------------------
// Attribution and the event stream
// ---------------------------------------------------------------------------------------------------------

/** Credits each order (last click in the window, an affiliate's code first) and lays out the events in time. */
function emitEvents(world: World, ledger: Ledger, codeOwners: ReadonlyMap<string, string>): MarketEvent[] {
  const orders = [...ledger.orders].sort((a, b) => a.ts - b.ts);
  const jars = cookieJars(ledger.clicks, new Set(orders.map((order) => order.contextKey)));
  const timeline: Timed[] = [...ledger.clicks];
  for (const order of orders) {
    const newCustomer = order.person.orders === 0;
    order.person.orders++;
    const credit = attribute(order, jars.get(order.contextKey), codeOwners);
    timeline.push({ ts: order.ts, rank: 1, event: conversionEvent(world, order, credit, newCustomer) });
    const refund = order.refund;
    if (refund && refund.at < world.periodEnd) {
      const event: MarketEvent = {
        id: '',
        type: 'refund',
        ts: '',
        orderId: order.orderId,
        amount: Math.min(refund.amount, order.amount),
        currency: world.market.currency,
        reason: refund.reason,
      };
      timeline.push({ ts: Math.round(refund.at), rank: 2, event });
    }
  }
  timeline.sort((a, b) => a.ts - b.ts || a.rank - b.rank);
  const prefix = `evt_${hashSeed(world.timelineStart + world.aov).toString(36)}`;
  return timeline.map((item, index) => {
    item.event.id = `${prefix}_${index.toString(36)}`;
    item.event.ts = new Date(item.ts).toISOString();
    return item.event;
  });
}

/** The clicks of each browser that placed an order, in time order; other browsers' clicks credit nothing. */
function cookieJars(
  clicks: readonly ClickRecord[],
  ordering: ReadonlySet<string>,
): Map<string, ClickRecord[]> {
  const jars = new Map<string, ClickRecord[]>();
  for (const click of clicks) {
    if (!ordering.has(click.contextKey)) continue;
    const jar = jars.get(click.contextKey);
    if (jar) jar.push(click);
    else jars.set(click.contextKey, [click]);
  }
  for (const jar of jars.values()) jar.sort((a, b) => a.ts - b.ts);
  return jars;
}

interface Credit {
  readonly affiliateId: string | undefined;
  readonly click: ClickRecord | undefined;
}

function attribute(
  order: OrderRecord,
  jar: readonly ClickRecord[] | undefined,
  codeOwners: ReadonlyMap<string, string>,
): Credit {
  const owner = order.couponCode ? codeOwners.get(order.couponCode) : undefined;
  let last: ClickRecord | undefined;
  if (jar) {
    for (let i = lastAtOrBefore(jar, order.ts); i >= 0; i--) {
      const click = jar[i];
      if (!click || order.ts - click.ts > COOKIE_WINDOW) break;
      if (!owner) {
        last = click;
        break;
      }
      if (click.affiliateId === owner) {
        last = click;
        break;
      }
    }
  }
  if (owner) return { affiliateId: owner, click: last };
  return { affiliateId: last?.affiliateId, click: last };
}

/** The index of the last click at or before `ts` in a jar sorted by time, or -1. */
function lastAtOrBefore(jar: readonly ClickRecord[], ts: number): number {
  let low = 0;
  let high = jar.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((jar[middle]?.ts ?? Number.POSITIVE_INFINITY) <= ts) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

function conversionEvent(
  world: World,
  order: OrderRecord,
  credit: Credit,
  newCustomer: boolean,
): MarketEvent {
  const fields: MarketEvent = { id: '', type: 'conversion', ts: '' };
  if (credit.affiliateId) fields.affiliateId = credit.affiliateId;
  if (credit.click?.campaignId) fields.campaignId = credit.click.campaignId;
  if (credit.click) fields.clickId = credit.click.clickId;
  fields.orderId = order.orderId;
  if (order.person.account) fields.subjectId = order.person.id;
  fields.amount = order.amount;
  fields.currency = world.market.currency;
  if (order.couponCode) fields.couponCode = order.couponCode;
  fields.ip = order.ip;
  fields.userAgent = order.userAgent;
  fields.newCustomer = newCustomer;
  fields.country = order.person.country;
  return fields;
}
