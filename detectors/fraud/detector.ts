// The I/O around the fraud detector: loading a period's events, training and storing models, scoring payouts
// and recording their decisions.
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { FraudScoreRow } from '../../storage/fraud.table.ts';
import type { Database, Storage } from '../../storage/index.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import {
  type AffiliateFeatures,
  type AffiliateInfo,
  type ClickEvent,
  type ConversionEvent,
  computeFeatures,
  DatacenterRanges,
  FEATURES,
  modelInput,
  type PeriodEvents,
  type RefundEvent,
} from './features.ts';
import { IsolationForest, type SerializedForest, toMatrix } from './isolation-forest.ts';
import { type PeerStats, peerStats, peersOf, percentileOf } from './peers.ts';
import { type Assessment, assess, type ModelOpinion, type RulesConfig } from './rules.ts';

const DAY = 86_400_000;
/** How far before a period a conversion's click may lie and still be found. */
const CLICK_LOOKBACK_MS = 30 * DAY;
/** Earlier periods (of the same length) the growth feature compares against. */
const HISTORY_PERIODS = 3;

type Row = Record<string, unknown>;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A click from a raw row in CLICK_COLUMNS order (raw rows: no object per row from the driver). */
const toClick = (r: unknown[]): ClickEvent => ({
  affiliateId: r[0] as string,
  clickId: r[1] as string | null,
  ts: Date.parse(r[2] as string),
  ipHash: r[3] as string | null,
  ipPrefix: r[4] as string | null,
  userAgent: r[5] as string | null,
  country: r[6] as string | null,
  campaignId: r[7] as string | null,
  referrerHost: r[8] as string | null,
});

const toConversion = (r: Row): ConversionEvent => ({
  affiliateId: r.affiliate_id as string | null,
  clickId: r.click_id as string | null,
  orderId: r.order_id as string,
  subjectId: r.subject_id as string | null,
  ipHash: r.ip_hash as string | null,
  amount: r.amount as number,
  couponCode: r.coupon_code as string | null,
  newCustomer: r.new_customer as number | null,
  country: r.country as string | null,
  ts: Date.parse(r.ts as string),
});

const CLICK_COLUMNS =
  'affiliate_id, click_id, ts, ip_hash, ip_prefix, user_agent, country, campaign_id, referrer_host';
const CONVERSION_COLUMNS =
  'affiliate_id, click_id, order_id, subject_id, ip_hash, amount, coupon_code, new_customer, country, ts';

/** One pass over [historyStart, end): the period's clicks and conversions, and earlier clicks for growth. */
function scanAll(sqlite: SQLite.Database, historyStart: string, start: string, end: string) {
  const clicks: ClickEvent[] = [];
  const conversions: Row[] = [];
  const history: [string, string][] = [];
  const rows = sqlite
    .prepare(
      `select type, ${CLICK_COLUMNS}, order_id, subject_id, amount, coupon_code, new_customer
       from affiliate_events where ts >= ? and ts < ? and type in ('click', 'conversion')`,
    )
    .raw()
    .iterate(historyStart, end) as IterableIterator<unknown[]>;
  for (const r of rows) {
    const ts = r[3] as string;
    if (r[0] === 'click') {
      if (ts >= start) {
        clicks.push({
          affiliateId: r[1] as string,
          clickId: r[2] as string | null,
          ts: Date.parse(ts),
          ipHash: r[4] as string | null,
          ipPrefix: r[5] as string | null,
          userAgent: r[6] as string | null,
          country: r[7] as string | null,
          campaignId: r[8] as string | null,
          referrerHost: r[9] as string | null,
        });
      } else history.push([r[1] as string, ts]);
    } else if (ts >= start) {
      conversions.push({
        affiliate_id: r[1],
        click_id: r[2],
        ts,
        ip_hash: r[4],
        country: r[7],
        order_id: r[10],
        subject_id: r[11],
        amount: r[12],
        coupon_code: r[13],
        new_customer: r[14],
      });
    }
  }
  return { clicks, conversions, history };
}

/**
 * Loads what the features of one period need, for one affiliate (by index, for scoring a payout in its
 * request) or for every affiliate (one pass over the period, for training and re-scoring).
 */
