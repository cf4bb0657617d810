// Durable ingestion throughput: POST /v1/events with 50-event batches (every event new, answered only after
// its group commit) against a bare Hono route that only parses the same JSON. Prints events/s, latency and
// the ratio; the target is ratio >= 0.25 with p99 under 50 ms.
import { sql } from 'kysely';
import { openSqlite } from '../storage/index.ts';
import { type Measurement, measure, paced, startTarget } from './harness.ts';

const BATCH = 50;

/** A 50-event body whose ids carry `{n}`, replaced per request so every event is new. */
function bodyTemplate(): string {
  const events = Array.from({ length: BATCH }, (_, i) =>
    i % 5 === 4
      ? {
          id: `{n}-${i}`,
          type: 'conversion',
          ts: '2026-11-28T12:00:00Z',
          affiliateId: `aff-${i % 7}`,
          clickId: `c-{n}-${i - 1}`,
          orderId: `o-{n}-${i}`,
          subjectId: `s-{n}-${i}`,
          amount: 49.99,
          currency: 'EUR',
          couponCode: 'ANNA10',
          ip: `198.51.100.${i}`,
          userAgent:
            'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
          newCustomer: true,
          country: 'DE',
        }
      : {
          id: `{n}-${i}`,
          type: 'click',
          ts: '2026-11-28T12:00:00Z',
          affiliateId: `aff-${i % 7}`,
          campaignId: 'black-friday',
          clickId: `c-{n}-${i}`,
          ip: `203.0.113.${i}`,
          userAgent: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36',
          referrer: 'https://www.instagram.com/',
          landingUrl: `https://shop.example/p/${i}?utm_source=instagram&utm_medium=story&utm_campaign=bf`,
          country: 'DE',
        },
  );
  return JSON.stringify({ events });
}

function row(r: Measurement) {
  const perEvent = (seconds: number | undefined) =>
    seconds === undefined ? '-' : ((seconds * 1e6) / (r.requests * BATCH)).toFixed(1);
  return {
    target: r.name,
    'req/s': Math.round(r.requestsPerSecond),
    'events/s': Math.round(r.requestsPerSecond * BATCH),
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    failures: r.failures,
    // CPU per event shows where the two cores go: the server (all its threads) and the load generator.
    'server CPU µs/event': perEvent(r.serverCpuSeconds),
    'load CPU µs/event': perEvent(r.loadCpuSeconds),
  };
}

export async function run(options: { seconds: number }): Promise<void> {
  const target = await startTarget();
  const template = bodyTemplate();
  let n = 0;
  const fresh = () => template.replaceAll('{n}', `r${(n++).toString(36)}`);
  const request = (url: string, key?: string) => ({
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    requests: [{ setupRequest: (req: object) => ({ ...req, body: fresh() }) }],
  });
  try {
    const vigilUrl = `${target.vigil}/v1/events`;
    const bareUrl = `${target.bare}/v1/events`;
    await measure('warm-up', { ...request(vigilUrl, target.keys.ingest), duration: 1 });
    await measure('warm-up', { ...request(bareUrl), duration: 1 });
    const bare = await measure(
      'bare Hono, JSON.parse only',
      { ...request(bareUrl), duration: options.seconds },
      target.pid,
    );
    // The same baseline with one fixed body: the load generator then does less per request, which shows how
    // much the per-request body generation above holds the baseline back on this machine.
    const bareFixed = await measure(
      'bare Hono, fixed body',
      {
        url: bareUrl,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: fresh(),
        duration: options.seconds,
      },
      target.pid,
    );
    const vigil = await measure(
      'Vigil POST /v1/events (durable)',
      { ...request(vigilUrl, target.keys.ingest), duration: options.seconds },
      target.pid,
    );
    // Latency away from saturation: with 32 connections in a closed loop, latency is mostly queueing
    // (connections / throughput), so the route is also measured open-loop at a steady half of its maximum.
    const steadyRate = Math.max(1, Math.round(vigil.requestsPerSecond / 2));
    const steady = await paced(`Vigil at a steady ${steadyRate} req/s (open loop)`, {
      url: vigilUrl,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.keys.ingest}` },
      body: fresh,
      rate: steadyRate,
      seconds: options.seconds,
    });
    console.log(`\ningest: ${BATCH}-event batches, 32 connections, every event new`);
    console.table([row(bare), row(bareFixed), row(vigil)]);
    console.log(
      `${steady.name}: ${steadyRate * BATCH} events/s, p50 ${steady.p50} ms, p99 ${steady.p99} ms, ` +
        `max ${steady.max} ms, failures ${steady.failures}`,
    );
    const ratio = (base: Measurement) => (vigil.requestsPerSecond / base.requestsPerSecond).toFixed(3);
    console.log(`ratio (Vigil / bare, same load generator): ${ratio(bare)}`);
    console.log(`ratio (Vigil / bare with a fixed body):    ${ratio(bareFixed)}`);

    // Every acknowledged event must be in the database.
    const storage = openSqlite(target.dataDir);
    const stored = Number(
      (await sql<{ n: number }>`select count(*) as n from affiliate_events`.execute(storage.db)).rows[0]?.n,
    );
    await storage.close();
    const acknowledged = (vigil.requests + steadyRate * options.seconds - steady.failures) * BATCH;
    console.log(`events stored: ${stored} (acknowledged in the measured runs: ${acknowledged})`);
    if (stored < acknowledged) throw new Error('fewer events stored than acknowledged');
    if ([bare, bareFixed, vigil, steady].some((m) => m.failures > 0))
      throw new Error('requests failed during the benchmark');
  } finally {
    target.stop();
  }
}
