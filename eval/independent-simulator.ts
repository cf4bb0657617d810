// Independent campaign simulator: an online shop's influencer/affiliate programme modelled from a plain
// description of how real programmes, their audiences and their fraud behave — written without looking at any
// detector, so no detector threshold can be fitted to it. One run is one payout period (default 14 days) plus
// the three earlier periods of the same length (the history of affiliates that already existed), emitted as the
// click / conversion / refund events a marketplace backend sends to the fraud-scoring service. Every run draws
// its campaign parameters (conversion rate, refund rate, countries, mobile share, shape mix, ...) from ranges
// with a seeded PRNG.

/** Fraud kinds the simulator mixes into otherwise honest-looking affiliates. */
const FRAUD_KINDS = [
  'click_injection',
  'click_spamming',
  'datacenter_traffic',
  'bot_user_agents',
  'coupon_leakage',
  'self_referral',
  'refund_abuse',
  'velocity_spike',
  'geo_mismatch',
] as const;
/** One fraud kind. */
type FraudKind = (typeof FRAUD_KINDS)[number];

/** Fraud-free affiliate shapes of a real programme; a fraudster also has one, which its fraud hides in. */
const HONEST_SHAPES = [
  'micro_creator',
  'mid_tier_creator',
  'mega_creator',
  'code_typer',
  'flat_fee',
  'viral_post',
  'high_refund_category',
  'audience_abroad',
  'coupon_community',
  'brand_new',
  'long_consideration',
  'creator_as_customer',
  'evergreen_blog',
] as const;
/** One honest shape. */
type HonestShape = (typeof HONEST_SHAPES)[number];

/** An affiliate of the simulated programme, with its truth (fraud kind, shape, intensity). */
interface IndependentAffiliate {
  id: string;
  name: string;
  couponCodes: string[];
  subjectId: string;
  /** null = honest. */
  fraud: FraudKind | null;
  /** A fraudster also has the honest shape it mixes its fraud into. */
  shape: HonestShape;
  /** null when honest. */
  intensity: 'blatant' | 'moderate' | 'subtle' | null;
}

/** A simulated campaign: its payout period, affiliates and the events of all four periods sorted by ts. */
export interface IndependentCampaign {
  periodStart: Date;
  periodEnd: Date;
  affiliates: IndependentAffiliate[];
  events: Array<
    Record<string, unknown> & { id: string; type: 'click' | 'conversion' | 'refund'; ts: string }
  >;
}

/** Options of a run; everything not given is defaulted, everything else is drawn from `seed`. */
export interface IndependentOptions {
  seed: number;
  honest?: number;
  fraudPerKind?: number;
  periodStart?: Date;
  periodDays?: number;
  scale?: number;
}

type SimEvent = IndependentCampaign['events'][number];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const HISTORY_PERIODS = 3;
const ATTRIBUTION_WINDOW_MS = 30 * DAY_MS;

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of the seed's text: any number (fractional, negative, beyond 32 bits) gives its own stream. */
function seedHash(seed: number): number {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193);
  return h >>> 0;
}

function at<T>(items: readonly T[], i: number): T {
  const value = items[i];
  if (value === undefined) throw new RangeError(`index ${i} outside 0..${items.length - 1}`);
  return value;
}

/** Seeded PRNG (mulberry32) with the distributions the simulation needs. */
class Rng {
  private readonly source: () => number;
  constructor(seed: number) {
    this.source = mulberry32(seed);
  }
  next(): number {
    return this.source();
  }
  float(min: number, max: number): number {
    return min + (max - min) * this.source();
  }
  int(min: number, max: number): number {
    return Math.min(max, Math.floor(this.float(min, max + 1)));
  }
  chance(p: number): boolean {
    return this.source() < p;
  }
  pick<T>(items: readonly T[]): T {
    return at(items, Math.floor(this.source() * items.length));
  }
  /** Index drawn proportionally to `weights`. */
  index(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.source() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const entry of entries) total += entry[1];
    let x = this.source() * total;
    for (const entry of entries) {
      x -= entry[1];
      if (x < 0) return entry[0];
    }
    return at(entries, entries.length - 1)[0];
  }
  normal(): number {
    const u = 1 - this.source();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.source());
  }
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.float(Math.log(lo), Math.log(hi)));
  }
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.source();
    while (p > limit) {
      k++;
      p *= this.source();
    }
    return k;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.source() * (i + 1));
      const a = at(out, i);
      out[i] = at(out, j);
      out[j] = a;
    }
    return out;
  }
  /** `length` (at most 8) random hex digits. */
  hex(length: number): string {
    return Math.floor(this.source() * 16 ** length)
      .toString(16)
      .padStart(length, '0');
  }
  /** Index drawn from cumulative weights (see `cumulative`), by binary search. */
  fromCumulative(cum: Float64Array): number {
    const x = this.source() * (cum[cum.length - 1] ?? 0);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] ?? 0) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function cumulative(weights: readonly number[]): Float64Array {
  const cum = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    cum[i] = total;
  });
  return cum;
}

// ---------------------------------------------------------------------------------------------------------
// Reference data: countries, time zones, IP ranges, user agents, names

/** Parses 'DE:1 FR:2' into { DE: 1, FR: 2 }. */
function table<T>(spec: string, parse: (value: string) => T): Record<string, T> {
  return Object.fromEntries(spec.split(' ').map((pair) => [pair.slice(0, 2), parse(pair.slice(3))]));
}

const SHOP_COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'PL', 'GB', 'US'] as const;
/** Countries a European shop also ships to: coupon aggregators and travellers bring buyers from there. */
const NEIGHBOUR_COUNTRIES = ['AT', 'CH', 'BE', 'SE', 'DK', 'IE', 'PT', 'CZ', 'NO', 'FI'];
const CHEAP_TRAFFIC_COUNTRIES = ['IN', 'BD', 'PK', 'VN', 'ID', 'EG', 'NG', 'PH'];
const STANDARD_UTC_OFFSET: Record<string, number> = table(
  'DE:1 FR:1 NL:1 ES:1 IT:1 PL:1 GB:0 US:-5 AT:1 CH:1 BE:1 SE:1 DK:1 IE:0 PT:0 CZ:1 NO:1 FI:2 IN:5.5 BD:6 PK:5 VN:7 ID:7 EG:2 NG:1 PH:8',
  (v) => Number(v),
);
const NO_DST = new Set(['IN', 'BD', 'PK', 'VN', 'ID', 'EG', 'NG', 'PH']);
const LANGUAGE: Record<string, string> = table(
  'DE:de AT:de CH:de FR:fr BE:fr NL:nl ES:es IT:it PL:pl GB:en US:en IE:en SE:sv DK:da PT:pt CZ:cs NO:nb FI:fi',
  (v) => v,
);

/** Residential and mobile ISP space (not cloud) people browse from. */
const RESIDENTIAL_V4 = ['77.0.0.0/8', '84.0.0.0/8', '91.0.0.0/8', '176.0.0.0/8', '188.0.0.0/8'];
const MOBILE_V6 = ['2a02:8100::/32', '2003::/19'];
/** Business lines: several employees of one office click from one address. */
const OFFICE_V4 = ['62.0.0.0/8', '80.0.0.0/8', '193.0.0.0/8', '217.0.0.0/8'];
const DATACENTERS: Record<string, string[]> = {
  aws: ['3.0.0.0/9', '52.0.0.0/10', '54.144.0.0/12'],
  gcp: ['34.64.0.0/10', '35.184.0.0/13'],
  azure: ['20.33.0.0/16', '40.74.0.0/15'],
  digitalocean: ['138.68.0.0/16', '167.99.0.0/16', '159.65.0.0/16'],
  hetzner: ['65.108.0.0/16', '95.216.0.0/16'],
  ovh: ['51.68.0.0/16', '54.36.0.0/16'],
};
/** Consumer VPN exits sit in hosting space: an honest VPN user looks like a datacenter click. */
const VPN_V4 = [
  ...(DATACENTERS.hetzner ?? []),
  ...(DATACENTERS.ovh ?? []),
  ...(DATACENTERS.digitalocean ?? []),
];
const CHEAP_COUNTRY_V4: Record<string, string[]> = {
  IN: ['49.32.0.0/11', '117.192.0.0/10', '106.192.0.0/11'],
  BD: ['103.4.144.0/22', '114.130.0.0/16', '37.111.192.0/18'],
  PK: ['39.32.0.0/11', '111.68.96.0/19'],
  VN: ['14.160.0.0/11', '113.160.0.0/11'],
  ID: ['36.64.0.0/11', '180.240.0.0/12'],
  EG: ['41.32.0.0/12', '156.160.0.0/11'],
  NG: ['105.112.0.0/12', '102.88.0.0/14'],
  PH: ['112.198.0.0/16', '49.144.0.0/13'],
};
const FACEBOOK_V4 = ['31.13.64.0/18', '66.220.144.0/20', '69.171.224.0/19', '173.252.64.0/18'];
/** Link-preview and search crawlers that follow a shared link: 1–3 % of a real creator's clicks. */
const CRAWLERS: ReadonlyArray<{ ua: string; cidrs: string[]; country: string }> = [
  {
    ua: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    cidrs: FACEBOOK_V4,
    country: 'US',
  },
  {
    ua: 'meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)',
    cidrs: FACEBOOK_V4,
    country: 'US',
  },
  { ua: 'WhatsApp/2.25.21.78 A', cidrs: FACEBOOK_V4, country: 'IE' },
  {
    ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    cidrs: ['66.249.64.0/19'],
    country: 'US',
  },
  {
    ua: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    cidrs: ['157.55.39.0/24', '207.46.13.0/24'],
    country: 'US',
  },
  { ua: 'Twitterbot/1.0', cidrs: ['199.16.156.0/22', '199.59.148.0/22'], country: 'US' },
  { ua: 'TelegramBot (like TwitterBot)', cidrs: ['149.154.160.0/20', '91.108.4.0/22'], country: 'NL' },
  {
    ua: 'Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)',
    cidrs: ['54.236.1.0/24'],
    country: 'US',
  },
];

