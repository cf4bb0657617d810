/**
 * Holdout simulator: one payout period of an online marketplace's influencer and affiliate programme, with
 * three earlier periods of history, as the events a marketplace backend sends to an affiliate-fraud scoring
 * service (clicks on affiliate links, orders with their coupon codes, refunds).
 *
 * It was written from a plain description of real programmes, without the detector's code, so that no
 * detector threshold can have been fitted to it. Every seed draws its own shop (home market, currency, order
 * values, refund rates of its categories, device and platform mix, coupon habits), its own honest creators
 * (micro to mega, bloggers, cashback portals, newsletters, podcasts …) and its own fraudsters, each of whom
 * hides one kind of fraud at one intensity inside the traffic of an honest-looking shape.
 *
 * Modelling notes that hold throughout:
 * - Time runs in epoch milliseconds; people act by their local clock (a country's UTC offset in November).
 * - A click that leads to a purchase is credited by the shop's last-click cookie; a coupon code typed at
 *   checkout credits the code's owner, with or without a click.
 * - Refunds arrive days after the order; those that would fall after the period's end are not yet known.
 * - Volumes of traffic (clicks, sales from strangers) follow `scale`; what one person or one small ring does
 *   (a creator's own orders, a refund ring's orders) does not, because it does not grow with an audience.
 */

// ---------------------------------------------------------------------------------------------------------
// Public API

/** What to simulate; everything but the seed has a default. */
export interface HoldoutOptions {
  seed: number;
  honest?: number;
  fraudPerKind?: number;
  periodStart?: Date;
  periodDays?: number;
  scale?: number;
}

/** One affiliate with its ground truth: the fraud it commits (null if honest), the shape it looks like. */
interface HoldoutAffiliate {
  id: string;
  name: string;
  couponCodes: string[];
  subjectId: string;
  fraud: string | null;
  shape: string;
  intensity: 'blatant' | 'moderate' | 'subtle' | null;
}

/** The simulated programme: the payout period, its affiliates and every event of it and its history. */
export interface HoldoutCampaign {
  periodStart: Date;
  periodEnd: Date;
  affiliates: HoldoutAffiliate[];
  events: Array<
    Record<string, unknown> & { id: string; type: 'click' | 'conversion' | 'refund'; ts: string }
  >;
}

// ---------------------------------------------------------------------------------------------------------
// Time and defaults

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const DEFAULT_HONEST = 200;
const DEFAULT_FRAUD_PER_KIND = 6;
const DEFAULT_PERIOD_DAYS = 14;
const DEFAULT_PERIOD_START = '2026-11-01T00:00:00.000Z';
/** Earlier periods of the same length, so that an affiliate's present can be compared with its past. */
const HISTORY_PERIODS = 3;
/** The programme's cookie window: a click older than this no longer earns the sale. */
const ATTRIBUTION_WINDOW = 30 * DAY;

/**
 * Share of people's online activity by local hour (0–23): a trough at night, a lunch bump, the evening peak
 * (19–22 h) when social feeds are read most.
 */
const ACTIVITY_BY_HOUR = [
  0.22, 0.13, 0.08, 0.06, 0.06, 0.1, 0.22, 0.42, 0.58, 0.66, 0.72, 0.78, 0.9, 0.86, 0.78, 0.76, 0.8, 0.88,
  0.97, 1.0, 1.0, 0.95, 0.74, 0.45,
] as const;
/** Purchases lean further into the evening and the lunch break than browsing does. */
const SHOPPING_BY_HOUR = [
  0.2, 0.1, 0.05, 0.04, 0.04, 0.06, 0.14, 0.3, 0.48, 0.6, 0.68, 0.76, 0.92, 0.88, 0.74, 0.72, 0.76, 0.86,
  0.98, 1.0, 1.0, 0.92, 0.7, 0.4,
] as const;
/** Creators post around lunch and in the evening, when their followers scroll. */
const POSTING_BY_HOUR = [
  0.05, 0.02, 0, 0, 0, 0, 0.05, 0.2, 0.3, 0.35, 0.45, 0.7, 0.9, 0.7, 0.45, 0.45, 0.6, 0.85, 1.0, 1.0, 0.9,
  0.7, 0.35, 0.15,
] as const;
/** Newsletters go out early, to be read over breakfast and on the commute. */
const NEWSLETTER_BY_HOUR = [
  0, 0, 0, 0, 0, 0.2, 0.7, 1.0, 0.8, 0.5, 0.3, 0.2, 0.2, 0, 0, 0, 0, 0.1, 0.1, 0, 0, 0, 0, 0,
] as const;
/** Click farms and paid-traffic shops work shifts, not leisure hours. */
const WORK_SHIFT_BY_HOUR = [
  0.05, 0.02, 0, 0, 0, 0, 0.1, 0.5, 0.9, 1.0, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.6, 0.4, 0.3,
  0.15, 0.1,
] as const;
/** Evenings and nights, when brand managers do not watch the search results (brand bidders schedule for it). */
const OFF_HOURS_BY_HOUR = [
  0.8, 0.6, 0.3, 0.1, 0.05, 0.05, 0.05, 0.05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2, 0.6, 0.9, 1.0, 1.0, 0.9,
] as const;

// ---------------------------------------------------------------------------------------------------------
// Random numbers: sfc32 seeded through splitmix32, deterministic per seed

function mix32(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A hash of small integers, to seed an independent stream per affiliate and per purpose. */
function hashSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) h = mix32(h ^ mix32(part >>> 0));
  return h;
}

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = mix32(s);
      return s;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let r = this.next() * total;
    for (const [value, w] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[0];
  }

  /** An index drawn in proportion to `weights`. */
  index(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median: the usual shape of reach, order values and delays. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 40) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  hex(length: number): string {
    return this.token(length, HEX);
  }

  /** Random characters of `alphabet`, built in one piece (a string grown a character at a time is slow). */
  token(length: number, alphabet = BASE62): string {
    const codes = new Array<number>(length);
    for (let i = 0; i < length; i++)
      codes[i] = alphabet.charCodeAt(Math.floor(this.next() * alphabet.length));
    return String.fromCharCode(...codes);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }
}

const HEX = '0123456789abcdef';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE64URL = `${BASE62}-_`;

