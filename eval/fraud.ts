// `npm run eval -- fraud [seeds]`: fraud detection judged on four simulators — the campaign simulator written
// with the detector, and three written from plain descriptions of real programmes without it, each later than
// the one before: `independent-simulator.ts`; `holdout-simulator.ts`, the held-out check of changes made after
// reading the independent simulator's misses; `market-simulator.ts`, written after rules had been changed on
// the holdout's misses too, whose first run is the check of those. Each run draws its campaign's parameters
// from ranges by its seed; every campaign goes through Vigil's HTTP API (in process, on its own SQLite file):
// affiliates and events are ingested, the period's model is fitted, and each payout is scored in its own
// request. Prints, per simulator, precision and recall (mean and worst seed), the recall per fraud kind and
// intensity, and which honest shapes are flagged, by which rule. `FRAUD_EVAL_SIMULATOR=market` runs one.
// Targets: mean precision >= 0.95 and recall >= 0.9; worst seed precision >= 0.85 and recall >= 0.8; no honest
// shape flagged in more than 5 % of its affiliates.
import fs from 'node:fs';
import { averagePrecision, precisionRecall } from '../detectors/fraud/evaluation.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import { simulateCampaign } from './campaign-simulator.ts';
import { simulateHoldoutCampaign } from './holdout-simulator.ts';
import { simulateIndependentCampaign } from './independent-simulator.ts';
import { simulateMarketCampaign } from './market-simulator.ts';

/** An affiliate of a simulated campaign, with its truth. */
interface Truth {
  id: string;
  name: string;
  couponCodes: string[];
  subjectId: string;
  /** The fraud kind, or null when honest. */
  fraud: string | null;
  /** For fraud, its intensity; for an honest affiliate, its shape. */
  group: string;
  /** The programme allows it to run search ads, as its terms with the affiliate say. */
  searchAdsAllowed?: boolean;
}

interface Simulated {
  periodStart: Date;
  periodEnd: Date;
  affiliates: Truth[];
  events: Record<string, unknown>[];
}

interface Outcome extends Truth {
  seed: number;
  flagged: boolean;
  risk: number;
  reasons: string[];
  /** Each feature's value and its percentile among the peers, as the payout's score shows them. */
  features: Record<string, { value: number; percentile: number | null }>;
}

/** Draws a number in [lo, hi) from a seed, without disturbing the simulators' own streams. */
function draw(seed: number, salt: number, lo: number, hi: number): number {
  const x = Math.sin(seed * 12.9898 + salt * 78.233) * 43758.5453;
  return lo + (x - Math.floor(x)) * (hi - lo);
}

/** A campaign of a simulator written without the detector: honest affiliates by shape, fraud by intensity. */
function groupedByShape(campaign: {
  periodStart: Date;
  periodEnd: Date;
  affiliates: (Omit<Truth, 'group'> & { shape: string; intensity: string | null })[];
  events: Record<string, unknown>[];
}): Simulated {
  return {
    ...campaign,
    affiliates: campaign.affiliates.map((a) => ({
      ...a,
      group: a.fraud === null ? a.shape : (a.intensity ?? 'unknown'),
      // A programme lets the price comparison sites it signs run product ads on search, and registers them
      // so; a fraudster among them is registered so too (the programme does not know it).
      searchAdsAllowed: a.shape === 'price-comparison',
    })),
  };
}

type Described = Parameters<typeof groupedByShape>[0];

/**
 * A simulator written from a description, run as each seed draws it: 150–260 honest affiliates, 3 or 6 of each
 * fraud kind, and a volume in `scale` (the draws salted from `salt` on, so that the simulators draw apart).
 */
function described(
  simulate: (options: { seed: number; honest: number; fraudPerKind: number; scale: number }) => Described,
  salt: number,
  [lo, hi]: [number, number],
): (seed: number) => Simulated {
  return (seed) =>
    groupedByShape(
      simulate({
        seed,
        honest: Math.round(draw(seed, salt, 150, 260)),
        fraudPerKind: 3 * Math.round(draw(seed, salt + 1, 1, 3)),
        scale: draw(seed, salt + 2, lo, hi),
      }),
    );
}

const SIMULATORS: Record<string, (seed: number) => Simulated> = {
  'independent simulator': described(simulateIndependentCampaign, 4, [0.5, 1]),
  // Its default volume is about four times the independent simulator's: scaled down to keep the run short.
  'holdout simulator': described(simulateHoldoutCampaign, 7, [0.25, 0.6]),
  // Its default volume is two to three times the independent simulator's: scaled down to keep the run short.
  'market simulator': described(simulateMarketCampaign, 10, [0.3, 0.6]),
  'campaign simulator (written with the detector)': (seed) => {
    const campaign = simulateCampaign({
      seed,
      honest: Math.round(draw(seed, 1, 120, 260)),
      perPattern: Math.round(draw(seed, 2, 4, 9)),
      scale: draw(seed, 3, 0.03, 0.08),
    });
    return {
      ...campaign,
      affiliates: campaign.affiliates.map((a) => ({
        ...a,
        fraud: a.pattern,
        group: a.pattern === null ? 'honest' : `strength ${a.strength.toFixed(2)}${a.mixed ? ' mixed' : ''}`,
      })),
    };
  },
};

