// `npm run bench -- event-store`: affiliate events stored per second, in batches of 500, by the SQLite write
// path's insert (one synchronous transaction per batch on this machine's file) — the baseline — and by the
// PostgreSQL store (one transaction per batch; `CONCURRENCY` batches at once, as several requests or replicas
// send them) on the PostgreSQL at 127.0.0.1:5432 (`VIGIL_TEST_POSTGRES_URL` to point elsewhere), in a schema
// of its own, dropped after. The HTTP path's figures are `npm run bench -- ingest`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { insertEventRowsPostgres } from '../ingest/events/postgres-store.ts';
import type { AffiliateEvent } from '../ingest/events/schemas.ts';
import { type EventRowBatch, eventRowBatch, insertEventRows } from '../ingest/events/store.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';
import { openPostgres } from '../storage/postgres.ts';
import { POSTGRES_URL, postgresUnreachable } from '../test/postgres.ts';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const BATCH = 500;
const CONCURRENCY = 4;
const SECRET = Buffer.alloc(32, 9);

function batches(): EventRowBatch[] {
  const out: EventRowBatch[] = [];
  for (let start = 0; start < EVENTS; start += BATCH) {
    const events: AffiliateEvent[] = [];
    for (let n = start; n < Math.min(EVENTS, start + BATCH); n += 1) {
      events.push({
        id: `evt-${n}`,
        type: 'click',
        ts: new Date(Date.UTC(2026, 11, 1) + n * 100).toISOString(),
        affiliateId: `aff-${n % 10_000}`,
        campaignId: 'winter',
        clickId: `clk-${n}`,
        ip: `203.0.${(n >> 8) % 256}.${n % 256}`,
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) Version/26.0 Mobile Safari/604.1',
        referrer: 'https://www.instagram.com/',
        landingUrl: 'https://shop.example/winter?utm_source=instagram&utm_campaign=winter',
        country: 'DE',
      } as AffiliateEvent);
    }
    out.push(eventRowBatch(events, SECRET, new Date().toISOString()));
  }
  return out;
}

export async function run(): Promise<void> {
  const work = batches();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-event-store-'));
  const storage = openSqlite(dir);
  let sqliteMs: number;
  try {
    await migrateToLatest(storage.db);
    const insert = storage.sqlite.transaction((batch: EventRowBatch) =>
      insertEventRows(storage.sqlite, batch),
    );
    const t = performance.now();
    for (const batch of work) insert(batch);
    sqliteMs = performance.now() - t;
  } finally {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const rows: { store: string; 'events/s': string; ms: number }[] = [
    {
      store: 'SQLite write path insert (baseline)',
      'events/s': Math.round(EVENTS / (sqliteMs / 1000)).toLocaleString(),
      ms: Math.round(sqliteMs),
    },
  ];
  const unreachable = await postgresUnreachable();
  if (unreachable) {
    console.table(rows);
    console.log(`PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`);
    return;
  }
  const schema = `vigil_bench_${process.pid}`;
  const db = await openPostgres(POSTGRES_URL, { schema, max: CONCURRENCY });
  try {
    await migrateToLatest(db);
    let next = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < work.length) {
          const batch = work[next++] as EventRowBatch;
          await insertEventRowsPostgres(db, batch);
        }
      }),
    );
    const pgMs = performance.now() - t;
    rows.push({
      store: `PostgreSQL store, ${CONCURRENCY} batches at once`,
      'events/s': Math.round(EVENTS / (pgMs / 1000)).toLocaleString(),
      ms: Math.round(pgMs),
    });
    console.table(rows);
    console.log(
      `${EVENTS.toLocaleString()} click events in batches of ${BATCH}; ratio PostgreSQL / SQLite time: ${(pgMs / sqliteMs).toFixed(2)}`,
    );
  } finally {
    await sql.raw(`drop schema if exists ${schema} cascade`).execute(db);
    await db.destroy();
  }
}