/** A list of words written as running text. */
function words(text: string): string[] {
  return text.trim().split(/\s+/);
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

// ---------------------------------------------------------------------------------------------------------
// Geography: countries, their clocks, and where their people's addresses come from

/** A block of IPv4 space: the first octet and a second octet or range of them, as `84.128-191`. */
type Prefix = string;

const parsedPrefixes = new Map<string, readonly [number, number, number]>();

function parsePrefix(prefix: Prefix): readonly [number, number, number] {
  let parsed = parsedPrefixes.get(prefix);
  if (!parsed) {
    const [first = '0', range = '0'] = prefix.split('.');
    const [lo = '0', hi = lo] = range.split('-');
    parsed = [Number(first), Number(lo), Number(hi)];
    parsedPrefixes.set(prefix, parsed);
  }
  return parsed;
}

interface CountryInfo {
  /** UTC offset in hours in November. */
  tz: number;
  locale: string;
  /** Home broadband. */
  fixed: readonly Prefix[];
  /** Mobile carriers, behind carrier-grade NAT: many subscribers share one address. */
  mobile: readonly Prefix[];
  /** The first two groups of the big consumer ISPs' IPv6 blocks. */
  v6?: readonly string[];
  /** Share of phones that are iPhones. */
  ios: number;
}

// Approximate consumer allocations of each country's large ISPs; hosting and cloud blocks are avoided.
const COUNTRIES: Record<string, CountryInfo> = {
  DE: {
    tz: 1,
    locale: 'de_DE',
    fixed: ['79.192-255', '84.128-191', '87.128-191', '91.0-63', '93.192-255', '88.64-79'],
    mobile: ['80.187', '109.40-47', '176.0-7'],
    v6: ['2003:e5', '2003:c9', '2a02:8108', '2a02:3102'],
    ios: 0.36,
  },
  AT: {
    tz: 1,
    locale: 'de_AT',
    fixed: ['80.108-111', '91.112-119', '178.112-115'],
    mobile: ['77.116-119', '46.125'],
    v6: ['2a02:1748', '2a00:11c0'],
    ios: 0.38,
  },
  CH: {
    tz: 1,
    locale: 'de_CH',
    fixed: ['85.0-7', '178.192-199', '83.76-79'],
    mobile: ['178.197', '31.10'],
    v6: ['2a02:1210', '2a02:aa10'],
    ios: 0.52,
  },
  FR: {
    tz: 1,
    locale: 'fr_FR',
    fixed: ['90.0-127', '86.192-255', '2.0-15', '78.192-255', '82.224-255', '88.160-191'],
    mobile: ['37.160-175', '80.214-215', '92.184-191'],
    v6: ['2a01:cb00', '2a01:e0a', '2a01:cb1c'],
    ios: 0.32,
  },
  BE: {
    tz: 1,
    locale: 'nl_BE',
    fixed: ['81.240-247', '84.192-199', '91.176-183', '178.116-119'],
    mobile: ['37.62-63', '91.181'],
    v6: ['2a02:a03f', '2a02:1811'],
    ios: 0.4,
  },
  NL: {
    tz: 1,
    locale: 'nl_NL',
    fixed: ['84.24-31', '77.160-175', '86.80-95', '94.208-215'],
    mobile: ['62.140', '31.20-21'],
    v6: ['2001:1c00', '2a02:a440'],
    ios: 0.46,
  },
  LU: {
    tz: 1,
    locale: 'fr_LU',
    fixed: ['85.93', '94.252'],
    mobile: ['188.42'],
    ios: 0.45,
  },
  ES: {
    tz: 1,
    locale: 'es_ES',
    fixed: ['88.0-31', '83.32-63', '79.144-159', '81.32-47'],
    mobile: ['37.222-223', '80.58-63'],
    v6: ['2a0c:5a80', '2a02:9130'],
    ios: 0.22,
  },
  PT: {
    tz: 0,
    locale: 'pt_PT',
    fixed: ['85.240-247', '2.80-83', '94.60-63'],
    mobile: ['148.69-71'],
    v6: ['2001:8a0'],
    ios: 0.25,
  },
  IT: {
    tz: 1,
    locale: 'it_IT',
    fixed: ['79.0-63', '87.0-31', '151.20-99', '93.32-63'],
    mobile: ['46.44-47', '151.18-19'],
    v6: ['2a01:e11', '2001:b07'],
    ios: 0.3,
  },
  GB: {
    tz: 0,
    locale: 'en_GB',
    fixed: ['86.128-191', '81.128-159', '82.0-47', '90.192-223', '2.24-31'],
    mobile: ['31.94-95', '92.40-41', '82.132'],
    v6: ['2a00:23c7', '2a02:c7c'],
    ios: 0.5,
  },
  IE: {
    tz: 0,
    locale: 'en_IE',
    fixed: ['86.40-47', '89.100-101', '78.16-19'],
    mobile: ['37.228'],
    v6: ['2a02:8084'],
    ios: 0.45,
  },
  PL: {
    tz: 1,
    locale: 'pl_PL',
    fixed: ['83.0-31', '89.64-79', '31.174-175', '77.112-115'],
    mobile: ['37.47', '31.0-15'],
    v6: ['2a01:110f', '2a02:a31f'],
    ios: 0.16,
  },
  CZ: {
    tz: 1,
    locale: 'cs_CZ',
    fixed: ['89.176-177', '78.80-111'],
    mobile: ['46.135'],
    ios: 0.22,
  },
  SK: { tz: 1, locale: 'sk_SK', fixed: ['78.98-99'], mobile: ['37.9'], ios: 0.2 },
  DK: {
    tz: 1,
    locale: 'da_DK',
    fixed: ['80.62-63', '87.48-63'],
    mobile: ['37.96-97'],
    ios: 0.55,
  },
  NO: {
    tz: 1,
    locale: 'nb_NO',
    fixed: ['84.208-215', '77.16-19'],
    mobile: ['46.66-67'],
    ios: 0.6,
  },
  SE: {
    tz: 1,
    locale: 'sv_SE',
    fixed: ['83.248-255', '90.224-239', '78.64-79'],
    mobile: ['90.128', '46.194-195'],
    v6: ['2001:9b1', '2a02:aa1'],
    ios: 0.55,
  },
  FI: {
    tz: 2,
    locale: 'fi_FI',
    fixed: ['84.248-255', '91.152-159'],
    mobile: ['91.154'],
    ios: 0.4,
  },
  LT: { tz: 2, locale: 'lt_LT', fixed: ['78.56-63'], mobile: ['78.61'], ios: 0.25 },
  US: {
    tz: -6,
    locale: 'en_US',
    fixed: ['73.0-255', '24.0-31', '98.192-255', '71.160-191', '76.0-127', '67.160-191'],
    mobile: ['174.192-255', '166.170-171', '172.56-63'],
    v6: ['2601:640', '2600:1700', '2607:fb90'],
    ios: 0.57,
  },
  CA: {
    tz: -5,
    locale: 'en_CA',
    fixed: ['99.224-255', '142.112-127', '70.24-79'],
    mobile: ['142.198'],
    ios: 0.58,
  },
  TR: { tz: 3, locale: 'tr_TR', fixed: ['78.160-191'], mobile: ['31.223'], ios: 0.2 },
  AE: { tz: 4, locale: 'ar_AE', fixed: ['94.200-207'], mobile: ['2.48-51'], ios: 0.5 },
  BR: {
    tz: -3,
    locale: 'pt_BR',
    fixed: ['177.0-255', '189.0-127'],
    mobile: ['179.96-127'],
    ios: 0.15,
  },
  AU: { tz: 11, locale: 'en_AU', fixed: ['101.160-191'], mobile: ['49.176-191'], ios: 0.55 },
  // Countries where click farms and cheap paid traffic are sourced.
  BD: {
    tz: 6,
    locale: 'bn_BD',
    fixed: ['103.108-111', '27.147'],
    mobile: ['37.111', '103.230-231'],
    ios: 0.05,
  },
  VN: {
    tz: 7,
    locale: 'vi_VN',
    fixed: ['113.160-191', '14.160-191'],
    mobile: ['27.72-79', '116.96-111'],
    ios: 0.2,
  },
  ID: {
    tz: 7,
    locale: 'id_ID',
    fixed: ['36.64-95', '180.240-255'],
    mobile: ['114.124-125', '110.136-139'],
    ios: 0.1,
  },
  PK: { tz: 5, locale: 'en_PK', fixed: ['39.32-63'], mobile: ['119.160'], ios: 0.05 },
  NG: {
    tz: 1,
    locale: 'en_NG',
    fixed: ['102.88-91'],
    mobile: ['105.112-127', '197.210-211'],
    ios: 0.12,
  },
  IN: {
    tz: 5.5,
    locale: 'en_IN',
    fixed: ['106.192-223', '117.192-255'],
    mobile: ['49.34-47'],
    ios: 0.05,
  },
  PH: { tz: 8, locale: 'en_PH', fixed: ['112.198-211'], mobile: ['175.176'], ios: 0.15 },
  EG: {
    tz: 2,
    locale: 'ar_EG',
    fixed: ['156.192-223'],
    mobile: ['41.32-47', '197.32-63'],
    ios: 0.1,
  },
  VE: { tz: -4, locale: 'es_VE', fixed: ['190.36-39'], mobile: ['186.88-95'], ios: 0.08 },
  KE: { tz: 3, locale: 'en_KE', fixed: ['41.80-90'], mobile: ['105.160-167'], ios: 0.08 },
};

function countryInfo(code: string): CountryInfo {
  const info = COUNTRIES[code];
  if (!info) throw new Error(`no country data for ${code}`);
  return info;
}

/** Where click farms and the cheapest bought traffic come from. */
const FARM_COUNTRIES = ['BD', 'VN', 'ID', 'PK', 'NG', 'IN', 'PH', 'EG', 'VE', 'KE'] as const;
/** Far-away countries where an international creator's followers also live; the shop ships there rarely. */
const FAR_AUDIENCE_COUNTRIES = ['US', 'GB', 'AE', 'TR', 'BR', 'AU', 'CA'] as const;

/** A shop's home market: currency, neighbours it ships to, and the sites its shoppers use. */
interface HomeMarket {
  country: string;
  currency: string;
  /** Units of the currency per euro, so that order values are drawn in euro and priced locally. */
  perEuro: number;
  tld: string;
  neighbours: readonly string[];
  search: string;
  deals: readonly string[];
  cashback: ReadonlyArray<readonly [string, string]>;
}

const HOME_MARKETS: readonly HomeMarket[] = [
  {
    country: 'DE',
    currency: 'EUR',
    perEuro: 1,
    tld: 'de',
    neighbours: ['AT', 'CH', 'NL', 'BE', 'LU', 'FR', 'PL', 'DK', 'CZ'],
    search: 'https://www.google.de/',
    deals: ['https://www.mydealz.de/', 'https://www.sparwelt.de/', 'https://www.gutscheine.de/'],
    cashback: [
      ['Shoop', 'https://www.shoop.de/'],
      ['iGraal DE', 'https://de.igraal.com/'],
    ],
  },
  {
    country: 'FR',
    currency: 'EUR',
    perEuro: 1,
    tld: 'fr',
    neighbours: ['BE', 'LU', 'CH', 'DE', 'ES', 'IT'],
    search: 'https://www.google.fr/',
    deals: ['https://www.dealabs.com/', 'https://www.ma-reduc.com/', 'https://www.radins.com/'],
    cashback: [
      ['iGraal', 'https://fr.igraal.com/'],
      ['Poulpeo', 'https://www.poulpeo.com/'],
    ],
  },
  {
    country: 'NL',
    currency: 'EUR',
    perEuro: 1,
    tld: 'nl',
    neighbours: ['BE', 'DE', 'LU', 'FR'],
    search: 'https://www.google.nl/',
    deals: ['https://nl.pepper.com/', 'https://www.actiecode.nl/'],
    cashback: [['Scoupy', 'https://www.scoupy.nl/']],
  },
  {
    country: 'ES',
    currency: 'EUR',
    perEuro: 1,
    tld: 'es',
    neighbours: ['PT', 'FR', 'IT'],
    search: 'https://www.google.es/',
    deals: ['https://www.chollometro.com/', 'https://www.cuponation.es/'],
    cashback: [['LetyShops ES', 'https://letyshops.com/es']],
  },
  {
    country: 'IT',
    currency: 'EUR',
    perEuro: 1,
    tld: 'it',
    neighbours: ['FR', 'AT', 'CH', 'ES', 'DE'],
    search: 'https://www.google.it/',
    deals: ['https://www.pepper.it/', 'https://www.codice-sconto.net/'],
    cashback: [['BuyOn', 'https://www.buyon.it/']],
  },
  {
    country: 'GB',
    currency: 'GBP',
    perEuro: 0.86,
    tld: 'co.uk',
    neighbours: ['IE', 'NL', 'FR', 'DE'],
    search: 'https://www.google.co.uk/',
    deals: [
      'https://www.hotukdeals.com/',
      'https://www.vouchercodes.co.uk/',
      'https://www.myvouchercodes.co.uk/',
    ],
    cashback: [
      ['TopCashback', 'https://www.topcashback.co.uk/'],
      ['Quidco', 'https://www.quidco.com/'],
    ],
  },
  {
    country: 'PL',
    currency: 'PLN',
    perEuro: 4.3,
    tld: 'pl',
    neighbours: ['DE', 'CZ', 'SK', 'LT'],
    search: 'https://www.google.pl/',
    deals: ['https://www.pepper.pl/', 'https://www.kodyrabatowe.pl/'],
    cashback: [['Goodie', 'https://goodie.pl/']],
  },
  {
    country: 'SE',
    currency: 'SEK',
    perEuro: 11.4,
    tld: 'se',
    neighbours: ['DK', 'NO', 'FI', 'DE'],
    search: 'https://www.google.se/',
    deals: ['https://www.sweclockers.com/', 'https://www.rabattkoder.se/'],
    cashback: [['Refunder', 'https://www.refunder.se/']],
  },
  {
    country: 'US',
    currency: 'USD',
    perEuro: 1.08,
    tld: 'com',
    neighbours: ['CA'],
    search: 'https://www.google.com/',
    deals: ['https://slickdeals.net/', 'https://www.retailmenot.com/', 'https://www.couponfollow.com/'],
    cashback: [
      ['Rakuten', 'https://www.rakuten.com/'],
      ['TopCashback US', 'https://www.topcashback.com/'],
    ],
  },
];

/** Sites a leaked code spreads to beyond the home market's own deal forums. */
const COUPON_AGGREGATORS = [
  'https://www.retailmenot.com/',
  'https://www.couponbirds.com/',
  'https://www.knoji.com/',
  'https://www.dealspotr.com/',
];

// Hosting and cloud providers, for data-centre traffic (and, rarely, an honest corporate proxy).
interface Provider {
  name: string;
  prefixes: readonly Prefix[];
  countries: readonly string[];
}

const PROVIDERS: readonly Provider[] = [
  {
    name: 'aws',
    prefixes: ['3.64-255', '18.128-255', '52.0-95', '54.144-255'],
    countries: ['US', 'IE', 'DE', 'GB', 'FR', 'SE'],
  },
  {
    name: 'gcp',
    prefixes: ['34.64-191', '35.184-247'],
    countries: ['US', 'NL', 'BE', 'DE', 'FI'],
  },
  {
    name: 'azure',
    prefixes: ['20.0-127', '40.64-127'],
    countries: ['US', 'NL', 'IE', 'DE'],
  },
  {
    name: 'digitalocean',
    prefixes: ['104.131', '159.203', '167.99', '138.68', '164.90'],
    countries: ['US', 'NL', 'DE', 'GB'],
  },
  {
    name: 'hetzner',
    prefixes: ['5.9', '88.99', '95.216-217', '136.243', '116.202-203'],
    countries: ['DE', 'FI'],
  },
  {
    name: 'ovh',
    prefixes: ['51.68-91', '54.36-39', '145.239', '137.74'],
    countries: ['FR', 'DE', 'GB', 'PL', 'CA'],
  },
  {
    name: 'linode',
    prefixes: ['172.104-105', '139.162', '45.33'],
    countries: ['US', 'DE', 'GB'],
  },
  {
    name: 'vultr',
    prefixes: ['45.76-77', '149.28', '108.61'],
    countries: ['US', 'NL', 'DE', 'GB'],
  },
];

/** iCloud Private Relay egress (Akamai and Cloudflare): honest Safari users who pay for iCloud+. */
const PRIVATE_RELAY: readonly Prefix[] = ['172.224-232', '104.28'];
/** Corporate web proxies (Zscaler): honest office workers clicking from work. */
const CORPORATE_PROXY: readonly Prefix[] = ['165.225', '147.161'];
/** Link-preview fetchers of chat apps and social networks, which also follow a shared affiliate link. */
const LINK_PREVIEWERS: ReadonlyArray<{ ua: string; prefixes: readonly Prefix[]; country: string }> = [
  {
    ua: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    prefixes: ['31.13', '66.220', '173.252'],
    country: 'US',
  },
  { ua: 'WhatsApp/2.24.22.79 A', prefixes: ['31.13'], country: 'IE' },
  { ua: 'TelegramBot (like TwitterBot)', prefixes: ['149.154'], country: 'NL' },
  {
    ua: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    prefixes: ['54.144-255'],
    country: 'US',
  },
  {
    ua: 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
    prefixes: ['35.184-247'],
    country: 'US',
  },
];

function ipv4(rng: Rng, prefixes: readonly Prefix[]): string {
  const [a, lo, hi] = parsePrefix(rng.pick(prefixes));
  return `${a}.${rng.int(lo, hi)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function ipv6(rng: Rng, prefix: string): string {
  const groups = prefix.split(':');
  while (groups.length < 8) groups.push(rng.int(0, 0xffff).toString(16));
  return groups.join(':');
}

/** The first three octets of an address, for traffic bought from a handful of subnets. */
function subnetOf(ip: string): string {
  return ip.split('.').slice(0, 3).join('.');
}

// ---------------------------------------------------------------------------------------------------------
// Devices and user agents, versioned by the date so that "current" means current in the simulated month

type Device = 'iphone' | 'android' | 'windows' | 'mac' | 'linux';
type Surface = 'browser' | 'instagram' | 'tiktok' | 'facebook' | 'app';

interface Versions {
  chrome: number;
  firefox: number;
  safari: number;
  instagram: number;
  tiktok: number;
  facebook: number;
  samsung: number;
  edge: number;
}

/** Browser and app versions of the month: releases every four weeks (browsers) or every week (Instagram). */
function versionsAt(date: number): Versions {
  const months = (date - Date.UTC(2024, 10, 12)) / (28 * DAY);
  const weeks = (date - Date.UTC(2024, 10, 1)) / (7 * DAY);
  const years = (date - Date.UTC(2025, 8, 15)) / (365 * DAY);
  return {
    chrome: 131 + Math.floor(months),
    edge: 131 + Math.floor(months),
    firefox: 133 + Math.floor(months),
    safari: 26 + Math.max(0, Math.floor(years + 0.2)),
    instagram: 355 + Math.floor(weeks),
    tiktok: 37 + Math.floor(months),
    facebook: 490 + Math.floor(weeks),
    samsung: 27 + Math.floor(months / 6),
  };
}

interface AndroidModel {
  brand: string;
  model: string;
  codename: string;
  res: string;
  dpi: number;
}

const ANDROID_MODELS: readonly AndroidModel[] = [
  { brand: 'samsung', model: 'SM-S931B', codename: 'pa1q', res: '1080x2340', dpi: 450 },
  { brand: 'samsung', model: 'SM-S921B', codename: 'e1s', res: '1080x2340', dpi: 450 },
  { brand: 'samsung', model: 'SM-S918B', codename: 'dm3q', res: '1440x3088', dpi: 600 },
  { brand: 'samsung', model: 'SM-A566B', codename: 'a56x', res: '1080x2340', dpi: 450 },
  { brand: 'samsung', model: 'SM-A556B', codename: 'a55x', res: '1080x2340', dpi: 450 },
  { brand: 'samsung', model: 'SM-A356B', codename: 'a35x', res: '1080x2340', dpi: 450 },
  { brand: 'samsung', model: 'SM-A156B', codename: 'a15x', res: '1080x2340', dpi: 400 },
  { brand: 'Google', model: 'Pixel 9', codename: 'tokay', res: '1080x2424', dpi: 420 },
  { brand: 'Google', model: 'Pixel 8a', codename: 'akita', res: '1080x2400', dpi: 420 },
  { brand: 'Xiaomi', model: '23129RAA4G', codename: 'emerald', res: '1080x2400', dpi: 440 },
  { brand: 'Xiaomi', model: '2312DRA50G', codename: 'garnet', res: '1220x2712', dpi: 440 },
  { brand: 'OnePlus', model: 'CPH2581', codename: 'OP5929L1', res: '1440x3168', dpi: 560 },
  { brand: 'motorola', model: 'moto g54 5G', codename: 'cancunf', res: '1080x2400', dpi: 400 },
];
/** Cheap handsets that click farms buy by the hundred. */
const FARM_MODELS: readonly AndroidModel[] = [
  { brand: 'TECNO', model: 'TECNO KJ5', codename: 'TECNO-KJ5', res: '720x1612', dpi: 320 },
  { brand: 'INFINIX', model: 'Infinix X6525', codename: 'Infinix-X6525', res: '720x1612', dpi: 320 },
  { brand: 'itel', model: 'itel A665L', codename: 'itel-A665L', res: '720x1612', dpi: 320 },
  { brand: 'samsung', model: 'SM-A055F', codename: 'a05', res: '720x1600', dpi: 300 },
  { brand: 'Xiaomi', model: '22120RN86G', codename: 'earth', res: '720x1650', dpi: 320 },
];
const IPHONES: ReadonlyArray<readonly [string, string]> = [
  ['iPhone14,5', '1170x2532'],
  ['iPhone14,7', '1170x2532'],
  ['iPhone15,2', '1179x2556'],
  ['iPhone15,4', '1179x2556'],
  ['iPhone16,1', '1179x2556'],
  ['iPhone16,2', '1290x2796'],
  ['iPhone17,3', '1179x2556'],
  ['iPhone17,1', '1206x2622'],
  ['iPhone18,3', '1206x2622'],
];
const ANDROID_BUILDS = [
  'AP3A.241105.008',
  'BP1A.250505.005',
  'UP1A.231005.007',
  'AP2A.240905.003',
  'TP1A.220624.014',
];

interface Phone {
  os: 'ios' | 'android';
  /** iOS: the OS token in the user agent (Safari 26 froze it at 18_6). */
  iosToken: string;
  safari: string;
  iosModel: string;
  iosRes: string;
  android: number;
  model: AndroidModel;
  build: string;
  chrome: number;
}

function drawPhone(rng: Rng, v: Versions, os: 'ios' | 'android', farm = false): Phone {
  // Most iPhones run the current or previous major version; a tail lags behind.
  let iosToken = '18_6';
  let safari = `${v.safari}.${rng.int(0, 1)}`;
  const r = rng.next();
  if (r > 0.9) [iosToken, safari] = r > 0.96 ? ['17_7', '17.7'] : ['18_7', '18.7'];
  else if (r > 0.62) safari = `${v.safari - 1}.${rng.int(1, 6)}`;
  const [iosModel, iosRes] = rng.pick(IPHONES);
  const lag = farm ? rng.int(4, 30) : rng.pick(BROWSER_LAG);
  return {
    os,
    iosToken,
    safari,
    iosModel,
    iosRes,
    android: farm ? rng.int(10, 13) : rng.pick(ANDROID_VERSIONS),
    model: rng.pick(farm ? FARM_MODELS : ANDROID_MODELS),
    build: rng.pick(ANDROID_BUILDS),
    chrome: v.chrome - lag,
  };
}
/** Versions behind the current one, as often as they are seen: auto-update keeps most browsers current. */
const BROWSER_LAG = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 5];
const ANDROID_VERSIONS = [16, 16, 16, 15, 15, 15, 15, 14, 14, 13, 12];

function chromeBuild(rng: Rng, major: number): string {
  return `${major}.0.${6700 + (major - 131) * 60 + rng.int(0, 40)}.${rng.int(30, 220)}`;
}

function mobileBrowserUa(rng: Rng, v: Versions, phone: Phone): string {
  if (phone.os === 'ios') {
    if (rng.chance(0.14)) {
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${phone.iosToken} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chromeBuild(rng, v.chrome)} Mobile/15E148 Safari/604.1`;
    }
    return `Mozilla/5.0 (iPhone; CPU iPhone OS ${phone.iosToken} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${phone.safari} Mobile/15E148 Safari/604.1`;
  }
  if (phone.model.brand === 'samsung' && rng.chance(0.3)) {
    return `Mozilla/5.0 (Linux; Android ${phone.android}; SAMSUNG ${phone.model.model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${v.samsung}.0 Chrome/${phone.chrome - 3}.0.0.0 Mobile Safari/537.36`;
  }
  // Chrome's reduced user agent: the model and Android version are frozen.
  return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${phone.chrome}.0.0.0 Mobile Safari/537.36`;
}

function desktopUa(rng: Rng, v: Versions, device: Device): string {
  const lag = rng.pick(BROWSER_LAG);
  const r = rng.next();
  if (device === 'mac') {
    if (r < 0.5) {
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${v.safari - (lag > 1 ? 1 : 0)}.${rng.int(0, 2)} Safari/605.1.15`;
    }
    if (r < 0.95) {
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome - lag}.0.0.0 Safari/537.36`;
    }
    return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${v.firefox - lag}.0) Gecko/20100101 Firefox/${v.firefox - lag}.0`;
  }
  if (device === 'linux') {
    return r < 0.6
      ? `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome - lag}.0.0.0 Safari/537.36`
      : `Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:${v.firefox - lag}.0) Gecko/20100101 Firefox/${v.firefox - lag}.0`;
  }
  if (r < 0.64) {
    return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome - lag}.0.0.0 Safari/537.36`;
  }
  if (r < 0.86) {
    return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.edge - lag}.0.0.0 Safari/537.36 Edg/${v.edge - lag}.0.0.0`;
  }
  if (r < 0.98) {
    return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${v.firefox - lag}.0) Gecko/20100101 Firefox/${v.firefox - lag}.0`;
  }
  return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v.chrome - lag}.0.0.0 Safari/537.36 OPR/${v.chrome - lag - 15}.0.0.0`;
}

function inAppUa(
  rng: Rng,
  v: Versions,
  phone: Phone,
  app: 'instagram' | 'tiktok' | 'facebook',
  country: string,
): string {
  const locale = countryInfo(country).locale;
  const lang = locale.slice(0, 2);
  const net = rng.chance(0.55) ? 'WIFI' : rng.pick(['4G', '5G']);
  if (phone.os === 'ios') {
    const head = `Mozilla/5.0 (iPhone; CPU iPhone OS ${phone.iosToken} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148`;
    if (app === 'instagram') {
      return `${head} Instagram ${v.instagram - rng.int(0, 3)}.0.0.${rng.int(10, 40)}.${rng.int(70, 120)} (${phone.iosModel}; iOS ${phone.iosToken}; ${locale}; ${lang}; scale=3.00; ${phone.iosRes}; ${rng.int(600_000_000, 800_000_000)})`;
    }
    if (app === 'tiktok') {
      return `${head} musical_ly_${v.tiktok - rng.int(0, 2)}.${rng.int(0, 9)}.0 JsSdk/2.0 NetType/${net} Channel/App Store ByteLocale/${lang} Region/${country} isDarkMode/${rng.int(0, 1)} WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6`;
    }
    return `${head} [FBAN/FBIOS;FBAV/${v.facebook - rng.int(0, 4)}.0.0.${rng.int(20, 60)}.${rng.int(100, 120)};FBBV/${rng.int(600_000_000, 700_000_000)};FBDV/${phone.iosModel};FBMD/iPhone;FBSN/iOS;FBSV/${phone.iosToken.replace('_', '.')};FBSS/3;FBID/phone;FBLC/${locale};FBOP/5;FBRV/0]`;
  }
  const m = phone.model;
  const head = `Mozilla/5.0 (Linux; Android ${phone.android}; ${m.model} Build/${phone.build}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeBuild(rng, phone.chrome)} Mobile Safari/537.36`;
  if (app === 'instagram') {
    return `${head} Instagram ${v.instagram - rng.int(0, 3)}.0.0.${rng.int(30, 60)}.${rng.int(80, 120)} Android (${phone.android + 20}/${phone.android}; ${m.dpi}dpi; ${m.res}; ${m.brand}; ${m.model}; ${m.codename}; qcom; ${locale}; ${rng.int(600_000_000, 800_000_000)})`;
  }
  if (app === 'tiktok') {
    const version = `${v.tiktok - rng.int(0, 2)}.${rng.int(0, 9)}.${rng.int(1, 5)}`;
    return `${head} musical_ly_20${rng.int(24, 26)}${rng.int(100000, 999999)} JsSdk/1.0 NetType/${net} Channel/googleplay AppName/musical_ly app_version/${version} ByteLocale/${lang} ByteFullLocale/${lang} Region/${country} Spark/1.7.6 AppVersion/${version} BytedanceWebview/d8a21c6`;
  }
  return `${head} [FB_IAB/FB4A;FBAV/${v.facebook - rng.int(0, 4)}.0.0.${rng.int(20, 60)}.${rng.int(100, 120)};IABMV/1;]`;
}

