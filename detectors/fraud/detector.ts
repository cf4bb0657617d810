// The I/O around the fraud detector: loading a period's events, training and storing models, scoring payouts
// and recording their decisions.
import type { Kysely } from 'kysely';
import type { FraudScoreRow } from '../../storage/fraud.table.ts';
import type { Database, Storage } from '../../storage/index.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import {
  type AffiliateFeatures,
  computeFeatures,
  DatacenterRanges,
  FEATURES,
  modelInput,
  type PeriodEvents,
} from './features.ts';
import { IsolationForest, type SerializedForest, toMatrix } from './isolation-forest.ts';
import { type PeerStats, peerStats, peersOf, percentileOf } from './peers.ts';
import { loadPeriodEvents, loadPeriodEventsSqlite, type PeriodRange } from './period-events.ts';
import { type Assessment, assess, type ModelOpinion, type RulesConfig } from './rules.ts';

/**
 * The period's events: over the SQLite connection in one synchronous pass under Kysely's connection lock, or
 * through Kysely on PostgreSQL.
 */
function periodEvents(storage: Storage, range: PeriodRange): Promise<PeriodEvents> {
  if (storage.kind === 'postgres') return loadPeriodEvents(storage.db, range);
  const { sqlite } = storage;
  return storage.db.connection().execute(async () => loadPeriodEventsSqlite(sqlite, range));
}

/** Features of every affiliate active in a period. */
export async function periodFeatures(storage: Storage, start: Date, end: Date, datacenter: DatacenterRanges) {
  return computeFeatures(await periodEvents(storage, { start, end }), datacenter);
}

/** Fewer affiliates than this, and no model is fitted: a population too small to compare against. */
export const MIN_TRAINING_ROWS = 20;

/** A fitted model as scoring uses it: the forest, and the peer statistics of the population it was fitted on. */
export interface FraudModel {
  version: number;
  createdAt: string;
  windowStart: string;
  windowEnd: string;
  forest: IsolationForest;
  peers: PeerStats;
  /** The countries the population it was fitted on bought from (`salesCountriesOf`). */
  salesCountries: ReadonlySet<string>;
}

/**
 * Affiliates an analyst rejected a payout of in the window: confirmed fraud, left out of the population a model
 * learns what is usual from. An approved flag stays in it, as an honest example.
 */
async function rejectedAffiliates(
  db: Kysely<Database>,
  window: { start: Date; end: Date },
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('payout_reviews as r')
    .innerJoin('payouts as p', 'p.id', 'r.payout_id')
    .select('p.affiliate_id')
    .where('r.status', '=', 'rejected')
    .where('p.period_end', '>', window.start.toISOString())
    .where('p.period_start', '<', window.end.toISOString())
    .distinct()
    .execute();
  return new Set(rows.map((r) => r.affiliate_id));
}

/**
 * Fits a model on the features of every affiliate active in the window and stores it (parameters and the
 * population's peer statistics only) as the next version; affiliates whose payouts analysts rejected are left
 * out (labels from the review). With fewer than MIN_TRAINING_ROWS affiliates no model is fitted; the
 * population is returned for the rules to compare with.
 */
export async function trainFraudModel(
  storage: Storage,
  window: { start: Date; end: Date },
  now: Date,
  datacenter: DatacenterRanges,
  seed = 1,
): Promise<{
  model: FraudModel | undefined;
  population: number;
  peers: PeerStats | undefined;
  salesCountries: ReadonlySet<string>;
}> {
  const rejected = await rejectedAffiliates(storage.db, window);
  const events = await periodEvents(storage, window);
  const salesCountries = events.salesCountries ?? new Set<string>();
  const rows = computeFeatures(events, datacenter).filter((r) => !rejected.has(r.affiliateId));
  const peers = peerStats(rows);
  if (rows.length < MIN_TRAINING_ROWS || !peers)
    return { model: undefined, population: rows.length, peers, salesCountries };
  const forest = IsolationForest.fit(toMatrix(rows.map((r) => modelInput(r.values))), {
    seed,
    featureNames: FEATURES,
  });
  const inserted = await storage.db
    .insertInto('fraud_models')
    .values({
      created_at: now.toISOString(),
      window_start: window.start.toISOString(),
      window_end: window.end.toISOString(),
      training_rows: rows.length,
      features: JSON.stringify({ names: FEATURES, peers, salesCountries: [...salesCountries].sort() }),
      forest: JSON.stringify(forest.toJSON()),
    })
    .returning('version')
    .executeTakeFirstOrThrow();
  const model: FraudModel = {
    version: inserted.version,
    createdAt: now.toISOString(),
    windowStart: window.start.toISOString(),
    windowEnd: window.end.toISOString(),
    forest,
    peers,
    salesCountries,
  };
  return { model, population: rows.length, peers, salesCountries };
}

