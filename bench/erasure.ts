// Erasure and retention under load.
// 1. Erase one subject among 5,000,000 events (target: under 1 s), through the same path the erasure queue
//    takes: every store in the data map, then the WAL checkpoint. Baselines from the same run: reading the
//    subject's events by index, and one full scan of the table, for scale.
// 2. Ingest p99 at a steady rate while the purge deletes 1,000,000 expired rows, against the same rate idle
//    (target: no worse than 2x).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { createLogger } from '../http/logger.ts';
import { BatchWriter } from '../ingest/write-path/batch-writer.ts';
import { createPrivacyRequest, processErasureQueue } from '../retention/privacy-requests.ts';
import { eventKey, eventKeyOf } from '../storage/event-key.ts';
import { hashIdentifier } from '../storage/identifiers.ts';
import { migrateToLatest, openSqlite, type Storage } from '../storage/index.ts';
import { type Measurement, measure, startTarget } from './harness.ts';

const SECRET = Buffer.from('b'.repeat(32));
/** The integer keys the write path stores with each event (storage/event-key.ts), worked out in SQL here. */
const KEYS = ', id_key, click_key, order_key, subject_key, ip_key';
const KEY_VALUES =
  ', vigil_event_key(id), vigil_event_key(click_id), vigil_event_key(order_id), vigil_event_key(subject_id), vigil_event_key(ip_hash)';
const SUBJECT = 'bench-subject-424242';
const SUBJECT_IP = '198.51.100.42';

/**
 * Fills affiliate_events with `count` rows in SQL (fast, realistic shape): one in five is a conversion with a
 * subject (200,000 subjects), every row has an IP hash and prefix; rows received at `receivedAt`. Event, click
 * and order ids are random, as the marketplace's are: ids in order would keep every index's pages in order too,
 * and make the purge's deletions look cheaper than they are.
 */
