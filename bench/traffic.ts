// `npm run bench -- traffic`: the traffic detector on 20 routes at 300 requests a minute each, logged through
// log ingestion's write. A 6-hour backfill (`run` over a window: every minute judged as if live; target under
// 10 s) and the every-minute job on top of it (target under 200 ms), against reading the window's log rows alone
// (same run) as the baseline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTrafficDetector } from '../detectors/traffic/index.ts';
import { createRegistry } from '../http/metrics.ts';
import type { LogEntry } from '../ingest/logs/schemas.ts';
import { insertLogs } from '../ingest/logs/store.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';

const ROUTES = 20;
const PER_MINUTE = 300;
const HOURS = 6;
/** The backfill's baseline reaches 70 minutes before its window. */
const LEAD_MINUTES = 70;
const START = Date.parse('2026-11-27T06:00:00Z');
const MINUTE = 60_000;

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-traffic-'));
  const storage = openSqlite(dir);
  try {
    await migrateToLatest(storage.db);
    const minutes = LEAD_MINUTES + HOURS * 60;
    const rows = minutes * ROUTES * PER_MINUTE;
    const seeded = performance.now();
    // Through log ingestion's own write (it also writes the per-minute figures the detector reads), a minute
    // per transaction, as batches arrive. The full-text trigger is ingestion's cost, not the detector's: the seed
    // goes around it.
    await sql`drop trigger server_logs_ai`.execute(storage.db);
    const secret = Buffer.alloc(32, 1);
    for (let m = 0; m < minutes; m += 1) {
      const entries: LogEntry[] = [];
      for (let i = 0; i < ROUTES * PER_MINUTE; i += 1) {
        const route = i % ROUTES;
        entries.push({
          ts: new Date(START + m * MINUTE + Math.floor(i / ROUTES) * (MINUTE / PER_MINUTE)).toISOString(),
          level: 'info',
          service: `svc-${route % 4}`,
          message: 'GET',
          route: `/api/route-${route}/${i % 997}`,
          method: 'GET',
          status: i % 401 === 0 ? 503 : 200,
          durationMs: 40 + (i % 97) * 3 + route * 5,
        });
      }
      const write = insertLogs(entries, secret, new Date(START + (m + 1) * MINUTE).toISOString());
      storage.sqlite.transaction(() => write(storage.sqlite))();
    }
    storage.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    console.log(
      `\ntraffic: ${rows.toLocaleString()} log rows (${ROUTES} routes × ${PER_MINUTE}/min × ${minutes} min) seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );

    const from = new Date(START + LEAD_MINUTES * MINUTE);
    const to = new Date(START + (minutes - 1) * MINUTE);
    // Baseline: reading the window's log rows (the columns the detector reads) into memory.
    let t = performance.now();
    const read = await storage.db
      .connection()
      .execute(
        async () =>
          storage.sqlite
            .prepare(
              'select ts, service, route, status, duration_ms from server_logs where ts >= ? and ts < ?',
            )
            .all(new Date(START).toISOString(), new Date(to.getTime() + MINUTE).toISOString()).length,
      );
    const baselineMs = performance.now() - t;

    const detector = createTrafficDetector({
      storage,
      registry: createRegistry({ processMetrics: false }),
      clock: () => new Date(to.getTime() + MINUTE),
      // No events arrive during the benchmark: nothing to settle.
      journal: {
        settle: async () => {},
        truncate: async () => true,
        backlogEvents: 0,
        close: async () => {},
      },
    });
    t = performance.now();
    const backfill = await detector.run(from, to);
    const backfillMs = performance.now() - t;
    const live: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      t = performance.now();
      await detector.runLive(new Date(to.getTime() + MINUTE));
      live.push(performance.now() - t);
    }
    const liveMs = live.sort((a, b) => a - b)[2] as number;
    console.table([
      { step: `backfill ${HOURS} h (${backfill.minutes} minutes judged)`, ms: Math.round(backfillMs) },
      { step: 'every-minute job (median of 5)', ms: Math.round(liveMs) },
      { step: `baseline: read the ${read.toLocaleString()} rows only`, ms: Math.round(baselineMs) },
    ]);
    console.log(
      `ratio backfill / read-only baseline: ${(backfillMs / baselineMs).toFixed(2)}; targets: backfill under 10,000 ms, ` +
        'the every-minute job under 200 ms',
    );
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
