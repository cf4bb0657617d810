import type { Selectable } from 'kysely';

/**
 * Per-minute aggregates the traffic detector reads instead of raw logs: one row per route, page or campaign and
 * minute. They hold no personal data (route templates, page routes, campaign ids and counts) and are pruned
 * after eight days, past the week-ago minutes a baseline looks back to.
 */
export interface TrafficMinutesTable {
  /** 'route' (server logs), 'page' (web vitals over the trailing two minutes) or 'campaign' (clicks). */
  kind: 'route' | 'page' | 'campaign';
  /** The service, the app or the campaign. */
  scope: string;
  /** The route template or the page route; '' for a campaign. */
  name: string;
  /** The minute's start, ISO UTC. */
  minute: string;
  /** Requests, page views with a vital, or clicks. */
  count: number;
  /** 5xx responses. */
  errors: number;
  p95: number | null;
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