const FIRST_NAMES =
  'Anna Lena Marie Sophie Laura Julia Lea Mia Emma Hannah Clara Paula Nina Sara Lisa Jana Chloe Camille Manon Ines Lucia Carmen Elena Giulia Chiara Martina Zofia Kasia Ola Fleur Sanne Noor Amy Olivia Grace Ella Maya Jonas Lukas Max Felix Paul Tim Noah Leon Hugo Louis Theo Mateo Pablo Marco Luca Kuba Bram Daan Jack Oscar Ethan Liam Ben Finn Milan Nora'.split(
    ' ',
  );
const LAST_NAMES =
  'Berger,Schmidt,Keller,Wagner,Hoffmann,Weber,Martin,Bernard,Dubois,Moreau,de Vries,Jansen,Bakker,Garcia,Lopez,Romero,Rossi,Bianchi,Ricci,Nowak,Kowalska,Wojcik,Smith,Taylor,Brown,Evans,Miller,Fischer,Becker,Lang,Vogel,Roux'.split(
    ',',
  );
const CAMPAIGN_IDS =
  'bf-2026 xmas-drop autumn-edit cyber-week launch-q4 evergreen singles-day winter-sale'.split(' ');
const SHOP_DOMAINS = [
  'www.lumen-living.example',
  'shop.kleiderwerk.example',
  'www.nordfit.example',
  'www.maison-ora.example',
];

// ---------------------------------------------------------------------------------------------------------
// Campaign parameters drawn per run

/** Parameters of one programme, each drawn from a range so no detector can be tuned to one campaign. */
interface Params {
  baseCvr: number;
  refundBase: number;
  mainCountries: Array<readonly [string, number]>;
  mobileShare: number;
  campaignIds: string[];
  newCustomerShare: number;
  orderMedian: number;
  shopDomain: string;
  crawlerShare: number;
  couponOnClickShare: number;
  sameIpShare: number;
  ipv6Share: number;
  shapeWeights: ReadonlyArray<readonly [HonestShape, number]>;
}

const SHAPE_BASE_WEIGHT: Record<HonestShape, number> = {
  micro_creator: 30,
  mid_tier_creator: 15,
  mega_creator: 1,
  code_typer: 7,
  flat_fee: 5,
  viral_post: 4,
  high_refund_category: 6,
  audience_abroad: 5,
  coupon_community: 5,
  brand_new: 7,
  long_consideration: 4,
  creator_as_customer: 4,
  evergreen_blog: 4,
};

