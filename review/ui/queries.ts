// What the review pages show, read from the database: the queue with its filters, counts and pages, and one
// payout's surroundings (its clicks and sales, pseudonymised; the affiliate's earlier payouts).
import { type Kysely, sql } from 'kysely';
import type { PayoutScore } from '../../detectors/fraud/index.ts';
import { toPayoutScore } from '../../detectors/fraud/index.ts';
import { type Database, jsonArrayHasEntry } from '../../storage/index.ts';
import type { ReviewStatus } from '../../storage/review.table.ts';
import { IN_REVIEW } from '../decisions.ts';

/** The queue's filters, as the form sends them (empty means no filter). */
export interface QueueFilter {
  reason?: string;
  status?: 'flagged' | 'held' | 'escalated';
  affiliate?: string;
  campaign?: string;
  minScore?: number;
  from?: string;
  to?: string;
  cursor?: string;
}

export interface QueueRow {
  payoutId: string;
  affiliateId: string;
  amount: number;
  currency: string;
  status: string;
  reviewStatus: ReviewStatus;
  assignedTo: string | null;
  createdAt: string;
  score: PayoutScore;
}

const PAGE_SIZE = 25;

/** A page cursor: the last row's risk and id (riskiest first, then by id). */
function encodeCursor(risk: number, id: string): string {
  return Buffer.from(JSON.stringify([risk, id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string')
      return [value[0], value[1]];
  } catch {
    // a cursor that is not ours reads as the first page
  }
  return undefined;
}

/** Flagged and held payouts waiting for a decision (escalated ones included), riskiest first. */
export async function queuePage(
  db: Kysely<Database>,
  filter: QueueFilter,
): Promise<{ rows: QueueRow[]; nextCursor: string | null }> {
  let query = db
    .selectFrom('payouts as p')
    .innerJoin('fraud_scores as s', 's.payout_id', 'p.id')
    .leftJoin('payout_reviews as r', 'r.payout_id', 'p.id')
    .selectAll('s')
    .select([
      'p.amount',
      'p.currency',
      'p.status',
      'p.created_at',
      'r.status as review_status',
      'r.assigned_to',
    ])
    // A decided payout leaves flagged and held; an escalated one stays there.
    .where('p.status', 'in', IN_REVIEW);
  if (filter.status === 'escalated') query = query.where('r.status', '=', 'escalated');
  else if (filter.status)
    query = query
      .where('p.status', '=', filter.status)
      .where((eb) => eb.or([eb('r.status', 'is', null), eb('r.status', '=', 'pending')]));
  if (filter.reason) query = query.where(jsonArrayHasEntry(db, 's.reasons', 'code', filter.reason));
  if (filter.affiliate) query = query.where('p.affiliate_id', '=', filter.affiliate);
  if (filter.minScore !== undefined) query = query.where('s.risk', '>=', filter.minScore);
  if (filter.from) query = query.where('p.created_at', '>=', filter.from);
  if (filter.to) query = query.where('p.created_at', '<', filter.to);
  if (filter.campaign) {
    const campaign = filter.campaign;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('affiliate_events as e')
          .select('e.id')
          .where('e.type', '=', 'click')
          .where('e.campaign_id', '=', campaign)
          .whereRef('e.affiliate_id', '=', 'p.affiliate_id')
          .whereRef('e.ts', '>=', 'p.period_start')
          .whereRef('e.ts', '<', 'p.period_end'),
      ),
    );
  }
  const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
  if (after)
    query = query.where((eb) =>
      eb.or([eb('s.risk', '<', after[0]), eb.and([eb('s.risk', '=', after[0]), eb('p.id', '>', after[1])])]),
    );
  const rows = await query
    .orderBy('s.risk', 'desc')
    .orderBy('p.id')
    .limit(PAGE_SIZE + 1)
    .execute();
  const page = rows.slice(0, PAGE_SIZE).map((r) => ({
    payoutId: r.payout_id,
    affiliateId: r.affiliate_id,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    reviewStatus: (r.review_status ?? 'pending') as ReviewStatus,
    assignedTo: r.assigned_to,
    createdAt: r.created_at,
    score: toPayoutScore(r),
  }));
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > PAGE_SIZE && last ? encodeCursor(last.score.risk, last.payoutId) : null,
  };
}

/** How many payouts wait, by status, and the oldest one's request time. */
export async function queueCounts(
  db: Kysely<Database>,
): Promise<{ flagged: number; held: number; escalated: number; oldest: string | null }> {
  const state = sql<string>`case when r.status = 'escalated' then 'escalated' else p.status end`;
  const rows = await db
    .selectFrom('payouts as p')
    .leftJoin('payout_reviews as r', 'r.payout_id', 'p.id')
    .select([
      state.as('state'),
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.min('p.created_at').as('oldest'),
    ])
    .where('p.status', 'in', IN_REVIEW)
    .groupBy(state)
    .execute();
  const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
  const oldest = rows.map((r) => r.oldest).filter((o): o is string => typeof o === 'string');
  return {
    flagged: count('flagged'),
    held: count('held'),
    escalated: count('escalated'),
    oldest: oldest.length === 0 ? null : (oldest.sort()[0] ?? null),
  };
}