async function seedEvents(
  storage: Storage,
  count: number,
  receivedAt: string,
  idPrefix: string,
): Promise<void> {
  const chunk = 250_000;
  for (let start = 0; start < count; start += chunk) {
    const end = Math.min(count, start + chunk);
    await sql`
      with recursive n(i) as (select ${start} union all select i + 1 from n where i + 1 < ${end})
      insert into affiliate_events (id, type, ts, affiliate_id, campaign_id, click_id, order_id, subject_id,
        amount, currency, ip_hash, ip_prefix, user_agent, country, received_at${sql.raw(KEYS)})
      select *${sql.raw(KEY_VALUES)} from (select ${idPrefix} || lower(hex(randomblob(12))) as id,
        case when i % 5 = 4 then 'conversion' else 'click' end,
        ${receivedAt}, 'aff-' || (i % 10000), 'bf', 'c-' || lower(hex(randomblob(12))) as click_id,
        case when i % 5 = 4 then 'o-' || lower(hex(randomblob(12))) end as order_id,
        case when i % 5 = 4 then 'sub-' || (i % 200000) end as subject_id,
        case when i % 5 = 4 then 49.99 end, case when i % 5 = 4 then 'EUR' end,
        lower(hex(randomblob(16))) as ip_hash, '203.0.' || (i % 250) || '.0/24',
        'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36', 'DE',
        ${receivedAt}
      from n)`.execute(storage.db);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

async function eraseAmongMany(events: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-erasure-'));
  const storage = openSqlite(dir);
  try {
    await migrateToLatest(storage.db);
    const seeding = await timed(() => seedEvents(storage, events, '2026-11-01T00:00:00.000Z', 'e'));
    // The subject: a few conversions and clicks of its own, and one anonymous click from its IP.
    const ipHash = hashIdentifier(SECRET, 'ip', SUBJECT_IP);
    for (let i = 0; i < 12; i += 1) {
      const subject = i === 11 ? null : SUBJECT;
      await sql`insert into affiliate_events (id, type, ts, affiliate_id, subject_id, ip_hash, ip_prefix, received_at,
          id_key, subject_key, ip_key)
        values (${`subject-${i}`}, 'click', '2026-11-02T00:00:00Z', 'aff-1', ${subject}, ${ipHash},
          '198.51.100.0/24', '2026-11-02T00:00:00Z', ${eventKey(`subject-${i}`)}, ${eventKeyOf(subject)},
          ${eventKey(ipHash)})`.execute(storage.db);
    }
    storage.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const size = fs.statSync(storage.file).size;
    console.log(
      `\nerasure: ${events.toLocaleString()} events seeded in ${(seeding.ms / 1000).toFixed(1)} s (${(size / 2 ** 20).toFixed(0)} MiB)`,
    );

    const lookup = await timed(
      async () =>
        (
          await sql`select * from affiliate_events
            where subject_key = ${eventKey(SUBJECT)} and subject_id = ${SUBJECT}`.execute(storage.db)
        ).rows.length,
    );
    const scan = await timed(
      async () =>
        (
          await sql<{
            n: number;
          }>`select count(*) as n from affiliate_events where user_agent like '%Bench%'`.execute(storage.db)
        ).rows,
    );
    const actor = { name: 'bench', role: 'dpo' };
    const request = await createPrivacyRequest(
      storage.db,
      SECRET,
      { type: 'erasure', subjectId: SUBJECT, identifiers: { ip: SUBJECT_IP } },
      actor,
      new Date(),
    );
    await storage.db
      .updateTable('privacy_requests')
      .set({ status: 'approved' })
      .where('id', '=', request.id)
      .execute();
    // The rows went in by SQL, so the journal holds nothing; erasure settles and truncates it as it always does.
    const journal = new BatchWriter(storage, new Registry(), createLogger('warn'), {
      maxQueuedRows: 100_000,
      maxBacklogEvents: 1_000_000,
      maxInFlightRequests: 1,
      ipSecret: SECRET,
    });
    const erasure = await timed(() =>
      processErasureQueue({
        storage,
        secret: SECRET,
        logger: createLogger('warn'),
        forgetSubject: () => {},
        now: () => new Date(),
        journal,
      }),
    );
    await journal.close();
    const left = await sql<{ n: number }>`select count(*) as n from affiliate_events
      where subject_id = ${SUBJECT} or ip_hash = ${ipHash}`.execute(storage.db);
    const steps = await storage.db
      .selectFrom('privacy_request_steps')
      .select(['store', 'rows'])
      .where('request_id', '=', request.id)
      .where('rows', '>', 0)
      .execute();
    console.table([
      { what: 'erase the subject (all stores, WAL truncated)', ms: Math.round(erasure.ms) },
      { what: "baseline: read the subject's events by index", ms: Number(lookup.ms.toFixed(2)) },
      { what: 'baseline: one full scan of the events', ms: Math.round(scan.ms) },
    ]);
    console.log(
      `erased rows: ${steps.map((s) => `${s.store} ${s.rows}`).join(', ')}; left: ${left.rows[0]?.n}; ` +
        `ratio erasure / full scan: ${(erasure.ms / scan.ms).toFixed(3)}; target: under 1,000 ms`,
    );
    if (erasure.value.completed !== 1 || Number(left.rows[0]?.n) !== 0)
      throw new Error('the erasure did not complete');
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const RATE = 100; // requests per second, 50 events each: a steady 5,000 events/s

function eventsBody(n: number): string {
  const ts = new Date().toISOString();
  return JSON.stringify({
    events: Array.from({ length: 50 }, (_, i) => ({
      id: `live-${n}-${i}`,
      type: 'click',
      ts,
      affiliateId: `aff-${i % 7}`,
      clickId: `c-${n}-${i}`,
      ip: `203.0.113.${i}`,
      userAgent: 'Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile',
    })),
  });
}

async function ingestDuringPurge(seconds: number, expired: number): Promise<void> {
  const target = await startTarget();
  try {
    const storage = openSqlite(target.dataDir);
    await seedEvents(storage, expired, '2024-01-01T00:00:00.000Z', 'old');
    storage.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await storage.close();
    let n = 0;
    const load = (name: string) =>
      measure(name, {
        url: `${target.vigil}/v1/events`,
        method: 'POST',
        connections: 8,
        overallRate: RATE,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.keys.ingest}` },
        requests: [{ setupRequest: (req: object) => ({ ...req, body: eventsBody(n++) }) }],
      });
    await load('warm-up');
    const idle = await load('ingest, idle');
    const purge = fetch(`${target.vigil}/v1/retention/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.keys.dpo}` },
      body: '{}',
    }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as { outcomes: { table: string; rows: number }[] },
    }));
    const started = performance.now();
    const busy = await load('ingest during the purge');
    const purged = await purge;
    const purgeSeconds = (performance.now() - started) / 1000;
    const rows = purged.body.outcomes?.find((o) => o.table === 'affiliate_events')?.rows ?? 0;
    const row = (m: Measurement) => ({
      load: m.name,
      'req/s': Math.round(m.requestsPerSecond),
      'p50 ms': m.p50,
      'p99 ms': m.p99,
      failures: m.failures,
    });
    console.log(`\npurge under load: ${RATE} req/s x 50 events, ${expired.toLocaleString()} expired events`);
    console.table([row(idle), row(busy)]);
    console.log(
      `purge: ${rows.toLocaleString()} rows in ${purgeSeconds.toFixed(1)} s (status ${purged.status}); ` +
        `p99 ratio (during purge / idle): ${(busy.p99 / Math.max(1, idle.p99)).toFixed(2)}; target: <= 2`,
    );
    if (busy.failures > 0 || idle.failures > 0) throw new Error('requests failed during the benchmark');
  } finally {
    await target.stop();
  }
}

export async function run(options: { seconds: number }): Promise<void> {
  if (!process.env.SKIP_ERASE) await eraseAmongMany(5_000_000);
  await ingestDuringPurge(Math.max(options.seconds, 5), 1_000_000);
}