function drawParams(rng: Rng): Params {
  const countries = rng.shuffle(SHOP_COUNTRIES).slice(0, rng.int(1, 3));
  return {
    baseCvr: rng.float(0.005, 0.04),
    refundBase: rng.float(0.02, 0.1),
    mainCountries: countries.map((c, i) => [c, i === 0 ? 1 : rng.float(0.15, 0.6)] as const),
    mobileShare: rng.float(0.55, 0.85),
    campaignIds: rng.shuffle(CAMPAIGN_IDS).slice(0, rng.int(1, 4)),
    newCustomerShare: rng.float(0.3, 0.7),
    orderMedian: rng.float(30, 110),
    shopDomain: rng.pick(SHOP_DOMAINS),
    crawlerShare: rng.float(0.01, 0.03),
    couponOnClickShare: rng.float(0.15, 0.45),
    sameIpShare: rng.float(0.6, 0.85),
    ipv6Share: rng.float(0.2, 0.5),
    shapeWeights: HONEST_SHAPES.map((s) => [s, SHAPE_BASE_WEIGHT[s] * rng.float(0.5, 1.5)] as const),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Time: audience time zones, hour-of-day profiles, click-to-purchase delays

type HourProfile = 'social' | 'evening' | 'office' | 'flat';

/** Local hour weights: social media use peaks in the evening, blogs are read in office hours, bots are flat. */
const SOCIAL_HOURS = [
  1.2, 0.6, 0.35, 0.25, 0.2, 0.3, 0.7, 1.3, 1.8, 2, 2.1, 2.3, 2.8, 2.6, 2.3, 2.3, 2.5, 2.9, 3.4, 4.2, 4.8,
  4.6, 3.5, 2.2,
];
const OFFICE_HOURS = [
  0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 2.8, 3.4, 3.5, 3.3, 2.9, 3.2, 3.3, 3.1, 2.7, 2.2, 1.8, 2, 2.2, 1.9,
  1.2, 0.6,
];
const HOUR_PROFILES: Record<HourProfile, Float64Array> = {
  social: cumulative(SOCIAL_HOURS),
  evening: cumulative(SOCIAL_HOURS.map((w) => w ** 1.8)),
  office: cumulative(OFFICE_HOURS),
  flat: cumulative(SOCIAL_HOURS.map(() => 1)),
};

const summerByDay = new Map<number, boolean>();

/** European/US summer time, roughly: April to the last week of October (cached per UTC day). */
function isSummerTime(ms: number): boolean {
  const day = Math.floor(ms / DAY_MS);
  let summer = summerByDay.get(day);
  if (summer === undefined) {
    const d = new Date(day * DAY_MS);
    const month = d.getUTCMonth();
    summer = month >= 3 && month <= 9 && !(month === 9 && d.getUTCDate() >= 25);
    summerByDay.set(day, summer);
  }
  return summer;
}

function utcOffsetHours(country: string, ms: number): number {
  const base = STANDARD_UTC_OFFSET[country] ?? 0;
  return !NO_DST.has(country) && isSummerTime(ms) ? base + 1 : base;
}

interface Period {
  index: number;
  start: number;
  end: number;
  current: boolean;
}

/** A moment on `day` of `period` at a local hour of `country` drawn from `profile`, kept inside the period. */
function sampleTime(rng: Rng, period: Period, day: number, country: string, profile: HourProfile): number {
  const hour = rng.fromCumulative(HOUR_PROFILES[profile]);
  const local = period.start + day * DAY_MS + (hour + rng.next()) * HOUR_MS;
  let ts = Math.round(local - utcOffsetHours(country, local) * HOUR_MS);
  if (ts >= period.end) ts -= DAY_MS;
  if (ts < period.start) ts += DAY_MS;
  return Math.min(period.end - 1, Math.max(period.start, ts));
}

type DelayProfile = 'impulse' | 'considered';

/**
 * Click-to-purchase delay of real traffic, a lognormal mixture fitted to mobile ad data: minimum about 2 s,
 * p10 ≈ 30 s, median ≈ 3 min, p90 ≈ 4 h, a tail to weeks. Expensive products shift weight to days.
 */
function sampleDelayMs(rng: Rng, profile: DelayProfile): number {
  const considered = profile === 'considered';
  const u = rng.next();
  let seconds: number;
  // Components: on-the-spot buyers (minutes), same-day returners (hours), and those who come back days later.
  if (u < (considered ? 0.3 : 0.68)) seconds = rng.lognormal(90, 1.1);
  else if (u < (considered ? 0.65 : 0.935)) seconds = rng.lognormal(considered ? 6 * 3600 : 3000, 1.3);
  else seconds = rng.lognormal(3 * 86400, 1);
  return Math.round(Math.max(2 + rng.next() * 2, seconds) * 1000);
}

// ---------------------------------------------------------------------------------------------------------
// Network addresses and devices

const parsedCidrs = new Map<string, readonly [number, number]>();

function parseCidr(cidr: string): readonly [number, number] {
  let parsed = parsedCidrs.get(cidr);
  if (!parsed) {
    const [base = '0.0.0.0', bits = '32'] = cidr.split('/');
    parsed = [base.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0), 2 ** (32 - Number(bits))];
    parsedCidrs.set(cidr, parsed);
  }
  return parsed;
}

function ipv4InCidr(rng: Rng, cidr: string): string {
  const [start, size] = parseCidr(cidr);
  let n = start + Math.floor(rng.next() * size);
  if (size >= 256) n = n - (n % 256) + rng.int(1, 254);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A random address inside an IPv6 prefix whose length is a whole or partial group (e.g. /32, /19). */
function ipv6InPrefix(rng: Rng, prefix: string): string {
  const [base = '::', bitsText = '128'] = prefix.split('/');
  const bits = Number(bitsText);
  const head = (base.split('::')[0] ?? '').split(':').filter((g) => g !== '');
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    const fixed = Math.max(0, Math.min(16, bits - i * 16));
    const given = Number.parseInt(head[i] ?? '0', 16);
    const mask = fixed === 0 ? 0 : (0xffff << (16 - fixed)) & 0xffff;
    const value = (given & mask) | (rng.int(0, 0xffff) & ~mask & 0xffff);
    groups.push(value.toString(16));
  }
  return groups.join(':');
}

function datacenterIp(rng: Rng, providers: readonly string[]): string {
  return ipv4InCidr(rng, rng.pick(DATACENTERS[rng.pick(providers)] ?? ['3.0.0.0/9']));
}

const IOS_SAFARI = ['17.6', '18.5', '18.6', '18.7', '26.0', '26.1', '26.2', '26.3', '26.4'];
const ANDROID_MODELS = [
  ...'SM-S928B SM-S921B SM-S931B SM-A556B SM-A356B SM-G991B 2312DRA50G 23129RAA4G CPH2609'.split(' '),
  ...['Pixel 8', 'Pixel 9', 'Pixel 9 Pro', 'Pixel 7a', 'moto g84 5G'],
];
const SAMSUNG_MODELS = ['SM-S928B', 'SM-S921B', 'SM-A556B', 'SM-A356B', 'SM-A156B', 'SM-G991B'];
const ANDROID_BUILDS =
  'UP1A.231005.007 AP2A.240905.003 AP3A.241105.008 BP1A.250505.005 BP2A.250605.031'.split(' ');
const IPHONES = ['13,2', '14,5', '14,7', '15,2', '15,4', '16,1', '16,2', '17,1', '17,3'].map(
  (m) => `iPhone${m}`,
);
const WINDOWS = 'Windows NT 10.0; Win64; x64';
const DESKTOP_OS = [WINDOWS, WINDOWS, 'Macintosh; Intel Mac OS X 10_15_7', 'X11; Linux x86_64'];

function iosParts(rng: Rng): { os: string; safari: string } {
  const safari = rng.pick(IOS_SAFARI);
  // Safari 26 freezes the OS token at 18_6; in-app web views still report the real version.
  return { safari, os: safari.startsWith('26') ? '18_6' : safari.replace('.', '_') };
}

function chromeFull(rng: Rng): string {
  return `${rng.int(138, 150)}.0.${rng.int(7000, 7700)}.${rng.int(40, 220)}`;
}

function androidWebView(rng: Rng): string {
  return `Mozilla/5.0 (Linux; Android ${rng.int(12, 16)}; ${rng.pick(ANDROID_MODELS)} Build/${rng.pick(ANDROID_BUILDS)}; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/${chromeFull(rng)} Mobile Safari/537.36`;
}

type Platform = 'instagram' | 'tiktok' | 'youtube' | 'blog';
type MobileUaKind = 'ios_safari' | 'android_chrome' | 'samsung' | 'instagram' | 'tiktok';

/** A current phone user agent: Safari, Chrome (reduced UA), Samsung Internet, or an in-app web view. */
function mobileUa(rng: Rng, kind: MobileUaKind, country: string, iosShare: number): string {
  const lang = LANGUAGE[country] ?? 'en';
  const ios = rng.chance(iosShare);
  const { os, safari } = iosParts(rng);
  const realIos = safari.replace('.', '_');
  switch (kind) {
    case 'ios_safari':
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${os} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Mobile/15E148 Safari/604.1`;
    case 'android_chrome':
      return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${rng.int(138, 150)}.0.0.0 Mobile Safari/537.36`;
    case 'samsung':
      return `Mozilla/5.0 (Linux; Android ${rng.int(13, 16)}; SAMSUNG ${rng.pick(SAMSUNG_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${rng.int(27, 29)}.0 Chrome/${rng.int(130, 140)}.0.0.0 Mobile Safari/537.36`;
    case 'instagram': {
      const version = `${rng.int(380, 420)}.0.0.${rng.int(10, 50)}.${rng.int(70, 120)}`;
      if (ios)
        return `Mozilla/5.0 (iPhone; CPU iPhone OS ${realIos} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram ${version} (${rng.pick(IPHONES)}; iOS ${realIos}; ${lang}_${country}; ${lang}; scale=3.00; 1179x2556; ${rng.int(600000000, 799999999)})`;
      return `${androidWebView(rng)} Instagram ${version} Android (${rng.int(33, 36)}/${rng.int(13, 16)}; ${rng.pick([420, 450, 480, 560])}dpi; 1080x${rng.pick([2340, 2400, 2316])}; ${lang}_${country}; ${rng.int(600000000, 799999999)})`;
    }
    case 'tiktok': {
      const version = `${rng.int(38, 44)}.${rng.int(0, 9)}.${rng.int(0, 5)}`;
      const net = rng.pick(['WIFI', 'WIFI', '4G', '5G']);
      if (ios)
        return `Mozilla/5.0 (iPhone; CPU iPhone OS ${realIos} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_${version} JsSdk/2.0 NetType/${net} Channel/App Store ByteLocale/${lang} Region/${country} isDarkMode/${rng.int(0, 1)} WKWebView/1 RevealType/Dialog BytedanceWebview/d8a21c6`;
      return `${androidWebView(rng)} trill_${version.replaceAll('.', '0')} JsSdk/1.0 NetType/${net} Channel/googleplay AppName/musical_ly app_version/${version} ByteLocale/${lang} ByteFullLocale/${lang}-${country} Region/${country} BytedanceWebview/d8a21c6`;
    }
  }
}

/** A current desktop user agent: Chrome, Firefox, Safari or Edge on Windows, macOS or Linux. */
function desktopUa(rng: Rng): string {
  const os = rng.pick(DESKTOP_OS);
  const chrome = rng.int(138, 150);
  switch (rng.index([5, 2, os.startsWith('Mac') ? 3 : 0, os.startsWith('Windows') ? 1.5 : 0])) {
    case 0:
      return `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome}.0.0.0 Safari/537.36`;
    case 1: {
      const ff = rng.int(140, 152);
      return `Mozilla/5.0 (${os.replace('Intel Mac OS X 10_15_7', 'Intel Mac OS X 10.15')}; rv:${ff}.0) Gecko/20100101 Firefox/${ff}.0`;
    }
    case 2:
      return `Mozilla/5.0 (${os}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${rng.pick(['18.5', '18.6', '26.0', '26.1', '26.2'])} Safari/605.1.15`;
    default:
      return `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome}.0.0.0 Safari/537.36 Edg/${chrome}.0.${rng.int(3000, 3600)}.${rng.int(40, 120)}`;
  }
}

/** Automation clients: headless browsers, HTTP libraries, scraping frameworks. */
function automationUa(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/${rng.int(130, 148)}.0.0.0 Safari/537.36`;
    case 1:
      return `python-requests/2.${rng.int(28, 32)}.${rng.int(0, 4)}`;
    case 2:
      return `curl/8.${rng.int(5, 14)}.${rng.int(0, 1)}`;
    case 3:
      return rng.pick(['Go-http-client/1.1', 'Go-http-client/2.0']);
    case 4:
      return 'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1';
    case 5:
      return `selenium/4.${rng.int(20, 33)}.0 (python linux)`;
    case 6:
      return `axios/1.${rng.int(6, 11)}.${rng.int(0, 5)}`;
    default:
      return `Scrapy/2.${rng.int(11, 13)}.0 (+https://scrapy.org)`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Simulation state, people and event emission

interface PeriodStats {
  clicks: number;
  sales: number;
}

interface Ctx {
  rng: Rng;
  p: Params;
  scale: number;
  /** Multiplier of traffic volumes: scale × period length / 14 days. */
  volume: number;
  tag: string;
  periods: Period[];
  start: number;
  end: number;
  days: number;
  events: SimEvent[];
  /** Timestamps (ms) of `events`, index for index, for sorting. */
  times: number[];
  /** Provisional order numbers, in emission order, renumbered by time at the end. */
  orders: number;
  clicks: number;
  clickKey: number;
  customerIds: Set<number>;
  firstOrder: number;
  stats: Map<string, PeriodStats[]>;
  couponOwner: Map<string, string>;
  natPools: Map<string, string[]>;
  households: Map<string, string[]>;
  offices: string[];
  uaPools: Map<string, string[]>;
  decoyTargets: Plan[];
}

/** A buyer or visitor: one device, the address it clicks from and its home line. */
interface Person {
  /** Drawn when the person first buys (see `customerOf`). */
  customerId?: string;
  country: string;
  mobile: boolean;
  ua: string;
  ip: string;
  homeIp: string;
}

/** Customer numbers are drawn, not counted, so they carry no trace of the order the simulation ran in. */
function nextCustomerId(ctx: Ctx): string {
  let n = ctx.rng.int(100_000, 9_999_999);
  while (ctx.customerIds.has(n)) n = ctx.rng.int(100_000, 9_999_999);
  ctx.customerIds.add(n);
  return `cust-${n}`;
}

function customerOf(ctx: Ctx, person: Person): string {
  person.customerId ??= nextCustomerId(ctx);
  return person.customerId;
}

/** Home line: households share one address; about 1 % of people browse through a consumer VPN. */
function homeIp(ctx: Ctx, country: string): string {
  const { rng } = ctx;
  if (rng.chance(0.01)) return ipv4InCidr(rng, rng.pick(VPN_V4));
  const pool = ctx.households.get(country) ?? [];
  ctx.households.set(country, pool);
  if (pool.length > 20 && rng.chance(0.2)) return rng.pick(pool);
  const ip = ipv4InCidr(rng, rng.pick(RESIDENTIAL_V4));
  if (pool.length < 5000) pool.push(ip);
  return ip;
}

/** Cellular address: IPv6 for part of mobile users, else a carrier-grade NAT address shared by tens of clicks. */
function cellularIp(ctx: Ctx, country: string): string {
  const { rng } = ctx;
  if (rng.chance(ctx.p.ipv6Share)) return ipv6InPrefix(rng, rng.pick(MOBILE_V6));
  let pool = ctx.natPools.get(country);
  if (!pool) {
    const main = ctx.p.mainCountries.some(([c]) => c === country);
    const size = Math.max(12, Math.round((main ? 450 : 30) * ctx.volume));
    pool = Array.from({ length: size }, () =>
      ipv4InCidr(rng, rng.pick(['176.0.0.0/8', '188.0.0.0/8', '91.0.0.0/8'])),
    );
    ctx.natPools.set(country, pool);
  }
  return at(pool, Math.floor(rng.next() ** 1.3 * pool.length));
}

function mobileUaKind(rng: Rng, platform: Platform): MobileUaKind {
  const inApp = platform === 'instagram' ? 0.45 : platform === 'tiktok' ? 0.5 : 0.05;
  if (rng.chance(inApp)) return platform === 'tiktok' ? 'tiktok' : 'instagram';
  return rng.weighted(BROWSER_KINDS);
}

const BROWSER_KINDS = [
  ['ios_safari', 0.45],
  ['android_chrome', 0.4],
  ['samsung', 0.15],
] as const;

/** Popular browser and app versions are shared by many people: user agents repeat from a growing pool. */
function pooledUa(ctx: Ctx, key: string, make: () => string): string {
  let pool = ctx.uaPools.get(key);
  if (!pool) {
    pool = [];
    ctx.uaPools.set(key, pool);
  }
  if (pool.length < 30 || ctx.rng.chance(0.2)) {
    const ua = make();
    pool.push(ua);
    return ua;
  }
  return at(pool, Math.floor(ctx.rng.next() ** 2 * pool.length));
}

function newPerson(ctx: Ctx, country: string, mobile: boolean, platform: Platform): Person {
  const { rng } = ctx;
  const iosShare = country === 'US' || country === 'GB' ? 0.55 : 0.38;
  const kind = mobile ? mobileUaKind(rng, platform) : 'desktop';
  const ua = pooledUa(ctx, kind === 'desktop' ? kind : `${kind}|${country}`, () =>
    kind === 'desktop' ? desktopUa(rng) : mobileUa(rng, kind, country, iosShare),
  );
  const home = homeIp(ctx, country);
  let ip = home;
  if (mobile && rng.chance(0.55)) ip = cellularIp(ctx, country);
  else if (!mobile && rng.chance(0.15)) ip = rng.pick(ctx.offices);
  return { country, mobile, ua, ip, homeIp: home };
}

/** Address of the purchase: often the click's, else the other line (mobile data vs home Wi-Fi). */
function purchaseIp(ctx: Ctx, person: Person): string {
  if (ctx.rng.chance(ctx.p.sameIpShare)) return person.ip;
  if (person.ip !== person.homeIp) return person.homeIp;
  return person.mobile ? cellularIp(ctx, person.country) : person.homeIp;
}

/** User agent of the purchase: in-app visitors sometimes finish in the phone's own browser. */
function purchaseUa(ctx: Ctx, person: Person): string {
  const { rng } = ctx;
  const inApp = person.ua.includes('Instagram') || person.ua.includes('musical_ly');
  if (!inApp || rng.chance(0.65)) return person.ua;
  const kind = person.ua.includes('iPhone') ? 'ios_safari' : 'android_chrome';
  return pooledUa(ctx, `${kind}|${person.country}`, () => mobileUa(rng, kind, person.country, 0));
}

/** A shop visitor from the shop's own markets, not from any creator's audience. */
function shopper(ctx: Ctx, mobile: boolean, platform: Platform = 'youtube'): Person {
  return newPerson(ctx, ctx.rng.weighted(ctx.p.mainCountries), mobile, platform);
}

function tally(ctx: Ctx, affiliateId: string | undefined, ts: number, field: keyof PeriodStats): void {
  if (affiliateId === undefined) return;
  const index = Math.floor((ts - ctx.start) / (ctx.days * DAY_MS));
  const row = ctx.stats.get(affiliateId)?.[index];
  if (row) row[field]++;
}

/** Appends an event; optional fields left undefined are omitted, never sent as empty values. */
function pushEvent(ctx: Ctx, type: SimEvent['type'], ts: number, fields: Record<string, unknown>): void {
  const event: SimEvent = { id: '', type, ts: new Date(ts).toISOString() };
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) event[key] = value;
  }
  addEvent(ctx, event, ts);
}

function addEvent(ctx: Ctx, event: SimEvent, ts: number): void {
  ctx.events.push(event);
  ctx.times.push(ts);
}

/** Events of all periods in time order (ties keep emission order). */
function sortedEvents(ctx: Ctx): SimEvent[] {
  const times = Float64Array.from(ctx.times);
  const order = Uint32Array.from(ctx.events.keys());
  order.sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0) || a - b);
  return Array.from(order, (i) => at(ctx.events, i));
}