/** The reason codes given to payouts waiting now, for the Reason filter. */
export async function queueReasons(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('fraud_scores as s')
    .innerJoin('payouts as p', 'p.id', 's.payout_id')
    .select('s.reasons')
    .where('p.status', 'in', IN_REVIEW)
    .limit(5000)
    .execute();
  const codes = new Set<string>();
  for (const r of rows)
    for (const reason of JSON.parse(r.reasons) as { code: string }[]) codes.add(reason.code);
  return [...codes].sort();
}

/** Click-to-sale delays, in bins a person reads at a glance. */
export const DELAY_BINS = [
  { label: '< 10 s', upTo: 10 },
  { label: '10–60 s', upTo: 60 },
  { label: '1–10 min', upTo: 600 },
  { label: '10–60 min', upTo: 3600 },
  { label: '1–24 h', upTo: 86_400 },
  { label: '> 1 day', upTo: Number.POSITIVE_INFINITY },
] as const;

export interface Activity {
  /** Sales per delay bin (DELAY_BINS). */
  delays: number[];
  recent: {
    ts: string;
    type: string;
    /** A short keyed-hash prefix: rows of one IP look alike, the IP is not shown. */
    ip: string | null;
    country: string | null;
    device: string | null;
    amount: number | null;
    coupon: string | null;
  }[];
}

function device(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const ua = userAgent.toLowerCase();
  if (/bot|crawl|spider|headless|curl|python|wget/.test(ua)) return 'automation';
  if (ua.includes('iphone') || ua.includes('ipad')) return 'iOS';
  if (ua.includes('android')) return 'Android';
  if (ua.includes('windows')) return 'Windows';
  if (ua.includes('mac os')) return 'macOS';
  if (ua.includes('linux')) return 'Linux';
  return 'other';
}

/** The affiliate's clicks and sales in the payout's period: the delay histogram and the latest 20. */
export async function payoutActivity(
  db: Kysely<Database>,
  payout: { affiliateId: string; periodStart: string; periodEnd: string },
): Promise<Activity> {
  const inPeriod = db
    .selectFrom('affiliate_events as e')
    .where('e.affiliate_id', '=', payout.affiliateId)
    .where('e.ts', '>=', payout.periodStart)
    .where('e.ts', '<', payout.periodEnd);
  const [timed, recent] = await Promise.all([
    inPeriod
      .innerJoin('affiliate_events as k', (join) =>
        join.onRef('k.click_key', '=', 'e.click_key').on('k.type', '=', 'click'),
      )
      .select(['e.ts as sold', 'k.ts as clicked'])
      .where('e.type', '=', 'conversion')
      .limit(10_000)
      .execute(),
    inPeriod
      .select(['e.ts', 'e.type', 'e.ip_hash', 'e.country', 'e.user_agent', 'e.amount', 'e.coupon_code'])
      .orderBy('e.ts', 'desc')
      .limit(20)
      .execute(),
  ]);
  const delays = DELAY_BINS.map(() => 0);
  for (const t of timed) {
    const seconds = (Date.parse(t.sold) - Date.parse(t.clicked)) / 1000;
    if (!(seconds >= 0)) continue;
    const bin = DELAY_BINS.findIndex((b) => seconds < b.upTo);
    delays[bin] = (delays[bin] ?? 0) + 1;
  }
  return {
    delays,
    recent: recent.map((r) => ({
      ts: r.ts,
      type: r.type,
      ip: r.ip_hash ? r.ip_hash.slice(0, 8) : null,
      country: r.country,
      device: device(r.user_agent),
      amount: r.amount,
      coupon: r.coupon_code,
    })),
  };
}

/** The affiliate's other payouts, newest first, with their decisions. */
export async function earlierPayouts(db: Kysely<Database>, affiliateId: string, except: string) {
  return db
    .selectFrom('payouts as p')
    .leftJoin('payout_reviews as r', 'r.payout_id', 'p.id')
    .leftJoin('fraud_scores as s', 's.payout_id', 'p.id')
    .select([
      'p.id',
      'p.period_start',
      'p.period_end',
      'p.amount',
      'p.currency',
      'p.status',
      'r.status as review',
      'r.decided_by',
      's.risk',
    ])
    .where('p.affiliate_id', '=', affiliateId)
    .where('p.id', '!=', except)
    .orderBy('p.period_end', 'desc')
    .limit(10)
    .execute();
}
