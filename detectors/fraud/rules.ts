// Declarative rules and the assessment of one payout: rule reasons, the model's opinion, risk, level and
// decision. Pure functions: no I/O, no clock.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigFileError, readConfigFile } from '../../http/config-file.ts';
import { binomialLowerTail, binomialTail } from '../stats/index.ts';
import { type AffiliateFeatures, FEATURES, type FeatureName, type Support } from './features.ts';
import type { Contributions } from './isolation-forest.ts';
import { type FeatureStats, type PeerGroup, type PeerStats, peersOf, percentileOf } from './peers.ts';

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
  'PAID_SEARCH',
  'OFF_MARKET_CLICKS',
  'CHECKOUT_HIJACKING',
  'REPEAT_BUYERS',
  'DISPUTED_SALES',
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
  'previousCouponSales',
  'couponGeoConversions',
  'referredClicks',
  'geoClicks',
  'refundedOrders',
  'buyerSales',
  'peakDayClicks',
] as const satisfies (keyof Support)[];

const Condition = z
  .strictObject({
    /** Absolute floor: the value must exceed it. */
    above: z.number().optional(),
    /** Absolute ceiling: the value must stay under it. */
    below: z.number().optional(),
    /** The value must exceed the peers' median by this many robust deviations (1.4826 × MAD). */
    peersAbove: z.number().positive().optional(),
    /** The value must fall under the peers' median by this many robust deviations. */
    peersBelow: z.number().positive().optional(),
    /** The value must exceed this percentile of the peers. */
    percentileAbove: z.number().min(0).max(100).optional(),
    /** The value must fall under this percentile of the peers. */
    percentileBelow: z.number().min(0).max(100).optional(),
    /** The value must exceed this multiple of the peers' median. */
    ofMedianAbove: z.number().positive().optional(),
    /** The value must fall under this multiple of the peers' median. */
    ofMedianBelow: z.number().positive().optional(),
    /**
     * The value is a share of the support count `of`; the count it stands for must be unlikely (chance under
     * `alpha`) for a binomial draw at the peers' median rate. Above: that many or more, at the peers' median or
     * at `rate` where that is higher. Below: that few or fewer, at the peers' median (or `rate` without peers).
     * A share over a handful of events is noise; this asks whether the peers' rate could have produced it.
     */
    unlikely: z
      .strictObject({
        of: z.enum(SUPPORT_KEYS),
        rate: z.number().gt(0).lt(1),
        alpha: z.number().gt(0).lt(0.5),
      })
      .optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'a condition needs at least one bound')
  .refine(
    (c) =>
      (c.peersAbove === undefined && c.percentileAbove === undefined && c.ofMedianAbove === undefined) ||
      c.above !== undefined,
    // Peers who are all at 0 (no datacenter clicks, say) put any value above them: a floor keeps it sane.
    'a comparison above the peers needs an absolute floor (above) too',
  )
  .refine(
    (c) =>
      c.unlikely === undefined ||
      c.above !== undefined ||
      c.below !== undefined ||
      c.peersBelow !== undefined ||
      c.percentileBelow !== undefined ||
      c.ofMedianBelow !== undefined,
    'unlikely needs a bound to say which side is unlikely',
  );
type ConditionSpec = z.infer<typeof Condition>;

/** The evidence a rule, or one of its alternatives, needs before it speaks: a minimum per support count. */
const Minimum = z.partialRecord(z.enum(SUPPORT_KEYS), z.number().min(0));

/** All conditions must hold; an alternative may ask for more evidence than its rule (`minimum`). */
const Conjunction = z.strictObject({
  ...(Object.fromEntries(FEATURES.map((f) => [f, Condition.optional()])) as {
    [K in FeatureName]: z.ZodOptional<typeof Condition>;
  }),
  minimum: Minimum.optional(),
});
type ConjunctionSpec = z.infer<typeof Conjunction>;

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
      /** What the rule compares the affiliate with, and why: said to the analyst with the evidence. */
      compares: z.string().min(1),
      /** One set of conditions, or several of which any may hold. */
      when: z.union([Conjunction, z.array(Conjunction).min(1)]),
      minimum: Minimum.default({}),
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

const alternatives = (rule: RuleSpec) => (Array.isArray(rule.when) ? rule.when : [rule.when]);
const conditionsOf = (when: ConjunctionSpec) =>
  (Object.entries(when) as [FeatureName | 'minimum', unknown][]).filter(
    (entry): entry is [FeatureName, ConditionSpec] => entry[0] !== 'minimum' && entry[1] !== undefined,
  );
const enough = (minimum: z.infer<typeof Minimum> | undefined, support: Support) =>
  Object.entries(minimum ?? {}).every(([key, min]) => support[key as keyof Support] >= (min as number));

export function loadRules(file = path.join(HERE, 'rules.yaml')): RulesConfig {
  const parsed = readConfigFile(file, RulesFileSchema, (f, d) => new FraudConfigError(f, d));
  for (const [code, rule] of Object.entries(parsed.rules) as [ReasonCode, RuleSpec][]) {
    if (code === 'ANOMALOUS_PROFILE')
      throw new FraudConfigError(file, 'ANOMALOUS_PROFILE is the model: set it under model');
    if (alternatives(rule).some((when) => conditionsOf(when).length === 0))
      throw new FraudConfigError(file, `${code} has no conditions`);
  }
  return parsed;
}

/** One fact behind a reason: the affiliate's value, its peers' median, where it falls, and the bound it crossed. */
interface Evidence {
  feature: string;
  value: number;
  /** The peers' median, or null without peers. */
  peerMedian: number | null;
  /** The value's percentile among the peers (0–100), or null without peers. */
  percentile: number | null;
  /** The bound the value crossed (above or below it), or null for the model's evidence. */
  threshold: number | null;
  /** The peer group, in words. */
  peers: string | null;
  /** The comparison in plain words. */
  condition: string;
}

/** One reason a payout was flagged, with the values behind it. */
export interface Reason {
  code: ReasonCode;
  description: string;
  /** What the rule compares with and why. */
  compares: string;
  risk: number;
  hold: boolean;
  evidence: Evidence[];
}

/** The model's part in an assessment. */
export interface ModelOpinion {
  version: number;
  score: number;
  contributions: Contributions;
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

/** The peers of one affiliate, as the rules read them. */
interface Peers {
  name: string;
  group: PeerGroup;
}

/** The bound a condition sets for one value, or undefined when it needs peers that are not there. */
function bound(
  condition: ConditionSpec,
  stats: FeatureStats | undefined,
): { kind: 'above' | 'below'; threshold: number; words: string } | undefined {
  const kind =
    condition.above !== undefined ||
    condition.peersAbove !== undefined ||
    condition.percentileAbove !== undefined ||
    condition.ofMedianAbove !== undefined
      ? 'above'
      : 'below';
  const up = kind === 'above';
  const absolute = up ? condition.above : condition.below;
  const deviations = up ? condition.peersAbove : condition.peersBelow;
  const percentile = up ? condition.percentileAbove : condition.percentileBelow;
  const ofMedian = up ? condition.ofMedianAbove : condition.ofMedianBelow;
  const parts: { value: number; words: string }[] = [];
  if (absolute !== undefined)
    parts.push({ value: absolute, words: `${up ? 'at least' : 'at most'} ${absolute}` });
  if (stats && deviations !== undefined)
    parts.push({
      value: stats.median + (up ? 1 : -1) * deviations * stats.scale,
      words: `the peers' median ${round(stats.median)} ${up ? 'plus' : 'minus'} ${deviations} robust deviations of ${round(stats.scale)}`,
    });
  if (stats && percentile !== undefined)
    parts.push({
      value:
        stats.quantiles[Math.round(percentile)] ?? (up ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY),
      words: `the peers' ${percentile}th percentile`,
    });
  if (stats && ofMedian !== undefined)
    parts.push({
      value: ofMedian * stats.median,
      words: `${ofMedian} times the peers' median ${round(stats.median)}`,
    });
  if (parts.length === 0) return undefined;
  // The strictest bound decides; the words name every one.
  const strictest = parts.reduce((a, b) => ((up ? b.value > a.value : b.value < a.value) ? b : a));
  return { kind, threshold: round(strictest.value), words: parts.map((p) => p.words).join(', and ') };
}

/** The evidence of one set of conditions when every condition holds, else undefined. */
function holds(when: ConjunctionSpec, features: AffiliateFeatures, peers: Peers | undefined) {
  if (!enough(when.minimum, features.support)) return undefined;
  const evidence: Evidence[] = [];
  for (const [feature, condition] of conditionsOf(when)) {
    const stats = peers?.group.features[feature];
    const limit = bound(condition, stats);
    if (!limit) return undefined;
    const value = features.values[feature];
    if (limit.kind === 'above' ? !(value > limit.threshold) : !(value < limit.threshold)) return undefined;
    let chance = '';
    if (condition.unlikely) {
      const n = features.support[condition.unlikely.of];
      const k = Math.round(value * n);
      const rate =
        limit.kind === 'above'
          ? Math.max(condition.unlikely.rate, stats?.median ?? 0)
          : (stats?.median ?? condition.unlikely.rate);
      if (!(rate > 0 && rate < 1)) return undefined;
      const p = limit.kind === 'above' ? binomialTail(k, n, rate) : binomialLowerTail(k, n, rate);
      if (!(p < condition.unlikely.alpha)) return undefined;
      chance = `; ${k} of ${n}, where a rate of ${round(rate)} gives ${round(rate * n, 1)} (chance ${p.toExponential(1)})`;
    }
    const percentile = stats ? percentileOf(stats.quantiles, value) : null;
    evidence.push({
      feature,
      value: round(value),
      peerMedian: stats ? round(stats.median) : null,
      percentile,
      threshold: limit.threshold,
      peers: peers?.name ?? null,
      condition:
        `${round(value)} is ${limit.kind} ${limit.threshold} (${limit.words})${chance}` +
        (percentile === null ? '' : `; ${ordinal(percentile)} percentile of ${peers?.name}`),
    });
  }
  return evidence;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** Applies each rule whose minimum evidence is there, comparing with the affiliate's peers; returns those that fire. */
export function evaluateRules(config: RulesConfig, features: AffiliateFeatures, stats?: PeerStats): Reason[] {
  const peers = stats ? peersOf(stats, features.campaignId) : undefined;
  const reasons: Reason[] = [];
  for (const [code, rule] of Object.entries(config.rules) as [ReasonCode, RuleSpec][]) {
    if (!enough(rule.minimum, features.support)) continue;
    for (const when of alternatives(rule)) {
      const evidence = holds(when, features, peers);
      if (evidence) {
        reasons.push({
          code,
          description: rule.description,
          compares: rule.compares,
          risk: rule.risk,
          hold: rule.hold,
          evidence,
        });
        break;
      }
    }
  }
  return reasons;
}

/**
 * The assessment of one payout: every rule that fires, and the model when its score passes its threshold
 * (its evidence: the features that isolate the profile most, placed among the peers). Risk is the highest of
 * the reasons' risks and the model's score; a holding rule holds the payout, risk at the review threshold or
 * above flags it, the rest is approved.
 */
export function assess(
  config: RulesConfig,
  features: AffiliateFeatures,
  model: ModelOpinion | undefined,
  stats?: PeerStats,
): Assessment {
  const reasons = evaluateRules(config, features, stats);
  if (model && model.score >= config.model.threshold) {
    const peers = stats ? peersOf(stats, features.campaignId) : undefined;
    const top = Object.entries(model.contributions)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3) as [FeatureName, number][];
    reasons.push({
      code: 'ANOMALOUS_PROFILE',
      description: config.model.description,
      compares: 'The whole profile against the population the model was fitted on',
      risk: round(model.score),
      hold: false,
      evidence: top.map(([feature, share]): Evidence => {
        const featureStats = peers?.group.features[feature];
        const percentile = featureStats
          ? percentileOf(featureStats.quantiles, features.values[feature])
          : null;
        return {
          feature,
          value: round(features.values[feature]),
          peerMedian: featureStats ? round(featureStats.median) : null,
          percentile,
          threshold: null,
          peers: peers?.name ?? null,
          condition:
            `isolates the profile (${Math.round(share * 100)}% of the splits' weight)` +
            (percentile === null ? '' : `; ${ordinal(percentile)} percentile of ${peers?.name}`),
        };
      }),
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
