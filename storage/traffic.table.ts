import type { Selectable } from 'kysely';

/**
 * Per-minute aggregates the traffic detector writes and reads instead of raw telemetry: one row per page or
 * campaign and minute. They hold no personal data (page routes, campaign ids and counts) and are pruned after
 * eight days, past the week-ago minutes a baseline looks back to.
 */
export interface TrafficMinutesTable {
  /** 'page' (web vitals over the trailing two minutes) or 'campaign' (clicks). */
  kind: 'page' | 'campaign';
  /** The app or the campaign. */
  scope: string;
  /** The page route; '' for a campaign. */
  name: string;
  /** The minute's start, ISO UTC. */
  minute: string;
  /** Page views with a vital, or clicks. */
  count: number;
  lcp_p75: number | null;
  inp_p75: number | null;
  cls_p75: number | null;
}

/** A traffic anomaly: one sustained degradation of one signal of one route or page. */
export interface AnomaliesTable {
  /** A digest of detector, target, signal and start: rerunning a window rewrites the same rows. */
  id: string;
  detector: string;
  target_kind: 'route' | 'page';
  /** The service or the app. */
  scope: string;
  /** The route template or the page route. */
  name: string;
  signal: string;
  start: string;
  end: string | null;
  observed: number;
  expected: number;
  lower: number;
  upper: number;
  severity: 'warning' | 'critical';
  campaign: string | null;
  updated_at: string;
}

export type AnomalyRow = Selectable<AnomaliesTable>;

/**
 * Requests of one log batch per minute, service and route template: what the traffic detector reads instead of
 * every request. Written by log ingestion in the same transaction as the logs; a minute's figures are the sum
 * of its rows (logs of one minute may come in many batches, late ones included). No personal data.
 */
export interface RouteMinuteBatchesTable {
  minute: string;
  service: string;
  route: string;
  count: number;
  errors: number;
  /** JSON: latency bucket index → requests (`latencyBucket`), sparse. */
  latency: string;
}

/** Latency buckets grow by this factor from 1 ms: a quantile read from them is within ±7 %. */
const BUCKET_GROWTH = 1.15;
const LOG_GROWTH = Math.log(BUCKET_GROWTH);
/** The last bucket holds everything from about 5 minutes on. */
const LAST_BUCKET = 100;

/** The bucket of a latency in ms. */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LAST_BUCKET, Math.floor(Math.log(ms) / LOG_GROWTH) + 1);
}

/** The value at quantile q of a bucketed latency distribution: the geometric middle of its bucket. */
export function bucketQuantile(buckets: Map<number, number>, q: number): number {
  let total = 0;
  for (const n of buckets.values()) total += n;
  if (total === 0) return 0;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (const index of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(index) as number;
    if (seen >= rank) return index === 0 ? 1 : BUCKET_GROWTH ** (index - 0.5);
  }
  return BUCKET_GROWTH ** LAST_BUCKET;
}
