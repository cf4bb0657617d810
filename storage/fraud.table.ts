import type { Generated, Selectable } from 'kysely';

/** A fitted fraud model: the serialised forest and population quantiles per feature (JSON). */
export interface FraudModelsTable {
  version: Generated<number>;
  created_at: string;
  window_start: string;
  window_end: string;
  training_rows: number;
  /** JSON: feature names and the peer statistics of the training population (median, spread, quantiles). */
  features: string;
  /** JSON: the serialised isolation forest. */
  forest: string;
}

/** The score of one payout: risk, level, decision, reasons with evidence, and the model version. */
export interface FraudScoresTable {
  payout_id: string;
  affiliate_id: string;
  model_version: number | null;
  risk: number;
  model_score: number | null;
  level: 'low' | 'medium' | 'high';
  decision: 'approved' | 'flagged' | 'held';
  /** JSON array of reasons with their evidence. */
  reasons: string;
  /** JSON: the feature values scored, with their percentiles and contributions. */
  features: string;
  scored_at: string;
  /** The peer group the evidence compares with, in words; null without peers. */
  peers: string | null;
  /** Why the model's part is absent, when it is. */
  model_note: string | null;
}

export type FraudScoreRow = Selectable<FraudScoresTable>;
