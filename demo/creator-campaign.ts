// A seeded influencer campaign for the demo: creators of very different sizes, each with an audience of its own
// (countries, phones, daily rhythm, conversion and refund rates), and a handful who cheat — click injection,
// bot traffic, cloud traffic, a leaked coupon code, buying through their own link, orders booked to be refunded.
// It reads no reference data, so it runs in any clone. Besides the events, it gives each creator's commission.
import { DatacenterRanges } from '../detectors/fraud/features.ts';
import { BOT_USER_AGENTS as BOTS, BROWSER_USER_AGENTS as BROWSERS } from '../eval/user-agents.ts';

/** The ways the campaign's cheating creators earn commission they did not. */
const FRAUD_KINDS = [
  'click_injection',
  'bot_user_agents',
  'datacenter_traffic',
  'coupon_leakage',
  'self_referral',
  'refund_abuse',
] as const;
type FraudKind = (typeof FRAUD_KINDS)[number];

/** A creator of the campaign, as Vigil's `/v1/affiliates` takes it, with what it did. */
export interface Creator {
  id: string;
  /** The creator's handle, e.g. `@lena.bakes`. */
  name: string;
  couponCodes: string[];
  subjectId: string;
  /** How it cheats, or null when honest. */
  fraud: FraudKind | null;
  /** Its commission for the period: 10 % of the sales credited to it (by link or coupon), at least 5 EUR. */
  commission: number;
}

/** A click, conversion or refund as `/v1/events` takes it. */
type CampaignEvent = Record<string, unknown> & { id: string; type: string; ts: string };

export interface CreatorCampaign {
  periodStart: Date;
  periodEnd: Date;
  creators: Creator[];
  /** Every event of the period and of the period before it, in time order. */
  events: CampaignEvent[];
}

export interface CreatorCampaignOptions {
  seed: number;
  periodStart: Date;
  periodEnd: Date;
}

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const COMMISSION_RATE = 0.1;
const MIN_COMMISSION = 5;
const CAMPAIGN = 'autumn-drop';
/** Honest creators; one cheating creator per fraud kind comes on top. */
const HONEST_CREATORS = 84;

const FIRST_NAMES = (
  'lena max sofia jonas mia luca emma noah hannah elias clara finn ida leon nora paul marie ben ' +
  'amelie tom julia lars zoe mateo ines hugo chloe milan elif deniz ana pablo giulia marco anouk ' +
  'sven freya oskar lotte aylin'
).split(' ');
const TOPICS = (
  'bakes lifts travels style reads games runs cooks beauty fitness eats plants diy tech home ' +
  'outdoors vegan skin cycling yoga thrifts paints pets'
).split(' ');
const SEPARATORS = ['.', '_', ''];

const COUNTRIES = ['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'AT', 'BE', 'SE', 'GB', 'US', 'BR', 'MX', 'TR', 'IN'];
/** /16 blocks of cloud providers (AWS, Google Cloud, DigitalOcean, Hetzner, OVH). */
const DATACENTER_BLOCKS = ['3.120', '34.89', '35.198', '52.28', '54.91', '104.131', '138.68', '5.9', '51.68'];

/** A seeded random source (mulberry32) with the draws the simulation needs. */
function randomSource(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    between: (lo: number, hi: number) => lo + next() * (hi - lo),
    int: (lo: number, hi: number) => Math.floor(lo + next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
    /** `n` distinct items. */
    sample: <T>(items: readonly T[], n: number): T[] => {
      const pool = [...items];
      for (let i = 0; i < n && i < pool.length - 1; i += 1) {
        const j = i + Math.floor(next() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
      }
      return pool.slice(0, n);
    },
    /** Log-normal with the given median and spread (sigma of the log). */
    logNormal: (median: number, sigma: number) => {
      const u = Math.max(1e-12, next());
      return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next()));
    },
  };
}
type Random = ReturnType<typeof randomSource>;

/** Distinct creator handles: a first name and a topic, as people pick them. */
function handles(random: Random, count: number): { name: string; code: string; slug: string }[] {
  const taken = new Set<string>();
  const result: { name: string; code: string; slug: string }[] = [];
  while (result.length < count) {
    const first = random.pick(FIRST_NAMES);
    const topic = random.pick(TOPICS);
    if (taken.has(first + topic)) continue;
    taken.add(first + topic);
    result.push({
      name: `@${first}${random.pick(SEPARATORS)}${topic}`,
      code: `${first}${topic}`.toUpperCase(),
      slug: `${first}-${topic}`,
    });
  }
  return result;
}