// Automation and scripting clients; what a careful analyst recognises at a glance.
const AUTOMATION_UAS = [
  'python-requests/2.32.3',
  'python-requests/2.28.1',
  'curl/8.7.1',
  'curl/7.68.0',
  'Go-http-client/1.1',
  'Go-http-client/2.0',
  'Scrapy/2.11.2 (+https://scrapy.org)',
  'Wget/1.21.4',
  'axios/1.7.7',
  'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  'Apache-HttpClient/4.5.14 (Java/17.0.12)',
  'Python/3.11 aiohttp/3.9.5',
  'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
];
// Old or odd clients that no real shopper runs any more, which cheap bot kits still send.
const OUTDATED_UAS = [
  'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.130 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko',
  'Mozilla/5.0 (Windows NT 10.0; WOW64; rv:52.0) Gecko/20100101 Firefox/52.0',
  'Mozilla/5.0 (Linux; Android 6.0.1; SM-G920F Build/MMB29K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/63.0.3239.111 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; GT-I9505 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/601.7.7 (KHTML, like Gecko) Version/9.1.2 Safari/601.7.7',
  'Mozilla/5.0',
  '',
];

function headlessUa(v: Versions, lag: number): string {
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/${v.chrome - lag}.0.0.0 Safari/537.36`;
}

// ---------------------------------------------------------------------------------------------------------
// The shop and its campaign parameters, drawn per seed

const NICHES = ['fashion', 'beauty', 'electronics', 'home', 'sports', 'kids'] as const;
type Niche = (typeof NICHES)[number];

/** Order value relative to the shop's average, and how many items a basket holds, per category. */
const NICHE_BASKET: Record<Niche, { value: number; items: number }> = {
  fashion: { value: 1.1, items: 1.4 },
  beauty: { value: 0.6, items: 1.2 },
  electronics: { value: 3.2, items: 0.2 },
  home: { value: 1.8, items: 0.6 },
  sports: { value: 1.3, items: 0.6 },
  kids: { value: 0.9, items: 1.0 },
};
/**
 * Refund rates per category as shops report them: fashion loses a third or more of its sales to returns
 * (sizes are bought in pairs), cosmetics almost none once opened.
 */
const NICHE_REFUND_RANGE: Record<Niche, readonly [number, number]> = {
  fashion: [0.3, 0.45],
  beauty: [0.03, 0.08],
  electronics: [0.05, 0.12],
  home: [0.06, 0.14],
  sports: [0.1, 0.22],
  kids: [0.07, 0.15],
};
const NICHE_PATHS: Record<Niche, readonly string[]> = {
  fashion: [
    'c/damen/jacken',
    'c/women/dresses',
    'c/men/sneakers',
    'p/wool-coat',
    'p/denim-jacket',
    'c/sale/knitwear',
  ],
  beauty: ['c/skincare', 'p/vitamin-c-serum', 'c/makeup/lipstick', 'p/hair-oil', 'c/fragrance'],
  electronics: [
    'c/headphones',
    'p/noise-cancelling-headphones',
    'c/smartwatches',
    'p/robot-vacuum',
    'c/tablets',
  ],
  home: ['c/living/sofas', 'p/linen-bedding-set', 'c/kitchen/cookware', 'p/floor-lamp', 'c/decor'],
  sports: ['c/running/shoes', 'p/yoga-mat', 'c/outdoor/jackets', 'p/fitness-tracker', 'c/cycling'],
  kids: ['c/kids/toys', 'p/wooden-train-set', 'c/baby/strollers', 'c/kids/winter', 'p/building-blocks'],
};
const NICHE_WORDS: Record<Niche, readonly string[]> = {
  fashion: ['style', 'outfits', 'ootd', 'wardrobe', 'closet', 'looks'],
  beauty: ['beauty', 'glow', 'makeup', 'skin', 'lashes'],
  electronics: ['tech', 'gadgets', 'unboxed', 'setup', 'reviews'],
  home: ['home', 'living', 'interiors', 'nest', 'decor'],
  sports: ['fit', 'runs', 'training', 'active', 'moves'],
  kids: ['mum', 'dad', 'family', 'littleones', 'parenting'],
};

const SOCIAL_PLATFORMS = ['instagram', 'tiktok', 'youtube', 'pinterest', 'facebook'] as const;
type SocialPlatform = (typeof SOCIAL_PLATFORMS)[number];
type Platform = SocialPlatform | 'blog' | 'newsletter' | 'podcast' | 'cashback' | 'deals';

const SHOP_NAMES = words(`
  lumora nordkauf veranda mercato bazaro shopvia kaufwelt trovami maisonette hallmark-store loja
  storia kavalier tindra
`);

interface Promo {
  from: number;
  to: number;
  /** Extra clicks from the shop's own promotion and the creators' posts about it. */
  traffic: number;
  /** People wait for a sale: those who click then buy more often. */
  conversion: number;
}

interface CampaignParams {
  market: HomeMarket;
  shopName: string;
  shopHost: string;
  shipsTo: readonly string[];
  /** A creator audience's typical click-to-order rate. */
  baseConversionRate: number;
  /** Average order value in euro before the category's factor. */
  aovEuro: number;
  refundRate: Record<Niche, number>;
  nicheWeights: Record<Niche, number>;
  mobileShare: number;
  /** Share of an ordinary creator's audience outside the home country. */
  abroadShare: number;
  /** How often a creator's followers buy by code rather than through the link. */
  couponShare: number;
  platformMix: Record<SocialPlatform, number>;
  ipv6Share: number;
  cellularShare: number;
  privateRelayShare: number;
  guestCheckoutShare: number;
  appCheckoutShare: number;
  identifiedClickShare: number;
  newCustomerShare: number;
  sendsRefundReason: boolean;
  sendsNewCustomer: boolean;
  directReferrerAsEmpty: boolean;
  appName: string;
  appVersion: string;
  androidAppClient: string;
  campaignIds: readonly string[];
  orderPrefix: string;
  orderBase: number;
  eventBase: number;
  promos: Promo[];
}

function drawCampaign(
  rng: Rng,
  historyStart: number,
  periodStart: number,
  periodLength: number,
): CampaignParams {
  const market = rng.pick(HOME_MARKETS);
  const shopName = rng.pick(SHOP_NAMES);
  const shipCount = rng.int(Math.min(2, market.neighbours.length), market.neighbours.length);
  const shipsTo = [market.country, ...rng.shuffle([...market.neighbours]).slice(0, shipCount)];
  const refundRate = {} as Record<Niche, number>;
  const nicheWeights = {} as Record<Niche, number>;
  for (const niche of NICHES) {
    const [lo, hi] = NICHE_REFUND_RANGE[niche];
    refundRate[niche] = rng.uniform(lo, hi);
    nicheWeights[niche] = rng.uniform(0.3, 1.5);
  }
  const promos: Promo[] = [];
  // A shop-wide sale (Singles' Day, a mid-season sale) falls in the payout period in most years, and in
  // one earlier period now and then: honest spikes every affiliate shares.
  if (rng.chance(0.6)) promos.push(drawPromo(rng, periodStart, periodLength));
  if (rng.chance(0.4)) {
    const p = rng.int(0, HISTORY_PERIODS - 1);
    promos.push(drawPromo(rng, historyStart + p * periodLength, periodLength));
  }
  const season = rng.pick(['winter', 'q4', 'holiday', 'xmas']);
  const year = new Date(periodStart).getUTCFullYear();
  return {
    market,
    shopName,
    shopHost: `www.${shopName}.${market.tld}`,
    shipsTo,
    // Creator traffic converts below a shop's average (1–4 % across e-commerce, less from social feeds).
    baseConversionRate: rng.uniform(0.012, 0.032),
    aovEuro: rng.uniform(38, 95),
    refundRate,
    nicheWeights,
    mobileShare: rng.uniform(0.6, 0.86),
    abroadShare: rng.uniform(0.03, 0.15),
    couponShare: rng.uniform(0.2, 0.6),
    platformMix: {
      instagram: rng.uniform(0.3, 0.6),
      tiktok: rng.uniform(0.1, 0.4),
      youtube: rng.uniform(0.08, 0.25),
      pinterest: rng.uniform(0, 0.1),
      facebook: rng.uniform(0.02, 0.12),
    },
    ipv6Share: rng.uniform(0.1, 0.4),
    cellularShare: rng.uniform(0.3, 0.6),
    privateRelayShare: rng.uniform(0.04, 0.2),
    guestCheckoutShare: rng.uniform(0.05, 0.3),
    appCheckoutShare: rng.chance(0.75) ? rng.uniform(0.05, 0.35) : 0,
    identifiedClickShare: rng.uniform(0.2, 0.65),
    newCustomerShare: rng.uniform(0.4, 0.75),
    sendsRefundReason: rng.chance(0.7),
    sendsNewCustomer: rng.chance(0.85),
    directReferrerAsEmpty: rng.chance(0.5),
    appName: `${shopName.replace(/-/g, '')[0]?.toUpperCase() ?? 'S'}${shopName.replace(/-/g, '').slice(1)}`,
    appVersion: `${rng.int(4, 9)}.${rng.int(0, 40)}.${rng.int(0, 9)}`,
    androidAppClient: rng.chance(0.6) ? `okhttp/4.${rng.int(9, 12)}.0` : 'Dalvik/2.1.0',
    campaignIds: [`always-on-${year}`, `${season}-creators-${year}`, `${season}-launch`],
    orderPrefix: rng.pick(['', 'ORD-', 'SO', 'A', 'W']),
    orderBase: rng.int(1_000_000, 90_000_000),
    eventBase: rng.int(10_000_000, 2_000_000_000),
    promos,
  };
}

function drawPromo(rng: Rng, from: number, periodLength: number): Promo {
  const startDay = rng.int(1, Math.max(1, Math.floor(periodLength / DAY) - 3));
  const days = rng.int(1, 3);
  return {
    from: from + startDay * DAY,
    to: from + (startDay + days) * DAY,
    traffic: rng.uniform(1.3, 2.2),
    conversion: rng.uniform(1.4, 2.5),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Shapes and kinds

/** The honest shapes, every one of which a run has. */
export const HONEST_SHAPES = [
  'micro',
  'mid_tier',
  'mega',
  'code_followers',
  'flat_fee_sponsorship',
  'viral_post',
  'high_refund_fashion',
  'audience_abroad',
  'deal_community',
  'new_creator',
  'long_consideration',
  'evergreen_blog',
  'own_purchases',
  'cashback_site',
  'newsletter',
  'podcast',
] as const;
type Shape = (typeof HONEST_SHAPES)[number];

/** How common each shape is among honest affiliates: most of a programme is small creators. */
const SHAPE_WEIGHTS: Record<Shape, number> = {
  micro: 20,
  mid_tier: 10,
  mega: 1.5,
  code_followers: 8,
  flat_fee_sponsorship: 4,
  viral_post: 3,
  high_refund_fashion: 8,
  audience_abroad: 6,
  deal_community: 4,
  new_creator: 8,
  long_consideration: 5,
  evergreen_blog: 6,
  own_purchases: 4,
  cashback_site: 2.5,
  newsletter: 4,
  podcast: 3,
};
const MIN_PER_SHAPE = 2;

/** The fraud kinds, each at every intensity in a run. */
export const FRAUD_KINDS = [
  'click_injection',
  'click_spamming',
  'datacenter_traffic',
  'bot_traffic',
  'coupon_leakage',
  'self_referral',
  'refund_abuse',
  'velocity_spike',
  'geo_mismatch',
  'brand_bidding',
] as const;
type FraudKind = (typeof FRAUD_KINDS)[number];
type Intensity = 'blatant' | 'moderate' | 'subtle';
const INTENSITIES: readonly Intensity[] = ['blatant', 'moderate', 'subtle'];

/** The honest shapes a fraudster of each kind plausibly passes for. */
const FRAUD_HOSTS: Record<FraudKind, readonly Shape[]> = {
  click_injection: ['micro', 'mid_tier', 'evergreen_blog', 'cashback_site'],
  click_spamming: ['evergreen_blog', 'deal_community', 'micro', 'cashback_site'],
  datacenter_traffic: ['mid_tier', 'flat_fee_sponsorship', 'micro', 'new_creator'],
  bot_traffic: ['flat_fee_sponsorship', 'micro', 'newsletter', 'mid_tier'],
  coupon_leakage: ['code_followers', 'mid_tier', 'micro', 'podcast'],
  self_referral: ['micro', 'new_creator', 'own_purchases', 'code_followers'],
  refund_abuse: ['high_refund_fashion', 'mid_tier', 'micro'],
  velocity_spike: ['micro', 'new_creator', 'mid_tier'],
  geo_mismatch: ['audience_abroad', 'micro', 'mid_tier'],
  brand_bidding: ['evergreen_blog', 'deal_community', 'cashback_site', 'code_followers'],
};

/**
 * How a fraud relates to the affiliate's past: ongoing (also in history), fresh (this period only, after an
 * honest history) or a new account (no history at all). Malware and stuffing persist; leaks and traffic
 * blasts start suddenly; throwaway accounts are typical of bought traffic.
 */
const ONSET_ODDS: Record<FraudKind, readonly [number, number, number]> = {
  click_injection: [0.6, 0.3, 0.1],
  click_spamming: [0.55, 0.25, 0.2],
  datacenter_traffic: [0.3, 0.3, 0.4],
  bot_traffic: [0.3, 0.3, 0.4],
  coupon_leakage: [0.35, 0.65, 0],
  self_referral: [0.5, 0.3, 0.2],
  refund_abuse: [0.45, 0.35, 0.2],
  velocity_spike: [0.15, 0.5, 0.35],
  geo_mismatch: [0.5, 0.3, 0.2],
  brand_bidding: [0.7, 0.3, 0],
};
type Onset = 'ongoing' | 'fresh' | 'new_account';

// ---------------------------------------------------------------------------------------------------------
// People and sessions

interface Person {
  subjectId: string;
  country: string;
  device: Device;
  phone?: Phone;
  homeIp: string;
  browserUa: string;
  relay: boolean;
  /** A customer of the shop before the simulated window. */
  existing: boolean;
  orders: number;
}

interface Session {
  ip: string;
  ua: string;
  country: string;
  subjectId?: string;
}

interface Profile {
  platform: Platform;
  niche: Niche;
  /** Expected clicks in a period at scale 1. */
  clicksPerPeriod: number;
  /** Posts, videos, episodes or mailings per period; clicks cluster after each. */
  postsPerPeriod: number;
  postDecayHours: number;
  postHours: readonly number[];
  /** Share of clicks that arrive steadily (link in bio, search, a pinned post) rather than after a post. */
  steadyShare: number;
  conversionRate: number;
  /** Code-only sales per click-attributed sale. */
  codeSaleRatio: number;
  /** Share of click-attributed sales where the buyer also types the code. */
  codeWithClickShare: number;
  audience: Array<readonly [string, number]>;
  mobileShare: number;
  refundFactor: number;
  /** Share of buyers who order in the session of the click; the rest come back days later. */
  quickBuyShare: number;
  quickMedianMinutes: number;
  considerationDays: number;
  newCustomerShare: number;
  weekendFactor: number;
  /** Share of clicks from chat-app link previews (a link shared in WhatsApp or Telegram). */
  previewShare: number;
  /** Expected orders of the affiliate's own household, through its own link or code, per period. */
  ownOrdersPerPeriod: number;
}

interface Affiliate {
  pub: HoldoutAffiliate;
  index: number;
  shape: Shape;
  fraud: FraudKind | null;
  intensity: Intensity | null;
  onset: Onset | null;
  rng: Rng;
  profile: Profile;
  joinMs: number;
  campaignId: string;
  slug: string;
  home: string;
  /** The creator's own household: its router, its phones, its family's accounts. */
  own: Person;
  site?: string;
  posts: number[];
  buyers: Person[];
  growth: number[];
}

interface RawEvent {
  ms: number;
  seq: number;
  type: 'click' | 'conversion' | 'refund';
  /** The event as sent, with its id, time and order id filled in once all events are sorted. */
  body: EventRecord;
  order?: number;
}

interface World {
  rng: Rng;
  p: CampaignParams;
  v: Versions;
  scale: number;
  historyStart: number;
  periodStart: number;
  periodEnd: number;
  periodLength: number;
  raw: RawEvent[];
  orderSeq: number;
  personSeq: number;
  carrierPools: Map<string, string[]>;
  customers: Map<string, Person[]>;
  customerPoolSize: number;
  usedCodes: Set<string>;
}

function nextSubjectId(w: World): string {
  // A bijective scramble of a counter: unique, but not in creation order.
  w.personSeq++;
  const scrambled = mix32(w.personSeq ^ w.p.eventBase).toString(36);
  return `cus_${scrambled.padStart(7, '0')}`;
}

function homeIp(w: World, rng: Rng, country: string): string {
  const info = countryInfo(country);
  if (info.v6 && rng.chance(w.p.ipv6Share)) return ipv6(rng, rng.pick(info.v6));
  return ipv4(rng, info.fixed);
}

/** A carrier's NAT address: a few hundred per country, shared by many unrelated subscribers. */
function carrierIp(w: World, rng: Rng, country: string): string {
  let pool = w.carrierPools.get(country);
  if (!pool) {
    const poolRng = new Rng(hashSeed(w.p.eventBase, country.charCodeAt(0), country.charCodeAt(1)));
    pool = Array.from({ length: CARRIER_POOL_SIZE }, () => ipv4(poolRng, countryInfo(country).mobile));
    w.carrierPools.set(country, pool);
  }
  return rng.pick(pool);
}
/** Carrier-grade NAT pool per country; small enough that unrelated phones share addresses, as they do. */
const CARRIER_POOL_SIZE = 400;

function newPerson(
  w: World,
  rng: Rng,
  country: string,
  mobileShare: number,
  opts: { existing?: boolean; os?: 'ios' | 'android'; farm?: boolean } = {},
): Person {
  const info = countryInfo(country);
  const mobile = opts.os !== undefined || rng.chance(mobileShare);
  let device: Device;
  let phone: Phone | undefined;
  if (mobile) {
    const os = opts.os ?? (rng.chance(info.ios) ? 'ios' : 'android');
    device = os === 'ios' ? 'iphone' : 'android';
    phone = drawPhone(rng, w.v, os, opts.farm);
  } else {
    device = rng.weighted<Device>([
      ['windows', 0.7],
      ['mac', 0.27],
      ['linux', 0.03],
    ]);
  }
  const person: Person = {
    subjectId: nextSubjectId(w),
    country,
    device,
    homeIp: homeIp(w, rng, country),
    browserUa: phone ? mobileBrowserUa(rng, w.v, phone) : desktopUa(rng, w.v, device),
    relay: device === 'iphone' && rng.chance(w.p.privateRelayShare),
    existing: opts.existing ?? false,
    orders: 0,
  };
  if (phone) person.phone = phone;
  return person;
}

/** Someone who already bought at the shop before: the pool grows to its size, then repeats people. */
function existingCustomer(w: World, rng: Rng, country: string, mobileShare: number): Person {
  let list = w.customers.get(country);
  if (!list) {
    list = [];
    w.customers.set(country, list);
  }
  const target = Math.max(30, w.customerPoolSize * (country === w.p.market.country ? 1 : 0.12));
  if (list.length < target) {
    const person = newPerson(w, rng, country, mobileShare, { existing: true });
    list.push(person);
    return person;
  }
  return rng.pick(list);
}

/** A shopper of the shop's own audience (not any creator's): home market and the countries it ships to. */
function organicShopper(
  w: World,
  rng: Rng,
  opts: { mobileShare?: number; os?: 'ios' | 'android'; existingShare?: number } = {},
): Person {
  const country = rng.chance(0.88) ? w.p.market.country : rng.pick(w.p.shipsTo);
  const mobileShare = opts.mobileShare ?? w.p.mobileShare;
  const existing = rng.chance(opts.existingShare ?? 0.5);
  if (opts.os === undefined) {
    return existing
      ? existingCustomer(w, rng, country, mobileShare)
      : newPerson(w, rng, country, mobileShare);
  }
  // A shopper on a given kind of phone: a customer of old or a new one, outside the reused pool.
  return newPerson(w, rng, country, mobileShare, { os: opts.os, existing });
}

function isMobile(person: Person): boolean {
  return person.device === 'iphone' || person.device === 'android';
}

function appUa(w: World, person: Person): string {
  if (person.device === 'iphone') {
    return `${w.p.appName}/${w.p.appVersion} (iPhone; iOS ${person.phone?.iosToken.replace('_', '.') ?? '18.6'}; Scale/3.00)`;
  }
  if (person.device === 'android') {
    return w.p.androidAppClient === 'Dalvik/2.1.0'
      ? `Dalvik/2.1.0 (Linux; U; Android ${person.phone?.android ?? 14}; ${person.phone?.model.model ?? 'SM-S921B'} Build/${person.phone?.build ?? 'AP3A.241105.008'})`
      : w.p.androidAppClient;
  }
  return person.browserUa;
}

/** A visit of one person on one surface: the address and user agent the backend sees. */
function openSession(w: World, rng: Rng, person: Person, surface: Surface): Session {
  const mobile = isMobile(person);
  let ip = person.homeIp;
  if (mobile && rng.chance(w.p.cellularShare)) ip = carrierIp(w, rng, person.country);
  else if (surface === 'browser' && person.relay) ip = ipv4(rng, PRIVATE_RELAY);
  else if (!mobile && rng.chance(CORPORATE_PROXY_SHARE)) ip = ipv4(rng, CORPORATE_PROXY);
  let ua = person.browserUa;
  if (surface === 'app' && mobile && w.p.appCheckoutShare > 0) ua = appUa(w, person);
  else if ((surface === 'instagram' || surface === 'tiktok' || surface === 'facebook') && person.phone) {
    ua = inAppUa(rng, w.v, person.phone, surface, person.country);
  }
  return { ip, ua, country: person.country };
}
/** Share of a blog's clicks made from its pages in Google's AMP cache. */
const BLOG_AMP_SHARE = 0.015;
/** Desktop visits from an office behind a corporate web proxy. */
const CORPORATE_PROXY_SHARE = 0.02;

// ---------------------------------------------------------------------------------------------------------
// Time helpers

function periodIndex(w: World, ms: number): number {
  return clamp(Math.floor((ms - w.historyStart) / w.periodLength), 0, HISTORY_PERIODS);
}

function localHour(ms: number, tz: number): number {
  const h = Math.floor((ms / HOUR + tz) % 24);
  return h < 0 ? h + 24 : h;
}

function isWeekend(ms: number, tz: number): boolean {
  const day = new Date(ms + tz * HOUR).getUTCDay();
  return day === 0 || day === 6;
}

/** An instant on the local calendar day that starts at UTC midnight `dayStart`, by an hourly profile. */
function instantOnDay(rng: Rng, dayStart: number, tz: number, byHour: readonly number[]): number {
  const hour = rng.index(byHour);
  return dayStart - tz * HOUR + hour * HOUR + rng.next() * HOUR;
}

/** An instant in [from, to) by an hourly profile: a random day, then an hour of that day. */
function instantIn(rng: Rng, from: number, to: number, tz: number, byHour: readonly number[]): number {
  for (let attempt = 0; attempt < 8; attempt++) {
    const day = Math.floor((from + rng.next() * (to - from)) / DAY) * DAY;
    const t = instantOnDay(rng, day, tz, byHour);
    if (t >= from && t < to) return t;
  }
  return from + rng.next() * (to - from);
}

/** Keeps an instant with the chance of its local hour, so that decays after a post still sleep at night. */
function awake(rng: Rng, ms: number, tz: number): boolean {
  return rng.chance((ACTIVITY_BY_HOUR[localHour(ms, tz)] ?? 1) * 0.85 + 0.15);
}

function promoAt(w: World, ms: number): Promo | undefined {
  return w.p.promos.find((promo) => ms >= promo.from && ms < promo.to);
}

// ---------------------------------------------------------------------------------------------------------
// Emitting events

function push(w: World, ms: number, type: RawEvent['type'], body: EventRecord, order?: number): void {
  const event: RawEvent = { ms: Math.floor(ms), seq: w.raw.length, type, body };
  if (order !== undefined) event.order = order;
  w.raw.push(event);
}

function inWindow(w: World, ms: number): boolean {
  return ms >= w.historyStart && ms < w.periodEnd;
}

type EventRecord = HoldoutCampaign['events'][number];

/**
 * The string in one piece. Strings built by concatenation are trees of fragments in V8, many times the size
 * of their text; reading a character joins them, which keeps hundreds of thousands of events small.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}

function setReferrer(w: World, body: EventRecord, referrer: string | undefined): void {
  if (referrer) body.referrer = referrer;
  else if (w.p.directReferrerAsEmpty) body.referrer = '';
}

interface ClickArgs {
  aff: Affiliate;
  ms: number;
  session: Session;
  referrer: string | undefined;
  landingUrl: string;
}

function emitClick(w: World, rng: Rng, args: ClickArgs): string {
  const clickId = rng.token(20);
  if (!inWindow(w, args.ms)) return clickId;
  const body: EventRecord = {
    id: '',
    type: 'click',
    ts: '',
    affiliateId: args.aff.pub.id,
    campaignId: args.aff.campaignId,
    clickId,
    ip: flat(args.session.ip),
    userAgent: flat(args.session.ua),
  };
  setReferrer(w, body, args.referrer && flat(args.referrer));
  body.landingUrl = flat(args.landingUrl);
  if (args.session.subjectId) body.subjectId = args.session.subjectId;
  // Geolocation fails for a sliver of addresses; the backend then leaves the country out.
  if (rng.chance(0.99)) body.country = args.session.country;
  push(w, args.ms, 'click', body);
  return clickId;
}

interface Basket {
  amount: number;
  items: number[];
}

/** A price as shops set them: x.99 / x.95 in euro-like currencies, whole tens minus one in SEK and PLN. */
function pricePoint(rng: Rng, value: number, currency: string): number {
  if (currency === 'SEK' || currency === 'PLN') return Math.max(9, Math.round(value / 10) * 10 - 1);
  const whole = Math.max(1, Math.round(value));
  return whole - rng.pick([0.01, 0.05, 0.01, 0]);
}

function drawBasket(w: World, rng: Rng, niche: Niche, factor = 1): Basket {
  const spec = NICHE_BASKET[niche];
  const target = rng.logNormal(w.p.aovEuro * spec.value * factor * w.p.market.perEuro, 0.5);
  const count = 1 + Math.min(5, rng.poisson(spec.items));
  const weights = Array.from({ length: count }, () => rng.uniform(0.4, 1.6));
  const total = weights.reduce((a, b) => a + b, 0);
  const items = weights.map((weight) => pricePoint(rng, (target * weight) / total, w.p.market.currency));
  const amount = Math.round(items.reduce((a, b) => a + b, 0) * 100) / 100;
  return { amount, items };
}

const HONEST_REFUND_REASONS: Record<Niche, ReadonlyArray<readonly [string, number]>> = {
  fashion: [
    ['size_or_fit', 0.55],
    ['changed_mind', 0.18],
    ['not_as_described', 0.1],
    ['defective', 0.05],
    ['cancelled', 0.1],
    ['chargeback', 0.02],
  ],
  beauty: [
    ['changed_mind', 0.3],
    ['damaged_in_transit', 0.25],
    ['wrong_item', 0.15],
    ['cancelled', 0.28],
    ['chargeback', 0.02],
  ],
  electronics: [
    ['defective', 0.35],
    ['changed_mind', 0.3],
    ['not_as_described', 0.1],
    ['cancelled', 0.22],
    ['chargeback', 0.03],
  ],
  home: [
    ['damaged_in_transit', 0.3],
    ['changed_mind', 0.3],
    ['not_as_described', 0.15],
    ['late_delivery', 0.05],
    ['cancelled', 0.18],
    ['chargeback', 0.02],
  ],
  sports: [
    ['size_or_fit', 0.4],
    ['changed_mind', 0.25],
    ['defective', 0.1],
    ['cancelled', 0.23],
    ['chargeback', 0.02],
  ],
  kids: [
    ['changed_mind', 0.35],
    ['defective', 0.15],
    ['size_or_fit', 0.2],
    ['cancelled', 0.28],
    ['chargeback', 0.02],
  ],
};

interface RefundPlan {
  probability: number;
  reasons: ReadonlyArray<readonly [string, number]>;
  /** Median days from order to refund. */
  medianDays?: number;
  /** Fixed range of days instead of the log-normal return journey. */
  dayRange?: readonly [number, number];
  partialShare?: number;
}

interface SaleArgs {
  /** The affiliate credited; absent only for orders outside the programme, which are not emitted. */
  aff: Affiliate;
  clickId?: string;
  ms: number;
  person: Person;
  session: Session;
  coupon?: string;
  niche: Niche;
  basketFactor?: number;
  /** Refunds as the category has them, unless given. */
  refund?: RefundPlan;
  guestShare?: number;
  /** A plain order of the shop's, credited to no affiliate (the creator shopping as any customer). */
  uncredited?: boolean;
}

function emitSale(w: World, rng: Rng, args: SaleArgs): void {
  if (!inWindow(w, args.ms)) return;
  const basket = drawBasket(w, rng, args.niche, args.basketFactor);
  const order = w.orderSeq++;
  const body: EventRecord = {
    id: '',
    type: 'conversion',
    ts: '',
    orderId: '',
  };
  if (!args.uncredited) {
    body.affiliateId = args.aff.pub.id;
    body.campaignId = args.aff.campaignId;
  }
  if (args.clickId) body.clickId = args.clickId;
  const guest = rng.chance(args.guestShare ?? w.p.guestCheckoutShare);
  if (!guest) body.subjectId = args.person.subjectId;
  body.amount = basket.amount;
  body.currency = w.p.market.currency;
  if (args.coupon) body.couponCode = args.coupon;
  body.ip = flat(args.session.ip);
  body.userAgent = flat(args.session.ua);
  if (w.p.sendsNewCustomer) body.newCustomer = !args.person.existing && args.person.orders === 0;
  if (rng.chance(0.99)) body.country = args.session.country;
  args.person.orders++;
  push(w, args.ms, 'conversion', body, order);
  const plan = args.refund ?? {
    probability: w.p.refundRate[args.niche],
    reasons: HONEST_REFUND_REASONS[args.niche],
  };
  maybeRefund(w, rng, order, args.ms, basket, plan);
}

function maybeRefund(
  w: World,
  rng: Rng,
  order: number,
  orderMs: number,
  basket: Basket,
  plan: RefundPlan,
): void {
  if (!rng.chance(plan.probability)) return;
  const reason = rng.weighted(plan.reasons);
  let delay: number;
  if (reason === 'cancelled') delay = rng.uniform(0.05, 1.5) * DAY;
  else if (plan.dayRange) delay = rng.uniform(plan.dayRange[0], plan.dayRange[1]) * DAY;
  else if (reason === 'chargeback') delay = rng.uniform(15, 60) * DAY;
  else delay = clamp(rng.logNormal((plan.medianDays ?? 9) * DAY, 0.45), 2 * DAY, 45 * DAY);
  const ms = orderMs + delay;
  if (!inWindow(w, ms)) return;
  // Part of a basket comes back (one of two sizes), or all of it.
  let amount = basket.amount;
  if (basket.items.length > 1 && reason !== 'cancelled' && rng.chance(plan.partialShare ?? 0.5)) {
    const kept = rng.int(1, basket.items.length - 1);
    amount = basket.items.slice(kept).reduce((a, b) => a + b, 0);
  }
  const body: EventRecord = {
    id: '',
    type: 'refund',
    ts: '',
    orderId: '',
    amount: Math.round(amount * 100) / 100,
    currency: w.p.market.currency,
  };
  if (w.p.sendsRefundReason) body.reason = reason;
  push(w, ms, 'refund', body, order);
}

function honestRefund(w: World, aff: Affiliate): RefundPlan {
  const niche = aff.profile.niche;
  return {
    probability: clamp(w.p.refundRate[niche] * aff.profile.refundFactor, 0, 0.6),
    reasons: HONEST_REFUND_REASONS[niche],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Links, referrers and landing pages

function landingUrl(w: World, rng: Rng, aff: Affiliate, niche: Niche, extra?: string): string {
  let path = rng.pick(NICHE_PATHS[niche]);
  if (rng.chance(0.5)) path += `-${rng.int(10000, 999999)}`;
  const medium = aff.profile.platform;
  let url = `https://${w.p.shopHost}/${path}?utm_source=${aff.slug}&utm_medium=affiliate&utm_campaign=${aff.campaignId}&utm_content=${medium}`;
  if (extra) url += `&${extra}`;
  return url;
}