function loadPeriodEvents(
  sqlite: SQLite.Database,
  range: { start: Date; end: Date; affiliateId?: string },
): PeriodEvents {
  const start = range.start.toISOString();
  const end = range.end.toISOString();
  const one = range.affiliateId;
  const affiliateRows = (
    one === undefined
      ? sqlite.prepare('select id, subject_id from affiliates').all()
      : sqlite.prepare('select id, subject_id from affiliates where id = ?').all(one)
  ) as Row[];
  const affiliates = new Map<string, AffiliateInfo>();
  for (const r of affiliateRows) {
    affiliates.set(r.id as string, {
      id: r.id as string,
      subjectId: r.subject_id as string | null,
      coupons: [],
    });
  }
  const couponRows = (
    one === undefined
      ? sqlite.prepare('select code, affiliate_id from affiliate_coupons').all()
      : sqlite.prepare('select code, affiliate_id from affiliate_coupons where affiliate_id = ?').all(one)
  ) as Row[];
  for (const r of couponRows) affiliates.get(r.affiliate_id as string)?.coupons.push(r.code as string);

  const length = range.end.getTime() - range.start.getTime();
  const historyStart = new Date(range.start.getTime() - HISTORY_PERIODS * length).toISOString();
  // Every affiliate: one pass over the period and its history (the table has no index on time alone).
  const scan = one === undefined ? scanAll(sqlite, historyStart, start, end) : undefined;
  const clicks =
    scan?.clicks ??
    (
      sqlite
        .prepare(
          `select ${CLICK_COLUMNS} from affiliate_events
           where affiliate_id = ? and ts >= ? and ts < ? and type = 'click'`,
        )
        .raw()
        .all(one, start, end) as unknown[][]
    ).map(toClick);

  let conversionRows: Row[];
  if (scan) {
    conversionRows = scan.conversions;
  } else {
    const lookback = new Date(range.start.getTime() - CLICK_LOOKBACK_MS).toISOString();
    const codes = JSON.stringify(affiliates.get(one ?? '')?.coupons ?? []);
    // Credited to the affiliate, carrying its coupon, or uncredited but pointing to one of its clicks (the
    // cross join keeps SQLite walking the affiliate's clicks and looking conversions up by click id).
    conversionRows = sqlite
      .prepare(
        `select ${CONVERSION_COLUMNS} from affiliate_events
           where affiliate_id = ? and ts >= ? and ts < ? and type = 'conversion'
         union
         select ${CONVERSION_COLUMNS} from affiliate_events
           where coupon_code in (select value from json_each(?)) and ts >= ? and ts < ? and type = 'conversion'
         union
         select ${CONVERSION_COLUMNS.split(', ')
           .map((c) => `v.${c}`)
           .join(', ')}
           from affiliate_events k cross join affiliate_events v
           where k.affiliate_id = ? and k.ts >= ? and k.ts < ? and k.type = 'click' and k.click_key is not null
             and v.click_key = k.click_key and v.click_id = k.click_id
             and v.type = 'conversion' and +v.affiliate_id is null and +v.ts >= ? and +v.ts < ?`,
      )
      .all(one, start, end, codes, start, end, one, lookback, end, start, end) as Row[];
  }
  const conversions = conversionRows.map(toConversion);

  // The clicks conversions point to, found by click id wherever they fell.
  // Only the clicks some conversion points to: a map of every click would cost more than the features.
  const wanted = new Set<string>();
  for (const conversion of conversions) if (conversion.clickId) wanted.add(conversion.clickId);
  const clicksById = new Map<string, ClickEvent>();
  for (const click of clicks)
    if (click.clickId && wanted.has(click.clickId)) clicksById.set(click.clickId, click);
  const missing = [
    ...new Set(conversions.map((c) => c.clickId).filter((id): id is string => !!id && !clicksById.has(id))),
  ];
  const byClickId = sqlite
    .prepare(
      `select ${CLICK_COLUMNS} from affiliate_events
       where click_key in (select vigil_event_key(value) from json_each(?))
         and click_id in (select value from json_each(?)) and type = 'click'`,
    )
    .raw();
  for (const batch of chunks(missing, 5000)) {
    const ids = JSON.stringify(batch);
    for (const r of byClickId.all(ids, ids) as unknown[][]) {
      const click = toClick(r);
      if (click.clickId) clicksById.set(click.clickId, click);
    }
  }
  for (const conversion of conversions) {
    if (conversion.affiliateId === null && conversion.clickId) {
      conversion.affiliateId = clicksById.get(conversion.clickId)?.affiliateId ?? null;
    }
  }

  const refunds: RefundEvent[] = [];
  const refundsOf = sqlite.prepare(
    `select order_id, amount from affiliate_events
     where order_key in (select vigil_event_key(value) from json_each(?))
       and order_id in (select value from json_each(?)) and type = 'refund'`,
  );
  for (const batch of chunks(
    conversions.map((c) => c.orderId),
    5000,
  )) {
    const orders = JSON.stringify(batch);
    for (const r of refundsOf.all(orders, orders) as Row[]) {
      refunds.push({ orderId: r.order_id as string, amount: r.amount as number });
    }
  }

  const ownIpHashes = new Map<string, Set<string>>();
  const ipsOf = sqlite
    .prepare(
      `select distinct ip_hash from affiliate_events
       where subject_key = vigil_event_key(?) and subject_id = ? and ip_hash is not null`,
    )
    .pluck();
  for (const a of affiliates.values()) {
    if (a.subjectId) ownIpHashes.set(a.id, new Set(ipsOf.all(a.subjectId, a.subjectId) as string[]));
  }

  const history =
    scan?.history ??
    (sqlite
      .prepare(
        `select affiliate_id, ts from affiliate_events
         where affiliate_id = ? and ts >= ? and ts < ? and type = 'click'`,
      )
      .raw()
      .all(one, historyStart, start) as [string, string][]);
  const previousClicks = new Map<string, number[]>();
  for (const [affiliateId, ts] of history) {
    const back = Math.floor((range.start.getTime() - Date.parse(ts)) / length);
    if (back < 0 || back >= HISTORY_PERIODS) continue;
    let counts = previousClicks.get(affiliateId);
    if (!counts) {
      counts = new Array(HISTORY_PERIODS).fill(0);
      previousClicks.set(affiliateId, counts);
    }
    counts[back] = (counts[back] as number) + 1;
  }
  // Only periods the affiliate was already active in count as its history.
  for (const [id, counts] of previousClicks) {
    const last = counts.findLastIndex((n) => n > 0);
    previousClicks.set(id, counts.slice(0, last + 1));
  }

  return {
    start: range.start.getTime(),
    end: range.end.getTime(),
    clicks,
    clicksById,
    conversions,
    refunds,
    affiliates,
    ownIpHashes,
    previousClicks,
  };
}

