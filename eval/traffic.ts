// `npm run eval -- traffic`: seeded traffic scenarios (`traffic-scenarios.ts`, written from a description of
// campaign surges and bottlenecks, not from the detector) replayed through Vigil's HTTP API in process: server
// logs to /v1/logs, web vitals to /collect, campaign clicks to /v1/events; then one backtest over the scenario's
// evaluation window, and its anomalies compared with the bottlenecks injected. Prints per scenario whether each
// bottleneck was found with the right target and signal, how long after its start the anomaly opened, and the
// anomalies nobody injected. Targets: every bottleneck found within 3 minutes; no anomaly on the steady,
// absorbed and drift scenarios; at most one false positive per 6 hours of busy traffic.
import { createFaroApp } from '../ingest/faro/index.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../test/harness.ts';
import {
  type InjectedBottleneck,
  simulateTrafficScenario,
  TRAFFIC_SCENARIOS,
  type TrafficScenario,
  type TrafficScenarioName,
} from './traffic-scenarios.ts';

const ORIGIN = 'https://shop.example';
const MINUTE = 60_000;
/** Found "within 3 minutes": the anomaly is open by the end of the third minute of the bottleneck. */
const MAX_DELAY_MINUTES = 3;
/** The detector opens an anomaly on the third degraded minute in a row, the start being the first. */
const OPENED_ON_MINUTE = 3;

interface Found {
  id: string;
  target: { service?: string; route?: string; app?: string; page?: string };
  signal: string;
  start: string;
  end: string | null;
  campaign: string | null;
}

