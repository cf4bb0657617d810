import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../http/logger.ts';
import type { Job } from '../../jobs/index.ts';
import { type EventJournal, readEvents, type Storage } from '../../storage/index.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import {
  affiliatePeriodFeatures,
  DatacenterRanges,
  type FraudModel,
  idleFeatures,
  MIN_TRAINING_ROWS,
  ModelCache,
  type PayoutScore,
  type PreviousDecision,
  periodFeatures,
  recordAssessment,
  type ScoringContext,
  trainFraudModel,
} from './detector.ts';
import { MIN_PEERS } from './peers.ts';
import { reviewQueueMetrics } from './review-metrics.ts';
import { loadRules, REASON_CODES, type RulesConfig } from './rules.ts';

export { type PayoutScore, toPayoutScore } from './detector.ts';

export { PayoutSchema } from './schemas.ts';

const DAY = 86_400_000;

/** Whether a model scores a period ending at `end`: its window ends no more than a day before. */
const covers = (model: FraudModel, end: Date): boolean => Date.parse(model.windowEnd) >= end.getTime() - DAY;

/** What a re-scoring run did. */
interface FraudRunSummary {
  periodStart: string;
  periodEnd: string;
  modelVersion: number | null;
  trained: boolean;
  affiliates: number;
  payouts: number;
  decisions: Record<'approved' | 'flagged' | 'held', number>;
}

/** The fraud detector as the app, the scheduler and the benchmarks use it. */
export interface FraudDetector {
  rules: RulesConfig;
  datacenter: DatacenterRanges;
  /** Scores a payout in its request: its affiliate's features in its period, the current model, the rules. */
  scorePayout(payout: PayoutRow): Promise<PayoutScore>;
  /** Fits a new model on the trailing window ending at `now` (default 30 days). */
  retrain(now: Date, windowDays?: number): Promise<FraudModel | undefined>;
  /** Re-scores every payout of a period (optionally fitting a model on that period first). */
  run(options: { start: Date; end: Date; retrain: boolean; now: Date }): Promise<FraudRunSummary>;
  currentModel(): Promise<FraudModel | undefined>;
  /** The scheduled jobs: retraining on the trailing window. */
  jobs(schedules: { fraudRetrain: string }): Job[];
}

export interface FraudDetectorOptions {
  storage: Storage;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  rulesFile?: string;
  /** The event journal, settled before affiliate events are read. */
  journal: EventJournal;
  /** How long a flagged or held payout may wait for a decision, shown beside the review queue's age. */
  reviewSlaSeconds?: number;
}