/** Runs synchronous better-sqlite3 work under Kysely's connection lock. */
function withSqlite<T>(storage: Storage, work: (sqlite: SQLite.Database) => T): Promise<T> {
  return storage.db.connection().execute(async () => work(storage.sqlite));
}

/** Features of every affiliate active in a period. */
export function periodFeatures(storage: Storage, start: Date, end: Date, datacenter: DatacenterRanges) {
  return withSqlite(storage, (sqlite) =>
    computeFeatures(loadPeriodEvents(sqlite, { start, end }), datacenter),
  );
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
): Promise<{ model: FraudModel | undefined; population: number; peers: PeerStats | undefined }> {
  const rejected = await rejectedAffiliates(storage.db, window);
  const rows = (await periodFeatures(storage, window.start, window.end, datacenter)).filter(
    (r) => !rejected.has(r.affiliateId),
  );
  const peers = peerStats(rows);
  if (rows.length < MIN_TRAINING_ROWS || !peers) return { model: undefined, population: rows.length, peers };
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
      features: JSON.stringify({ names: FEATURES, peers }),
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
  };
  return { model, population: rows.length, peers };
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
    const features = JSON.parse(row.features) as { names: string[]; peers?: PeerStats };
    // A model fitted on another feature set (before an upgrade) cannot score today's vectors: none is usable.
    if (!features.peers || features.names.join() !== FEATURES.join()) return undefined;
    this.model = {
      version: row.version,
      createdAt: row.created_at,
      windowStart: row.window_start,
      windowEnd: row.window_end,
      forest: IsolationForest.fromJSON(JSON.parse(row.forest) as SerializedForest),
      peers: features.peers,
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
      couponGeoConversions: 0,
      referredClicks: 0,
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

/** Features of one affiliate in a payout's period, loaded by index. */
export async function affiliatePeriodFeatures(
  storage: Storage,
  affiliateId: string,
  start: Date,
  end: Date,
  datacenter: DatacenterRanges,
): Promise<AffiliateFeatures> {
  const all = await withSqlite(storage, (sqlite) =>
    computeFeatures(loadPeriodEvents(sqlite, { start, end, affiliateId }), datacenter),
  );
  return all.find((f) => f.affiliateId === affiliateId) ?? idleFeatures(affiliateId);
}

export { DatacenterRanges };