/**
 * Event ids and order numbers follow time, as a shop's do: the simulation emits honest traffic first and
 * fraud last, and ids in that order would give the truth away.
 */
function renumber(ctx: Ctx, events: SimEvent[]): void {
  const orders = new Map<unknown, string>();
  events.forEach((event, i) => {
    event.id = `evt-${ctx.tag}-${i.toString(36)}`;
    if (event.type !== 'click') {
      let id = orders.get(event.orderId);
      if (id === undefined) {
        id = `ORD-${ctx.firstOrder + orders.size}`;
        orders.set(event.orderId, id);
      }
      event.orderId = id;
    }
  });
}

interface ClickRef {
  clickId: string;
  ts: number;
  affiliateId: string;
  campaignId: string;
}

interface ClickSpec {
  ts: number;
  plan: Plan;
  ip: string;
  userAgent: string;
  country?: string | undefined;
  referrer?: string | undefined;
  /** false for clicks fired without a landing page (tracking pixel, server-side call). */
  landing?: boolean;
}

/**
 * Random-looking, unique click id: a keyed bijection of a counter (each step below is invertible on 32 bits)
 * after random hex, so ids carry no trace of the order the simulation emitted events in.
 */
function nextClickId(ctx: Ctx): string {
  let x = (Math.imul(ctx.clicks++, 0x9e3779b1) + ctx.clickKey) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  return `clk_${ctx.rng.hex(4)}${x.toString(16).padStart(8, '0')}`;
}

function emitClick(ctx: Ctx, spec: ClickSpec): ClickRef {
  const { rng } = ctx;
  const link = rng.pick(spec.plan.links);
  const campaignId = link.campaignId;
  const clickId = nextClickId(ctx);
  const affiliateId = spec.plan.aff.id;
  // Clicks are most of the volume: one object literal with optional fields added only when present.
  const event: SimEvent = {
    id: '',
    type: 'click',
    ts: new Date(spec.ts).toISOString(),
    affiliateId,
    campaignId,
    clickId,
    ip: spec.ip,
    userAgent: spec.userAgent,
  };
  if (spec.referrer !== undefined) event.referrer = spec.referrer;
  if (spec.landing !== false) event.landingUrl = link.url;
  if (spec.country !== undefined) event.country = spec.country;
  addEvent(ctx, event, spec.ts);
  tally(ctx, affiliateId, spec.ts, 'clicks');
  return { clickId, ts: spec.ts, affiliateId, campaignId };
}

interface SaleSpec {
  ts: number;
  buyer: Person;
  amount: number;
  click?: ClickRef | undefined;
  couponCode?: string | undefined;
  ip?: string;
  userAgent?: string;
  newCustomer?: boolean;
}

interface Order {
  orderId: string;
  ts: number;
  amount: number;
}

function emitSale(ctx: Ctx, sale: SaleSpec): Order {
  const { rng } = ctx;
  const orderId = `order-${ctx.orders++}`;
  const returning = sale.buyer.customerId !== undefined;
  pushEvent(ctx, 'conversion', sale.ts, {
    affiliateId: sale.click?.affiliateId,
    campaignId: sale.click?.campaignId,
    clickId: sale.click?.clickId,
    orderId,
    subjectId: customerOf(ctx, sale.buyer),
    amount: sale.amount,
    currency: 'EUR',
    couponCode: sale.couponCode,
    ip: sale.ip ?? purchaseIp(ctx, sale.buyer),
    userAgent: sale.userAgent ?? purchaseUa(ctx, sale.buyer),
    newCustomer: sale.newCustomer ?? (!returning && rng.chance(ctx.p.newCustomerShare)),
    country: rng.chance(0.98) ? sale.buyer.country : undefined,
  });
  const credited =
    sale.click?.affiliateId ?? (sale.couponCode ? ctx.couponOwner.get(sale.couponCode) : undefined);
  tally(ctx, credited, sale.ts, 'sales');
  return { orderId, ts: sale.ts, amount: sale.amount };
}

const REFUND_REASONS = [
  ['returned', 5],
  ['wrong_size', 2],
  ['damaged', 1],
  ['not_as_described', 1],
  ['cancelled', 1],
  ['chargeback', 0.4],
] as const;

/** A refund 1–20 days after the order; refunds that would land after the payout period are not yet known. */
function emitRefund(ctx: Ctx, order: Order, delayMs: number, share: number, reason?: string): void {
  const ts = order.ts + delayMs;
  if (ts >= ctx.end) return;
  pushEvent(ctx, 'refund', ts, {
    orderId: order.orderId,
    amount: round2(order.amount * share),
    currency: 'EUR',
    reason: reason ?? ctx.rng.weighted(REFUND_REASONS),
  });
}