/** The referrer a platform passes on; browsers send only the origin across sites since 2021. */
function platformReferrer(
  w: World,
  rng: Rng,
  aff: Affiliate,
  platform: Platform,
  surface: Surface,
): string | undefined {
  switch (platform) {
    case 'instagram':
      if (surface === 'instagram') return rng.chance(0.6) ? 'https://l.instagram.com/' : undefined;
      return rng.chance(0.3) ? 'https://linktr.ee/' : 'https://www.instagram.com/';
    case 'tiktok':
      return rng.chance(0.3) ? 'https://www.tiktok.com/' : undefined;
    case 'youtube':
      return rng.chance(0.75)
        ? 'https://www.youtube.com/'
        : rng.chance(0.5)
          ? 'https://m.youtube.com/'
          : undefined;
    case 'facebook':
      return rng.chance(0.7) ? 'https://l.facebook.com/' : 'https://lm.facebook.com/';
    case 'pinterest':
      return rng.chance(0.85) ? 'https://www.pinterest.com/' : undefined;
    case 'blog': {
      const r = rng.next();
      // Pages read inside Google's AMP viewer pass the search engine as referrer, though the reader clicked
      // the blog's link; a strict referrer policy sends nothing.
      if (r < BLOG_AMP_SHARE) return w.p.market.search;
      return r < 0.9 ? `https://${aff.site ?? 'blog.example.com'}/` : undefined;
    }
    case 'newsletter':
      return rng.weighted<string | undefined>([
        [undefined, 0.62],
        ['https://mail.google.com/', 0.18],
        ['https://outlook.live.com/', 0.06],
        [`https://${aff.site ?? 'newsletter.example.com'}/`, 0.14],
      ]);
    case 'podcast':
      return rng.weighted<string | undefined>([
        [undefined, 0.4],
        [`https://${aff.site ?? 'podcast.example.com'}/`, 0.4],
        ['https://open.spotify.com/', 0.2],
      ]);
    case 'cashback':
      return rng.chance(0.72) ? (aff.site ? `https://${aff.site}/` : undefined) : undefined;
    case 'deals':
      return rng.pick(w.p.market.deals);
  }
}