export function createFraudDetector(options: FraudDetectorOptions): FraudDetector {
  const { storage, registry, clock } = options;
  const rules = loadRules(options.rulesFile);
  const datacenter = DatacenterRanges.load();
  const models = new ModelCache();
  const registers = [registry];
  const flags = new Counter({
    name: 'vigil_fraud_flags_total',
    help: 'Reasons given for flagged or held payouts, by reason code.',
    labelNames: ['reason'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'vigil_fraud_decisions_total',
    help: 'Payout decisions of the detector (approved, flagged, held).',
    labelNames: ['decision'] as const,
    registers,
  });
  const riskHistogram = new Histogram({
    name: 'vigil_fraud_risk_score',
    help: 'Risk scores given to payouts (0-1).',
    buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers,
  });
  const scoring = new Histogram({
    name: 'vigil_fraud_scoring_duration_seconds',
    help: 'Time to score one payout in its request (features, model, rules, write).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  for (const reason of REASON_CODES) flags.inc({ reason }, 0);
  for (const decision of ['approved', 'flagged', 'held'] as const) decisions.inc({ decision }, 0);
  reviewQueueMetrics(registry, storage, clock, options.reviewSlaSeconds ?? 48 * 3600);
  new Gauge({
    name: 'vigil_fraud_model_age_seconds',
    help: 'Age of the newest fraud model, labelled by its version (absent until one is fitted).',
    labelNames: ['version'] as const,
    registers,
    async collect() {
      const model = await models.current(storage.db);
      this.reset();
      if (model)
        this.set(
          { version: String(model.version) },
          (clock().getTime() - Date.parse(model.createdAt)) / 1000,
        );
    },
  });
  /**
   * Counts a decision once: a re-score that keeps the decision counts nothing, one that changes it counts
   * under the new value; a flag counts the reasons it did not give before.
   */
  const count = (score: PayoutScore, previous: PreviousDecision | undefined) => {
    if (previous?.decision !== score.decision) decisions.inc({ decision: score.decision });
    if (score.decision === 'approved') return;
    const before = previous && previous.decision !== 'approved' ? new Set(previous.codes) : new Set<string>();
    for (const r of score.reasons) if (!before.has(r.code)) flags.inc({ reason: r.code });
  };

  const retrain: FraudDetector['retrain'] = async (now, windowDays = 30) => {
    const trained = await readEvents(options.journal, () =>
      trainFraudModel(
        storage,
        { start: new Date(now.getTime() - windowDays * DAY), end: now },
        now,
        datacenter,
      ),
    );
    return trained.model;
  };

  /** Cold starts in progress, by period: concurrent payouts of one period wait for one fit. */
  const fitting = new Map<string, Promise<ScoringContext>>();

  /**
   * What a payout of the period is scored against. A model whose window ends before the period's last day is
   * older than the data it scores: without a current one, a model is fitted on the period first (once, however
   * many payouts arrive together). A population too small for a model still gives the rules their peers, and
   * the score says why the model's part is absent.
   */
  const scoringContext = async (start: Date, end: Date): Promise<ScoringContext> => {
    const model = await models.current(storage.db);
    if (model && covers(model, end))
      return { model, peers: model.peers, salesCountries: model.salesCountries, note: null };
    const key = `${start.toISOString()}/${end.toISOString()}`;
    let pending = fitting.get(key);
    if (!pending) {
      pending = (async (): Promise<ScoringContext> => {
        const fitted = await trainFraudModel(storage, { start, end }, clock(), datacenter);
        const { salesCountries } = fitted;
        if (fitted.model)
          return { model: fitted.model, peers: fitted.model.peers, salesCountries, note: null };
        const population = `${fitted.population} affiliates were active in the period, and a model needs ${MIN_TRAINING_ROWS}`;
        if (model) {
          return {
            model,
            peers: model.peers,
            salesCountries,
            note: `model ${model.version} was fitted on data up to ${model.windowEnd}, before this period: ${population}`,
          };
        }
        return {
          model: undefined,
          peers: fitted.peers,
          salesCountries,
          note: fitted.peers
            ? `no model yet: ${population}; the rules compared the affiliate with those ${fitted.population}`
            : `no model yet: ${population}, and the rules need ${MIN_PEERS} to compare with; only their absolute bounds applied`,
        };
      })().finally(() => fitting.delete(key));
      fitting.set(key, pending);
    }
    return pending;
  };

  return {
    rules,
    datacenter,
    jobs: (schedules) => [
      {
        name: 'fraud.retrain',
        schedule: schedules.fraudRetrain,
        leaseMs: 30 * 60 * 1000,
        run: async (now) => ({ modelVersion: (await retrain(now))?.version ?? null }),
      },
    ],
    currentModel: () => models.current(storage.db),
    async scorePayout(payout) {
      const started = performance.now();
      const start = new Date(payout.period_start);
      const end = new Date(payout.period_end);
      // The context first: one affiliate's events do not say which countries the programme sells in.
      const { features, context } = await readEvents(options.journal, async () => {
        const context = await scoringContext(start, end);
        const features = await affiliatePeriodFeatures(
          storage,
          payout.affiliate_id,
          start,
          end,
          datacenter,
          context.salesCountries,
        );
        return { features, context };
      });
      const { score, previous } = await recordAssessment(
        storage.db,
        payout,
        features,
        context,
        rules,
        clock(),
      );
      count(score, previous);
      riskHistogram.observe(score.risk);
      scoring.observe((performance.now() - started) / 1000);
      return score;
    },
    retrain,
    async run({ start, end, retrain, now }) {
      // Everything below reads affiliate events: one settle serves the whole run.
      await options.journal.settle();
      let context: ScoringContext;
      let trained = false;
      const current = await models.current(storage.db);
      if (retrain || !current || !covers(current, end)) {
        const fitted = await trainFraudModel(storage, { start, end }, now, datacenter);
        trained = fitted.model !== undefined;
        const model = fitted.model ?? current;
        context = {
          model,
          peers: model?.peers ?? fitted.peers,
          salesCountries: fitted.salesCountries,
          note: fitted.model
            ? null
            : `${fitted.population} affiliates were active in the period, and a model needs ${MIN_TRAINING_ROWS}`,
        };
      } else {
        context = {
          model: current,
          peers: current.peers,
          salesCountries: current.salesCountries,
          note: null,
        };
      }
      const model = context.model;
      const features = new Map(
        (await periodFeatures(storage, start, end, datacenter)).map((f) => [f.affiliateId, f]),
      );
      const payouts = await storage.db
        .selectFrom('payouts')
        .selectAll()
        .where('period_start', '>=', start.toISOString())
        .where('period_end', '<=', end.toISOString())
        .execute();
      const summary: FraudRunSummary = {
        periodStart: start.toISOString(),
        periodEnd: end.toISOString(),
        modelVersion: model?.version ?? null,
        trained,
        affiliates: features.size,
        payouts: payouts.length,
        decisions: { approved: 0, flagged: 0, held: 0 },
      };
      for (const payout of payouts) {
        // A payout for exactly this period reuses the period's features; another span is loaded on its own.
        const own =
          payout.period_start === start.toISOString() && payout.period_end === end.toISOString()
            ? (features.get(payout.affiliate_id) ?? idleFeatures(payout.affiliate_id))
            : await affiliatePeriodFeatures(
                storage,
                payout.affiliate_id,
                new Date(payout.period_start),
                new Date(payout.period_end),
                datacenter,
                context.salesCountries,
              );
        const { score, previous } = await recordAssessment(storage.db, payout, own, context, rules, now);
        summary.decisions[score.decision] += 1;
        count(score, previous);
        riskHistogram.observe(score.risk);
      }
      return summary;
    },
  };
}
