// The peers an affiliate is compared with: per feature, the median, a robust spread (1.4826 × MAD, which is
// the standard deviation for normal data and barely moves when a minority is extreme) and the quantiles, of
// the whole period's population and of each campaign with enough affiliates. Pure functions; the model
// stores these beside its forest, so no affiliate's row is kept.
import { quantile, robust } from '../stats/index.ts';
import { type AffiliateFeatures, FEATURES, type FeatureName } from './features.ts';

/** One feature's distribution among peers. */
export interface FeatureStats {
  median: number;
  /** 1.4826 × the median absolute deviation. */
  scale: number;
  /** The 0th … 100th percentiles. */
  quantiles: number[];
}

/** A peer group: how many affiliates, and each feature's distribution among them. */
export interface PeerGroup {
  size: number;
  features: Record<FeatureName, FeatureStats>;
}

export interface PeerStats {
  population: PeerGroup;
  /** Per campaign with at least MIN_CAMPAIGN_PEERS affiliates. */
  campaigns: Record<string, PeerGroup>;
}

/** A campaign with fewer affiliates than this is compared with the whole population instead. */
const MIN_CAMPAIGN_PEERS = 12;
/** Fewer affiliates than this, and there are no peers to compare with. */
export const MIN_PEERS = 5;

const round = (x: number) => Number(x.toPrecision(6));

function featureStats(values: number[]): FeatureStats {
  const sorted = [...values].sort((a, b) => a - b);
  const { median, scale } = robust(sorted, true);
  return {
    median: round(median),
    scale: round(scale),
    quantiles: Array.from({ length: 101 }, (_, q) => round(quantile(sorted, q / 100))),
  };
}

function peerGroup(rows: AffiliateFeatures[]): PeerGroup {
  const features = {} as Record<FeatureName, FeatureStats>;
  for (const f of FEATURES) features[f] = featureStats(rows.map((r) => r.values[f]));
  return { size: rows.length, features };
}

/** The peer statistics of a period's population, or undefined when it is too small to compare with. */
export function peerStats(rows: AffiliateFeatures[]): PeerStats | undefined {
  if (rows.length < MIN_PEERS) return undefined;
  const byCampaign = new Map<string, AffiliateFeatures[]>();
  for (const row of rows) {
    if (row.campaignId === null) continue;
    const members = byCampaign.get(row.campaignId) ?? [];
    members.push(row);
    byCampaign.set(row.campaignId, members);
  }
  const campaigns: Record<string, PeerGroup> = {};
  for (const [id, members] of byCampaign)
    if (members.length >= MIN_CAMPAIGN_PEERS) campaigns[id] = peerGroup(members);
  return { population: peerGroup(rows), campaigns };
}

/** The group an affiliate is compared with: its campaign's when that is large enough, else everyone. */
export function peersOf(stats: PeerStats, campaignId: string | null): { name: string; group: PeerGroup } {
  const campaign = campaignId === null ? undefined : stats.campaigns[campaignId];
  return campaign
    ? { name: `the ${campaign.size} affiliates of campaign ${campaignId}`, group: campaign }
    : { name: `all ${stats.population.size} affiliates of the period`, group: stats.population };
}

/** Where a value falls among the quantiles, 0–100 (ties count half). */
export function percentileOf(quantiles: number[], value: number): number {
  if (quantiles.length === 0) return 50;
  let below = 0;
  let equal = 0;
  for (const q of quantiles) {
    if (q < value) below += 1;
    else if (q === value) equal += 1;
  }
  return Math.round(((below + equal / 2) / quantiles.length) * 100);
}