function surfaceFor(rng: Rng, platform: Platform, person: Person): Surface {
  if (!isMobile(person)) return 'browser';
  if (platform === 'instagram') return rng.chance(0.88) ? 'instagram' : 'browser';
  if (platform === 'tiktok') return rng.chance(0.95) ? 'tiktok' : 'browser';
  if (platform === 'facebook') return rng.chance(0.85) ? 'facebook' : 'browser';
  return 'browser';
}

function clickExtras(rng: Rng, platform: Platform): string | undefined {
  // Meta appends its own click id to outbound links.
  if ((platform === 'instagram' || platform === 'facebook') && rng.chance(0.65)) {
    return `fbclid=IwZXh0bgNhZW0CMTEAAR${rng.token(42, BASE64URL)}_aem_${rng.token(22, BASE64URL)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Honest traffic

function drawAudience(w: World, rng: Rng, abroad: number): Array<readonly [string, number]> {
  const home = w.p.market.country;
  const neighbours = w.p.shipsTo.filter((c) => c !== home);
  const audience: Array<readonly [string, number]> = [[home, 1 - abroad]];
  // Neighbouring (shipped) countries take most of the abroad share; far-away followers the rest.
  const far = abroad * rng.uniform(0.1, 0.3);
  for (const c of neighbours)
    audience.push([c, ((abroad - far) / Math.max(1, neighbours.length)) * rng.uniform(0.3, 1.7)]);
  for (const c of rng.shuffle([...FAR_AUDIENCE_COUNTRIES]).slice(0, 2)) {
    if (c !== home) audience.push([c, far / 2]);
  }
  return audience;
}

function pickNiche(w: World, rng: Rng): Niche {
  return rng.weighted(NICHES.map((n) => [n, w.p.nicheWeights[n]] as const));
}

function socialPlatform(w: World, rng: Rng): SocialPlatform {
  return rng.weighted(SOCIAL_PLATFORMS.map((p) => [p, w.p.platformMix[p]] as const));
}

/** A profile of the honest traffic of a shape; every number is drawn, so no two creators are alike. */
function honestProfile(w: World, rng: Rng, shape: Shape): Profile {
  const base = w.p.baseConversionRate;
  const codeRatio = (w.p.couponShare / (1 - w.p.couponShare)) * rng.uniform(0.5, 1.3);
  const profile: Profile = {
    platform: socialPlatform(w, rng),
    niche: pickNiche(w, rng),
    clicksPerPeriod: rng.logNormal(60, 0.9),
    postsPerPeriod: rng.uniform(2, 6),
    postDecayHours: rng.uniform(6, 18),
    postHours: POSTING_BY_HOUR,
    steadyShare: rng.uniform(0.15, 0.35),
    conversionRate: base * rng.logNormal(1, 0.3),
    codeSaleRatio: codeRatio,
    codeWithClickShare: rng.uniform(0.25, 0.55),
    audience: drawAudience(w, rng, w.p.abroadShare * rng.uniform(0.5, 1.5)),
    mobileShare: clamp(w.p.mobileShare + rng.uniform(0.02, 0.12), 0, 0.96),
    refundFactor: rng.uniform(0.8, 1.2),
    quickBuyShare: rng.uniform(0.6, 0.8),
    quickMedianMinutes: rng.uniform(5, 12),
    considerationDays: rng.uniform(1, 3),
    newCustomerShare: clamp(w.p.newCustomerShare + rng.uniform(-0.1, 0.1), 0.1, 0.9),
    weekendFactor: rng.uniform(1.0, 1.3),
    previewShare: rng.uniform(0, 0.012),
    ownOrdersPerPeriod: rng.chance(0.05) ? 0.3 : 0,
  };
  switch (shape) {
    case 'micro':
    // A creator who is also a frequent customer of the shop (its orders credit no one: see ownOrder).
    case 'own_purchases':
      if (shape === 'own_purchases') profile.ownOrdersPerPeriod = rng.uniform(0.8, 1.6);
      break;
    case 'mid_tier':
      profile.clicksPerPeriod = rng.logNormal(320, 0.5);
      profile.postsPerPeriod = rng.uniform(3, 8);
      profile.postDecayHours = rng.uniform(10, 30);
      break;
    case 'mega':
      // Huge reach converts worse: the audience is broad and follows for entertainment, not advice.
      profile.clicksPerPeriod = rng.logNormal(2000, 0.3);
      profile.postsPerPeriod = rng.uniform(2, 4);
      profile.postDecayHours = rng.uniform(18, 40);
      profile.steadyShare = rng.uniform(0.05, 0.15);
      profile.conversionRate = base * rng.uniform(0.45, 0.8);
      profile.audience = drawAudience(w, rng, clamp(w.p.abroadShare * 2.2, 0.1, 0.35));
      profile.mobileShare = rng.uniform(0.86, 0.94);
      profile.previewShare = rng.uniform(0.002, 0.01);
      break;
    case 'code_followers':
      // Followers watch a story and type the code at checkout later: most sales carry no click.
      profile.platform = rng.chance(0.6) ? 'instagram' : 'tiktok';
      profile.clicksPerPeriod = rng.logNormal(80, 0.6);
      profile.codeSaleRatio = rng.uniform(2, 5);
      profile.codeWithClickShare = rng.uniform(0.5, 0.8);
      break;
    case 'flat_fee_sponsorship':
      // A paid integration: one or two pieces of content, lots of attention, few purchases.
      profile.platform = rng.weighted<Platform>([
        ['youtube', 0.5],
        ['instagram', 0.3],
        ['tiktok', 0.2],
      ]);
      profile.clicksPerPeriod = rng.logNormal(420, 0.5);
      profile.postsPerPeriod = rng.uniform(1, 2);
      profile.postDecayHours = rng.uniform(24, 72);
      profile.steadyShare = rng.uniform(0.03, 0.08);
      profile.conversionRate = base * rng.uniform(0.25, 0.5);
      profile.codeSaleRatio = codeRatio * 0.5;
      break;
    case 'viral_post':
      profile.clicksPerPeriod = rng.logNormal(120, 0.6);
      profile.platform = rng.chance(0.6) ? 'tiktok' : 'instagram';
      break;
    case 'high_refund_fashion':
      // Bracketing (two sizes, one kept) makes fashion the category with the most returns.
      profile.niche = 'fashion';
      profile.platform = rng.weighted<Platform>([
        ['instagram', 0.55],
        ['tiktok', 0.3],
        ['pinterest', 0.15],
      ]);
      profile.clicksPerPeriod = rng.logNormal(160, 0.7);
      profile.refundFactor = rng.uniform(0.95, 1.12);
      break;
    case 'audience_abroad': {
      profile.clicksPerPeriod = rng.logNormal(160, 0.7);
      const abroad = rng.uniform(0.55, 0.85);
      const others = w.p.shipsTo.filter((c) => c !== w.p.market.country);
      const main = others.length ? rng.pick(others) : rng.pick(FAR_AUDIENCE_COUNTRIES);
      const far = rng.uniform(0.05, 0.15);
      profile.audience = [
        [w.p.market.country, 1 - abroad],
        [main, abroad - far],
        [rng.pick(FAR_AUDIENCE_COUNTRIES), far],
      ];
      break;
    }
    case 'deal_community':
      profile.clicksPerPeriod = rng.logNormal(140, 0.6);
      break;
    case 'new_creator':
      profile.clicksPerPeriod = rng.logNormal(110, 0.8);
      break;
    case 'long_consideration':
      // Expensive goods: a review, then days of comparing before the order.
      profile.niche = rng.chance(0.6) ? 'electronics' : 'home';
      profile.platform = rng.chance(0.6) ? 'youtube' : 'blog';
      profile.clicksPerPeriod = rng.logNormal(200, 0.6);
      profile.postDecayHours = rng.uniform(30, 90);
      profile.quickBuyShare = rng.uniform(0.15, 0.35);
      profile.considerationDays = rng.uniform(3, 7);
      profile.conversionRate = base * rng.uniform(0.6, 0.9);
      profile.mobileShare = rng.uniform(0.4, 0.6);
      profile.codeSaleRatio = codeRatio * 0.3;
      break;
    case 'evergreen_blog':
      // Search-ranked reviews: steady, weekday-heavy, read on desktops, high purchase intent.
      profile.platform = 'blog';
      profile.clicksPerPeriod = rng.logNormal(270, 0.6);
      profile.postsPerPeriod = 0;
      profile.steadyShare = 1;
      profile.conversionRate = base * rng.uniform(1.3, 2.0);
      profile.mobileShare = rng.uniform(0.4, 0.6);
      profile.weekendFactor = rng.uniform(0.7, 0.9);
      profile.codeSaleRatio = 0;
      profile.codeWithClickShare = 0;
      profile.previewShare = 0;
      profile.audience = drawAudience(w, rng, w.p.abroadShare * 0.5);
      break;
    case 'cashback_site':
      // Members activate cashback at checkout: high conversion, minutes to the order, mostly returning
      // customers, desktop extension or portal.
      profile.platform = 'cashback';
      profile.clicksPerPeriod = rng.logNormal(750, 0.4);
      profile.postsPerPeriod = 0;
      profile.steadyShare = 1;
      profile.conversionRate = rng.uniform(0.08, 0.18);
      profile.quickBuyShare = rng.uniform(0.9, 0.97);
      profile.quickMedianMinutes = rng.uniform(3, 6);
      profile.mobileShare = rng.uniform(0.3, 0.45);
      profile.newCustomerShare = rng.uniform(0.2, 0.35);
      profile.codeSaleRatio = 0;
      profile.codeWithClickShare = 0;
      profile.previewShare = 0;
      profile.audience = drawAudience(w, rng, 0.02);
      break;
    case 'newsletter':
      profile.platform = 'newsletter';
      profile.clicksPerPeriod = rng.logNormal(260, 0.5);
      profile.postsPerPeriod = rng.uniform(2, 4);
      profile.postDecayHours = rng.uniform(3, 8);
      profile.postHours = NEWSLETTER_BY_HOUR;
      profile.steadyShare = 0.05;
      profile.conversionRate = base * rng.uniform(1.0, 1.4);
      profile.mobileShare = rng.uniform(0.45, 0.6);
      profile.codeSaleRatio = codeRatio * 0.4;
      profile.previewShare = 0;
      break;
    case 'podcast':
      // Listeners hear "use code …" and type it; the show-notes link gets few clicks.
      profile.platform = 'podcast';
      profile.clicksPerPeriod = rng.logNormal(50, 0.6);
      profile.postsPerPeriod = w.periodLength / (7 * DAY);
      profile.postDecayHours = 72;
      profile.postHours = POSTING_BY_HOUR;
      profile.steadyShare = 0.2;
      profile.codeSaleRatio = rng.uniform(3, 8);
      profile.mobileShare = rng.uniform(0.55, 0.7);
      profile.newCustomerShare = clamp(profile.newCustomerShare + 0.1, 0, 0.9);
      profile.previewShare = 0;
      break;
  }
  return profile;
}

/** A content drop's time, by the creator's posting habits. */
function drawPosts(w: World, rng: Rng, aff: Affiliate): number[] {
  const posts: number[] = [];
  const tz = countryInfo(aff.home).tz;
  const { postsPerPeriod, postHours } = aff.profile;
  if (postsPerPeriod <= 0) return posts;
  for (let p = 0; p <= HISTORY_PERIODS; p++) {
    const from = Math.max(aff.joinMs, w.historyStart + p * w.periodLength);
    const to = w.historyStart + (p + 1) * w.periodLength;
    if (from >= to) continue;
    const n = rng.poisson((postsPerPeriod * (to - from)) / w.periodLength);
    for (let i = 0; i < n; i++) posts.push(instantIn(rng, from, to, tz, postHours));
  }
  return posts.sort((a, b) => a - b);
}

function expectedClicks(w: World, aff: Affiliate, ms: number): number {
  return aff.profile.clicksPerPeriod * w.scale * (aff.growth[periodIndex(w, ms)] ?? 1);
}

/** One honest visit through the affiliate's link, and the purchase it may lead to. */
function honestClick(w: World, rng: Rng, aff: Affiliate, ms: number, opts: HonestClickOptions = {}): void {
  const prof = aff.profile;
  const platform = opts.platform ?? prof.platform;
  // Link previews: the chat app fetches the link once when it is shared.
  if (prof.previewShare > 0 && rng.chance(prof.previewShare)) {
    const bot = rng.pick(LINK_PREVIEWERS);
    emitClick(w, rng, {
      aff,
      ms,
      session: { ip: ipv4(rng, bot.prefixes), ua: bot.ua, country: bot.country },
      referrer: undefined,
      landingUrl: landingUrl(w, rng, aff, prof.niche),
    });
    return;
  }
  const person = opts.person ?? audiencePerson(w, rng, aff, opts.audience);
  const surface = surfaceFor(rng, platform, person);
  const session = openSession(w, rng, person, surface);
  if ((person.existing || person.orders > 0) && rng.chance(w.p.identifiedClickShare)) {
    session.subjectId = person.subjectId;
  }
  const clickId = emitClick(w, rng, {
    aff,
    ms,
    session,
    referrer: opts.referrer ?? platformReferrer(w, rng, aff, platform, surface),
    landingUrl: landingUrl(w, rng, aff, prof.niche, opts.landingExtra ?? clickExtras(rng, platform)),
  });
  const promo = promoAt(w, ms);
  const shipped = w.p.shipsTo.includes(person.country) ? 1 : 0.03;
  const device = surface === 'browser' ? (isMobile(person) ? 0.9 : 1.35) : 0.75;
  const rate =
    prof.conversionRate * (opts.conversionFactor ?? 1) * (promo?.conversion ?? 1) * shipped * device;
  if (!rng.chance(clamp(rate, 0, 0.6))) return;
  buyAfterClick(w, rng, aff, { clickId, ms, person, session, surface });
}

interface HonestClickOptions {
  platform?: Platform;
  person?: Person;
  audience?: Array<readonly [string, number]>;
  referrer?: string;
  landingExtra?: string;
  conversionFactor?: number;
}

function audiencePerson(
  w: World,
  rng: Rng,
  aff: Affiliate,
  audience: Array<readonly [string, number]> = aff.profile.audience,
): Person {
  const prof = aff.profile;
  // Loyal fans buy again through the same creator.
  if (aff.buyers.length > 0 && rng.chance(REPEAT_FAN_SHARE)) return rng.pick(aff.buyers);
  const country = rng.weighted(audience);
  if (rng.chance(1 - prof.newCustomerShare)) return existingCustomer(w, rng, country, prof.mobileShare);
  return newPerson(w, rng, country, prof.mobileShare);
}
/** Share of a creator's visitors who already bought through that creator. */
const REPEAT_FAN_SHARE = 0.03;

interface ClickContext {
  clickId: string;
  ms: number;
  person: Person;
  session: Session;
  surface: Surface;
}

function buyAfterClick(w: World, rng: Rng, aff: Affiliate, click: ClickContext): void {
  const prof = aff.profile;
  let delay: number;
  let session = click.session;
  if (rng.chance(prof.quickBuyShare)) {
    delay = rng.logNormal(prof.quickMedianMinutes * MINUTE, 0.8);
    // Express checkout (Apple Pay from the product page) takes under a minute for a few.
    if (delay < 25 * SECOND) delay = rng.uniform(25, 60) * SECOND;
    delay = Math.min(delay, 3 * HOUR);
  } else {
    delay = clamp(rng.logNormal(prof.considerationDays * DAY, 0.8), 3 * HOUR, ATTRIBUTION_WINDOW);
    // Coming back later: the shop's app, or the browser again, from wherever the person is then.
    const surface: Surface =
      isMobile(click.person) && rng.chance(w.p.appCheckoutShare * 2) ? 'app' : 'browser';
    session = openSession(w, rng, click.person, surface);
  }
  const coupon =
    aff.pub.couponCodes.length > 0 && rng.chance(prof.codeWithClickShare)
      ? rng.pick(aff.pub.couponCodes)
      : undefined;
  const sale: SaleArgs = {
    aff,
    clickId: click.clickId,
    ms: click.ms + delay,
    person: click.person,
    session,
    niche: prof.niche,
    refund: honestRefund(w, aff),
  };
  if (coupon) sale.coupon = coupon;
  emitSale(w, rng, sale);
  aff.buyers.push(click.person);
}

/** A follower who types the creator's code at checkout, without a click. */
function codeOnlySale(w: World, rng: Rng, aff: Affiliate, ms: number, person?: Person): void {
  const code = aff.pub.couponCodes[0];
  if (!code) return;
  const buyer = person ?? audiencePerson(w, rng, aff);
  if (!w.p.shipsTo.includes(buyer.country)) return;
  const surface: Surface = isMobile(buyer) && rng.chance(w.p.appCheckoutShare * 2) ? 'app' : 'browser';
  emitSale(w, rng, {
    aff,
    ms,
    person: buyer,
    session: openSession(w, rng, buyer, surface),
    coupon: rng.pick(aff.pub.couponCodes),
    niche: aff.profile.niche,
    refund: honestRefund(w, aff),
  });
  aff.buyers.push(buyer);
}

function generateHonestTraffic(w: World, aff: Affiliate): void {
  const rng = aff.rng;
  const prof = aff.profile;
  const tz = countryInfo(aff.home).tz;
  aff.posts = drawPosts(w, rng, aff);
  // Steady clicks, day by day.
  const firstDay = Math.floor(aff.joinMs / DAY) * DAY;
  for (let day = Math.max(firstDay, w.historyStart); day < w.periodEnd; day += DAY) {
    const weekend = isWeekend(day + 12 * HOUR, tz) ? prof.weekendFactor : 1;
    const promo = promoAt(w, day + 12 * HOUR)?.traffic ?? 1;
    const mean =
      ((expectedClicks(w, aff, day) * prof.steadyShare) / (w.periodLength / DAY)) * weekend * promo;
    const n = rng.poisson(mean);
    for (let i = 0; i < n; i++) {
      const ms = instantOnDay(rng, day, tz, ACTIVITY_BY_HOUR);
      if (ms >= aff.joinMs) honestClick(w, rng, aff, ms);
    }
  }
  // Clicks after each post, decaying; a few posts flop and a few do well.
  const postsPerPeriod = Math.max(prof.postsPerPeriod, 1);
  for (const post of aff.posts) {
    const mean =
      ((expectedClicks(w, aff, post) * (1 - prof.steadyShare)) / postsPerPeriod) * rng.logNormal(0.85, 0.6);
    const n = rng.poisson(mean * (promoAt(w, post)?.traffic ?? 1));
    for (let i = 0; i < n; i++) {
      let ms = post + rng.exponential(prof.postDecayHours * HOUR);
      for (let tries = 0; tries < 3 && !awake(rng, ms, tz); tries++) {
        ms = post + rng.exponential(prof.postDecayHours * HOUR);
      }
      honestClick(w, rng, aff, ms);
    }
  }
  // Sales by code alone, mostly in the hours after a post.
  if (aff.pub.couponCodes.length > 0 && prof.codeSaleRatio > 0) {
    for (let p = 0; p <= HISTORY_PERIODS; p++) {
      const from = Math.max(aff.joinMs, w.historyStart + p * w.periodLength);
      const to = w.historyStart + (p + 1) * w.periodLength;
      if (from >= to) continue;
      const share = (to - from) / w.periodLength;
      const clickSales = expectedClicks(w, aff, from) * prof.conversionRate * share;
      const n = rng.poisson(clickSales * prof.codeSaleRatio);
      const posts = aff.posts.filter((t) => t >= from && t < to);
      for (let i = 0; i < n; i++) {
        const ms =
          posts.length > 0 && rng.chance(0.7)
            ? rng.pick(posts) + rng.logNormal(8 * HOUR, 1.1)
            : instantIn(rng, from, to, tz, SHOPPING_BY_HOUR);
        codeOnlySale(w, rng, aff, ms);
      }
    }
  }
  // The creator's own shopping: a small personal habit. Programme terms forbid commission on one's own
  // purchases and an honest creator keeps to them, so these orders go through no link or code of its own (the
  // self_referral kind is the creator who does not); the shop still sees the creator's account and devices.
  if (prof.ownOrdersPerPeriod > 0) {
    for (let p = 0; p <= HISTORY_PERIODS; p++) {
      const from = Math.max(aff.joinMs, w.historyStart + p * w.periodLength);
      const to = w.historyStart + (p + 1) * w.periodLength;
      if (from >= to) continue;
      const n = rng.poisson((prof.ownOrdersPerPeriod * (to - from)) / w.periodLength);
      for (let i = 0; i < n; i++)
        ownOrder(w, rng, aff, instantIn(rng, from, to, tz, SHOPPING_BY_HOUR), aff.own, undefined, false);
    }
  }
  shapeExtras(w, aff);
}

/**
 * An order of the creator's household: through the creator's own link (or code) when `credited`, else as a plain
 * customer of the shop.
 */
function ownOrder(
  w: World,
  rng: Rng,
  aff: Affiliate,
  ms: number,
  person: Person,
  refund?: RefundPlan,
  credited = true,
): void {
  const session = openSession(w, rng, person, 'browser');
  session.subjectId = person.subjectId;
  if (!credited) {
    emitSale(w, rng, {
      aff,
      ms,
      person,
      session,
      niche: aff.profile.niche,
      refund: refund ?? honestRefund(w, aff),
      guestShare: 0.05,
      uncredited: true,
    });
    return;
  }
  const code = aff.pub.couponCodes[0];
  const viaLink = !code || rng.chance(0.6);
  let clickId: string | undefined;
  let buyMs = ms;
  if (viaLink) {
    clickId = emitClick(w, rng, {
      aff,
      ms,
      session,
      referrer: rng.chance(0.5) ? platformReferrer(w, rng, aff, aff.profile.platform, 'browser') : undefined,
      landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
    });
    buyMs = ms + rng.logNormal(6 * MINUTE, 0.7);
  }
  const sale: SaleArgs = {
    aff,
    ms: buyMs,
    person,
    session,
    niche: aff.profile.niche,
    refund: refund ?? honestRefund(w, aff),
    guestShare: 0.05,
  };
  if (clickId) sale.clickId = clickId;
  if (code && (!viaLink || rng.chance(0.5))) sale.coupon = code;
  emitSale(w, rng, sale);
}

function shapeExtras(w: World, aff: Affiliate): void {
  const rng = aff.rng;
  const tz = countryInfo(aff.home).tz;
  switch (aff.shape) {
    case 'viral_post': {
      // One post takes off: tens of times the usual clicks within a day or two, from a broader audience
      // than the followers (the algorithm pushes it abroad too), converting a little worse.
      const period = rng.chance(0.65) ? HISTORY_PERIODS : rng.int(0, HISTORY_PERIODS - 1);
      const from = Math.max(aff.joinMs, w.historyStart + period * w.periodLength);
      const to = w.historyStart + (period + 1) * w.periodLength - DAY;
      if (from >= to) break;
      const post = instantIn(rng, from, to, tz, POSTING_BY_HOUR);
      aff.posts.push(post);
      const wide = drawAudience(w, rng, clamp(w.p.abroadShare * 3, 0.15, 0.4));
      const n = rng.poisson(rng.logNormal(1600, 0.4) * w.scale);
      for (let i = 0; i < n; i++) {
        const ms = post + rng.logNormal(6 * HOUR, 0.9);
        honestClick(w, rng, aff, ms, { audience: wide, conversionFactor: rng.uniform(0.4, 0.7) });
      }
      const codeSales = rng.poisson(n * aff.profile.conversionRate * 0.5 * aff.profile.codeSaleRatio * 0.5);
      for (let i = 0; i < codeSales; i++) codeOnlySale(w, rng, aff, post + rng.logNormal(14 * HOUR, 0.8));
      break;
    }
    case 'deal_community': {
      // The creator also posts the code and link on a deal forum, openly: some clicks from there, and code
      // sales from strangers of the whole market, a modest and steady share.
      const strangerRatio = rng.uniform(0.2, 0.45);
      for (let p = 0; p <= HISTORY_PERIODS; p++) {
        const from = Math.max(aff.joinMs, w.historyStart + p * w.periodLength);
        const to = w.historyStart + (p + 1) * w.periodLength;
        if (from >= to) continue;
        const share = (to - from) / w.periodLength;
        const clicks = rng.poisson(expectedClicks(w, aff, from) * rng.uniform(0.1, 0.25) * share);
        const homeTz = countryInfo(w.p.market.country).tz;
        for (let i = 0; i < clicks; i++) {
          const ms = instantIn(rng, from, to, homeTz, SHOPPING_BY_HOUR);
          honestClick(w, rng, aff, ms, {
            platform: 'deals',
            person: organicShopper(w, rng, { mobileShare: 0.45 }),
            conversionFactor: 1.4,
          });
        }
        const ownSales =
          expectedClicks(w, aff, from) * aff.profile.conversionRate * (1 + aff.profile.codeSaleRatio);
        const n = rng.poisson(Math.max(0.8, ownSales * strangerRatio) * share);
        for (let i = 0; i < n; i++) {
          codeOnlySale(
            w,
            rng,
            aff,
            instantIn(rng, from, to, homeTz, SHOPPING_BY_HOUR),
            organicShopper(w, rng, { mobileShare: 0.45 }),
          );
        }
      }
      break;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fraud

interface FraudWindow {
  from: number;
  to: number;
  /** How strongly the fraud runs in this window relative to the payout period. */
  strength: number;
}

function fraudWindows(w: World, aff: Affiliate): FraudWindow[] {
  const rng = aff.rng;
  const windows: FraudWindow[] = [];
  if (aff.onset === 'ongoing') {
    // Started in the first or second earlier period, growing into the present.
    const first = rng.int(0, HISTORY_PERIODS - 1);
    const startOffset = rng.uniform(0, 0.6) * w.periodLength;
    for (let p = first; p < HISTORY_PERIODS; p++) {
      const from = Math.max(
        aff.joinMs,
        w.historyStart + p * w.periodLength + (p === first ? startOffset : 0),
      );
      const to = w.historyStart + (p + 1) * w.periodLength;
      if (from < to) windows.push({ from, to, strength: rng.uniform(0.5, 1) });
    }
  }
  windows.push({ from: Math.max(aff.joinMs, w.periodStart), to: w.periodEnd, strength: 1 });
  return windows;
}

/** The host's expected clicks and attributed sales per period, so that subtle fraud stays a fraction. */
function hostVolume(w: World, aff: Affiliate): { clicks: number; sales: number } {
  const clicks = aff.profile.clicksPerPeriod * w.scale;
  const sales =
    clicks * aff.profile.conversionRate * (1 + (aff.pub.couponCodes.length ? aff.profile.codeSaleRatio : 0));
  return { clicks, sales };
}

function windowCount(rng: Rng, w: World, win: FraudWindow, perPeriod: number): number {
  return rng.poisson(perPeriod * win.strength * ((win.to - win.from) / w.periodLength));
}

function pickRange(rng: Rng, range: readonly [number, number]): number {
  return rng.uniform(range[0], range[1]);
}

type FraudGenerator = (w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]) => void;

function generateFraud(w: World, aff: Affiliate): void {
  if (!aff.fraud || !aff.intensity) return;
  FRAUD_GENERATORS[aff.fraud](w, aff, aff.intensity, fraudWindows(w, aff));
}

/**
 * Click injection: an app (or browser extension) on the shopper's phone watches for the shop being opened and
 * fires the affiliate's click seconds before an order the shopper was placing anyway. The sales are organic
 * (the shop's own shoppers, not the creator's audience); the click lands within seconds of the order, from the
 * same phone and address, often in an app's web view and with no referrer or the shop's own pages.
 */
function clickInjection(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const cfg = {
    blatant: {
      sales: rng.uniform(45, 100) * w.scale,
      /** Seconds from the injected click to the order. */
      delta: [2, 20] as const,
      webview: 0.75,
      shopReferrer: 0.5,
      android: 0.92,
    },
    moderate: {
      sales: Math.max(12 * w.scale, host.sales * rng.uniform(0.8, 1.2)),
      delta: [3, 45] as const,
      webview: 0.5,
      shopReferrer: 0.3,
      android: 0.8,
    },
    // A few stolen sales a period, with click-to-order gaps that overlap the fastest honest checkouts.
    subtle: {
      sales: Math.max(3, host.sales * rng.uniform(0.18, 0.3)),
      delta: [8, 95] as const,
      webview: 0.3,
      shopReferrer: 0,
      android: 0.7,
    },
  }[intensity];
  const homeTz = countryInfo(w.p.market.country).tz;
  for (const win of windows) {
    const n = windowCount(rng, w, win, cfg.sales);
    // Checkouts abandoned after the click was fired still leave the click behind.
    const abandoned = rng.poisson(n * rng.uniform(0.25, 0.45));
    for (let i = 0; i < n + abandoned; i++) {
      const buyMs = instantIn(rng, win.from, win.to, homeTz, SHOPPING_BY_HOUR);
      const person = organicShopper(w, rng, { os: rng.chance(cfg.android) ? 'android' : 'ios' });
      const buySurface: Surface = w.p.appCheckoutShare > 0 && rng.chance(0.5) ? 'app' : 'browser';
      const session = openSession(w, rng, person, buySurface);
      const clickSession: Session = { ...session };
      if (person.device === 'android' && person.phone && rng.chance(cfg.webview)) {
        // The injecting app's own web view on the same phone.
        clickSession.ua = `Mozilla/5.0 (Linux; Android ${person.phone.android}; ${person.phone.model.model} Build/${person.phone.build}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeBuild(rng, person.phone.chrome)} Mobile Safari/537.36`;
      } else if (buySurface === 'app') {
        clickSession.ua = person.browserUa;
      }
      const referrer = rng.chance(cfg.shopReferrer)
        ? `https://${w.p.shopHost}/`
        : intensity === 'subtle' && rng.chance(0.5)
          ? platformReferrer(w, rng, aff, aff.profile.platform, 'browser')
          : undefined;
      const clickMs = buyMs - pickRange(rng, cfg.delta) * SECOND;
      const clickId = emitClick(w, rng, {
        aff,
        ms: clickMs,
        session: clickSession,
        referrer,
        landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
      });
      if (i >= n) continue;
      // What the shopper was buying anyway, from any of the shop's categories.
      const niche = pickNiche(w, rng);
      emitSale(w, rng, {
        aff,
        clickId,
        ms: buyMs,
        person,
        session,
        niche,
      });
    }
  }
}