async function post(ctx: TestContext, path: string, body: unknown, headers: Record<string, string>) {
  const res = await ctx.app.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** Sends a scenario's logs, vitals and clicks the way their senders would. */
async function replay(ctx: TestContext, scenario: TrafficScenario): Promise<void> {
  const ingest = jsonHeaders(ctx, 'ingest');
  for (let i = 0; i < scenario.logs.length; i += 5000) {
    await post(ctx, '/v1/logs', scenario.logs.slice(i, i + 5000), ingest);
  }
  const apps = new Map<string, string>();
  for (const app of new Set(scenario.vitals.map((v) => v.app))) {
    apps.set(
      app,
      (
        await createFaroApp(
          ctx.storage.db,
          { name: app, origins: [ORIGIN] },
          { name: 'eval', role: 'admin' },
          new Date(),
        )
      ).key,
    );
  }
  // One Faro payload per page and minute, as a browser batches its measurements.
  const batches = new Map<string, typeof scenario.vitals>();
  for (const v of scenario.vitals) {
    const key = `${v.app}\n${v.page}\n${v.ts.slice(0, 16)}`;
    const batch = batches.get(key) ?? [];
    batch.push(v);
    batches.set(key, batch);
  }
  for (const batch of batches.values()) {
    const first = batch[0];
    if (!first) continue;
    await post(
      ctx,
      `/collect/${apps.get(first.app)}`,
      {
        meta: {
          app: { name: first.app, version: '1.0.0' },
          page: { url: `${ORIGIN}${first.page}` },
          sdk: { name: 'faro-web', version: '2.12.1' },
        },
        measurements: batch.map((v) => ({
          type: 'web-vitals',
          values: Object.fromEntries(
            (['lcp', 'inp', 'cls'] as const)
              .filter((k) => v[k] !== undefined)
              .map((k) => [k, v[k] as number]),
          ),
          timestamp: v.ts,
        })),
      },
      { 'content-type': 'application/json', origin: ORIGIN },
    );
  }
  const clicks = scenario.clicks.map((c, i) => ({
    id: `click-${i}`,
    type: 'click',
    ts: c.ts,
    affiliateId: c.affiliateId,
    campaignId: c.campaignId,
    clickId: `k-${i}`,
    ip: `84.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
  }));
  for (let i = 0; i < clicks.length; i += 5000)
    await post(ctx, '/v1/events', { events: clicks.slice(i, i + 5000) }, ingest);
}

async function anomaliesOf(ctx: TestContext): Promise<Found[]> {
  const all: Found[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `?limit=500&cursor=${cursor}` : '?limit=500';
    const res = await ctx.app.request(`/v1/anomalies${query}`, { headers: ctx.auth('sre') });
    const body = (await res.json()) as { items: Found[]; nextCursor: string | null };
    all.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return all;
}

const sameTarget = (a: Found, b: InjectedBottleneck) =>
  'service' in b.target
    ? a.target.service === b.target.service && a.target.route === b.target.route
    : a.target.app === b.target.app && a.target.page === b.target.page;

interface Outcome {
  scenario: TrafficScenarioName;
  seed: number;
  injected: number;
  found: number;
  delays: number[];
  falsePositives: number;
  campaignsNamed: number;
  campaignsExpected: number;
  /** Hours of the evaluation window, and routes with traffic × those hours. */
  hours: number;
  routeHours: number;
}

async function evaluate(name: TrafficScenarioName, seed: number): Promise<Outcome> {
  const scenario = simulateTrafficScenario(name, seed);
  const ctx = await createTestContext({
    now: () => new Date(scenario.end),
    ingest: { maxBatchItems: 5000, faroAnonymous: 'exempt', faroRatePerSecond: 100_000, faroBurst: 100_000 },
  });
  try {
    await replay(ctx, scenario);
    await post(
      ctx,
      '/v1/detectors/traffic/run',
      { from: scenario.evaluationStart, to: new Date(Date.parse(scenario.end) - MINUTE).toISOString() },
      jsonHeaders(ctx, 'admin'),
    );
    const anomalies = await anomaliesOf(ctx);
    const matched = new Set<string>();
    const delays: number[] = [];
    let campaignsNamed = 0;
    for (const b of scenario.bottlenecks) {
      const hit = anomalies
        .filter((a) => a.signal === b.signal && sameTarget(a, b))
        .filter(
          (a) =>
            Date.parse(a.start) < Date.parse(b.end) &&
            (a.end === null || Date.parse(a.end) > Date.parse(b.start)),
        )
        .sort((x, y) => Date.parse(x.start) - Date.parse(y.start))[0];
      if (!hit) continue;
      matched.add(hit.id);
      // Minutes from the bottleneck's start to the end of the minute the anomaly was opened in.
      const delay = (Date.parse(hit.start) - Date.parse(b.start)) / MINUTE + OPENED_ON_MINUTE;
      delays.push(delay);
      if (b.campaign !== null && hit.campaign === b.campaign) campaignsNamed += 1;
    }
    // Any other anomaly on a bottleneck's target during it is the same incident seen twice: not counted.
    const falsePositives = anomalies.filter(
      (a) =>
        !matched.has(a.id) &&
        !scenario.bottlenecks.some(
          (b) =>
            sameTarget(a, b) &&
            Date.parse(a.start) < Date.parse(b.end) + 5 * MINUTE &&
            (a.end === null || Date.parse(a.end) > Date.parse(b.start)),
        ),
    ).length;
    if (process.env.TRAFFIC_EVAL_VERBOSE) {
      for (const a of anomalies.filter((x) => !matched.has(x.id))) {
        process.stderr.write(`  unmatched ${name}/${seed}: ${JSON.stringify(a)}\n`);
      }
    }
    const routes = new Set(scenario.logs.map((l) => `${l.service} ${l.route}`)).size;
    const hours = (Date.parse(scenario.end) - Date.parse(scenario.evaluationStart)) / (60 * MINUTE);
    return {
      scenario: name,
      seed,
      injected: scenario.bottlenecks.length,
      found: delays.filter((d) => d <= MAX_DELAY_MINUTES).length,
      delays,
      falsePositives,
      campaignsNamed,
      campaignsExpected: scenario.bottlenecks.filter((b) => b.campaign !== null).length,
      hours,
      routeHours: routes * hours,
    };
  } finally {
    await ctx.close();
  }
}

export async function run(): Promise<void> {
  const seeds = Number(process.env.TRAFFIC_EVAL_SEEDS ?? 3);
  const outcomes: Outcome[] = [];
  const started = performance.now();
  for (const name of TRAFFIC_SCENARIOS) {
    for (let seed = 1; seed <= seeds; seed += 1) {
      outcomes.push(await evaluate(name, seed));
      process.stderr.write(`traffic ${name} seed ${seed} done\n`);
    }
  }
  console.log(`\ntraffic bottlenecks: ${seeds} seeds per scenario, judged through the API`);
  console.table(
    Object.fromEntries(
      TRAFFIC_SCENARIOS.map((name) => {
        const of = outcomes.filter((o) => o.scenario === name);
        const delays = of.flatMap((o) => o.delays);
        const injected = of.reduce((n, o) => n + o.injected, 0);
        return [
          name,
          {
            injected,
            'found ≤ 3 min': of.reduce((n, o) => n + o.found, 0),
            'delay (min) mean': delays.length
              ? Number((delays.reduce((a, b) => a + b, 0) / delays.length).toFixed(1))
              : null,
            'delay max': delays.length ? Math.max(...delays) : null,
            'campaign named': `${of.reduce((n, o) => n + o.campaignsNamed, 0)}/${of.reduce((n, o) => n + o.campaignsExpected, 0)}`,
            'false positives': of.reduce((n, o) => n + o.falsePositives, 0),
          },
        ];
      }),
    ),
  );
  const falsePositives = outcomes.reduce((n, o) => n + o.falsePositives, 0);
  const hours = outcomes.reduce((n, o) => n + o.hours, 0);
  const routeHours = outcomes.reduce((n, o) => n + o.routeHours, 0);
  console.log(
    `false positives: ${falsePositives} in ${hours} hours judged across all routes and pages ` +
      `(${routeHours.toFixed(0)} route-hours; ${((falsePositives / hours) * 6).toFixed(2)} per 6 hours; target: at most 1) · ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}
