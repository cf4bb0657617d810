// `npm run eval -- fraud`: simulated campaigns sent through the real HTTP API of a running Vigil; prints
// precision, recall and PR-AUC per fraud pattern and overall. Target: recall >= 0.9 at precision >= 0.9
// overall, and no pattern below 0.8 recall.
import fs from 'node:fs';
import { averagePrecision, precisionRecall } from '../detectors/fraud/evaluation.ts';
import { createApiKey } from '../http/api-keys.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';
import { tempDataDir } from '../test/harness.ts';
import { startServerProcess } from '../test/processes.ts';
import { type Campaign, PATTERNS, simulateCampaign } from './campaign-simulator.ts';

interface Outcome {
  pattern: string | null;
  mixed: boolean;
  strength: number;
  decision: string;
  risk: number;
  reasons: string[];
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function runCampaign(campaign: Campaign): Promise<Outcome[]> {
  const dataDir = tempDataDir();
  const storage = openSqlite(dataDir);
  await migrateToLatest(storage.db);
  const setup = { name: 'eval', role: 'operator' };
  const ingest = (await createApiKey(storage.db, { name: 'eval-ingest', role: 'ingest' }, setup, new Date()))
    .key;
  const admin = (await createApiKey(storage.db, { name: 'eval-admin', role: 'admin' }, setup, new Date()))
    .key;
  await storage.close();
  const server = await startServerProcess({ VIGIL_DATA_DIR: dataDir, VIGIL_INGEST_MAX_BATCH_ITEMS: '2000' });
  let resets = 0;
  const send = async (route: string, key: string, body: unknown) => {
    const request = () =>
      fetch(`${server.baseUrl}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
    let res: Response;
    try {
      res = await request();
    } catch (error) {
      // Every write is idempotent: a connection reset is retried once, and counted.
      resets += 1;
      if (resets === 1) console.error(`${route}: ${String((error as Error).cause ?? error)}; retrying`);
      res = await request();
    }
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${route}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  try {
    await send('/v1/affiliates', ingest, {
      affiliates: campaign.affiliates.map(({ id, name, couponCodes, subjectId }) => ({
        id,
        name,
        couponCodes,
        subjectId,
      })),
    });
    const batches: unknown[][] = [];
    for (let i = 0; i < campaign.events.length; i += 1000) batches.push(campaign.events.slice(i, i + 1000));
    await pool(batches, 4, async (events) => {
      await send('/v1/events', ingest, { events });
    });
    // The model is fitted on the period's population, then each payout is scored in its own request.
    await send('/v1/detectors/fraud/run', admin, {
      periodStart: campaign.periodStart.toISOString(),
      periodEnd: campaign.periodEnd.toISOString(),
      retrain: true,
    });
    const outcomes: Outcome[] = [];
    await pool(campaign.affiliates, 8, async (a) => {
      const payout = await send('/v1/payouts', ingest, {
        id: `pay-${a.id}`,
        affiliateId: a.id,
        periodStart: campaign.periodStart.toISOString(),
        periodEnd: campaign.periodEnd.toISOString(),
        amount: 100,
        currency: 'EUR',
      });
      const score = payout.score as { decision: string; risk: number; reasons: { code: string }[] };
      outcomes.push({
        pattern: a.pattern,
        mixed: a.mixed,
        strength: a.strength,
        decision: score.decision,
        risk: score.risk,
        reasons: score.reasons.map((r) => r.code),
      });
    });
    return outcomes;
  } catch (error) {
    console.error(server.logs().slice(-3000), 'exit:', server.child.exitCode, server.child.signalCode);
    throw error;
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const campaigns = [
    { seed: 11, honest: 220, perPattern: 8, scale: 0.25 },
    { seed: 23, honest: 160, perPattern: 6, scale: 0.6 },
    { seed: 37, honest: 300, perPattern: 9, scale: 0.15 },
  ];
  const all: Outcome[] = [];
  for (const options of campaigns) {
    const campaign = simulateCampaign(options);
    const started = performance.now();
    const outcomes = await runCampaign(campaign);
    all.push(...outcomes);
    const flagged = outcomes.filter((o) => o.decision !== 'approved');
    console.log(
      `campaign seed ${options.seed}: ${campaign.affiliates.length} affiliates, ${campaign.events.length.toLocaleString()} events, ` +
        `${flagged.length} flagged or held, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const label = (o: Outcome) => (o.pattern === null ? 0 : 1);
  const rows = [];
  const honest = all.filter((o) => o.pattern === null);
  for (const pattern of PATTERNS) {
    const positives = all.filter((o) => o.pattern === pattern);
    const subset = [...positives, ...honest];
    const pr = precisionRecall(
      subset.map((o) => o.decision !== 'approved'),
      subset.map(label),
    );
    const mixed = positives.filter((o) => o.mixed);
    rows.push({
      pattern,
      payouts: positives.length,
      recall: Number(pr.recall.toFixed(3)),
      'recall (mixed)': Number(
        (mixed.filter((o) => o.decision !== 'approved').length / Math.max(1, mixed.length)).toFixed(3),
      ),
      'PR-AUC': Number(
        averagePrecision(
          subset.map((o) => o.risk),
          subset.map(label),
        ).toFixed(3),
      ),
      'named by its reason': Number(
        (
          positives.filter((o) => o.reasons.some((r) => r.toLowerCase() === pattern)).length /
          positives.length
        ).toFixed(3),
      ),
    });
  }
  const overall = precisionRecall(
    all.map((o) => o.decision !== 'approved'),
    all.map(label),
  );
  rows.push({
    pattern: 'overall',
    payouts: all.length,
    recall: Number(overall.recall.toFixed(3)),
    'recall (mixed)': Number(
      (
        all.filter((o) => o.mixed && o.decision !== 'approved').length /
        Math.max(1, all.filter((o) => o.mixed).length)
      ).toFixed(3),
    ),
    'PR-AUC': Number(
      averagePrecision(
        all.map((o) => o.risk),
        all.map(label),
      ).toFixed(3),
    ),
    'named by its reason': null,
  });
  console.log('\nfraud detection on simulated campaigns (flagged = flagged or held)');
  console.table(rows);
  const falsePositives = honest.filter((o) => o.decision !== 'approved');
  console.log(
    `overall precision ${overall.precision.toFixed(3)}, recall ${overall.recall.toFixed(3)} ` +
      `(${overall.tp} caught, ${overall.fp} honest flagged of ${honest.length}, ${overall.fn} missed); ` +
      `target: recall >= 0.9 at precision >= 0.9, every pattern >= 0.8`,
  );
  const strengths = [...new Set(all.filter((o) => o.pattern !== null).map((o) => o.strength))].sort(
    (a, b) => a - b,
  );
  console.log("\nrecall by fraud strength (share of the pattern in the affiliate's traffic grows with it)");
  console.table(
    strengths.map((strength) => {
      const at = all.filter((o) => o.pattern !== null && o.strength === strength);
      return {
        strength: Number(strength.toFixed(2)),
        payouts: at.length,
        recall: Number((at.filter((o) => o.decision !== 'approved').length / at.length).toFixed(3)),
      };
    }),
  );
  // Below the simulated range, for information: how detection fades as the fraud gets fainter.
  const faint = await runCampaign(
    simulateCampaign({ seed: 51, honest: 120, perPattern: 6, scale: 0.3, strengths: [0.02, 0.05, 0.1, 0.2] }),
  );
  console.log('\nfainter fraud than the campaigns above (information, not part of the target)');
  console.table(
    PATTERNS.map((pattern) => {
      const rows = faint.filter((o) => o.pattern === pattern);
      const byStrength = Object.fromEntries(
        [0.02, 0.05, 0.1, 0.2].map((st) => {
          const at = rows.filter((o) => o.strength === st);
          return [
            `recall @${st}`,
            at.length === 0
              ? null
              : Number((at.filter((o) => o.decision !== 'approved').length / at.length).toFixed(2)),
          ];
        }),
      );
      return { pattern, ...byStrength };
    }),
  );
  const faintHonest = faint.filter((o) => o.pattern === null);
  console.log(
    `honest flagged in that campaign: ${faintHonest.filter((o) => o.decision !== 'approved').length} of ${faintHonest.length}`,
  );
  const why = new Map<string, number>();
  for (const o of falsePositives) for (const r of o.reasons) why.set(r, (why.get(r) ?? 0) + 1);
  if (why.size > 0)
    console.log(`honest payouts flagged, by reason: ${[...why].map(([r, n]) => `${r} ${n}`).join(', ')}`);
}