const SPAM_WORDS_A = words(`
  free daily best top hd mega quick smart easy pro my fast
`);
const SPAM_WORDS_B = words(`
  recipes wallpapers lyrics games horoscope weather quiz puzzles streams downloads jokes converter
  movies crosswords tvguide
`);
const SPAM_WORDS_C = words(`
  hub zone online 4u world club now spot base
`);
const SPAM_TLDS = words(`
  com net org info xyz site top online
`);

function spamDomain(rng: Rng): string {
  return `${rng.pick(SPAM_WORDS_A)}${rng.pick(SPAM_WORDS_B)}${rng.pick(SPAM_WORDS_C)}.${rng.pick(SPAM_TLDS)}`;
}

/**
 * Click spamming / cookie stuffing: the affiliate's link loads in hidden iframes, pop-unders and redirects on
 * a network of unrelated sites, dropping the shop's cookie in every passing browser. Nobody meant to visit,
 * so almost none of these clicks buy in the session; the affiliate earns when a stuffed browser later buys
 * on its own, days later and at any time within the cookie window (a flat spread of click-to-order times).
 */
function clickSpamming(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const perPeriod = {
    blatant: rng.uniform(2200, 3800) * w.scale,
    moderate: rng.uniform(700, 1300) * w.scale,
    subtle: Math.max(120 * w.scale, host.clicks * rng.uniform(0.3, 0.55)),
  }[intensity];
  // Blatant spam runs across hundreds of junk sites; subtle stuffing hides in the affiliate's own pages.
  const domains = Array.from({ length: { blatant: 250, moderate: 60, subtle: 6 }[intensity] }, () =>
    spamDomain(rng),
  );
  if (aff.site) domains.push(aff.site);
  const homeTz = countryInfo(w.p.market.country).tz;
  // Chance that a stuffed browser places an order at the shop within the window anyway.
  const organicBuyRate = rng.uniform(0.003, 0.008);
  for (const win of windows) {
    const clicks = windowCount(rng, w, win, perPeriod);
    let made = 0;
    while (made < clicks) {
      const person = organicShopper(w, rng, { mobileShare: 0.55, existingShare: 0.3 });
      // Each stuffed browser passes through the network a few times (one click per page view).
      const visits = Math.min(clicks - made, 1 + rng.poisson(rng.uniform(0.5, 2)));
      let last = 0;
      let lastClick = '';
      for (let v = 0; v < visits; v++) {
        const ms = instantIn(rng, win.from, win.to, homeTz, ACTIVITY_BY_HOUR);
        const session = openSession(w, rng, person, 'browser');
        const domain = rng.pick(domains);
        const referrer = rng.chance(0.15)
          ? undefined
          : rng.chance(0.8)
            ? `https://${domain}/`
            : `https://www.${domain}/${rng.pick(SPAM_WORDS_B)}/${rng.int(100, 99999)}`;
        const clickId = emitClick(w, rng, {
          aff,
          ms,
          session,
          referrer,
          landingUrl: `https://${w.p.shopHost}/?utm_source=${aff.slug}&utm_medium=affiliate&utm_campaign=${aff.campaignId}`,
        });
        if (ms > last) {
          last = ms;
          lastClick = clickId;
        }
      }
      made += visits;
      if (rng.chance(organicBuyRate)) {
        const buyMs =
          last + rng.uniform(0.02, 1) * Math.min(ATTRIBUTION_WINDOW, w.periodEnd - last + 3 * DAY);
        emitSale(w, rng, {
          aff,
          clickId: lastClick,
          ms: buyMs,
          person,
          session: openSession(w, rng, person, 'browser'),
          niche: pickNiche(w, rng),
        });
      }
    }
  }
}

interface DcTool {
  provider: Provider;
  ips: string[];
  uas: string[];
}

function dcTool(w: World, rng: Rng, ipCount: number, uaCount: number): DcTool {
  const provider = rng.pick(PROVIDERS);
  const ips = Array.from({ length: ipCount }, () => ipv4(rng, provider.prefixes));
  const uas = Array.from({ length: uaCount }, () => {
    const r = rng.next();
    if (r < 0.55) return desktopUa(rng, w.v, 'windows');
    return mobileBrowserUa(rng, w.v, drawPhone(rng, w.v, r < 0.8 ? 'ios' : 'android'));
  });
  return { provider, ips, uas };
}

