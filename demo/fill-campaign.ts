// Fills a Vigil with one simulated influencer campaign, the way a marketplace would: the creators, their clicks,
// sales and refunds, a fraud model fitted on the period, then one payout request per creator, each scored as
// it arrives. What comes back is what the fraud analysts' review queue now holds.
import { type Creator, simulateCreatorCampaign } from './creator-campaign.ts';
import type { VigilClient } from './vigil-client.ts';

/** The keys a fill needs: an ingest key for the data and payouts, an admin key to fit the model. */
export interface FillKeys {
  admin: string;
  ingest: string;
}

export interface FillOptions {
  seed: number;
  /** The payout period; the last full calendar month (UTC) by default. */
  periodStart?: Date;
  periodEnd?: Date;
}

/** A payout the detector sent to review (flagged) or stopped (held). */
interface ReviewItem {
  payoutId: string;
  creator: string;
  /** The commission asked for, in EUR. */
  amount: number;
  decision: 'flagged' | 'held';
  risk: number;
  reasons: string[];
}

/** What a fill sent and what the detector decided. */
export interface FillSummary {
  periodStart: Date;
  periodEnd: Date;
  creators: Creator[];
  events: number;
  decisions: Record<'approved' | 'flagged' | 'held', number>;
  /** Flagged and held payouts, riskiest first. */
  review: ReviewItem[];
  seconds: number;
}

/** At most this many items per batch: Vigil's default `VIGIL_INGEST_MAX_BATCH_ITEMS`. */
const BATCH = 1000;

/** The last full calendar month before `now`, in UTC. */
export function lastMonth(now: Date): { start: Date; end: Date } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { start, end };
}

interface ScoredPayout {
  id: string;
  score: { decision: 'approved' | 'flagged' | 'held'; risk: number; reasons: { code: string }[] } | null;
}

export async function fillCampaign(
  client: VigilClient,
  keys: FillKeys,
  options: FillOptions,
): Promise<FillSummary> {
  const started = performance.now();
  const month = lastMonth(new Date());
  const campaign = simulateCreatorCampaign({
    seed: options.seed,
    periodStart: options.periodStart ?? month.start,
    periodEnd: options.periodEnd ?? month.end,
  });
  const periodStart = campaign.periodStart.toISOString();
  const periodEnd = campaign.periodEnd.toISOString();

  for (let i = 0; i < campaign.creators.length; i += BATCH) {
    const affiliates = campaign.creators
      .slice(i, i + BATCH)
      .map(({ id, name, couponCodes, subjectId }) => ({ id, name, couponCodes, subjectId }));
    await client.send('POST', '/v1/affiliates', keys.ingest, { affiliates });
  }
  for (let i = 0; i < campaign.events.length; i += BATCH) {
    await client.send('POST', '/v1/events', keys.ingest, { events: campaign.events.slice(i, i + BATCH) });
  }
  await client.send('POST', '/v1/detectors/fraud/run', keys.admin, { periodStart, periodEnd, retrain: true });

  const decisions = { approved: 0, flagged: 0, held: 0 };
  const review: ReviewItem[] = [];
  for (const creator of campaign.creators) {
    const payout = await client.send<ScoredPayout>('POST', '/v1/payouts', keys.ingest, {
      id: `payout-${creator.id}-${periodStart.slice(0, 7)}`,
      affiliateId: creator.id,
      periodStart,
      periodEnd,
      amount: creator.commission,
      currency: 'EUR',
    });
    if (!payout.score)
      throw new Error(`payout ${payout.id} came back without a fraud score: see Vigil's log`);
    const { decision, risk, reasons } = payout.score;
    decisions[decision] += 1;
    if (decision !== 'approved')
      review.push({
        payoutId: payout.id,
        creator: creator.name,
        amount: creator.commission,
        decision,
        risk,
        reasons: reasons.map((r) => r.code),
      });
  }
  review.sort((a, b) => b.risk - a.risk);
  return {
    periodStart: campaign.periodStart,
    periodEnd: campaign.periodEnd,
    creators: campaign.creators,
    events: campaign.events.length,
    decisions,
    review,
    seconds: (performance.now() - started) / 1000,
  };
}