function refundDelay(rng: Rng): number {
  return Math.round((1 + 19 * rng.next() ** 1.6) * DAY_MS);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function orderAmount(rng: Rng, median: number): number {
  return round2(Math.max(4.9, rng.lognormal(median, 0.5)));
}

// ---------------------------------------------------------------------------------------------------------
// Affiliates: roster, identity and per-affiliate behaviour

/** How one honest shape behaves: clicks per period (log-uniform range), conversion vs the campaign, channels. */
interface ShapeSpec {
  clicks: readonly [number, number];
  cvr: number;
  platforms: readonly Platform[];
  hours: HourProfile;
  /** Share of its sales (code-typer: of its coupon sales) made by typing the code without any click. */
  couponOnly: readonly [number, number];
}

const SHAPES: Record<HonestShape, ShapeSpec> = {
  micro_creator: {
    clicks: [12, 200],
    cvr: 1.15,
    platforms: ['instagram', 'tiktok'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  mid_tier_creator: {
    clicks: [40, 240],
    cvr: 1,
    platforms: ['instagram', 'tiktok', 'youtube'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  mega_creator: {
    clicks: [1000, 3000],
    cvr: 0.75,
    platforms: ['instagram', 'tiktok', 'youtube'],
    hours: 'evening',
    couponOnly: [0.04, 0.12],
  },
  code_typer: {
    clicks: [10, 60],
    cvr: 2.5,
    platforms: ['instagram', 'tiktok'],
    hours: 'evening',
    couponOnly: [0.6, 0.85],
  },
  flat_fee: {
    clicks: [40, 300],
    cvr: 0.08,
    platforms: ['instagram', 'youtube', 'tiktok'],
    hours: 'social',
    couponOnly: [0, 0],
  },
  viral_post: {
    clicks: [30, 180],
    cvr: 1,
    platforms: ['tiktok', 'instagram'],
    hours: 'social',
    couponOnly: [0.03, 0.1],
  },
  high_refund_category: {
    clicks: [40, 220],
    cvr: 1.1,
    platforms: ['instagram', 'tiktok'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  audience_abroad: {
    clicks: [30, 200],
    cvr: 0.85,
    platforms: ['instagram', 'youtube', 'tiktok'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  coupon_community: {
    clicks: [30, 200],
    cvr: 1,
    platforms: ['instagram', 'youtube'],
    hours: 'social',
    couponOnly: [0.15, 0.35],
  },
  brand_new: {
    clicks: [25, 240],
    cvr: 0.9,
    platforms: ['instagram', 'tiktok'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  long_consideration: {
    clicks: [30, 200],
    cvr: 0.55,
    platforms: ['youtube', 'blog', 'instagram'],
    hours: 'social',
    couponOnly: [0.02, 0.08],
  },
  creator_as_customer: {
    clicks: [30, 200],
    cvr: 1,
    platforms: ['instagram', 'tiktok'],
    hours: 'social',
    couponOnly: [0.03, 0.12],
  },
  evergreen_blog: {
    clicks: [30, 200],
    cvr: 1.3,
    platforms: ['blog'],
    hours: 'office',
    couponOnly: [0.02, 0.08],
  },
};

/** Everything the simulation needs to know about one affiliate besides its public identity. */
interface Plan {
  aff: IndependentAffiliate;
  platform: Platform;
  countries: Array<readonly [string, number]>;
  mobileShare: number;
  hours: HourProfile;
  clicksPerPeriod: number;
  cvr: number;
  couponOnClick: number;
  /** Expected coupon-only sales per click-credited sale. */
  couponOnlyRatio: number;
  refundProb: number;
  orderMedian: number;
  delay: DelayProfile;
  firstPeriod: number;
  joinDay: number;
  /** Tracking links the creator shares: a shop page plus UTM and affiliate parameters, per campaign. */
  links: Array<{ campaignId: string; url: string }>;
  referrerHost: string;
  own: Person;
  fraudShare: number;
  fraudInHistory: boolean;
  viral: { day: number; days: number; mult: number } | null;
}

type Intensity = NonNullable<IndependentAffiliate['intensity']>;

interface Seat {
  shape: HonestShape;
  fraud: FraudKind | null;
  intensity: Intensity | null;
}

const INTENSITIES: readonly Intensity[] = ['blatant', 'moderate', 'subtle'];
/** Share of its credited sales or clicks the fraud makes up, by intensity. */
const FRAUD_SHARE: Record<Intensity, readonly [number, number]> = {
  blatant: [0.7, 1],
  moderate: [0.4, 0.7],
  subtle: [0.25, 0.4],
};
/** Frauds that often ran in earlier periods already (the fraudster did not start this period). */
const ONGOING_KINDS: ReadonlySet<FraudKind> = new Set([
  'click_injection',
  'click_spamming',
  'datacenter_traffic',
  'bot_user_agents',
  'refund_abuse',
  'geo_mismatch',
]);

/** Host shapes a fraud can hide in: sale-stealing needs sales, a spike needs history, leakage needs a code. */
function hostsFraud(shape: HonestShape, kind: FraudKind): boolean {
  if (kind === 'velocity_spike') return shape !== 'brand_new' && shape !== 'viral_post';
  if (['click_injection', 'coupon_leakage', 'self_referral', 'refund_abuse', 'geo_mismatch'].includes(kind))
    return shape !== 'flat_fee';
  return true;
}

function buildSeats(ctx: Ctx, honest: number, fraudPerKind: number): Seat[] {
  const { rng, p } = ctx;
  const seats: Seat[] = [];
  // Every shape appears at least once when the programme is big enough, the rest follows the drawn mix.
  if (honest >= 2 * HONEST_SHAPES.length)
    for (const shape of HONEST_SHAPES) seats.push({ shape, fraud: null, intensity: null });
  while (seats.length < honest)
    seats.push({ shape: rng.weighted(p.shapeWeights), fraud: null, intensity: null });
  for (const kind of FRAUD_KINDS) {
    const hosts = p.shapeWeights.filter(([shape]) => hostsFraud(shape, kind));
    for (let i = 0; i < fraudPerKind; i++) {
      seats.push({ shape: rng.weighted(hosts), fraud: kind, intensity: at(INTENSITIES, i % 3) });
    }
  }
  return rng.shuffle(seats);
}

function couponCode(rng: Rng, first: string, last: string, used: Set<string>): string {
  const name = first.toUpperCase().replace(/[^A-Z]/g, '');
  const initial = last
    .replace(/[^A-Za-z]/g, '')
    .slice(0, 1)
    .toUpperCase();
  const discount = rng.pick(['10', '15', '20', '10', '5']);
  const candidates = [`${name}${discount}`, `${name}${initial}${discount}`, `${name}-${initial}${discount}`];
  let code = candidates.find((c) => !used.has(c));
  for (let n = 2; code === undefined; n++)
    if (!used.has(`${name}${discount}-${n}`)) code = `${name}${discount}-${n}`;
  used.add(code);
  return code;
}

function makeAffiliate(ctx: Ctx, seat: Seat, index: number, used: Set<string>): IndependentAffiliate {
  const { rng } = ctx;
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const code = couponCode(rng, first, last, used);
  return {
    id: `aff-${String(index + 1).padStart(4, '0')}`,
    name: `${first} ${last}`,
    couponCodes: seat.shape === 'flat_fee' ? [] : [code],
    subjectId: `cust-aff-${index + 1}`,
    fraud: seat.fraud,
    shape: seat.shape,
    intensity: seat.intensity,
  };
}

/** The creator's audience: the shop's markets with a personal tilt, or one foreign market for audience_abroad. */
function audienceCountries(ctx: Ctx, shape: HonestShape): Array<readonly [string, number]> {
  const { rng, p } = ctx;
  const tilted = p.mainCountries.map(([c, w]) => [c, w * rng.lognormal(1, 0.6)] as const);
  if (shape !== 'audience_abroad') return tilted;
  const foreign = SHOP_COUNTRIES.filter((c) => !p.mainCountries.some(([m]) => m === c));
  return [[rng.pick(foreign), 7], ...tilted.map(([c, w]) => [c, w / tilted.length] as const)];
}

function mobileShareFor(ctx: Ctx, platform: Platform): number {
  if (platform === 'blog') return ctx.rng.float(0.3, 0.5);
  if (platform === 'youtube') return ctx.p.mobileShare * 0.85;
  return Math.min(0.95, ctx.p.mobileShare + 0.1);
}

function trackingLinks(
  ctx: Ctx,
  aff: IndependentAffiliate,
  platform: Platform,
  handle: string,
): Plan['links'] {
  const { rng, p } = ctx;
  const pages = [
    '',
    'new-in',
    'collections/bestsellers',
    `collections/${handle}-picks`,
    'products/daily-essentials',
  ];
  const paths = rng.shuffle(pages).slice(0, rng.int(1, 3));
  const campaigns = rng.shuffle(p.campaignIds).slice(0, rng.int(1, p.campaignIds.length));
  return campaigns.flatMap((campaignId) =>
    paths.map((path) => ({
      campaignId,
      url: `https://${p.shopDomain}/${path}?utm_source=${platform}&utm_medium=affiliate&utm_campaign=${campaignId}&aff=${aff.id}`,
    })),
  );
}

function createPlan(ctx: Ctx, aff: IndependentAffiliate): Plan {
  const { rng, p } = ctx;
  const spec = SHAPES[aff.shape];
  const platform = rng.pick(spec.platforms);
  const countries = audienceCountries(ctx, aff.shape);
  const couponOnClick =
    aff.shape === 'code_typer' ? rng.float(0.7, 0.9) : p.couponOnClickShare * rng.float(0.6, 1.4);
  const s = rng.float(spec.couponOnly[0], spec.couponOnly[1]);
  const refundShare =
    aff.shape === 'high_refund_category' ? rng.float(0.25, 0.45) : p.refundBase * rng.lognormal(1, 0.35);
  const handle = aff.name.toLowerCase().replace(/[^a-z]+/g, '-');
  const plan: Plan = {
    aff,
    platform,
    countries,
    mobileShare: mobileShareFor(ctx, platform),
    hours: spec.hours,
    clicksPerPeriod: rng.logUniform(spec.clicks[0], spec.clicks[1]),
    // Conversion spreads lognormally around the campaign's rate: some creators convert 3× better or worse.
    cvr: Math.min(0.3, p.baseCvr * spec.cvr * rng.lognormal(1, 0.55)),
    couponOnClick,
    couponOnlyRatio: (s / (1 - s)) * (aff.shape === 'code_typer' ? couponOnClick : 1),
    refundProb: Math.min(0.6, refundShare / 0.9),
    orderMedian:
      aff.shape === 'long_consideration'
        ? rng.float(250, 1200)
        : aff.shape === 'high_refund_category'
          ? rng.float(40, 110)
          : p.orderMedian * rng.lognormal(1, 0.25),
    delay: aff.shape === 'long_consideration' ? 'considered' : 'impulse',
    firstPeriod: aff.shape === 'brand_new' ? HISTORY_PERIODS : rng.chance(0.12) ? rng.int(1, 2) : 0,
    joinDay: aff.shape === 'brand_new' ? rng.int(0, Math.floor(ctx.days / 3)) : 0,
    links: trackingLinks(ctx, aff, platform, handle),
    referrerHost: platform === 'blog' ? `${handle}.blog` : `${handle}.link`,
    own: newPerson(ctx, at(countries, 0)[0], true, platform),
    fraudShare: aff.intensity ? rng.float(...FRAUD_SHARE[aff.intensity]) : 0,
    fraudInHistory: aff.fraud !== null && ONGOING_KINDS.has(aff.fraud) && rng.chance(0.35),
    viral:
      aff.shape === 'viral_post'
        ? { day: rng.int(1, Math.max(1, ctx.days - 3)), days: rng.int(1, 3), mult: rng.float(5, 30) }
        : null,
  };
  plan.own.customerId = aff.subjectId;
  return plan;
}

// ---------------------------------------------------------------------------------------------------------
// Honest traffic

function audiencePerson(ctx: Ctx, plan: Plan): Person {
  const { rng } = ctx;
  // Occasional clicks from elsewhere: travellers, expats, friends abroad.
  const country = rng.chance(0.02)
    ? rng.pick([...SHOP_COUNTRIES, ...NEIGHBOUR_COUNTRIES])
    : rng.weighted(plan.countries);
  return newPerson(ctx, country, rng.chance(plan.mobileShare), plan.platform);
}

/** Referrer of a click: in-app browsers and apps mostly send none, so it is omitted, never empty. */
function referrerFor(ctx: Ctx, plan: Plan, person: Person): string | undefined {
  const { rng } = ctx;
  if (person.ua.includes('Instagram')) return rng.chance(0.5) ? 'https://l.instagram.com/' : undefined;
  if (person.ua.includes('musical_ly')) return rng.chance(0.15) ? 'https://www.tiktok.com/' : undefined;
  if (rng.chance(0.1)) return undefined;
  switch (plan.platform) {
    case 'instagram':
      return 'https://www.instagram.com/';
    case 'tiktok':
      return 'https://www.tiktok.com/';
    case 'youtube':
      return person.mobile && rng.chance(0.5) ? undefined : 'https://www.youtube.com/';
    case 'blog':
      return `https://${plan.referrerHost}/${rng.pick(['reviews', 'guides', 'best-of', '2026/10/favourites'])}`;
  }
}

/** Day weights of a period: creators post a few times, each post brings a burst decaying over two days. */
function dayWeights(ctx: Ctx, plan: Plan, period: Period): number[] {
  const { rng } = ctx;
  const firstDay = period.current ? plan.joinDay : 0;
  const weights: number[] = Array.from({ length: ctx.days }, (_, d) =>
    d < firstDay ? 0 : plan.platform === 'blog' ? 1 : 0.15,
  );
  if (plan.platform === 'blog') return weights.map((w, d) => (d % 7 >= 5 ? w * 0.7 : w));
  const posts = rng.int(2, 7);
  for (let i = 0; i < posts; i++) {
    const day = rng.int(firstDay, ctx.days - 1);
    [1, 0.4, 0.15].forEach((w, k) => {
      if (day + k < ctx.days) weights[day + k] = (weights[day + k] ?? 0) + w;
    });
  }
  return weights;
}

function crawlerClick(ctx: Ctx, plan: Plan, period: Period, day: number): void {
  const { rng } = ctx;
  const crawler = rng.pick(CRAWLERS);
  const ts = sampleTime(rng, period, day, 'DE', 'flat');
  emitClick(ctx, {
    ts,
    plan,
    ip: ipv4InCidr(rng, rng.pick(crawler.cidrs)),
    userAgent: crawler.ua,
    country: crawler.country,
  });
}

/** A purchase following a click after a real-traffic delay; lost if after the period or the 30-day window. */
function buyAfterClick(
  ctx: Ctx,
  plan: Plan,
  person: Person,
  click: ClickRef,
  delayMs: number,
): Order | undefined {
  const ts = click.ts + delayMs;
  if (ts >= ctx.end || delayMs > ATTRIBUTION_WINDOW_MS) return undefined;
  const code = plan.aff.couponCodes[0];
  const couponCode = code !== undefined && ctx.rng.chance(plan.couponOnClick) ? code : undefined;
  const order = emitSale(ctx, {
    ts,
    buyer: person,
    click,
    couponCode,
    amount: orderAmount(ctx.rng, plan.orderMedian),
  });
  honestRefund(ctx, plan, order);
  return order;
}

function honestRefund(ctx: Ctx, plan: Plan, order: Order): void {
  const { rng } = ctx;
  if (!rng.chance(plan.refundProb)) return;
  emitRefund(ctx, order, refundDelay(rng), rng.chance(0.8) ? 1 : rng.float(0.3, 0.7));
}

function honestClick(ctx: Ctx, plan: Plan, period: Period, day: number): void {
  const { rng } = ctx;
  if (rng.chance(ctx.p.crawlerShare)) {
    crawlerClick(ctx, plan, period, day);
    return;
  }
  const person = audiencePerson(ctx, plan);
  const ts = sampleTime(rng, period, day, person.country, plan.hours);
  const click = emitClick(ctx, {
    ts,
    plan,
    ip: person.ip,
    userAgent: person.ua,
    country: person.country,
    referrer: referrerFor(ctx, plan, person),
  });
  if (rng.chance(plan.cvr)) buyAfterClick(ctx, plan, person, click, sampleDelayMs(rng, plan.delay));
}

/** Viral post: one post explodes, 5–30× the usual daily clicks for 1–3 days, converting like any audience. */
function viralClicks(ctx: Ctx, plan: Plan, period: Period): number {
  if (!plan.viral) return 0;
  const baseDaily = (plan.clicksPerPeriod * ctx.volume) / ctx.days;
  let added = 0;
  for (let k = 0; k < plan.viral.days && plan.viral.day + k < ctx.days; k++) {
    const mult = Math.max(5, plan.viral.mult * 0.6 ** k);
    const n = ctx.rng.poisson((mult - 1) * baseDaily);
    for (let i = 0; i < n; i++) honestClick(ctx, plan, period, plan.viral.day + k);
    added += n;
  }
  return added;
}

function couponOnlySales(ctx: Ctx, plan: Plan, period: Period, clicks: number, weights: number[]): void {
  const { rng } = ctx;
  const code = plan.aff.couponCodes[0];
  if (code === undefined) return;
  const broad = plan.aff.shape === 'coupon_community';
  const n = rng.poisson(plan.couponOnlyRatio * clicks * plan.cvr);
  for (let i = 0; i < n; i++) {
    // Deal-community readers are a broader public than the creator's followers, shopping at any time of day.
    const person =
      broad && rng.chance(0.6) ? shopper(ctx, rng.chance(ctx.p.mobileShare)) : audiencePerson(ctx, plan);
    const day = broad ? rng.index(weights.map((w) => (w > 0 ? 1 : 0))) : rng.index(weights);
    const ts = sampleTime(rng, period, day, person.country, broad ? 'social' : plan.hours);
    const order = emitSale(ctx, {
      ts,
      buyer: person,
      couponCode: code,
      amount: orderAmount(rng, plan.orderMedian),
    });
    honestRefund(ctx, plan, order);
  }
}

/** The creator's own shopping, never through its own link or code (self_referral also shops like this in history). */
function ownPurchases(ctx: Ctx, plan: Plan, period: Period): void {
  const { rng } = ctx;
  let n = rng.chance(0.05) ? 1 : 0;
  if (plan.aff.shape === 'creator_as_customer') n = rng.int(1, 3);
  else if (plan.aff.fraud === 'self_referral' && !period.current) n = rng.int(1, 2);
  const firstDay = period.current ? plan.joinDay : 0;
  for (let i = 0; i < n; i++) {
    const ts = sampleTime(rng, period, rng.int(firstDay, ctx.days - 1), plan.own.country, 'social');
    const ip = rng.chance(0.7) ? plan.own.homeIp : plan.own.ip;
    emitSale(ctx, {
      ts,
      buyer: plan.own,
      ip,
      amount: orderAmount(rng, plan.orderMedian),
      newCustomer: false,
    });
  }
}

function simulateHonest(ctx: Ctx, plan: Plan): void {
  const { rng } = ctx;
  for (const period of ctx.periods) {
    if (period.index < plan.firstPeriod) continue;
    const weights = dayWeights(ctx, plan, period);
    const activeShare = weights.filter((w) => w > 0).length / ctx.days;
    const n = rng.poisson(plan.clicksPerPeriod * ctx.volume * rng.lognormal(1, 0.15) * activeShare);
    const days = cumulative(weights);
    for (let i = 0; i < n; i++) honestClick(ctx, plan, period, rng.fromCumulative(days));
    const viral = period.current ? viralClicks(ctx, plan, period) : 0;
    couponOnlySales(ctx, plan, period, n + viral, weights);
    ownPurchases(ctx, plan, period);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fraud, mixed into the honest traffic of its host affiliate

type PeriodFraud = (ctx: Ctx, plan: Plan, period: Period) => void;

function periodStats(ctx: Ctx, plan: Plan, period: Period): PeriodStats {
  return ctx.stats.get(plan.aff.id)?.[period.index] ?? { clicks: 0, sales: 0 };
}

/**
 * Fraud volume making up `fraudShare` of the affiliate's total in the period (fraud / (honest + fraud)), with
 * the honest side counted as at least `floor` (per 14 days at scale 1). In earlier periods an ongoing fraud ran at a smaller share.
 */
function fraudVolume(ctx: Ctx, plan: Plan, period: Period, honest: number, floor: number): number {
  const share = Math.min(plan.fraudShare, 0.92) * (period.current ? 1 : 0.6);
  const base = Math.max(honest, floor * ctx.volume);
  return Math.min(Math.round(1200 * ctx.volume), ctx.rng.poisson((base * share) / (1 - share)));
}

/** A moment at any hour of a day in [firstDay, lastDay] of the period: automation keeps no human hours. */
function randomDayTime(ctx: Ctx, period: Period, firstDay = 0, lastDay = ctx.days - 1): number {
  const day = ctx.rng.int(Math.min(firstDay, lastDay), lastDay);
  return period.start + day * DAY_MS + Math.floor(ctx.rng.next() * DAY_MS);
}

/** A click some time before a purchase, never before the simulated history starts. */
function clickBefore(ctx: Ctx, ts: number, delayMs: number): number {
  return Math.max(ctx.start, ts - Math.round(delayMs));
}

function fraudFirstDay(plan: Plan, period: Period): number {
  return period.current ? plan.joinDay : 0;
}

/** An earlier honest click by the same person on another creator, whose credit the injected click steals. */
function decoyClick(ctx: Ctx, buyer: Person, purchaseTs: number): void {
  const target = ctx.decoyTargets.length > 0 ? ctx.rng.pick(ctx.decoyTargets) : undefined;
  const ts = purchaseTs - Math.round(ctx.rng.logUniform(600, 3 * 86400) * 1000);
  if (!target || ts < ctx.start) return;
  emitClick(ctx, {
    ts,
    plan: target,
    ip: buyer.ip,
    userAgent: buyer.ua,
    country: buyer.country,
    referrer: referrerFor(ctx, target, buyer),
  });
}

/** Malware on Android phones fires the affiliate's click 1–15 s before an organic purchase, from the buyer's device. */
const clickInjection: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).sales, 4);
  for (let i = 0; i < n; i++) {
    const buyer = shopper(ctx, true);
    if (!buyer.ua.includes('Android'))
      buyer.ua = mobileUa(rng, rng.chance(0.7) ? 'android_chrome' : 'samsung', buyer.country, 0);
    const ts = sampleTime(
      rng,
      period,
      rng.int(fraudFirstDay(plan, period), ctx.days - 1),
      buyer.country,
      'social',
    );
    if (rng.chance(0.3)) decoyClick(ctx, buyer, ts);
    const clickTs = clickBefore(ctx, ts, rng.float(1, 15) * 1000);
    const click = emitClick(ctx, {
      ts: clickTs,
      plan,
      ip: buyer.ip,
      userAgent: buyer.ua,
      country: buyer.country,
    });
    const order = emitSale(ctx, {
      ts,
      buyer,
      click,
      ip: buyer.ip,
      userAgent: buyer.ua,
      amount: orderAmount(rng, plan.orderMedian),
    });
    honestRefund(ctx, plan, order);
  }
};

/**
 * Ad stacking / clicks on page load for people who never saw the offer: masses of residential clicks, some of
 * whom later buy organically, hours to weeks afterwards — never in the first minutes.
 */
const clickSpamming: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).clicks, 150);
  const organicRate = rng.float(0.002, 0.006);
  const sites = Array.from(
    { length: rng.int(3, 12) },
    () =>
      `https://${rng.pick(['news', 'daily', 'top', 'best', 'my'])}-${rng.hex(5)}.${rng.pick(['com', 'net', 'info', 'site'])}/`,
  );
  const firstDay = fraudFirstDay(plan, period);
  for (let i = 0; i < n; i++) {
    const person = shopper(ctx, rng.chance(ctx.p.mobileShare));
    const ts = sampleTime(
      rng,
      period,
      rng.int(firstDay, ctx.days - 1),
      person.country,
      rng.chance(0.5) ? 'social' : 'flat',
    );
    const referrer = rng.chance(0.4) ? rng.pick(sites) : undefined;
    const click = emitClick(ctx, {
      ts,
      plan,
      ip: person.ip,
      userAgent: person.ua,
      country: person.country,
      referrer,
    });
    if (rng.chance(organicRate))
      buyAfterClick(ctx, plan, person, click, Math.round(rng.logUniform(3600, 28 * 86400) * 1000));
  }
};

/** Clicks (and a few fake sales) from cloud and hosting ranges through proxies, with ordinary browser UAs. */
const datacenterTraffic: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).clicks, 60);
  const providers = rng.shuffle(Object.keys(DATACENTERS)).slice(0, rng.int(1, 3));
  const pool = Array.from({ length: Math.max(4, Math.round(n / rng.float(2, 8))) }, () =>
    datacenterIp(rng, providers),
  );
  const fakeRate = rng.float(0.005, 0.03);
  for (let i = 0; i < n; i++) {
    const ip = rng.pick(pool);
    const mobile = rng.chance(0.5);
    const country = rng.chance(0.7)
      ? rng.weighted(ctx.p.mainCountries)
      : rng.pick(['US', 'DE', 'NL', 'IE', 'FR']);
    const ua = mobile ? mobileUa(rng, mobileUaKind(rng, plan.platform), country, 0.45) : desktopUa(rng);
    const ts = randomDayTime(ctx, period, fraudFirstDay(plan, period));
    const referrer = rng.chance(0.5)
      ? referrerFor(ctx, plan, { country, mobile, ua, ip, homeIp: ip })
      : undefined;
    const click = emitClick(ctx, { ts, plan, ip, userAgent: ua, country, referrer });
    if (!rng.chance(fakeRate)) continue;
    const buyer: Person = { country, mobile, ua, ip, homeIp: ip };
    const delay = Math.round(rng.logUniform(20, 1800) * 1000);
    if (click.ts + delay >= ctx.end) continue;
    const amount = orderAmount(rng, plan.orderMedian * 0.7);
    const order = emitSale(ctx, {
      ts: click.ts + delay,
      buyer,
      click,
      ip,
      userAgent: ua,
      amount,
      newCustomer: true,
    });
    // Fake orders paid with stolen cards come back as chargebacks.
    if (rng.chance(0.25)) emitRefund(ctx, order, refundDelay(rng), 1, 'chargeback');
  }
};

/** Scripted clicks: automation UAs, or one browser UA repeated thousands of times, from a handful of IPs. */
const botUserAgents: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).clicks, 80);
  const repeated = rng.chance(0.45);
  const uas = repeated
    ? [rng.chance(0.5) ? desktopUa(rng) : mobileUa(rng, 'android_chrome', 'DE', 0)]
    : Array.from({ length: rng.int(1, 4) }, () => automationUa(rng));
  const ips = Array.from({ length: rng.int(2, 12) }, () =>
    rng.chance(0.5) ? ipv4InCidr(rng, rng.pick(RESIDENTIAL_V4)) : datacenterIp(rng, Object.keys(DATACENTERS)),
  );
  const country = rng.weighted(ctx.p.mainCountries);
  let ts = randomDayTime(ctx, period, fraudFirstDay(plan, period));
  for (let i = 0; i < n; i++) {
    // Bots run in sessions: bursts of clicks seconds apart, sessions at any hour.
    ts += Math.round(rng.float(0.3, 20) * 1000);
    if (rng.chance(0.02) || ts >= period.end) ts = randomDayTime(ctx, period, fraudFirstDay(plan, period));
    emitClick(ctx, {
      ts,
      plan,
      ip: rng.pick(ips),
      userAgent: rng.pick(uas),
      country: rng.chance(0.8) ? country : undefined,
      landing: rng.chance(0.7),
    });
  }
};

/**
 * The code lands on coupon aggregators: from some day on, coupon-only sales without any click, from many
 * countries and at all hours, new devices, far beyond what the creator's reach produces.
 */
const couponLeakage: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const code = plan.aff.couponCodes[0];
  if (code === undefined) return;
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).sales, 5);
  const start = rng.int(Math.max(1, plan.joinDay), Math.max(1, ctx.days - 4));
  const ramp = Array.from({ length: ctx.days }, (_, d) => (d < start ? 0 : 1 + 0.4 * (d - start)));
  const countries = [...ctx.p.mainCountries.map(([c]) => c), ...NEIGHBOUR_COUNTRIES, ...SHOP_COUNTRIES];
  for (let i = 0; i < n; i++) {
    const buyer = newPerson(ctx, rng.pick(countries), rng.chance(0.6), 'youtube');
    const ts = period.start + rng.index(ramp) * DAY_MS + Math.floor(rng.next() * DAY_MS);
    const order = emitSale(ctx, {
      ts,
      buyer,
      couponCode: code,
      amount: orderAmount(rng, plan.orderMedian),
      newCustomer: rng.chance(0.85),
    });
    honestRefund(ctx, plan, order);
  }
};