/** The newest stored model, parsed once per version. */
export class ModelCache {
  private model: FraudModel | undefined;

  async current(db: Kysely<Database>): Promise<FraudModel | undefined> {
    const latest = await db
      .selectFrom('fraud_models')
      .select('version')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!latest) return undefined;
    if (this.model?.version === latest.version) return this.model;
    const row = await db
      .selectFrom('fraud_models')
      .selectAll()
      .where('version', '=', latest.version)
      .executeTakeFirstOrThrow();
    const features = JSON.parse(row.features) as {
      names: string[];
      peers?: PeerStats;
      salesCountries?: string[];
    };
    // A model fitted on another feature set (before an upgrade) cannot score today's vectors: none is usable.
    if (!features.peers || features.names.join() !== FEATURES.join()) return undefined;
    this.model = {
      version: row.version,
      createdAt: row.created_at,
      windowStart: row.window_start,
      windowEnd: row.window_end,
      forest: IsolationForest.fromJSON(JSON.parse(row.forest) as SerializedForest),
      peers: features.peers,
      salesCountries: new Set(features.salesCountries ?? []),
    };
    return this.model;
  }
}

/** The model's opinion of one affiliate's features: score and contributions. */
export function modelOpinion(model: FraudModel, features: AffiliateFeatures): ModelOpinion {
  const input = modelInput(features.values);
  return {
    version: model.version,
    score: model.forest.score(input),
    contributions: model.forest.explain(input),
  };
}

/** The features of an affiliate with no activity in the period. */
export function idleFeatures(affiliateId: string): AffiliateFeatures {
  return {
    affiliateId,
    campaignId: null,
    values: Object.fromEntries(FEATURES.map((f) => [f, 0])) as AffiliateFeatures['values'],
    support: {
      clicks: 0,
      conversions: 0,
      timedConversions: 0,
      couponConversions: 0,
      geoConversions: 0,
      previousClicks: 0,
      previousCouponSales: 0,
      couponGeoConversions: 0,
      referredClicks: 0,
      geoClicks: 0,
      refundedOrders: 0,
      buyerSales: 0,
      peakDayClicks: 0,
    },
  };
}

/** A payout's stored score as the API shows it. */
export interface PayoutScore {
  risk: number;
  level: Assessment['level'];
  decision: Assessment['decision'];
  modelVersion: number | null;
  modelScore: number | null;
  reasons: Assessment['reasons'];
  features: Record<string, { value: number; percentile: number | null; contribution: number | null }>;
  /** The peer group the evidence compares with, in words; null without peers. */
  peers: string | null;
  /** Why the model's part is absent, when it is. */
  modelNote: string | null;
  scoredAt: string;
}

export function toPayoutScore(row: FraudScoreRow): PayoutScore {
  return {
    risk: row.risk,
    level: row.level,
    decision: row.decision,
    modelVersion: row.model_version,
    modelScore: row.model_score,
    reasons: JSON.parse(row.reasons),
    features: JSON.parse(row.features),
    peers: row.peers,
    modelNote: row.model_note,
    scoredAt: row.scored_at,
  };
}

/**
 * Payout statuses the detector may still change; a paid or rejected payout keeps its status, and so does one
 * an analyst has decided or escalated.
 */
const RESCORABLE = ['pending', 'approved', 'flagged', 'held'];

