// `npm run bench -- review`: the review UI with 10,000 payouts waiting (a campaign's end of month). The queue's
// first page, a filtered page, a page deep in the cursor, and one payout's page (its affiliate with 2,000 clicks
// and 200 sales), in process, against the JSON list of the same payouts (`GET /v1/flags`, same run) as the
// baseline. Targets: every page under 100 ms at the median.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../api/app.ts';
import { createDeps } from '../api/deps.ts';
import { createApiKey } from '../http/api-keys.ts';
import { createRegistry } from '../http/metrics.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';

const PAYOUTS = 10_000;
const REPEATS = 30;
const CODES = ['CLICK_INJECTION', 'BOT_USER_AGENTS', 'COUPON_LEAKAGE', 'REFUND_ABUSE', 'GEO_MISMATCH'];
const AT = '2026-12-01T08:00:00.000Z';

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-review-'));
  const storage = openSqlite(dir);
  try {
    await migrateToLatest(storage.db);
    const deps = createDeps({
      storage,
      secret: Buffer.alloc(32, 7),
      registry: createRegistry({ processMetrics: false }),
    });
    const app = createApp(deps);
    const actor = { name: 'bench', role: 'operator' };
    const analyst = (
      await createApiKey(storage.db, { name: 'bench-analyst', role: 'analyst' }, actor, new Date())
    ).key;

    const seeded = performance.now();
    for (let i = 0; i < PAYOUTS; i += 500) {
      const ids = Array.from({ length: Math.min(500, PAYOUTS - i) }, (_, k) => i + k);
      await storage.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('affiliates')
          .values(
            ids.map((n) => ({
              id: `aff-${n}`,
              name: `creator ${n}`,
              subject_id: null,
              payout_account_hash: null,
              created_at: AT,
              updated_at: AT,
            })),
          )
          .execute();
        await trx
          .insertInto('payouts')
          .values(
            ids.map((n) => ({
              id: `pay-${n}`,
              affiliate_id: `aff-${n}`,
              period_start: '2026-11-01T00:00:00.000Z',
              period_end: '2026-12-01T00:00:00.000Z',
              amount: 50 + (n % 400),
              currency: 'EUR',
              status: n % 10 === 0 ? 'held' : 'flagged',
              created_at: AT,
              updated_at: AT,
            })),
          )
          .execute();
        await trx
          .insertInto('fraud_scores')
          .values(
            ids.map((n) => {
              const risk = 0.6 + ((n * 7919) % 400) / 1000;
              const code = CODES[n % CODES.length] as string;
              return {
                payout_id: `pay-${n}`,
                affiliate_id: `aff-${n}`,
                model_version: null,
                risk,
                model_score: null,
                level: risk >= 0.75 ? 'high' : 'medium',
                decision: n % 10 === 0 ? 'held' : 'flagged',
                reasons: JSON.stringify([
                  {
                    code,
                    description: 'bench',
                    compares: 'bench',
                    risk,
                    hold: false,
                    evidence: [
                      {
                        feature: 'f',
                        value: 1,
                        peerMedian: 0,
                        percentile: 99,
                        threshold: 0.5,
                        peers: 'all',
                        condition: '1 > 0.5',
                      },
                    ],
                  },
                ]),
                features: '{}',
                scored_at: AT,
                peers: 'all 10000 affiliates of the period',
                model_note: null,
              };
            }),
          )
          .execute();
      });
    }
    // The payout page's affiliate: 2,000 clicks, every tenth followed by a sale, through the events route.
    const events: Record<string, unknown>[] = [];
    for (let k = 0; k < 2000; k += 1) {
      const ts = Date.parse('2026-11-02T00:00:00Z') + k * 600_000;
      events.push({
        id: `c-${k}`,
        type: 'click',
        ts: new Date(ts).toISOString(),
        affiliateId: 'aff-1',
        clickId: `k-${k}`,
        ip: `84.1.${k % 250}.9`,
        userAgent: 'Mozilla/5.0 (iPhone)',
        country: 'DE',
      });
      if (k % 10 === 0)
        events.push({
          id: `v-${k}`,
          type: 'conversion',
          ts: new Date(ts + 90_000).toISOString(),
          affiliateId: 'aff-1',
          clickId: `k-${k}`,
          orderId: `o-${k}`,
          subjectId: `s-${k}`,
          amount: 40,
          currency: 'EUR',
          ip: `84.1.${k % 250}.9`,
          userAgent: 'Mozilla/5.0 (iPhone)',
          country: 'DE',
        });
    }
    const ingest = (
      await createApiKey(storage.db, { name: 'bench-ingest', role: 'ingest' }, actor, new Date())
    ).key;
    for (let i = 0; i < events.length; i += 1000) {
      const res = await app.request('/v1/events', {
        method: 'POST',
        headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.slice(i, i + 1000) }),
      });
      if (res.status !== 202) throw new Error(`events: ${res.status} ${await res.text()}`);
    }
    await deps.writer.settle();
    console.log(
      `review: seeded ${PAYOUTS.toLocaleString('en')} payouts in review and ${events.length.toLocaleString('en')} events in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );

    // A session, as a browser gets one.
    const signIn = await app.request('http://bench/review/sign-in');
    const signInCookie = (signIn.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await signIn.text())?.[1] ?? '';
    const session = await app.request('http://bench/review/sign-in', {
      method: 'POST',
      headers: { cookie: signInCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, key: analyst }).toString(),
    });
    const cookie =
      (session.headers.getSetCookie().find((c) => c.startsWith('vigil_review=')) ?? '').split(';')[0] ?? '';
    if (!cookie) throw new Error(`sign-in failed: ${session.status}`);

    // Page 10 of the queue: follow the cursor nine times.
    let deep = '/review/queue';
    for (let p = 0; p < 9; p += 1) {
      const html = await (await app.request(`http://bench${deep}`, { headers: { cookie } })).text();
      const next = /href="(\/review\/queue\?[^"]*cursor=[^"]+)"/.exec(html)?.[1];
      if (!next) throw new Error('no next page');
      deep = next.replaceAll('&amp;', '&');
    }

    const targets: [string, string, Record<string, string>][] = [
      [
        'baseline: GET /v1/flags?limit=25 (JSON)',
        '/v1/flags?limit=25',
        { authorization: `Bearer ${analyst}` },
      ],
      ['queue, first page', '/review/queue', { cookie }],
      [
        'queue, filtered by reason and minimum score',
        '/review/queue?reason=COUPON_LEAKAGE&minScore=0.8',
        { cookie },
      ],
      ['queue, page 10 by cursor', deep, { cookie }],
      ['payout page (2,000 clicks, 200 sales)', '/review/payouts/pay-1', { cookie }],
    ];
    const rows: Record<string, { 'median ms': number; 'ratio to baseline': number; status: number }> = {};
    let baseline = 0;
    for (const [name, url, headers] of targets) {
      const times: number[] = [];
      let status = 0;
      for (let r = 0; r < REPEATS; r += 1) {
        const started = performance.now();
        const res = await app.request(`http://bench${url}`, { headers });
        await res.text();
        times.push(performance.now() - started);
        status = res.status;
      }
      const m = median(times);
      if (baseline === 0) baseline = m;
      rows[name] = {
        'median ms': Number(m.toFixed(1)),
        'ratio to baseline': Number((m / baseline).toFixed(2)),
        status,
      };
    }
    console.table(rows);
    const pages = Object.entries(rows).slice(1);
    const worst = Math.max(...pages.map(([, r]) => r['median ms']));
    console.log(
      `target: every page under 100 ms at the median ${worst < 100 ? 'met' : 'MISSED'} (slowest ${worst} ms)`,
    );
    await deps.writer.close();
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