/** The affiliate buys through its own link or code: its own account, or second accounts from its own IPs. */
const selfReferral: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = Math.max(2, fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).sales, 3));
  const alts = Array.from({ length: rng.int(1, 3) }, () => nextCustomerId(ctx));
  const code = plan.aff.couponCodes[0];
  const own = plan.own;
  for (let i = 0; i < n; i++) {
    const ownAccount = i === 0 || rng.chance(0.4);
    const buyer: Person = { ...own, customerId: ownAccount ? own.customerId : rng.pick(alts) };
    const ip = rng.chance(0.65) ? own.homeIp : own.ip;
    const ts = sampleTime(rng, period, rng.int(plan.joinDay, ctx.days - 1), own.country, 'social');
    const viaLink = code === undefined || rng.chance(0.6);
    const click = viaLink
      ? emitClick(ctx, {
          ts: clickBefore(ctx, ts, rng.logUniform(5, 900) * 1000),
          plan,
          ip,
          userAgent: own.ua,
          country: own.country,
        })
      : undefined;
    const couponCode = code !== undefined && (!viaLink || rng.chance(0.5)) ? code : undefined;
    emitSale(ctx, {
      ts,
      buyer,
      click,
      couponCode,
      ip,
      userAgent: own.ua,
      amount: orderAmount(rng, plan.orderMedian),
      newCustomer: false,
    });
  }
};

