// `npm run bench -- fraud`: features, model fit and scores for 1,000,000 clicks across 10,000 affiliates in one
// period (target: under 10 s), against reading the same rows into memory (same run) as the baseline; and the
// features loaded through Kysely (the loader PostgreSQL uses) on the same file, against the connection's loader.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import {
  DatacenterRanges,
  MIN_TRAINING_ROWS,
  modelOpinion,
  periodFeatures,
} from '../detectors/fraud/detector.ts';
import { computeFeatures, FEATURES, modelInput } from '../detectors/fraud/features.ts';
import { IsolationForest, toMatrix } from '../detectors/fraud/isolation-forest.ts';
import { peerStats } from '../detectors/fraud/peers.ts';
import { loadPeriodEvents } from '../detectors/fraud/period-events.ts';
import { assess, loadRules } from '../detectors/fraud/rules.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';

const CLICKS = Number(process.env.CLICKS ?? 1_000_000);
const AFFILIATES = 10_000;
const START = new Date('2026-10-01T00:00:00Z');
const END = new Date('2026-10-31T00:00:00Z');

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-fraud-'));
  const storage = openSqlite(dir);
  try {
    await migrateToLatest(storage.db);
    const seeded = performance.now();
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${sql.lit(AFFILIATES)})
      insert into affiliates (id, name, subject_id, created_at, updated_at)
      select 'aff-' || i, 'Creator ' || i, 'creator-' || i, '2026-01-01', '2026-01-01' from n`.execute(
      storage.db,
    );
    await sql`insert into affiliate_coupons (code, affiliate_id) select 'C' || substr(id, 5), id from affiliates`.execute(
      storage.db,
    );
    // Clicks spread over the period (skewed: the top hundred affiliates get half), one in fifty converting some minutes
    // later; four in five with a referrer, from a few platforms and many small sites.
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${sql.lit(CLICKS)})
      insert into affiliate_events (id, type, ts, affiliate_id, click_id, ip_hash, ip_prefix, user_agent, country,
        referrer_host, landing_host, received_at, id_key, click_key, ip_key)
      select *, vigil_event_key(id), vigil_event_key(click_id), vigil_event_key(ip_hash) from (
      select 'k' || i as id, 'click', strftime('%Y-%m-%dT%H:%M:%fZ', ${START.toISOString()}, '+' || (i % 2592000) || ' seconds'),
        'aff-' || (case when i % 2 = 0 then i % 100 else (i / 2) % ${sql.lit(AFFILIATES)} end), 'c' || i as click_id,
        lower(hex(randomblob(16))) as ip_hash, (80 + i % 100) || '.' || (i % 251) || '.' || (i % 7) || '.0/24',
        'Mozilla/5.0 UA-' || (i % 40), 'DE',
        case (i / 7) % 5 when 0 then null when 1 then 'l.instagram.com' when 2 then 'www.instagram.com' when 3 then 'www.tiktok.com'
          else 'site-' || (i % 97) || '.example' end, 'www.shop.example', '2026-10-31'
      from n)`.execute(storage.db);
    await sql`insert into affiliate_events (id, type, ts, affiliate_id, click_id, order_id, subject_id, amount, currency,
        coupon_code, ip_hash, ip_prefix, user_agent, country, new_customer, received_at,
        id_key, click_key, order_key, subject_key, ip_key)
      select *, vigil_event_key(v_id), vigil_event_key(click_id), vigil_event_key(v_order), vigil_event_key(v_subject),
        vigil_event_key(ip_hash) from (
      select 'v' || substr(id, 2) as v_id, 'conversion', strftime('%Y-%m-%dT%H:%M:%fZ', ts, '+' || (abs(random()) % 3600) || ' seconds'),
        affiliate_id, click_id, 'o' || substr(id, 2) as v_order, 's' || substr(id, 2) as v_subject, 49.5, 'EUR',
        case when abs(random()) % 3 = 0 then 'C' || substr(affiliate_id, 5) end, ip_hash, ip_prefix, user_agent, 'DE', 1, received_at
      from affiliate_events where type = 'click' and cast(substr(id, 2) as integer) % 50 = 0)`.execute(
      storage.db,
    );
    storage.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    if (process.env.MMAP) storage.sqlite.pragma(`mmap_size = ${process.env.MMAP}`);
    console.log(
      `\nfraud: ${CLICKS.toLocaleString()} clicks across ${AFFILIATES.toLocaleString()} affiliates seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );

    // Baseline: only reading the period's clicks and conversions into memory.
    let t = performance.now();
    const read = await storage.db.connection().execute(
      async () =>
        storage.sqlite
          .prepare(`select affiliate_id, click_id, ts, ip_hash, ip_prefix, user_agent, country, referrer_host from affiliate_events
          where ts >= ? and ts < ?`)
          .all(START.toISOString(), END.toISOString()).length,
    );
    const baselineMs = performance.now() - t;

    t = performance.now();
    const rows = await periodFeatures(storage, START, END, DatacenterRanges.load());
    const featuresMs = performance.now() - t;
    t = performance.now();
    if (rows.length < MIN_TRAINING_ROWS) throw new Error(`too few affiliates: ${rows.length} (read ${read})`);
    const forest = IsolationForest.fit(toMatrix(rows.map((r) => modelInput(r.values))), {
      seed: 1,
      featureNames: FEATURES,
    });
    const peers = peerStats(rows);
    if (!peers) throw new Error('no peers');
    const model = {
      version: 1,
      createdAt: '',
      windowStart: '',
      windowEnd: '',
      forest,
      peers,
      salesCountries: new Set<string>(),
    };
    const fitMs = performance.now() - t;
    t = performance.now();
    const rules = loadRules();
    const decisions = { approved: 0, flagged: 0, held: 0 };
    const reasons = new Map<string, number>();
    for (const features of rows) {
      const assessment = assess(rules, features, modelOpinion(model, features), peers);
      decisions[assessment.decision] += 1;
      for (const reason of assessment.reasons) reasons.set(reason.code, (reasons.get(reason.code) ?? 0) + 1);
    }
    const scoreMs = performance.now() - t;
    const total = featuresMs + fitMs + scoreMs;
    // The loader PostgreSQL uses, here on the same SQLite file: what the portable SQL costs.
    t = performance.now();
    const portable = computeFeatures(
      await loadPeriodEvents(storage.db, { start: START, end: END }),
      DatacenterRanges.load(),
    );
    const portableMs = performance.now() - t;
    if (portable.length !== rows.length) throw new Error('the loaders disagree');
    console.table([
      { step: 'load + features (every affiliate)', ms: Math.round(featuresMs) },
      { step: 'fit the isolation forest, peer statistics', ms: Math.round(fitMs) },
      { step: 'score, explain, rules (every affiliate)', ms: Math.round(scoreMs) },
      { step: 'total', ms: Math.round(total) },
      { step: `baseline: read the ${read.toLocaleString()} rows only`, ms: Math.round(baselineMs) },
      { step: 'load + features through Kysely (the loader for PostgreSQL)', ms: Math.round(portableMs) },
    ]);
    console.log(
      `${rows.length.toLocaleString()} affiliates scored (${decisions.approved} approved, ${decisions.flagged} flagged, ${decisions.held} held); ` +
        `ratio total / read-only baseline: ${(total / baselineMs).toFixed(2)}; target: total under 10,000 ms; ` +
        `Kysely loader / connection loader: ${(portableMs / featuresMs).toFixed(2)}`,
    );
    console.log(`reasons given: ${[...reasons].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`);
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