export function simulateCreatorCampaign(options: CreatorCampaignOptions): CreatorCampaign {
  const random = randomSource(options.seed);
  const start = options.periodStart.getTime();
  const end = options.periodEnd.getTime();
  const length = end - start;
  const periodDays = Math.max(1, Math.floor(length / DAY));
  // Event ids name the seed and the period, so a second fill of the same month is recognised as duplicates.
  const prefix = `demo-${options.seed}-${options.periodStart.toISOString().slice(0, 10)}`;
  let serial = 0;
  const nextId = (kind: string) => `${prefix}-${kind}${(serial++).toString(36)}`;

  const datacenter = DatacenterRanges.load();
  const residential: string[] = [];
  while (residential.length < 300) {
    const block = `${random.int(77, 223)}.${random.int(0, 255)}`;
    if (!datacenter.contains(`${block}.1.0/24`) && !datacenter.contains(`${block}.200.0/24`))
      residential.push(block);
  }

  const plan: (FraudKind | null)[] = [...new Array<null>(HONEST_CREATORS).fill(null), ...FRAUD_KINDS];
  // The cheats sit among the honest creators, not at the end of the list.
  for (let i = plan.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [plan[i], plan[j]] = [plan[j] as FraudKind | null, plan[i] as FraudKind | null];
  }
  const names = handles(random, plan.length);
  const events: CampaignEvent[] = [];
  const creators: Creator[] = [];

  plan.forEach((fraud, index) => {
    const handle = names[index] as (typeof names)[number];
    const creator: Creator = {
      id: `aff-${options.seed}-${handle.slug}`,
      name: handle.name,
      couponCodes: [`${handle.code}${options.seed}`],
      subjectId: `creator-${options.seed}-${handle.slug}`,
      fraud,
      commission: 0,
    };
    creators.push(creator);
    const coupon = creator.couponCodes[0] as string;
    let sales = 0;

    // The audience: its size, countries, phones, daily rhythm and how it buys.
    const baseClicks = Math.max(fraud ? 90 : 40, Math.round(random.logNormal(110, 0.7)));
    const conversionRate = random.between(0.015, 0.05);
    const home = random.pick(COUNTRIES);
    const countries = [home, random.pick(COUNTRIES), random.pick(COUNTRIES)];
    const peakHour = random.int(0, 23);
    const agents = random.sample(BROWSERS, random.int(6, BROWSERS.length));
    const browser = () => random.pick(agents);
    const ipBlocks = Array.from({ length: random.int(20, 80) }, () => random.pick(residential));
    const newCustomerShare = random.between(0.3, 0.85);
    const refundShare = random.between(0, 0.12);
    const couponShare = random.between(0, 0.5);
    const wordOfMouth = random.between(0, 0.3);
    const honestShare = fraud === null ? 1 : random.between(0.6, 0.85);

    const visitorIp = () => `${random.pick(ipBlocks)}.${random.int(0, 255)}.${random.int(1, 254)}`;
    const dayTime = (from: number) => {
      const day = random.int(0, periodDays - 1);
      const hour =
        (peakHour + Math.round(random.logNormal(1, 0.9) * (random.chance(0.5) ? 1 : -1) * 3) + 48) % 24;
      return from + day * DAY + hour * HOUR + random.int(0, 3599) * SECOND;
    };
    const click = (ts: number, extra: Record<string, unknown> = {}): CampaignEvent => {
      const e: CampaignEvent = {
        id: nextId('k'),
        type: 'click',
        ts: new Date(ts).toISOString(),
        affiliateId: creator.id,
        campaignId: CAMPAIGN,
        clickId: nextId('c'),
        ip: visitorIp(),
        userAgent: browser(),
        country: random.chance(0.8) ? home : random.pick(countries),
        ...extra,
      };
      events.push(e);
      return e;
    };
    const conversion = (ts: number, extra: Record<string, unknown>): CampaignEvent => {
      const amount = Number(random.logNormal(45, 0.6).toFixed(2));
      const e: CampaignEvent = {
        id: nextId('v'),
        type: 'conversion',
        ts: new Date(Math.min(ts, end - SECOND)).toISOString(),
        orderId: nextId('o'),
        subjectId: nextId('u'),
        amount,
        currency: 'EUR',
        ip: visitorIp(),
        userAgent: browser(),
        newCustomer: random.chance(newCustomerShare),
        country: home,
        ...extra,
      };
      events.push(e);
      sales += e.amount as number;
      return e;
    };
    const refund = (of: CampaignEvent, after: number) =>
      events.push({
        id: nextId('r'),
        type: 'refund',
        ts: new Date(Math.min(Date.parse(of.ts) + after, end - SECOND)).toISOString(),
        orderId: of.orderId,
        amount: of.amount,
        currency: 'EUR',
        reason: random.chance(0.3) ? 'chargeback' : 'returned',
      });
    /** A sale through a click of this creator's link, some with its coupon too. */
    const saleAfter = (k: CampaignEvent, delay: number, extra: Record<string, unknown> = {}) =>
      conversion(Date.parse(k.ts) + delay, {
        affiliateId: creator.id,
        campaignId: CAMPAIGN,
        clickId: k.clickId,
        ip: k.ip,
        userAgent: k.userAgent,
        country: random.chance(0.97) ? k.country : random.pick(COUNTRIES),
        ...(random.chance(couponShare) ? { couponCode: coupon } : {}),
        ...extra,
      });

    // Last period: clicks only, so this period's growth has something to compare with.
    const previous = Math.round(baseClicks * random.between(0.7, 1.3));
    for (let i = 0; i < previous; i += 1) click(dayTime(start - length));

    // This period: visitors click once or a few times, and a few of them buy, minutes to hours later.
    const clicks = Math.round(baseClicks * honestShare);
    for (let made = 0; made < clicks; ) {
      const repeats = random.int(1, 3);
      const ip = visitorIp();
      const userAgent = browser();
      let last: CampaignEvent | undefined;
      for (let r = 0; r < repeats && made < clicks; r += 1, made += 1)
        last = click(dayTime(start), { ip, userAgent });
      if (last && random.chance(conversionRate * repeats)) {
        const delay = Math.max(20, random.logNormal(1500, 1.6)) * SECOND;
        const sale = saleAfter(last, delay);
        if (random.chance(refundShare)) refund(sale, random.int(2, 20) * DAY);
      }
    }
    // Followers who type the code they saw in a story, from where the audience lives.
    const typed = Math.round(clicks * conversionRate * couponShare * wordOfMouth);
    for (let i = 0; i < typed; i += 1)
      conversion(dayTime(start), {
        couponCode: coupon,
        country: random.chance(0.85) ? home : random.pick(countries),
      });

    switch (fraud) {
      case null:
        break;
      case 'click_injection': {
        // An app on the buyer's phone fires a click seconds before a purchase the shop would have had anyway.
        const n = random.int(18, 26);
        for (let i = 0; i < n; i += 1) {
          const k = click(dayTime(start));
          saleAfter(k, random.between(1.5, 8) * SECOND, { newCustomer: random.chance(0.2) });
        }
        break;
      }
      case 'bot_user_agents': {
        // Scripted clicks from a few machines to look like reach.
        const machines = Array.from({ length: 6 }, () => visitorIp());
        const n = Math.round(baseClicks * 0.9);
        for (let i = 0; i < n; i += 1)
          click(dayTime(start), { userAgent: random.pick(BOTS), ip: random.pick(machines) });
        break;
      }
      case 'datacenter_traffic': {
        // Bought traffic from rented cloud servers.
        const n = Math.round(baseClicks * 0.9);
        for (let i = 0; i < n; i += 1)
          click(dayTime(start), {
            ip: `${random.pick(DATACENTER_BLOCKS)}.${random.int(0, 255)}.${random.int(1, 254)}`,
          });
        break;
      }
      case 'coupon_leakage': {
        // The code is posted on coupon sites: sales with it from everywhere, and no click from the creator.
        const n = random.int(50, 70);
        for (let i = 0; i < n; i += 1)
          conversion(dayTime(start), {
            couponCode: coupon,
            country: random.pick(COUNTRIES),
            ip: `${random.pick(residential)}.${random.int(0, 255)}.${random.int(1, 254)}`,
          });
        break;
      }
      case 'self_referral': {
        // The creator shops through its own link, on its own customer account.
        const n = random.int(2, 4);
        for (let i = 0; i < n; i += 1) {
          const k = click(dayTime(start));
          saleAfter(k, random.between(60, 900) * SECOND, {
            subjectId: creator.subjectId,
            amount: Number(random.between(250, 420).toFixed(2)),
          });
        }
        break;
      }
      case 'refund_abuse': {
        // Expensive orders booked through the link and sent back once the commission is counted.
        const n = random.int(20, 26);
        for (let i = 0; i < n; i += 1) {
          const k = click(dayTime(start));
          const sale = saleAfter(k, Math.max(20, random.logNormal(1500, 1.2)) * SECOND, {
            amount: Number(random.logNormal(180, 0.4).toFixed(2)),
          });
          if (random.chance(0.85)) refund(sale, random.int(3, 12) * DAY);
        }
        break;
      }
    }
    creator.commission = Math.max(MIN_COMMISSION, Math.round(sales * COMMISSION_RATE * 100) / 100);
  });
  events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { periodStart: options.periodStart, periodEnd: options.periodEnd, creators, events };
}