/** The affiliate or a small ring of accomplices buy for the commission, then return or charge back everything. */
const refundAbuse: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const n = Math.max(2, fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).sales, 3));
  const ring = Array.from({ length: rng.int(2, 8) }, () => shopper(ctx, rng.chance(0.6), plan.platform));
  const code = plan.aff.couponCodes[0];
  // Orders are placed early enough for the return to land within the payout period.
  const lastDay = period.current ? ctx.days - 2 : ctx.days - 1;
  for (let i = 0; i < n; i++) {
    const buyer = rng.chance(0.15) ? plan.own : rng.pick(ring);
    const ts = randomDayTime(ctx, period, fraudFirstDay(plan, period), lastDay);
    const viaLink = code === undefined || rng.chance(0.7);
    const click = viaLink
      ? emitClick(ctx, {
          ts: clickBefore(ctx, ts, rng.logUniform(20, 3600) * 1000),
          plan,
          ip: buyer.ip,
          userAgent: buyer.ua,
          country: buyer.country,
        })
      : undefined;
    const couponCode = code !== undefined && (!viaLink || rng.chance(0.4)) ? code : undefined;
    const order = emitSale(ctx, {
      ts,
      buyer,
      click,
      couponCode,
      amount: orderAmount(rng, plan.orderMedian * 1.6),
    });
    const room = Math.min(20 * DAY_MS, ctx.end - ts - HOUR_MS);
    const delay = Math.max(DAY_MS, Math.min(room, refundDelay(rng)));
    const reason = rng.weighted([
      ['returned', 6],
      ['chargeback', 3],
      ['not_received', 2],
    ] as const);
    emitRefund(ctx, order, delay, rng.chance(0.85) ? 1 : rng.float(0.8, 1), reason);
  }
};

