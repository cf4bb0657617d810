// A seeded influencer-campaign simulator: honest affiliates of very different sizes and audiences, and every
// fraud pattern at several strengths — alone, or mixed into an otherwise honest affiliate. Real distributions
// come from the reference data's clicks/ (TalkingData): click-to-install delays and clicks per IP.
import fs from 'node:fs';
import { DatacenterRanges } from '../detectors/fraud/features.ts';
import { seededRandom } from '../detectors/fraud/isolation-forest.ts';
import { referenceFile } from './reference-data.ts';
import { BOT_USER_AGENTS as BOTS, BROWSER_USER_AGENTS as BROWSERS } from './user-agents.ts';

/** The real ad clicks the simulator draws its distributions from, in the reference data. */
export const CLICKS = 'clicks/talkingdata-sample.csv';

const PATTERNS = [
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
type Pattern = (typeof PATTERNS)[number];

interface SimulatedAffiliate {
  id: string;
  name: string;
  couponCodes: string[];
  subjectId: string;
  /** The fraud pattern, or null for an honest affiliate. */
  pattern: Pattern | null;
  strength: number;
  /** Whether the fraud is mixed into otherwise honest traffic. */
  mixed: boolean;
}

type SimulatedEvent = Record<string, unknown> & { id: string; type: string; ts: string };

export interface Campaign {
  periodStart: Date;
  periodEnd: Date;
  affiliates: SimulatedAffiliate[];
  /** Every event, history included, in time order. */
  events: SimulatedEvent[];
}

export interface CampaignOptions {
  seed: number;
  honest: number;
  /** Fraudulent affiliates per pattern. */
  perPattern: number;
  /** Scales every affiliate's traffic (1 = realistic mid-size campaign). */
  scale?: number;
  periodStart?: Date;
  periodDays?: number;
  /** The fraud strengths to cycle through (default four, from weak to blatant: 0.35 … 1). */
  strengths?: number[];
}

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** The real distributions: click-to-install delays (seconds) and clicks per IP. */
function realDistributions(): { delays: number[]; clicksPerIp: number[] } {
  const [, ...lines] = fs.readFileSync(referenceFile(CLICKS), 'utf8').trim().split('\n');
  const delays: number[] = [];
  const perIp = new Map<string, number>();
  for (const line of lines) {
    const [ip = '', , , , , clickTime = '', attributedTime = ''] = line.split(',');
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    if (attributedTime)
      delays.push((Date.parse(`${attributedTime}Z`) - Date.parse(`${clickTime}Z`)) / SECOND);
  }
  return { delays, clicksPerIp: [...perIp.values()] };
}

function prng(seed: number) {
  const next = seededRandom(seed || 1);
  return {
    next,
    between: (lo: number, hi: number) => lo + next() * (hi - lo),
    int: (lo: number, hi: number) => Math.floor(lo + next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
    /** Log-normal with the given median and spread (sigma of the log). */
    logNormal: (median: number, sigma: number) => {
      const u = Math.max(1e-12, next());
      return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next()));
    },
  };
}

