import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLICKS, simulateCampaign } from '../../eval/campaign-simulator.ts';
import { hasReferenceData } from '../../eval/reference-data.ts';
import { installation } from '../../test/affiliate-installation.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';

// From events to a flagged payout through the HTTP API: a small campaign (honest creators and one of each
// fraud pattern), a model fitted on its period, then payouts scored in their requests.
// The campaign draws real distributions from the reference data's ad clicks (eval/reference-data.ts): a clone
// without them skips these suites, saying so.
const withClicks = hasReferenceData(CLICKS);
let ctx: TestContext;
let campaign: ReturnType<typeof simulateCampaign>;
let period: { periodStart: string; periodEnd: string };

// biome-ignore lint/suspicious/noExplicitAny: responses are read loosely here
type Json = Record<string, any>;

async function post(
  route: string,
  role: 'ingest' | 'admin',
  body: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await ctx.app.request(route, {
    method: 'POST',
    headers: jsonHeaders(ctx, role),
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

const affiliateOf = (pattern: string | null, index = 0) => {
  const found = campaign.affiliates.filter((a) => a.pattern === pattern)[index];
  if (!found) throw new Error(`no ${pattern} affiliate`);
  return found;
};

const payout = (affiliateId: string) =>
  post('/v1/payouts', 'ingest', {
    id: `pay-${affiliateId}`,
    affiliateId,
    ...period,
    amount: 250,
    currency: 'EUR',
  });

beforeAll(async () => {
  ctx = await createTestContext({ ingest: { maxBatchItems: 5000 } });
  if (!withClicks) return;
  campaign = simulateCampaign({ seed: 5, honest: 40, perPattern: 1, scale: 0.15 });
  period = { periodStart: campaign.periodStart.toISOString(), periodEnd: campaign.periodEnd.toISOString() };
  const affiliates = campaign.affiliates.map(({ id, name, couponCodes, subjectId }) => ({
    id,
    name,
    couponCodes,
    subjectId,
  }));
  expect((await post('/v1/affiliates', 'ingest', { affiliates })).status).toBe(200);
  for (let i = 0; i < campaign.events.length; i += 5000) {
    expect((await post('/v1/events', 'ingest', { events: campaign.events.slice(i, i + 5000) })).status).toBe(
      202,
    );
  }
}, 60_000);
afterAll(() => ctx.close());

describe.skipIf(!withClicks)('fraud detection through the API', () => {
  it('fits a model on the period and re-scores it (admin), audited', async () => {
    const run = await post('/v1/detectors/fraud/run', 'admin', { ...period, retrain: true });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ trained: true, modelVersion: 1, payouts: 0 });
    expect(run.body.affiliates).toBe(campaign.affiliates.length);
    const audit = await ctx.storage.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'fraud.run')
      .execute();
    expect(audit).toHaveLength(1);
    const model = await ctx.storage.db.selectFrom('fraud_models').selectAll().executeTakeFirstOrThrow();
    // Parameters only: no affiliate id or event value in the stored model.
    expect(model.forest).not.toContain('aff-');
    expect(model.features).not.toContain('aff-');
  });

  it('computes the same features for an affiliate alone (in its payout request) as in the whole population', async () => {
    const { periodFeatures, affiliatePeriodFeatures } = await import('./detector.ts');
    const start = campaign.periodStart;
    const end = campaign.periodEnd;
    const population = await periodFeatures(ctx.storage, start, end, ctx.deps.fraud.datacenter);
    expect(population.length).toBe(campaign.affiliates.length);
    // Alone, an affiliate's events do not say where the programme sells: the scorer passes the population's.
    const { loadPeriodEvents } = await import('./period-events.ts');
    const market = (await loadPeriodEvents(ctx.storage.db, { start, end })).salesCountries;
    expect(market?.size).toBeGreaterThan(0);
    const rounded = (values: Record<string, number>) =>
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v.toFixed(9))]));
    for (const features of population) {
      const alone = await affiliatePeriodFeatures(
        ctx.storage,
        features.affiliateId,
        start,
        end,
        ctx.deps.fraud.datacenter,
        market,
      );
      expect(rounded(alone.values), features.affiliateId).toEqual(rounded(features.values));
      expect(alone.support, features.affiliateId).toEqual(features.support);
    }
  });

  it('flags a click injector with its reason, evidence and the model version', async () => {
    const injector = affiliateOf('click_injection');
    const { status, body } = await payout(injector.id);
    expect(status).toBe(201);
    expect(body.status).toBe('flagged');
    expect(body.score).toMatchObject({ decision: 'flagged', modelVersion: 1 });
    const reason = body.score.reasons.find((r: Json) => r.code === 'CLICK_INJECTION');
    expect(reason.description).toMatch(/seconds/);
    expect(reason.compares).toMatch(/People do not find, choose and pay within seconds/);
    expect(reason.evidence[0]).toMatchObject({
      feature: 'fastConversionShare',
      peers: `the ${campaign.affiliates.length} affiliates of campaign autumn`,
    });
    expect(reason.evidence[0].threshold).toBeGreaterThanOrEqual(0.06);
    expect(reason.evidence[0].value).toBeGreaterThan(reason.evidence[0].threshold);
    expect(reason.evidence[0].peerMedian).toBeLessThan(reason.evidence[0].threshold);
    expect(reason.evidence[0].percentile).toBeGreaterThan(90);
    expect(reason.evidence[0].condition).toMatch(
      /^[\d.]+ is above [\d.]+ \(at least 0\.06, and the peers' median/,
    );
    expect(body.score).toMatchObject({
      peers: `the ${campaign.affiliates.length} affiliates of campaign autumn`,
      modelNote: null,
    });
    expect(body.score.features.fastConversionShare.percentile).toBe(reason.evidence[0].percentile);
    const shown = await ctx.app.request(`/v1/payouts/pay-${injector.id}`, { headers: ctx.auth('ingest') });
    expect(((await shown.json()) as Json).score.reasons.map((r: Json) => r.code)).toContain(
      'CLICK_INJECTION',
    );
  });

  it('holds a self-referring affiliate outright', async () => {
    const { body } = await payout(affiliateOf('self_referral').id);
    expect(body).toMatchObject({ status: 'held', score: { decision: 'held', level: 'high' } });
    expect(body.score.reasons[0].code).toBe('SELF_REFERRAL');
  });

  it('approves honest creators of every size', async () => {
    const decisions = [];
    for (let i = 0; i < 10; i += 1)
      decisions.push((await payout(affiliateOf(null, i).id)).body.score.decision);
    expect(decisions.filter((d) => d === 'approved').length).toBeGreaterThanOrEqual(9);
  });

  it('lists flagged and held payouts for analysts, riskiest first, and counts them by reason', async () => {
    const res = await ctx.app.request('/v1/flags', { headers: ctx.auth('analyst') });
    const { flags } = (await res.json()) as Json;
    expect(flags.map((f: Json) => f.score.decision)).toEqual(expect.arrayContaining(['held', 'flagged']));
    const risks = flags.map((f: Json) => f.score.risk);
    expect(risks).toEqual([...risks].sort((a, b) => b - a));
    const held = await ctx.app.request('/v1/flags?reason=SELF_REFERRAL', { headers: ctx.auth('analyst') });
    expect(((await held.json()) as Json).flags.map((f: Json) => f.affiliateId)).toEqual([
      affiliateOf('self_referral').id,
    ]);
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_fraud_flags_total{reason="CLICK_INJECTION"} 1');
    expect(metrics).toMatch(/vigil_fraud_model_age_seconds\{version="1"\} \d/);
    expect(metrics).toContain('vigil_fraud_scoring_duration_seconds_count');
  });

  it('refuses a bad run request with a problem', async () => {
    const backwards = await post('/v1/detectors/fraud/run', 'admin', {
      periodStart: period.periodEnd,
      periodEnd: period.periodStart,
    });
    expect(backwards.status).toBe(422);
    const tooLong = await post('/v1/detectors/fraud/run', 'admin', {
      periodStart: '2020-01-01T00:00:00Z',
      periodEnd: '2026-01-01T00:00:00Z',
    });
    expect(tooLong.status).toBe(422);
  });
});

