// A decision as both the API and the review UI make it: the decision itself (`decisions.ts`), then its metrics,
// then a word to whoever waits for decisions (the webhook delivery), in one place.
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../storage/index.ts';
import { type Decision, decide, type PayoutView, type Reviewer } from './decisions.ts';
import { reviewMetrics } from './review-metrics.ts';

export interface DeciderOptions {
  secret: Buffer;
  registry: Registry;
  /** Called after each decision made (the server wakes the webhook delivery). */
  onDecision?: () => void;
}

export type Decide = (
  db: Kysely<Database>,
  input: { payoutId: string; decision: Decision; note?: string | null },
  reviewer: Reviewer,
  now: Date,
) => Promise<PayoutView>;

export function createDecider(options: DeciderOptions): Decide {
  const metrics = reviewMetrics(options.registry);
  return async (db, input, reviewer, now) => {
    const view = await decide(db, input, reviewer, { secret: options.secret, now });
    metrics.decisions.inc({ decision: input.decision });
    metrics.timeToDecision.observe(
      { decision: input.decision },
      Math.max(0, (now.getTime() - Date.parse(view.createdAt)) / 1000),
    );
    options.onDecision?.();
    return view;
  };
}
