import { Counter, Histogram, type Registry } from 'prom-client';
import { DECISIONS } from './decisions.ts';

/** Analysts' decisions: how many, and how long payouts waited for them. */
export interface ReviewMetrics {
  decisions: Counter<'decision'>;
  timeToDecision: Histogram<'decision'>;
}

const cache = new WeakMap<Registry, ReviewMetrics>();

export function reviewMetrics(registry: Registry): ReviewMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const metrics: ReviewMetrics = {
    decisions: new Counter({
      name: 'vigil_review_decisions_total',
      help: "Analysts' decisions on payouts in review, by decision (approve, reject, escalate).",
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
    timeToDecision: new Histogram({
      name: 'vigil_review_time_to_decision_seconds',
      help: 'From a payout request to the decision on it, by decision.',
      labelNames: ['decision'] as const,
      buckets: [300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 72 * 3600, 7 * 86400],
      registers: [registry],
    }),
  };
  for (const decision of DECISIONS) {
    metrics.decisions.inc({ decision }, 0);
    metrics.timeToDecision.zero({ decision });
  }
  cache.set(registry, metrics);
  return metrics;
}