/**
 * Data-centre and proxy traffic: clicks from rented servers (cloud and hosting addresses) with browser-like
 * user agents, sometimes with orders placed from the same servers with stolen cards (later charged back).
 * Moderate operations mix in residential proxies; subtle ones add a trickle that follows the host's hours.
 */
function datacenterTraffic(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const cfg = {
    blatant: { clicks: rng.uniform(1000, 2200) * w.scale, dc: 0.95, cr: 0.015, tools: 3, diurnal: 0.2 },
    moderate: {
      clicks: Math.max(300 * w.scale, host.clicks * rng.uniform(0.7, 1.1)),
      dc: 0.55,
      cr: 0.01,
      tools: 2,
      diurnal: 0.5,
    },
    subtle: {
      clicks: Math.max(25 * w.scale, host.clicks * rng.uniform(0.08, 0.15)),
      dc: 1,
      cr: 0.02,
      tools: 1,
      diurnal: 1,
    },
  }[intensity];
  const tools = Array.from({ length: cfg.tools }, () => dcTool(w, rng, rng.int(8, 120), rng.int(4, 25)));
  const tz = countryInfo(aff.home).tz;
  const proxyCountries = [w.p.market.country, ...w.p.shipsTo, 'US', 'GB', 'BR', 'IN'];
  for (const win of windows) {
    const n = windowCount(rng, w, win, cfg.clicks);
    for (let i = 0; i < n; i++) {
      const tool = rng.pick(tools);
      const ms = rng.chance(cfg.diurnal)
        ? instantIn(rng, win.from, win.to, tz, ACTIVITY_BY_HOUR)
        : rng.uniform(win.from, win.to);
      let session: Session;
      if (rng.chance(cfg.dc)) {
        session = {
          ip: rng.pick(tool.ips),
          ua: rng.pick(tool.uas),
          country: rng.pick(tool.provider.countries),
        };
      } else {
        // A residential proxy exit: someone's home address, rented by the request.
        const country = rng.pick(proxyCountries);
        session = { ip: homeIp(w, rng, country), ua: rng.pick(tool.uas), country };
      }
      const clickId = emitClick(w, rng, {
        aff,
        ms,
        session,
        referrer: rng.chance(0.5)
          ? platformReferrer(w, rng, aff, aff.profile.platform, 'browser')
          : undefined,
        landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
      });
      if (rng.chance(cfg.cr)) {
        const person = newPerson(w, rng, w.p.market.country, 0.3);
        emitSale(w, rng, {
          aff,
          clickId,
          ms: ms + rng.uniform(1, 6) * MINUTE,
          person,
          session,
          niche: aff.profile.niche,
          basketFactor: 1.4,
          guestShare: 0.6,
          refund: {
            probability: rng.uniform(0.5, 0.8),
            reasons: [
              ['chargeback', 0.7],
              ['cancelled', 0.3],
            ],
          },
        });
      }
    }
  }
}

/**
 * Bots: scripted clicks to inflate traffic (a click-based fee, a sponsorship's reported reach). Blatant kits
 * announce themselves (python-requests, curl, headless Chrome) and fire in regular runs; subtle ones send
 * outdated or headless browser strings at an even pace round the clock. Bots do not buy.
 */
function botTraffic(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const cfg = {
    blatant: {
      clicks: rng.uniform(1200, 2200) * w.scale,
      automation: 0.85,
      headless: 0.1,
      dc: 0.8,
      run: [60, 400] as const,
      interval: [3, 20] as const,
    },
    moderate: {
      clicks: Math.max(300 * w.scale, host.clicks * rng.uniform(0.8, 1.2)),
      automation: 0.4,
      headless: 0.15,
      dc: 0.6,
      run: [15, 80] as const,
      interval: [10, 60] as const,
    },
    subtle: {
      clicks: Math.max(25 * w.scale, host.clicks * rng.uniform(0.08, 0.15)),
      automation: 0.05,
      headless: 0.3,
      dc: 0.5,
      run: [1, 1] as const,
      interval: [0, 0] as const,
    },
  }[intensity];
  const tool = dcTool(w, rng, rng.int(3, 30), 1);
  const uas = Array.from({ length: rng.int(2, 6) }, () => {
    const r = rng.next();
    if (r < cfg.automation) return rng.pick(AUTOMATION_UAS);
    if (r < cfg.automation + cfg.headless) return headlessUa(w.v, rng.int(0, 20));
    return rng.pick(OUTDATED_UAS);
  });
  const proxyIps = Array.from({ length: rng.int(5, 40) }, () => homeIp(w, rng, w.p.market.country));
  for (const win of windows) {
    const total = windowCount(rng, w, win, cfg.clicks);
    let made = 0;
    while (made < total) {
      const runLength = Math.min(total - made, rng.int(cfg.run[0], cfg.run[1]));
      let ms = rng.uniform(win.from, win.to);
      const ua = rng.pick(uas);
      for (let i = 0; i < runLength && ms < win.to; i++) {
        const dc = rng.chance(cfg.dc);
        const session: Session = dc
          ? { ip: rng.pick(tool.ips), ua, country: rng.pick(tool.provider.countries) }
          : { ip: rng.pick(proxyIps), ua, country: w.p.market.country };
        emitClick(w, rng, {
          aff,
          ms,
          session,
          referrer:
            intensity === 'moderate' && rng.chance(0.3)
              ? platformReferrer(w, rng, aff, aff.profile.platform, 'browser')
              : undefined,
          landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
        });
        ms += pickRange(rng, cfg.interval) * SECOND * rng.uniform(0.8, 1.2);
      }
      made += runLength;
    }
  }
}

/**
 * Coupon leakage: the affiliate's exclusive code is posted to deal forums and coupon aggregators (or a
 * browser extension auto-applies it). Strangers of the whole market type it at checkout, without any click:
 * desktop-heavy, in shopping hours, home-market shoppers unlike the creator's audience, starting suddenly
 * with the post and fading as the deal cools.
 */
function couponLeakage(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const code = aff.pub.couponCodes[0];
  if (!code) return;
  const host = hostVolume(w, aff);
  const perPeriod = {
    blatant: rng.uniform(80, 170) * w.scale,
    moderate: Math.max(25 * w.scale, host.sales * rng.uniform(1.5, 2.5)),
    subtle: Math.max(5, host.sales * rng.uniform(0.5, 0.8)),
  }[intensity];
  const homeTz = countryInfo(w.p.market.country).tz;
  const desktop = rng.uniform(0.5, 0.65);
  for (const [i, win] of windows.entries()) {
    // A fresh leak starts within the payout period, a few days in.
    const onset =
      aff.onset === 'fresh' && i === windows.length - 1 ? win.from + rng.uniform(0.5, 8) * DAY : win.from;
    if (onset >= win.to) continue;
    const decay = rng.uniform(3, 9) * DAY;
    const expected = perPeriod * win.strength * ((win.to - onset) / w.periodLength);
    const n = rng.poisson(expected);
    for (let k = 0; k < n; k++) {
      // Front-loaded after the onset: a hot deal, then a steady tail on the aggregators.
      const age = rng.chance(0.6) ? rng.exponential(decay) : rng.uniform(0, win.to - onset);
      const day = Math.floor((onset + age) / DAY) * DAY;
      const ms = instantOnDay(rng, day, homeTz, SHOPPING_BY_HOUR);
      if (ms < onset || ms >= win.to) continue;
      const person = organicShopper(w, rng, { mobileShare: 1 - desktop, existingShare: 0.55 });
      emitSale(w, rng, {
        aff,
        ms,
        person,
        session: openSession(w, rng, person, 'browser'),
        coupon: code,
        niche: pickNiche(w, rng),
        // Coupon hunters fill baskets up to the code's minimum order value.
        basketFactor: 1.2,
      });
    }
  }
  if (intensity !== 'subtle') {
    // Aggregators also link the shop; a few of those visits pass through the creator's link.
    for (const win of windows) {
      const n = windowCount(rng, w, win, perPeriod * 0.1);
      for (let k = 0; k < n; k++) {
        const person = organicShopper(w, rng, { mobileShare: 1 - desktop });
        emitClick(w, rng, {
          aff,
          ms: instantIn(rng, win.from, win.to, homeTz, SHOPPING_BY_HOUR),
          session: openSession(w, rng, person, 'browser'),
          referrer: rng.pick([...w.p.market.deals, ...COUPON_AGGREGATORS]),
          landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
        });
      }
    }
  }
}

/** A member of the creator's household or circle: own account, shared router, own phone. */
function householdMember(w: World, rng: Rng, aff: Affiliate): Person {
  const member = newPerson(w, rng, aff.home, 0.7, { existing: rng.chance(0.5) });
  member.homeIp = aff.own.homeIp;
  return member;
}

/**
 * Self-referral: the affiliate, partner and family order through the affiliate's own link or code to earn
 * the commission on their own shopping (and return part of it). Same accounts, same router, same phones,
 * again and again.
 */
function selfReferral(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const cfg = {
    blatant: { orders: rng.uniform(15, 28), members: 1, own: 0.7, refund: 0.35 },
    moderate: { orders: rng.uniform(7, 12), members: 2, own: 0.4, refund: 0.25 },
    subtle: { orders: rng.uniform(4, 7), members: rng.int(1, 2), own: 0.1, refund: 0.22 },
  }[intensity];
  const members = [aff.own, ...Array.from({ length: cfg.members }, () => householdMember(w, rng, aff))];
  const tz = countryInfo(aff.home).tz;
  const refund: RefundPlan = { probability: cfg.refund, reasons: HONEST_REFUND_REASONS[aff.profile.niche] };
  for (const win of windows) {
    const n = windowCount(rng, w, win, cfg.orders);
    for (let i = 0; i < n; i++) {
      const person = rng.chance(cfg.own)
        ? aff.own
        : rng.pick(members.slice(1).length ? members.slice(1) : members);
      ownOrder(w, rng, aff, instantIn(rng, win.from, win.to, tz, SHOPPING_BY_HOUR), person, refund);
    }
  }
}

/**
 * Refund abuse: a ring of buyers orders through the affiliate (link or code) and returns or disputes nearly
 * everything once the commission is booked: "not received", "empty box", chargebacks. The same few
 * accounts, addresses and phones recur.
 */
function refundAbuse(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const cfg = {
    blatant: { ring: rng.int(8, 14), orders: rng.uniform(35, 65), refund: rng.uniform(0.85, 0.95) },
    moderate: { ring: rng.int(5, 8), orders: rng.uniform(14, 24), refund: rng.uniform(0.72, 0.85) },
    // Hidden in a fashion creator's returns, where a third of the sales come back anyway.
    subtle: { ring: rng.int(3, 5), orders: rng.uniform(6, 11), refund: rng.uniform(0.6, 0.75) },
  }[intensity];
  const country = aff.home;
  const routers = Array.from({ length: rng.int(2, 4) }, () => homeIp(w, rng, country));
  const ring = Array.from({ length: cfg.ring }, () => {
    const member = newPerson(w, rng, country, 0.75);
    member.homeIp = rng.pick(routers);
    return member;
  });
  const tz = countryInfo(country).tz;
  const plan: RefundPlan = {
    probability: cfg.refund,
    // Claimed as soon as the parcel is due: "not received" needs no return shipment.
    dayRange: [2, 7],
    partialShare: 0.1,
    reasons: [
      ['not_received', 0.4],
      ['not_as_described', 0.22],
      ['item_missing', 0.1],
      ['chargeback', 0.15],
      ['changed_mind', 0.13],
    ],
  };
  for (const win of windows) {
    const n = windowCount(rng, w, win, cfg.orders);
    for (let i = 0; i < n; i++) {
      const person = rng.pick(ring);
      const ms = instantIn(rng, win.from, win.to, tz, SHOPPING_BY_HOUR);
      const surface = surfaceFor(rng, aff.profile.platform, person);
      const session = openSession(w, rng, person, surface);
      const code = aff.pub.couponCodes[0];
      const viaCode = code !== undefined && rng.chance(0.3);
      let clickId: string | undefined;
      if (!viaCode) {
        clickId = emitClick(w, rng, {
          aff,
          ms,
          session,
          referrer: platformReferrer(w, rng, aff, aff.profile.platform, surface),
          landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
        });
      }
      const sale: SaleArgs = {
        aff,
        ms: ms + rng.logNormal(7 * MINUTE, 0.6),
        person,
        session,
        niche: aff.profile.niche,
        basketFactor: 1.5,
        guestShare: 0.25,
        refund: plan,
      };
      if (clickId) sale.clickId = clickId;
      if (viaCode) sale.coupon = code;
      emitSale(w, rng, sale);
    }
  }
}

/**
 * Velocity spike: a bought traffic blast, hours long, with a flat top that starts and stops abruptly: a few
 * subnets, a narrow set of user agents, and a batch of small fake orders that are cancelled or charged
 * back. The subtle version ramps up and down like a story post but still comes from a few subnets.
 */
function velocitySpike(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const cfg = {
    blatant: {
      clicks: rng.uniform(2000, 3200) * w.scale,
      hours: rng.uniform(2, 3),
      subnets: rng.int(3, 5),
      uas: rng.int(3, 6),
      orders: rng.uniform(40, 80) * w.scale,
    },
    moderate: {
      clicks: rng.uniform(700, 1200) * w.scale,
      hours: rng.uniform(3, 5),
      subnets: rng.int(6, 12),
      uas: rng.int(8, 15),
      orders: rng.uniform(12, 24) * w.scale,
    },
    subtle: {
      clicks: rng.uniform(300, 550) * w.scale,
      hours: rng.uniform(4, 8),
      subnets: rng.int(15, 30),
      uas: rng.int(20, 40),
      orders: rng.uniform(4, 9),
    },
  }[intensity];
  const country = aff.home;
  const tz = countryInfo(country).tz;
  const subnets = Array.from({ length: cfg.subnets }, () => subnetOf(ipv4(rng, countryInfo(country).fixed)));
  const uas = Array.from({ length: cfg.uas }, () => {
    const phone = drawPhone(rng, w.v, rng.chance(0.5) ? 'ios' : 'android');
    return rng.chance(0.5)
      ? inAppUa(rng, w.v, phone, 'instagram', country)
      : mobileBrowserUa(rng, w.v, phone);
  });
  // One blast per fraud window: the payout period, and for an ongoing fraudster one earlier period too.
  const blasts = windows.length > 1 ? [windows[0], windows[windows.length - 1]] : windows;
  for (const win of blasts) {
    if (!win) continue;
    const duration = cfg.hours * HOUR;
    if (win.to - win.from < duration + DAY) continue;
    const start = instantIn(rng, win.from, win.to - duration - DAY, tz, WORK_SHIFT_BY_HOUR);
    const n = rng.poisson(cfg.clicks * win.strength);
    const clicks: Array<{ id: string; ms: number; session: Session }> = [];
    for (let i = 0; i < n; i++) {
      // Flat top for bought blasts; a trapezoid (ramp up, plateau, ramp down) for the subtle one.
      const u = intensity === 'subtle' ? (rng.next() + rng.next()) / 2 : rng.next();
      const ms = start + u * duration;
      const session: Session = {
        ip: `${rng.pick(subnets)}.${rng.int(1, 254)}`,
        ua: rng.pick(uas),
        country,
      };
      const referrer =
        intensity === 'blatant'
          ? undefined
          : rng.chance(intensity === 'subtle' ? 0.8 : 0.5)
            ? platformReferrer(w, rng, aff, aff.profile.platform, 'instagram')
            : undefined;
      const id = emitClick(w, rng, {
        aff,
        ms,
        session,
        referrer,
        landingUrl: landingUrl(w, rng, aff, aff.profile.niche),
      });
      clicks.push({ id, ms, session });
    }
    const orders = Math.min(clicks.length, rng.poisson(cfg.orders * win.strength));
    for (let i = 0; i < orders; i++) {
      const click = rng.pick(clicks);
      const person = newPerson(w, rng, country, 1);
      emitSale(w, rng, {
        aff,
        clickId: click.id,
        ms: click.ms + rng.uniform(1, 8) * MINUTE,
        person,
        session: click.session,
        niche: aff.profile.niche,
        basketFactor: 0.45,
        guestShare: 0.5,
        refund: {
          probability: rng.uniform(0.6, 0.9),
          dayRange: [0.05, 5],
          reasons: [
            ['cancelled', 0.55],
            ['chargeback', 0.25],
            ['not_received', 0.2],
          ],
        },
      });
    }
  }
}

/**
 * Geo mismatch: clicks from click farms in countries the shop does not ship to and the creator's audience
 * does not live in: racks of cheap Android phones rotating mobile addresses, in the farm's working hours.
 * A few orders come from there too (card testing), and are charged back.
 */