async function send(ctx: TestContext, route: string, role: 'ingest' | 'admin', body: unknown) {
  const res = await ctx.app.request(route, {
    method: 'POST',
    headers: jsonHeaders(ctx, role),
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${route}: ${res.status} ${text.slice(0, 400)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function runCampaign(campaign: Simulated, seed: number): Promise<Outcome[]> {
  const ctx = await createTestContext({ ingest: { maxBatchItems: 5000 } });
  try {
    for (let i = 0; i < campaign.affiliates.length; i += 1000) {
      const affiliates = campaign.affiliates
        .slice(i, i + 1000)
        .map(({ id, name, couponCodes, subjectId, searchAdsAllowed }) => ({
          id,
          name,
          couponCodes,
          subjectId,
          ...(searchAdsAllowed ? { searchAdsAllowed } : {}),
        }));
      await send(ctx, '/v1/affiliates', 'ingest', { affiliates });
    }
    for (let i = 0; i < campaign.events.length; i += 5000) {
      await send(ctx, '/v1/events', 'ingest', { events: campaign.events.slice(i, i + 5000) });
    }
    await send(ctx, '/v1/detectors/fraud/run', 'admin', {
      periodStart: campaign.periodStart.toISOString(),
      periodEnd: campaign.periodEnd.toISOString(),
      retrain: true,
    });
    const outcomes: Outcome[] = [];
    for (const a of campaign.affiliates) {
      const payout = await send(ctx, '/v1/payouts', 'ingest', {
        id: `pay-${a.id}`,
        affiliateId: a.id,
        periodStart: campaign.periodStart.toISOString(),
        periodEnd: campaign.periodEnd.toISOString(),
        amount: 100,
        currency: 'EUR',
      });
      const score = payout.score as {
        decision: string;
        risk: number;
        reasons: { code: string }[];
        features: Outcome['features'];
      };
      outcomes.push({
        ...a,
        seed,
        flagged: score.decision !== 'approved',
        risk: score.risk,
        reasons: score.reasons.map((r) => r.code),
        features: score.features,
      });
    }
    return outcomes;
  } finally {
    await ctx.close();
  }
}

const fixed = (x: number) => Number(x.toFixed(3));

function report(name: string, perSeed: Outcome[][]): void {
  const scores = perSeed.map((outcomes) =>
    precisionRecall(
      outcomes.map((o) => o.flagged),
      outcomes.map((o) => (o.fraud === null ? 0 : 1)),
    ),
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Ranking quality of the risk score, whatever the review threshold.
  const prAuc = perSeed.map((outcomes) =>
    averagePrecision(
      outcomes.map((o) => o.risk),
      outcomes.map((o) => (o.fraud === null ? 0 : 1)),
    ),
  );
  const f1 = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
  console.log(`\n== ${name}: ${perSeed.length} seeds`);
  console.table({
    mean: {
      precision: fixed(mean(scores.map((s) => s.precision))),
      recall: fixed(mean(scores.map((s) => s.recall))),
      F1: fixed(mean(scores.map((s) => f1(s.precision, s.recall)))),
      'PR-AUC': fixed(mean(prAuc)),
    },
    'worst seed': {
      precision: fixed(Math.min(...scores.map((s) => s.precision))),
      recall: fixed(Math.min(...scores.map((s) => s.recall))),
      F1: fixed(Math.min(...scores.map((s) => f1(s.precision, s.recall)))),
      'PR-AUC': fixed(Math.min(...prAuc)),
    },
  });
  const all = perSeed.flat();
  const kinds = [...new Set(all.filter((o) => o.fraud !== null).map((o) => o.fraud as string))].sort();
  console.log('fraud kinds: recall per kind and group, and the share named by the matching reason code');
  console.table(
    Object.fromEntries(
      kinds.map((kind) => {
        const of = all.filter((o) => o.fraud === kind);
        const groups = [...new Set(of.map((o) => o.group))].sort();
        const row: Record<string, number | null> = {
          affiliates: of.length,
          recall: fixed(of.filter((o) => o.flagged).length / of.length),
          named: fixed(of.filter((o) => o.reasons.includes(kind.toUpperCase())).length / of.length),
        };
        for (const g of groups) {
          const at = of.filter((o) => o.group === g);
          row[g] = fixed(at.filter((o) => o.flagged).length / at.length);
        }
        return [kind, row];
      }),
    ),
  );
  const honest = all.filter((o) => o.fraud === null);
  const shapes = [...new Set(honest.map((o) => o.group))].sort();
  console.log('honest shapes: share flagged, and by which reasons');
  console.table(
    Object.fromEntries(
      shapes.map((shape) => {
        const of = honest.filter((o) => o.group === shape);
        const why = new Map<string, number>();
        for (const o of of.filter((x) => x.flagged))
          for (const r of o.reasons) why.set(r, (why.get(r) ?? 0) + 1);
        return [
          shape,
          {
            affiliates: of.length,
            flagged: fixed(of.filter((o) => o.flagged).length / of.length),
            reasons: [...why].map(([r, n]) => `${r} ${n}`).join(', '),
          },
        ];
      }),
    ),
  );
}

export async function run(args: string[] = []): Promise<void> {
  const seeds = Number(args[0] ?? process.env.FRAUD_EVAL_SEEDS ?? 20);
  const only = process.env.FRAUD_EVAL_SIMULATOR;
  for (const [name, simulate] of Object.entries(SIMULATORS)) {
    if (only && !name.startsWith(only)) continue;
    const perSeed: Outcome[][] = [];
    const started = performance.now();
    for (let seed = 1; seed <= seeds; seed += 1) {
      const campaign = simulate(seed);
      perSeed.push(await runCampaign(campaign, seed));
      process.stderr.write(
        `${name} seed ${seed}: ${campaign.affiliates.length} affiliates, ${campaign.events.length} events\n`,
      );
    }
    report(name, perSeed);
    // FRAUD_EVAL_DUMP=file.jsonl keeps every outcome with its features, to study what a rule misses.
    const dump = process.env.FRAUD_EVAL_DUMP;
    if (dump)
      fs.appendFileSync(
        dump,
        perSeed
          .flat()
          .map((o) => `${JSON.stringify({ simulator: name, ...o })}\n`)
          .join(''),
      );
    console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
}
