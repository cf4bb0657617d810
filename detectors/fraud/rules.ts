// Declarative rules and the assessment of one payout: rule reasons, the model's opinion, risk, level and
// decision. Pure functions: no I/O, no clock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigFileError, readConfigFile } from '../../http/config-file.ts';
import { type AffiliateFeatures, FEATURES, type FeatureName, type Support } from './features.ts';
import type { Contributions } from './isolation-forest.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const REASON_CODES = [
  'CLICK_INJECTION',
  'CLICK_SPAMMING',
  'DATACENTER_TRAFFIC',
  'BOT_USER_AGENTS',
  'COUPON_LEAKAGE',
  'SELF_REFERRAL',
  'REFUND_ABUSE',
  'VELOCITY_SPIKE',
  'GEO_MISMATCH',
  'ANOMALOUS_PROFILE',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

const SUPPORT_KEYS = [
  'clicks',
  'conversions',
  'timedConversions',
  'couponConversions',
  'geoConversions',
  'previousClicks',
] as const satisfies (keyof Support)[];

const Condition = z
  .strictObject({ above: z.number().optional(), below: z.number().optional() })
  .refine((c) => c.above !== undefined || c.below !== undefined, 'a condition needs above or below');

const RulesFileSchema = z.strictObject({
  reviewThreshold: z.number().min(0).max(1),
  model: z.strictObject({
    code: z.literal('ANOMALOUS_PROFILE'),
    description: z.string().min(1),
    threshold: z.number().min(0).max(1),
  }),
  rules: z.partialRecord(
    z.enum(REASON_CODES),
    z.strictObject({
      description: z.string().min(1),
      when: z.partialRecord(z.enum(FEATURES), Condition),
      minimum: z.partialRecord(z.enum(SUPPORT_KEYS), z.number().min(0)).default({}),
      risk: z.number().min(0).max(1),
      hold: z.boolean().default(false),
    }),
  ),
});

export type RulesConfig = z.infer<typeof RulesFileSchema>;
type RuleSpec = NonNullable<RulesConfig['rules'][ReasonCode]>;

/** Thrown when the rules file is invalid; the start stops with its message. */
class FraudConfigError extends ConfigFileError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'FraudConfigError';
  }
}

export function loadRules(file = path.join(HERE, 'rules.yaml')): RulesConfig {
  const parsed = readConfigFile(file, RulesFileSchema, (f, d) => new FraudConfigError(f, d));
  for (const [code, rule] of Object.entries(parsed.rules) as [ReasonCode, RuleSpec][]) {
    if (code === 'ANOMALOUS_PROFILE')
      throw new FraudConfigError(file, 'ANOMALOUS_PROFILE is the model: set it under model');
    if (Object.keys(rule.when).length === 0) throw new FraudConfigError(file, `${code} has no conditions`);
  }
  return parsed;
}

/** One reason a payout was flagged, with the values behind it. */
export interface Reason {
  code: ReasonCode;
  description: string;
  risk: number;
  hold: boolean;
  evidence: { feature: string; value: number; condition: string; percentile: number | null }[];
}

/** The model's part in an assessment. */
export interface ModelOpinion {
  version: number;
  score: number;
  contributions: Contributions;
  /** Per feature, its percentile (0–100) in the model's population. */
  percentiles: Partial<Record<FeatureName, number>>;
}

export interface Assessment {
  risk: number;
  level: 'low' | 'medium' | 'high';
  decision: 'approved' | 'flagged' | 'held';
  reasons: Reason[];
  modelVersion: number | null;
  modelScore: number | null;
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

/** Applies each rule whose minimum evidence is there; returns the rules that fire. */
export function evaluateRules(
  config: RulesConfig,
  features: AffiliateFeatures,
  percentiles: Partial<Record<FeatureName, number>> = {},
): Reason[] {
  const reasons: Reason[] = [];
  for (const [code, rule] of Object.entries(config.rules) as [ReasonCode, RuleSpec][]) {
    const enough = Object.entries(rule.minimum).every(
      ([key, min]) => features.support[key as keyof Support] >= (min as number),
    );
    if (!enough) continue;
    const evidence: Reason['evidence'] = [];
    let fires = true;
    for (const [feature, condition] of Object.entries(rule.when) as [
      FeatureName,
      z.infer<typeof Condition>,
    ][]) {
      const value = features.values[feature];
      const holds =
        (condition.above === undefined || value > condition.above) &&
        (condition.below === undefined || value < condition.below);
      if (!holds) {
        fires = false;
        break;
      }
      evidence.push({
        feature,
        value: round(value),
        condition: [
          condition.above === undefined ? '' : `> ${condition.above}`,
          condition.below === undefined ? '' : `< ${condition.below}`,
        ]
          .filter(Boolean)
          .join(' and '),
        percentile: percentiles[feature] ?? null,
      });
    }
    if (fires)
      reasons.push({ code, description: rule.description, risk: rule.risk, hold: rule.hold, evidence });
  }
  return reasons;
}

/**
 * The assessment of one payout: every rule that fires, and the model when its score passes its threshold
 * (its evidence: the features that isolate the profile most, with their percentiles). Risk is the highest of
 * the reasons' risks and the model's score; a holding rule holds the payout, risk at the review threshold or
 * above flags it, the rest is approved.
 */
export function assess(
  config: RulesConfig,
  features: AffiliateFeatures,
  model: ModelOpinion | undefined,
): Assessment {
  const reasons = evaluateRules(config, features, model?.percentiles);
  if (model && model.score >= config.model.threshold) {
    const top = Object.entries(model.contributions)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3) as [FeatureName, number][];
    reasons.push({
      code: 'ANOMALOUS_PROFILE',
      description: config.model.description,
      risk: round(model.score),
      hold: false,
      evidence: top.map(([feature, share]) => ({
        feature,
        value: round(features.values[feature]),
        condition: `isolates the profile (${Math.round(share * 100)}% of the splits' weight)`,
        percentile: model.percentiles[feature] ?? null,
      })),
    });
  }
  const risk = round(Math.max(model?.score ?? 0, ...reasons.map((r) => r.risk)));
  const decision = reasons.some((r) => r.hold)
    ? 'held'
    : risk >= config.reviewThreshold
      ? 'flagged'
      : 'approved';
  return {
    risk,
    level: risk >= 0.75 ? 'high' : risk >= 0.5 ? 'medium' : 'low',
    decision,
    reasons: reasons.sort((a, b) => b.risk - a.risk),
    modelVersion: model?.version ?? null,
    modelScore: model ? round(model.score) : null,
  };
}

/** Population quantiles (0th … 100th) of each feature, for percentiles without keeping any affiliate's row. */
export function populationQuantiles(rows: AffiliateFeatures[]): Record<FeatureName, number[]> {
  const result = {} as Record<FeatureName, number[]>;
  for (const feature of FEATURES) {
    const values = rows.map((r) => r.values[feature]).sort((a, b) => a - b);
    result[feature] = Array.from({ length: 101 }, (_, q) => {
      if (values.length === 0) return 0;
      const at = (q / 100) * (values.length - 1);
      const lo = Math.floor(at);
      const hi = Math.ceil(at);
      return round((values[lo] as number) + ((values[hi] as number) - (values[lo] as number)) * (at - lo), 6);
    });
  }
  return result;
}

/** Where a value falls among the population's quantiles, 0–100. */
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