function geoMismatch(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const cfg = {
    blatant: {
      clicks: rng.uniform(1500, 2800) * w.scale,
      countries: 3,
      phones: 150,
      orders: rng.uniform(2, 6),
    },
    moderate: {
      clicks: Math.max(300 * w.scale, host.clicks * rng.uniform(0.7, 1.1)),
      countries: 2,
      phones: 60,
      orders: rng.uniform(1, 4),
    },
    subtle: {
      clicks: Math.max(20 * w.scale, host.clicks * rng.uniform(0.08, 0.15)),
      countries: 1,
      phones: 15,
      orders: rng.uniform(1, 3),
    },
  }[intensity];
  const countries = rng.shuffle([...FARM_COUNTRIES]).slice(0, cfg.countries);
  const phones = Array.from({ length: cfg.phones }, () => {
    const country = rng.pick(countries);
    return newPerson(w, rng, country, 1, { os: 'android', farm: true });
  });
  for (const win of windows) {
    const n = windowCount(rng, w, win, cfg.clicks);
    const clicks: Array<{ id: string; ms: number; session: Session; person: Person }> = [];
    for (let i = 0; i < n; i++) {
      const person = rng.pick(phones);
      const tz = countryInfo(person.country).tz;
      const ms = instantIn(rng, win.from, win.to, tz, WORK_SHIFT_BY_HOUR);
      const surface = surfaceFor(rng, aff.profile.platform, person);
      const session = openSession(w, rng, person, surface);
      // Farms rotate mobile data connections: a fresh carrier address for most taps.
      session.ip = rng.chance(0.8) ? ipv4(rng, countryInfo(person.country).mobile) : session.ip;
      const id = emitClick(w, rng, {
        aff,
        ms,
        session,
        referrer: platformReferrer(w, rng, aff, aff.profile.platform, surface),
        landingUrl: landingUrl(w, rng, aff, aff.profile.niche, clickExtras(rng, aff.profile.platform)),
      });
      clicks.push({ id, ms, session, person });
    }
    const orders = Math.min(clicks.length, windowCount(rng, w, win, cfg.orders));
    for (let i = 0; i < orders; i++) {
      const click = rng.pick(clicks);
      emitSale(w, rng, {
        aff,
        clickId: click.id,
        ms: click.ms + rng.uniform(2, 15) * MINUTE,
        person: click.person,
        session: click.session,
        niche: aff.profile.niche,
        basketFactor: 0.6,
        guestShare: 0.7,
        refund: {
          probability: 0.7,
          reasons: [
            ['chargeback', 0.6],
            ['cancelled', 0.4],
          ],
        },
      });
    }
  }
}

/**
 * Brand bidding: the affiliate buys search ads on the shop's own brand name, against the programme's terms,
 * and takes credit for shoppers who were already looking for the shop. The clicks come straight from the
 * search engine (not from the affiliate's own pages) with the ad's click id in the landing URL, and convert
 * like the shop's own returning customers: high, fast, home market, desktop-heavy. Subtle bidders schedule
 * their ads for evenings and weekends, on the smaller engine, when brand monitors look away.
 */
function brandBidding(w: World, aff: Affiliate, intensity: Intensity, windows: FraudWindow[]): void {
  const rng = aff.rng;
  const host = hostVolume(w, aff);
  const perPeriod = {
    blatant: rng.uniform(600, 1100) * w.scale,
    moderate: rng.uniform(200, 400) * w.scale,
    subtle: Math.max(40 * w.scale, host.clicks * rng.uniform(0.15, 0.3)),
  }[intensity];
  const homeTz = countryInfo(w.p.market.country).tz;
  const conversionRate = rng.uniform(0.06, 0.12);
  const bingShare = intensity === 'subtle' ? 0.85 : 0.25;
  for (const win of windows) {
    const n = windowCount(rng, w, win, perPeriod);
    for (let i = 0; i < n; i++) {
      let ms = instantIn(
        rng,
        win.from,
        win.to,
        homeTz,
        intensity === 'subtle' ? OFF_HOURS_BY_HOUR : SHOPPING_BY_HOUR,
      );
      if (intensity === 'subtle' && !isWeekend(ms, homeTz) && rng.chance(0.4)) {
        ms = instantIn(rng, win.from, win.to, homeTz, OFF_HOURS_BY_HOUR);
      }
      const person = organicShopper(w, rng, { mobileShare: 0.5, existingShare: 0.6 });
      const session = openSession(w, rng, person, 'browser');
      if (person.existing && rng.chance(w.p.identifiedClickShare)) session.subjectId = person.subjectId;
      const bing = rng.chance(bingShare);
      const clickId = emitClick(w, rng, {
        aff,
        ms,
        session,
        referrer: bing ? 'https://www.bing.com/' : w.p.market.search,
        landingUrl: landingUrl(
          w,
          rng,
          aff,
          pickNiche(w, rng),
          bing ? `msclkid=${rng.hex(32)}` : `gclid=Cj0KCQiA${rng.token(60, BASE64URL)}_BwE`,
        ),
      });
      if (rng.chance(conversionRate)) {
        emitSale(w, rng, {
          aff,
          clickId,
          ms: ms + clamp(rng.logNormal(6 * MINUTE, 0.7), 50 * SECOND, 2 * HOUR),
          person,
          session,
          niche: pickNiche(w, rng),
        });
      }
    }
  }
}

const FRAUD_GENERATORS: Record<FraudKind, FraudGenerator> = {
  click_injection: clickInjection,
  click_spamming: clickSpamming,
  datacenter_traffic: datacenterTraffic,
  bot_traffic: botTraffic,
  coupon_leakage: couponLeakage,
  self_referral: selfReferral,
  refund_abuse: refundAbuse,
  velocity_spike: velocitySpike,
  geo_mismatch: geoMismatch,
  brand_bidding: brandBidding,
};

// ---------------------------------------------------------------------------------------------------------
// Affiliates

const FIRST_NAMES = words(`
  lena mia emma sofia lara julia anna nina clara marie hannah leonie chloe ines camille lucia giulia
  martina sara zoe noah leon finn paul lukas jonas max tom ben luca matteo hugo louis mateo pablo
  oliver jack liam ella amelie maja olivia alba carla elif yara aylin nora ida freya
`);
const BLOG_SUFFIXES = words(`
  guide test check insider journal compass lab notes
`);
const LOYALTY_SITES: ReadonlyArray<readonly [string, string]> = [
  ['Corporate Benefits', 'https://www.corporate-benefits.de/'],
  ['Payback', 'https://www.payback.de/'],
  ['Bonusway', 'https://www.bonusway.com/'],
  ['myWorld', 'https://www.myworld.com/'],
  ['Swagbucks', 'https://www.swagbucks.com/'],
  ['Cashback World', 'https://www.cashbackworld.com/'],
];
const NEWSLETTER_WORDS = ['Weekly', 'Sunday Edit', 'Brief', 'Digest', 'Letter'];
const PODCAST_WORDS = ['Talk', 'Hour', 'Club', 'Diaries', 'Show'];

function capitalise(word: string): string {
  return `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;
}

function uniqueCode(w: World, rng: Rng, stem: string): string {
  const base =
    stem
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .slice(0, 12) || 'CODE';
  let code = `${base}${rng.pick([10, 15, 20, 10, 15])}`;
  while (w.usedCodes.has(code)) code = `${base}${rng.int(10, 99)}`;
  w.usedCodes.add(code);
  return code;
}

interface Identity {
  name: string;
  slug: string;
  codes: string[];
  site?: string;
}

function identityFor(w: World, rng: Rng, shape: Shape, profile: Profile): Identity {
  const first = rng.pick(FIRST_NAMES);
  const word = rng.pick(NICHE_WORDS[profile.niche]);
  const tld = w.p.market.tld;
  switch (profile.platform) {
    case 'blog': {
      const site = `${word}${rng.pick(BLOG_SUFFIXES)}${rng.chance(0.3) ? rng.int(2, 99) : ''}.${rng.chance(0.6) ? tld : 'com'}`;
      return {
        name: capitalise(site.split('.')[0] ?? site),
        slug: site.split('.')[0] ?? 'blog',
        codes: rng.chance(0.2) ? [uniqueCode(w, rng, word)] : [],
        site,
      };
    }
    case 'cashback': {
      // The market's own portals most often; employee-benefit and loyalty schemes otherwise.
      const [name, url] = rng.chance(0.6) ? rng.pick(w.p.market.cashback) : rng.pick(LOYALTY_SITES);
      return {
        name,
        slug: name.toLowerCase().replace(/[^a-z0-9]/g, ''),
        codes: [],
        site: url.replace(/^https:\/\//, '').replace(/\/.*$/, ''),
      };
    }
    case 'newsletter': {
      const title = `${capitalise(word)} ${rng.pick(NEWSLETTER_WORDS)}`;
      const slug = `${word}${rng.pick(['weekly', 'letter', 'edit', 'digest'])}${rng.int(1, 99)}`;
      return {
        name: title,
        slug,
        codes: rng.chance(0.5) ? [uniqueCode(w, rng, word)] : [],
        site: `${slug}.substack.com`,
      };
    }
    case 'podcast': {
      const title = `The ${capitalise(first)} ${rng.pick(PODCAST_WORDS)}`;
      const slug = `${first}${rng.pick(['talk', 'pod', 'show'])}${rng.int(1, 99)}`;
      return { name: title, slug, codes: [uniqueCode(w, rng, first)], site: `${slug}.podigee.io` };
    }
    default: {
      const handle = rng.weighted([
        [`${first}.${word}`, 0.4],
        [`${first}_${word}`, 0.3],
        [`${word}by${first}`, 0.15],
        [`${first}${rng.int(1, 99)}`, 0.15],
      ]);
      // Creators whose followers shop by code always have one; most others too.
      const hasCode = shape === 'code_followers' || shape === 'deal_community' || rng.chance(0.72);
      return {
        name: handle,
        slug: handle.replace(/[^a-z0-9]/g, ''),
        codes: hasCode ? [uniqueCode(w, rng, first)] : [],
      };
    }
  }
}

function allocateShapes(total: number): Shape[] {
  const weightSum = HONEST_SHAPES.reduce((sum, s) => sum + SHAPE_WEIGHTS[s], 0);
  const floor =
    total >= HONEST_SHAPES.length * MIN_PER_SHAPE ? MIN_PER_SHAPE : total >= HONEST_SHAPES.length ? 1 : 0;
  const counts = HONEST_SHAPES.map((s) =>
    Math.max(floor, Math.floor((SHAPE_WEIGHTS[s] / weightSum) * total)),
  );
  let assigned = counts.reduce((a, b) => a + b, 0);
  // Hand out the remainder to the commonest shapes first; take any excess back from them.
  const order = [...HONEST_SHAPES.keys()].sort(
    (a, b) => SHAPE_WEIGHTS[HONEST_SHAPES[b] ?? 'micro'] - SHAPE_WEIGHTS[HONEST_SHAPES[a] ?? 'micro'],
  );
  for (let i = 0; assigned < total; i++, assigned++) {
    const k = order[i % order.length] ?? 0;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  for (let i = 0; assigned > total; i++) {
    const k = order[i % order.length] ?? 0;
    if ((counts[k] ?? 0) > floor) {
      counts[k] = (counts[k] ?? 0) - 1;
      assigned--;
    }
  }
  const shapes: Shape[] = [];
  HONEST_SHAPES.forEach((shape, k) => {
    for (let i = 0; i < (counts[k] ?? 0); i++) shapes.push(shape);
  });
  return shapes;
}

interface Spec {
  shape: Shape;
  fraud: FraudKind | null;
  intensity: Intensity | null;
}

function buildAffiliate(w: World, spec: Spec, index: number): Affiliate {
  const rng = new Rng(hashSeed(w.p.eventBase, index, 0xaff));
  const profile = honestProfile(w, rng, spec.shape);
  if (spec.fraud === 'refund_abuse' && spec.intensity === 'subtle') {
    // The hardest refund ring hides where returns are normal.
    profile.niche = 'fashion';
  }
  const identity = identityFor(w, rng, spec.shape, profile);
  const home = profile.audience[0]?.[0] ?? w.p.market.country;
  let onset: Onset | null = null;
  if (spec.fraud) {
    const odds = ONSET_ODDS[spec.fraud];
    onset = rng.weighted<Onset>([
      ['ongoing', odds[0]],
      ['fresh', odds[1]],
      ['new_account', odds[2]],
    ]);
  }
  // When the affiliate joined: most before the simulated window, some part-way through the history.
  let joinMs = w.historyStart - DAY;
  if (spec.shape === 'new_creator' || onset === 'new_account') {
    joinMs = rng.chance(0.5)
      ? w.periodStart - w.periodLength + rng.uniform(0, 0.8) * w.periodLength
      : w.periodStart + rng.uniform(0, 0.3) * w.periodLength;
  } else if (rng.chance(0.12)) {
    joinMs = w.historyStart + rng.uniform(0, HISTORY_PERIODS - 1) * w.periodLength;
  }
  // Audiences grow and shrink from period to period.
  const growth: number[] = [];
  let level = rng.logNormal(1, 0.15);
  for (let p = 0; p <= HISTORY_PERIODS; p++) {
    growth.push(level);
    level *= rng.logNormal(1.03, 0.15);
  }
  if (spec.shape === 'new_creator') {
    const firstActive = periodIndex(w, joinMs);
    growth[firstActive] = (growth[firstActive] ?? 1) * 0.6;
  }
  const subjectId = nextSubjectId(w);
  const own = newPerson(w, rng, home, 0.7, { existing: true });
  own.subjectId = subjectId;
  const aff: Affiliate = {
    pub: {
      id: `aff_${rng.token(10, '0123456789abcdefghijklmnopqrstuvwxyz')}`,
      name: identity.name,
      couponCodes: identity.codes,
      subjectId,
      fraud: spec.fraud,
      shape: spec.shape,
      intensity: spec.intensity,
    },
    index,
    shape: spec.shape,
    fraud: spec.fraud,
    intensity: spec.intensity,
    onset,
    rng,
    profile,
    joinMs,
    campaignId:
      spec.shape === 'flat_fee_sponsorship'
        ? (w.p.campaignIds[2] ?? 'launch')
        : rng.chance(0.7)
          ? (w.p.campaignIds[0] ?? 'always-on')
          : (w.p.campaignIds[1] ?? 'season'),
    slug: identity.slug,
    home,
    own,
    posts: [],
    buyers: [],
    growth,
  };
  if (identity.site) aff.site = identity.site;
  return aff;
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

/** Simulates one payout period (and three earlier ones) of an influencer and affiliate programme. */
export function simulateHoldoutCampaign(options: HoldoutOptions): HoldoutCampaign {
  const honestCount = Math.max(0, Math.floor(options.honest ?? DEFAULT_HONEST));
  const fraudPerKind = Math.max(0, Math.floor(options.fraudPerKind ?? DEFAULT_FRAUD_PER_KIND));
  const periodDays = options.periodDays ?? DEFAULT_PERIOD_DAYS;
  const scale = options.scale ?? 1;
  if (!(periodDays >= 2)) throw new Error('periodDays must be at least 2');
  if (!(scale > 0)) throw new Error('scale must be positive');
  const periodStart = (options.periodStart ?? new Date(DEFAULT_PERIOD_START)).getTime();
  const periodLength = periodDays * DAY;
  const historyStart = periodStart - HISTORY_PERIODS * periodLength;
  const rng = new Rng(hashSeed(options.seed, 0x401d));
  const p = drawCampaign(rng, historyStart, periodStart, periodLength);
  const w: World = {
    rng,
    p,
    v: versionsAt(periodStart),
    scale,
    historyStart,
    periodStart,
    periodEnd: periodStart + periodLength,
    periodLength,
    raw: [],
    orderSeq: 0,
    personSeq: 0,
    carrierPools: new Map(),
    customers: new Map(),
    customerPoolSize: Math.round(CUSTOMER_POOL_PER_SCALE * scale),
    usedCodes: new Set(),
  };

  const specs: Spec[] = allocateShapes(honestCount).map((shape) => ({ shape, fraud: null, intensity: null }));
  for (const kind of FRAUD_KINDS) {
    for (let i = 0; i < fraudPerKind; i++) {
      specs.push({
        shape: rng.pick(FRAUD_HOSTS[kind]),
        fraud: kind,
        intensity: INTENSITIES[i % INTENSITIES.length] ?? 'moderate',
      });
    }
  }
  rng.shuffle(specs);
  const affiliates = specs.map((spec, index) => buildAffiliate(w, spec, index));
  const ids = new Set<string>();
  for (const aff of affiliates) {
    if (ids.has(aff.pub.id)) aff.pub.id = `${aff.pub.id}${aff.index}`;
    ids.add(aff.pub.id);
  }
  for (const aff of affiliates) generateHonestTraffic(w, aff);
  for (const aff of affiliates) generateFraud(w, aff);

  return {
    periodStart: new Date(periodStart),
    periodEnd: new Date(w.periodEnd),
    affiliates: affiliates.map((aff) => aff.pub),
    events: finalise(w),
  };
}
/** Existing customers of the shop (per unit of scale) whom creators' audiences and organic shoppers reuse. */
const CUSTOMER_POOL_PER_SCALE = 12_000;

/** Sorts by time and gives events and orders their ids in that order, as a backend's sequences would. */
function finalise(w: World): HoldoutCampaign['events'] {
  const raw = w.raw.filter((e) => inWindow(w, e.ms));
  raw.sort((a, b) => a.ms - b.ms || a.seq - b.seq);
  const orderIds = new Map<number, string>();
  let orderNumber = w.p.orderBase;
  const events: HoldoutCampaign['events'] = [];
  for (const [i, e] of raw.entries()) {
    const body = e.body;
    body.id = `evt_${(w.p.eventBase + i).toString(36)}`;
    body.ts = new Date(e.ms).toISOString();
    if (e.type === 'conversion') {
      // Order numbers increase with time but skip the shop's orders outside the programme.
      orderNumber += 1 + Math.floor(w.rng.exponential(6));
      orderIds.set(e.order ?? -1, `${w.p.orderPrefix}${orderNumber}`);
    }
    if (e.type !== 'click') body.orderId = orderIds.get(e.order ?? -1);
    events.push(body);
  }
  return events;
}