/** What a payout is scored against: the model (if any), the peers, and why the model is absent. */
export interface ScoringContext {
  model: FraudModel | undefined;
  peers: PeerStats | undefined;
  /** The countries the programme sells in, as the model or the population compared with saw them. */
  salesCountries: ReadonlySet<string> | undefined;
  /** Why the model's part is absent or dated; null when a current model scored. */
  note: string | null;
}

/** A payout's previous decision and the reason codes it gave, for counting changes only. */
export interface PreviousDecision {
  decision: Assessment['decision'];
  codes: string[];
}

/**
 * Assesses one payout from its affiliate's features and records the score; moves the payout to the decision
 * (approved, flagged, held) unless a person has already settled it. Returns the score it replaced, if any.
 */
export async function recordAssessment(
  db: Kysely<Database>,
  payout: Pick<PayoutRow, 'id' | 'affiliate_id' | 'status'>,
  features: AffiliateFeatures,
  context: ScoringContext,
  rules: RulesConfig,
  now: Date,
): Promise<{ assessment: Assessment; score: PayoutScore; previous: PreviousDecision | undefined }> {
  const opinion = context.model ? modelOpinion(context.model, features) : undefined;
  const assessment = assess(rules, features, opinion, context.peers);
  const peers = context.peers ? peersOf(context.peers, features.campaignId) : undefined;
  const evidence: PayoutScore['features'] = {};
  for (const f of FEATURES) {
    const stats = peers?.group.features[f];
    evidence[f] = {
      value: Number(features.values[f].toFixed(6)),
      percentile: stats ? percentileOf(stats.quantiles, features.values[f]) : null,
      contribution: opinion ? Number((opinion.contributions[f] ?? 0).toFixed(4)) : null,
    };
  }
  const row: FraudScoreRow = {
    payout_id: payout.id,
    affiliate_id: payout.affiliate_id,
    model_version: assessment.modelVersion,
    risk: assessment.risk,
    model_score: assessment.modelScore,
    level: assessment.level,
    decision: assessment.decision,
    reasons: JSON.stringify(assessment.reasons),
    features: JSON.stringify(evidence),
    scored_at: now.toISOString(),
    peers: peers?.name ?? null,
    model_note: context.note,
  };
  const previous = await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('fraud_scores')
      .select(['decision', 'reasons'])
      .where('payout_id', '=', payout.id)
      .executeTakeFirst();
    await trx
      .insertInto('fraud_scores')
      .values(row)
      .onConflict((oc) => oc.column('payout_id').doUpdateSet({ ...row }))
      .execute();
    if (RESCORABLE.includes(payout.status)) {
      await trx
        .updateTable('payouts')
        .set({ status: assessment.decision, updated_at: now.toISOString() })
        .where('id', '=', payout.id)
        .where('status', 'in', RESCORABLE)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('payout_reviews')
                .select('payout_id')
                .where('payout_id', '=', payout.id)
                .where('status', '!=', 'pending'),
            ),
          ),
        )
        .execute();
    }
    await trx
      .insertInto('payout_events')
      .values({
        payout_id: payout.id,
        at: now.toISOString(),
        kind: 'scored',
        actor: 'fraud-detector',
        detail: JSON.stringify({
          risk: assessment.risk,
          decision: assessment.decision,
          reasons: assessment.reasons.map((r) => r.code),
          modelVersion: assessment.modelVersion,
        }),
        note: null,
      })
      .execute();
    return before;
  });
  return {
    assessment,
    score: toPayoutScore(row),
    previous: previous && {
      decision: previous.decision,
      codes: (JSON.parse(previous.reasons) as { code: string }[]).map((r) => r.code),
    },
  };
}

/**
 * Features of one affiliate in a payout's period, loaded by index; `market` is the set of countries the
 * programme sells in (the scoring context's), which one affiliate's events cannot give.
 */
export async function affiliatePeriodFeatures(
  storage: Storage,
  affiliateId: string,
  start: Date,
  end: Date,
  datacenter: DatacenterRanges,
  market?: ReadonlySet<string>,
): Promise<AffiliateFeatures> {
  const all = computeFeatures(await periodEvents(storage, { start, end, affiliateId }), datacenter, market);
  return all.find((f) => f.affiliateId === affiliateId) ?? idleFeatures(affiliateId);
}

export { DatacenterRanges };