/**
 * Bought traffic from a day on: clicks 5–50× the affiliate's own earlier daily rate that almost never
 * convert, from a few networks and user agents (click farm) or at uniform hours (incentivised clicks).
 */
const velocitySpike: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const history = ctx.periods.filter((p) => !p.current && p.index >= plan.firstPeriod);
  const historyClicks = history.reduce((sum, p) => sum + periodStats(ctx, plan, p).clicks, 0);
  const baseDaily = Math.max(3 * ctx.scale, historyClicks / Math.max(1, history.length * ctx.days));
  const n = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).clicks, 60);
  const range =
    plan.aff.intensity === 'blatant' ? [20, 50] : plan.aff.intensity === 'moderate' ? [10, 25] : [5, 10];
  const mult = rng.float(range[0] ?? 5, range[1] ?? 10);
  const spikeDays = Math.max(1, Math.min(ctx.days - 1, Math.ceil(n / ((mult - 1) * baseDaily))));
  const start = rng.int(1, Math.max(1, ctx.days - spikeDays));
  const farm = rng.chance(0.5);
  const networks = Array.from(
    { length: rng.int(2, 4) },
    () => `${ipv4InCidr(rng, rng.pick(RESIDENTIAL_V4)).split('.').slice(0, 3).join('.')}.0/24`,
  );
  const uas = Array.from({ length: rng.int(2, 6) }, () =>
    mobileUa(rng, rng.pick(['android_chrome', 'samsung', 'ios_safari'] as const), 'DE', 0.3),
  );
  for (let i = 0; i < n; i++) {
    const day = Math.min(ctx.days - 1, start + rng.int(0, spikeDays - 1));
    const person = shopper(ctx, true, plan.platform);
    const ip = farm ? ipv4InCidr(rng, rng.pick(networks)) : person.ip;
    const ts = sampleTime(rng, period, day, person.country, farm ? 'social' : 'flat');
    const click = emitClick(ctx, { ts, plan, ip, userAgent: rng.pick(uas), country: person.country });
    if (rng.chance(0.002)) buyAfterClick(ctx, plan, { ...person, ip }, click, sampleDelayMs(rng, 'impulse'));
  }
};

/**
 * Clicks from cheap-traffic countries via proxies or cookie stuffing, credited on purchases by buyers in the
 * shop's own markets: the click's and the purchase's country disagree.
 */
const geoMismatch: PeriodFraud = (ctx, plan, period) => {
  const { rng } = ctx;
  const sales = fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).sales, 3);
  const clicks = Math.max(
    sales * rng.int(3, 8),
    fraudVolume(ctx, plan, period, periodStats(ctx, plan, period).clicks, 40),
  );
  const sources = rng.shuffle(CHEAP_TRAFFIC_COUNTRIES).slice(0, rng.int(1, 3));
  const firstDay = fraudFirstDay(plan, period);
  for (let i = 0; i < clicks; i++) {
    const country = rng.pick(sources);
    const proxied = rng.chance(0.12);
    const ip = proxied
      ? datacenterIp(rng, ['digitalocean', 'ovh', 'aws'])
      : ipv4InCidr(rng, rng.pick(CHEAP_COUNTRY_V4[country] ?? RESIDENTIAL_V4));
    const ua = rng.chance(0.8)
      ? mobileUa(rng, rng.pick(['android_chrome', 'samsung'] as const), country, 0)
      : desktopUa(rng);
    const ts = sampleTime(rng, period, rng.int(firstDay, ctx.days - 1), country, 'social');
    const click = emitClick(ctx, { ts, plan, ip, userAgent: ua, country, landing: rng.chance(0.8) });
    if (i >= sales) continue;
    const buyer = shopper(ctx, rng.chance(ctx.p.mobileShare));
    const delay = Math.round(Math.max(30, rng.lognormal(2 * 3600, 1.6)) * 1000);
    buyAfterClick(ctx, plan, buyer, click, delay);
  }
};

const FRAUDS: Record<FraudKind, PeriodFraud> = {
  click_injection: clickInjection,
  click_spamming: clickSpamming,
  datacenter_traffic: datacenterTraffic,
  bot_user_agents: botUserAgents,
  coupon_leakage: couponLeakage,
  self_referral: selfReferral,
  refund_abuse: refundAbuse,
  velocity_spike: velocitySpike,
  geo_mismatch: geoMismatch,
};

function simulateFraud(ctx: Ctx, plan: Plan): void {
  const kind = plan.aff.fraud;
  if (kind === null) return;
  for (const period of ctx.periods) {
    if (period.index < plan.firstPeriod || (!period.current && !plan.fraudInHistory)) continue;
    FRAUDS[kind](ctx, plan, period);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

function createContext(options: IndependentOptions, periodStart: Date, days: number): Ctx {
  const rng = new Rng(seedHash(options.seed));
  const p = drawParams(rng);
  const periodMs = days * DAY_MS;
  const start = periodStart.getTime() - HISTORY_PERIODS * periodMs;
  const scale = options.scale ?? 1;
  // Traffic volumes are given per 14 days at scale 1.
  const volume = (scale * days) / 14;
  const periods = Array.from({ length: HISTORY_PERIODS + 1 }, (_, index) => ({
    index,
    start: start + index * periodMs,
    end: start + (index + 1) * periodMs,
    current: index === HISTORY_PERIODS,
  }));
  return {
    rng,
    p,
    scale,
    volume,
    tag: seedHash(options.seed).toString(36),
    periods,
    start,
    end: periodStart.getTime() + periodMs,
    days,
    events: [],
    times: [],
    orders: 0,
    clicks: 0,
    clickKey: rng.int(0, 0xffffffff),
    customerIds: new Set(),
    firstOrder: rng.int(100_000, 900_000),
    stats: new Map(),
    couponOwner: new Map(),
    natPools: new Map(),
    households: new Map(),
    offices: Array.from({ length: Math.max(20, Math.round(150 * volume)) }, () =>
      ipv4InCidr(rng, rng.pick(OFFICE_V4)),
    ),
    uaPools: new Map(),
    decoyTargets: [],
  };
}

/** Honest clicks per 14-day period at scale 1 that a programme of the default size stays within. */
const HONEST_CLICKS_PER_PERIOD = 26_000;

/**
 * A draw with many big creators is thinned evenly (every creator keeps its relative reach), so a campaign
 * stays under about 150,000 events at scale 1 whatever the shape mix.
 */
function fitTrafficBudget(ctx: Ctx, plans: Plan[]): void {
  const honest = plans.filter((p) => p.aff.fraud === null).length;
  const budget = HONEST_CLICKS_PER_PERIOD * Math.max(1, honest / 200);
  const expected = plans.reduce(
    (sum, p) => sum + p.clicksPerPeriod * (1 + (p.viral ? (p.viral.mult * 1.5) / ctx.days : 0)),
    0,
  );
  const factor = Math.min(1, budget / expected);
  for (const plan of plans) plan.clicksPerPeriod *= factor;
}

function validateOptions(options: IndependentOptions): void {
  if (!Number.isFinite(options.seed)) throw new RangeError('seed must be a finite number');
  for (const key of ['honest', 'fraudPerKind', 'periodDays', 'scale'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      throw new RangeError(`${key} must be a finite number >= 0`);
  }
  if (options.periodDays !== undefined && options.periodDays < 1)
    throw new RangeError('periodDays must be >= 1');
  if (options.periodStart !== undefined && Number.isNaN(options.periodStart.getTime()))
    throw new RangeError('periodStart is not a valid date');
}

/**
 * Simulates one payout period of an affiliate programme plus three earlier periods of history, with honest
 * affiliates of every shape and `fraudPerKind` fraudsters of each kind (intensities cycling blatant, moderate,
 * subtle). Deterministic for a given seed and options.
 */
export function simulateIndependentCampaign(options: IndependentOptions): IndependentCampaign {
  validateOptions(options);
  const periodStart = options.periodStart ?? new Date('2026-10-01T00:00:00Z');
  const days = Math.round(options.periodDays ?? 14);
  const ctx = createContext(options, periodStart, days);
  const seats = buildSeats(ctx, Math.round(options.honest ?? 200), Math.round(options.fraudPerKind ?? 6));
  const usedCodes = new Set<string>();
  const plans = seats.map((seat, i) => createPlan(ctx, makeAffiliate(ctx, seat, i, usedCodes)));
  for (const plan of plans) {
    ctx.stats.set(
      plan.aff.id,
      ctx.periods.map(() => ({ clicks: 0, sales: 0 })),
    );
    for (const code of plan.aff.couponCodes) ctx.couponOwner.set(code, plan.aff.id);
  }
  ctx.decoyTargets = plans.filter(
    (p) => p.aff.fraud === null && p.firstPeriod === 0 && p.platform !== 'blog',
  );
  fitTrafficBudget(ctx, plans);
  for (const plan of plans) simulateHonest(ctx, plan);
  for (const plan of plans) simulateFraud(ctx, plan);
  const events = sortedEvents(ctx);
  renumber(ctx, events);
  return {
    periodStart,
    periodEnd: new Date(ctx.end),
    affiliates: plans.map((p) => p.aff),
    events,
  };
}