const COUNTRIES = ['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'AT', 'BE', 'SE', 'GB', 'US', 'BR', 'MX', 'TR', 'IN'];
/** Residential-looking /16 blocks, each checked against the datacenter list. */
const DATACENTER_BLOCKS = [
  '3.120',
  '18.195',
  '34.89',
  '35.198',
  '52.28',
  '54.91',
  '104.131',
  '138.68',
  '159.203',
  '5.9',
  '78.46',
  '88.198',
  '51.68',
  '137.74',
  '45.33',
  '45.76',
  '129.146',
];

export function simulateCampaign(options: CampaignOptions): Campaign {
  const rng = prng(options.seed);
  const scale = options.scale ?? 1;
  const periodStart = options.periodStart ?? new Date('2026-10-01T00:00:00Z');
  const periodDays = options.periodDays ?? 30;
  const periodMs = periodDays * DAY;
  const periodEnd = new Date(periodStart.getTime() + periodMs);
  const { delays, clicksPerIp } = realDistributions();
  const datacenter = DatacenterRanges.load();
  const residential: string[] = [];
  while (residential.length < 400) {
    const block = `${rng.int(77, 223)}.${rng.int(0, 255)}`;
    if (!datacenter.contains(`${block}.1.0/24`) && !datacenter.contains(`${block}.200.0/24`))
      residential.push(block);
  }
  const events: SimulatedEvent[] = [];
  const affiliates: SimulatedAffiliate[] = [];
  let serial = 0;
  const nextId = (prefix: string) => `${prefix}-${options.seed}-${(serial++).toString(36)}`;

  const plan: { pattern: Pattern | null; mixed: boolean; strength: number }[] = [];
  for (let i = 0; i < options.honest; i += 1) plan.push({ pattern: null, mixed: false, strength: 0 });
  for (const pattern of PATTERNS) {
    for (let i = 0; i < options.perPattern; i += 1) {
      // Strengths spread from weak to blatant; a third of each pattern hides inside honest traffic.
      const strengths = options.strengths ?? [0.35, 0.35 + 0.65 / 3, 0.35 + 1.3 / 3, 1];
      plan.push({ pattern, mixed: i % 3 === 2, strength: strengths[i % strengths.length] as number });
    }
  }

  plan.forEach((p, index) => {
    const id = `aff-${options.seed}-${index}`;
    const affiliate: SimulatedAffiliate = {
      id,
      name: `Creator ${index}`,
      couponCodes: [`C${options.seed}X${index}`],
      subjectId: `creator-${options.seed}-${index}`,
      pattern: p.pattern,
      strength: p.strength,
      mixed: p.mixed,
    };
    affiliates.push(affiliate);
    // The honest base: sizes over three orders of magnitude, each audience with its own countries, devices,
    // conversion rate, customer mix and daily rhythm.
    const baseClicks = Math.max(40, Math.round(rng.logNormal(900, 1.1) * scale));
    const cr = rng.between(0.006, 0.045);
    const home = rng.pick(COUNTRIES);
    const countries = [home, rng.pick(COUNTRIES), rng.pick(COUNTRIES)];
    const peakHour = rng.int(0, 23);
    const agents = Array.from({ length: rng.int(6, BROWSERS.length) }, () => rng.pick(BROWSERS));
    const newShare = rng.between(0.2, 0.85);
    const refundShare = rng.between(0, 0.12);
    const couponShare = rng.between(0, 0.6);
    const honestLeak = rng.between(0, 0.35);
    const ipBlocks = Array.from({ length: rng.int(20, 120) }, () => rng.pick(residential));
    const history = Array.from({ length: 3 }, () => Math.round(baseClicks * rng.between(0.55, 1.5)));
    const honestShare = p.pattern === null ? 1 : p.mixed ? rng.between(0.5, 0.8) : rng.between(0, 0.3);

    const visitorIp = () => `${rng.pick(ipBlocks)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    const clickTime = (start: number) => {
      // Around the audience's peak hour, spread over the period.
      const day = rng.int(0, periodDays - 1);
      const hour = (peakHour + Math.round(rng.logNormal(1, 0.9) * (rng.chance(0.5) ? 1 : -1) * 3) + 48) % 24;
      return start + day * DAY + hour * HOUR + rng.int(0, 3599) * SECOND;
    };
    const click = (ts: number, extra: Record<string, unknown> = {}): SimulatedEvent => {
      const e: SimulatedEvent = {
        id: nextId('k'),
        type: 'click',
        ts: new Date(ts).toISOString(),
        affiliateId: id,
        campaignId: 'autumn',
        clickId: nextId('c'),
        ip: visitorIp(),
        userAgent: rng.pick(agents),
        country: rng.chance(0.8) ? home : rng.pick(countries),
        ...extra,
      };
      events.push(e);
      return e;
    };
    const conversion = (ts: number, extra: Record<string, unknown>): SimulatedEvent => {
      const e: SimulatedEvent = {
        id: nextId('v'),
        type: 'conversion',
        ts: new Date(Math.min(ts, periodEnd.getTime() - 1)).toISOString(),
        orderId: nextId('o'),
        subjectId: nextId('s'),
        amount: Number(rng.logNormal(45, 0.6).toFixed(2)),
        currency: 'EUR',
        ip: visitorIp(),
        userAgent: rng.pick(agents),
        newCustomer: rng.chance(newShare),
        country: home,
        ...extra,
      };
      events.push(e);
      return e;
    };
    const refund = (of: SimulatedEvent, ts: number) =>
      events.push({
        id: nextId('r'),
        type: 'refund',
        ts: new Date(Math.min(ts, periodEnd.getTime() - 1)).toISOString(),
        orderId: of.orderId,
        amount: of.amount,
        currency: 'EUR',
        reason: rng.chance(0.3) ? 'chargeback' : 'returned',
      });

    // History: the three earlier periods, clicks only (growth compares against them).
    history.forEach((n, back) => {
      const start = periodStart.getTime() - (back + 1) * periodMs;
      for (let i = 0; i < n; i += 1) click(clickTime(start));
    });

    // Honest traffic in the period: visitors click (some several times, as in the real data), a few buy.
    const honestClicks = Math.round(baseClicks * honestShare);
    for (let made = 0; made < honestClicks; ) {
      const repeats = Math.min(rng.pick(clicksPerIp), 20);
      const ip = visitorIp();
      const ua = rng.pick(agents);
      let last: SimulatedEvent | undefined;
      for (let r = 0; r < repeats && made < honestClicks; r += 1, made += 1) {
        last = click(clickTime(periodStart.getTime()), { ip, userAgent: ua });
      }
      if (last && rng.chance(cr * repeats)) {
        const delay = rng.pick(delays) * SECOND * rng.between(0.7, 1.5);
        const sale = conversion(Date.parse(last.ts) + delay, {
          affiliateId: id,
          clickId: last.clickId,
          ip,
          userAgent: ua,
          country: last.country,
          ...(rng.chance(couponShare) ? { couponCode: affiliate.couponCodes[0] } : {}),
        });
        if (rng.chance(refundShare)) refund(sale, Date.parse(sale.ts) + rng.int(2, 20) * DAY);
      }
    }
    // Honest coupon use without a click (word of mouth): some of every creator's codes travel.
    const wordOfMouth = Math.round(honestClicks * cr * couponShare * honestLeak);
    for (let i = 0; i < wordOfMouth; i += 1)
      conversion(clickTime(periodStart.getTime()), { couponCode: affiliate.couponCodes[0] });

    const s = p.strength;
    const fraudClicks = Math.max(60, Math.round(baseClicks * (0.4 + s)));
    switch (p.pattern) {
      case null:
        break;
      case 'click_injection': {
        // Organic buyers of the shop get a click fired seconds before their purchase.
        const n = Math.round(6 + 40 * s);
        for (let i = 0; i < n; i += 1) {
          const k = click(clickTime(periodStart.getTime()));
          conversion(Date.parse(k.ts) + rng.between(1.5, 9) * SECOND, {
            affiliateId: id,
            clickId: k.clickId,
            ip: k.ip,
            userAgent: k.userAgent,
            country: k.country,
          });
        }
        break;
      }
      case 'click_spamming': {
        // Clicks sprayed at anyone; the few who buy days later are credited to the spammer.
        const n = Math.round(fraudClicks * (3 + 10 * s));
        const sprayed: SimulatedEvent[] = [];
        for (let i = 0; i < n; i += 1) {
          sprayed.push(
            click(clickTime(periodStart.getTime()), {
              ip: `${rng.pick(residential)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
            }),
          );
        }
        const sales = Math.max(4, Math.round(n * 0.0015));
        for (let i = 0; i < sales; i += 1) {
          const k = rng.pick(sprayed);
          conversion(Date.parse(k.ts) + rng.between(1.1, 12) * DAY, {
            affiliateId: id,
            clickId: k.clickId,
            country: k.country,
          });
        }
        break;
      }
      case 'datacenter_traffic': {
        const n = Math.round(fraudClicks * (0.5 + s));
        for (let i = 0; i < n; i += 1) {
          click(clickTime(periodStart.getTime()), {
            ip: `${rng.pick(DATACENTER_BLOCKS)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
          });
        }
        break;
      }
      case 'bot_user_agents': {
        const n = Math.round(fraudClicks * (0.5 + s));
        for (let i = 0; i < n; i += 1) click(clickTime(periodStart.getTime()), { userAgent: rng.pick(BOTS) });
        break;
      }
      case 'coupon_leakage': {
        // The code is on coupon sites: sales with it, and no click from the creator.
        const n = Math.round(15 + 120 * s);
        for (let i = 0; i < n; i += 1)
          conversion(clickTime(periodStart.getTime()), {
            couponCode: affiliate.couponCodes[0],
            country: rng.pick(COUNTRIES),
          });
        break;
      }
      case 'self_referral': {
        const n = rng.int(1, 1 + Math.round(4 * s));
        for (let i = 0; i < n; i += 1) {
          const k = click(clickTime(periodStart.getTime()));
          conversion(Date.parse(k.ts) + rng.pick(delays) * SECOND, {
            affiliateId: id,
            clickId: k.clickId,
            subjectId: affiliate.subjectId,
            amount: Number(rng.logNormal(300, 0.5).toFixed(2)),
          });
        }
        break;
      }
      case 'refund_abuse': {
        // Orders booked through the link, refunded once the commission is in.
        const n = Math.round(8 + 30 * s);
        for (let i = 0; i < n; i += 1) {
          const k = click(clickTime(periodStart.getTime()));
          const sale = conversion(Date.parse(k.ts) + rng.pick(delays) * SECOND, {
            affiliateId: id,
            clickId: k.clickId,
            ip: k.ip,
            country: k.country,
            amount: Number(rng.logNormal(180, 0.4).toFixed(2)),
          });
          if (rng.chance(0.6 + 0.35 * s)) refund(sale, Date.parse(sale.ts) + rng.int(1, 12) * DAY);
        }
        break;
      }
      case 'velocity_spike': {
        // Traffic bought for the campaign: many times the creator's usual clicks, converting poorly.
        const n = Math.round(Math.max(400, baseClicks * (4 + 10 * s)));
        for (let i = 0; i < n; i += 1) click(clickTime(periodStart.getTime()));
        break;
      }
      case 'geo_mismatch': {
        // Clicks from one market (cheap traffic), sales credited in another.
        const n = Math.round(8 + 30 * s);
        for (let i = 0; i < n; i += 1) {
          const k = click(clickTime(periodStart.getTime()), { country: 'IN' });
          conversion(Date.parse(k.ts) + rng.pick(delays) * SECOND, {
            affiliateId: id,
            clickId: k.clickId,
            country: rng.pick(['US', 'GB', 'DE']),
          });
        }
        break;
      }
    }
  });
  events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { periodStart, periodEnd, affiliates, events };
}