describe('fraud routes with arbitrary input', () => {
  it('never yield a 5xx', async () => {
    const { default: fc } = await import('fast-check');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.json(), fc.string()),
        fc.string({ maxLength: 40 }),
        async (body, query) => {
          const run = await ctx.app.request('/v1/detectors/fraud/run', {
            method: 'POST',
            headers: jsonHeaders(ctx, 'admin'),
            body,
          });
          expect(run.status).toBeLessThan(500);
          const flags = await ctx.app.request(
            `/v1/flags?${encodeURIComponent(query)}=${encodeURIComponent(query)}&limit=${encodeURIComponent(query)}`,
            {
              headers: ctx.auth('analyst'),
            },
          );
          expect(flags.status).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });
});

async function payoutOf(c: TestContext, affiliateId: string, id = `p-${affiliateId}`): Promise<Json> {
  const res = await c.app.request('/v1/payouts', {
    method: 'POST',
    headers: jsonHeaders(c, 'ingest'),
    body: JSON.stringify({
      id,
      affiliateId,
      periodStart: '2026-10-01T00:00:00Z',
      periodEnd: '2026-10-15T00:00:00Z',
      amount: 80,
      currency: 'EUR',
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).score;
}

describe('cold start: the first payouts of a new installation', () => {
  it('fits a model on the payout’s period first, once, when the population is large enough', async () => {
    const c = await installation(24);
    try {
      const [first, second] = await Promise.all([payoutOf(c, 'a0'), payoutOf(c, 'a1')]);
      expect(first).toMatchObject({
        modelVersion: 1,
        modelNote: null,
        peers: 'all 24 affiliates of the period',
      });
      expect(second.modelVersion).toBe(1);
      expect(first.modelScore).toEqual(expect.any(Number));
      expect(first.features.clicks.percentile).toEqual(expect.any(Number));
      const models = await c.storage.db.selectFrom('fraud_models').select('version').execute();
      expect(models).toEqual([{ version: 1 }]);
    } finally {
      await c.close();
    }
  });

  it('with too few affiliates for a model, compares with them and says why the model is absent', async () => {
    const c = await installation(6);
    try {
      const score = await payoutOf(c, 'a3');
      expect(score).toMatchObject({
        modelVersion: null,
        modelScore: null,
        peers: 'all 6 affiliates of the period',
      });
      expect(score.modelNote).toBe(
        'no model yet: 6 affiliates were active in the period, and a model needs 20; the rules compared the affiliate with those 6',
      );
      expect(score.features.clicks.percentile).toEqual(expect.any(Number));
      expect(score.features.clicks.contribution).toBeNull();
    } finally {
      await c.close();
    }
  });

  it('with fewer than five, says that only the absolute bounds applied', async () => {
    const c = await installation(2);
    try {
      const score = await payoutOf(c, 'a1');
      expect(score).toMatchObject({ modelVersion: null, peers: null, decision: 'approved' });
      expect(score.modelNote).toMatch(
        /2 affiliates were active .* the rules need 5 to compare with; only their absolute bounds applied$/,
      );
      expect(score.features.clicks.percentile).toBeNull();
    } finally {
      await c.close();
    }
  });

  it('counts a decision once, however often the payout is re-scored', async () => {
    const c = await installation(24);
    try {
      await payoutOf(c, 'a0');
      await payoutOf(c, 'a1');
      const run = () =>
        c.app.request('/v1/detectors/fraud/run', {
          method: 'POST',
          headers: jsonHeaders(c, 'admin'),
          body: JSON.stringify({ periodStart: '2026-10-01T00:00:00Z', periodEnd: '2026-10-15T00:00:00Z' }),
        });
      expect((await run()).status).toBe(200);
      expect((await run()).status).toBe(200);
      const metrics = await c.registry.metrics();
      const counted = [...metrics.matchAll(/^vigil_fraud_decisions_total\{decision="\w+"\} (\d+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      expect(counted).toBe(2);
    } finally {
      await c.close();
    }
  });
});
