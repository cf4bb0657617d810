import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../http/api-keys.ts';
import { decodeBatch, journalDir, rowId } from '../../ingest/write-path/journal.ts';
import { readJournal } from '../../ingest/write-path/segment-log.ts';
import { migrateToLatest, openSqlite } from '../../storage/index.ts';
import { tempDataDir } from '../harness.ts';
import { type ServerProcess, startServerProcess } from '../processes.ts';
import { SERVERS_ON_POSTGRES } from '../server-database.ts';

const dataDir = tempDataDir();
const children: ServerProcess[] = [];
afterAll(async () => {
  for (const s of children)
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const WORKERS = 8;
const BATCH = 25;

function batch(worker: number, seq: number) {
  return {
    events: Array.from({ length: BATCH }, (_, i) => ({
      id: `w${worker}-b${seq}-e${i}`,
      type: 'click',
      ts: '2026-11-28T12:00:00Z',
      affiliateId: `aff-${worker}`,
      clickId: `c-${worker}-${seq}-${i}`,
      ip: `198.51.100.${i}`,
      userAgent: 'crash-test',
    })),
  };
}

/** Ids of the events waiting in the event journal, not yet applied to the database. */
function journalIds(): string[] {
  return readJournal(journalDir(path.join(dataDir, 'vigil.sqlite'))).flatMap((entry) =>
    decodeBatch(entry.text).values.map(rowId),
  );
}

/** Every event stored: in the database, or committed to the event journal and not yet applied. */
async function storedIds(): Promise<Set<string>> {
  const storage = openSqlite(dataDir);
  try {
    const rows = await sql<{ id: string }>`select id from affiliate_events`.execute(storage.db);
    return new Set([...rows.rows.map((r) => r.id), ...journalIds()]);
  } finally {
    await storage.close();
  }
}

// SQLite's event journal and its recovery; on PostgreSQL an event answered 202 is a committed row, and
// test/e2e/replicas.test.ts kills a replica under load there.
describe.skipIf(SERVERS_ON_POSTGRES)(
  'a server killed with SIGKILL under concurrent load (SQLite event journal)',
  () => {
    it('keeps every event it acknowledged, each batch whole or not at all, and none twice after retries', async () => {
      const storage = openSqlite(dataDir);
      await migrateToLatest(storage.db);
      const { key } = await createApiKey(
        storage.db,
        { name: 'crash', role: 'ingest' },
        { name: 't', role: 'x' },
        new Date(),
      );
      await storage.close();
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

      const server = await startServerProcess({ VIGIL_DATA_DIR: dataDir });
      children.push(server);
      const acknowledged: string[][] = [];
      const sent: string[][] = [];
      let stop = false;
      const load = async (worker: number) => {
        for (let seq = 0; !stop && seq < 10_000; seq += 1) {
          const body = batch(worker, seq);
          sent.push(body.events.map((e) => e.id));
          try {
            const res = await fetch(`${server.baseUrl}/v1/events`, {
              method: 'POST',
              headers,
              body: JSON.stringify(body),
            });
            if (res.status === 202) acknowledged.push(body.events.map((e) => e.id));
            await res.arrayBuffer();
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => load(w));
      // Kill once a good number of batches is acknowledged, in the middle of the load.
      while (acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));
      server.child.kill('SIGKILL');
      await server.exited;
      stop = true;
      await Promise.all(workers);

      const ids = await storedIds();
      for (const batchIds of acknowledged) for (const id of batchIds) expect(ids.has(id)).toBe(true);
      // A batch not acknowledged is either wholly stored (committed just before the kill) or wholly absent.
      for (const batchIds of sent) {
        const present = batchIds.filter((id) => ids.has(id)).length;
        expect([0, batchIds.length]).toContain(present);
      }

      // The senders retry everything after a restart: each event is then stored exactly once.
      const restarted = await startServerProcess({ VIGIL_DATA_DIR: dataDir });
      children.push(restarted);
      // A second server on the same data directory refuses to start (the event journal has one writer).
      await expect(startServerProcess({ VIGIL_DATA_DIR: dataDir })).rejects.toThrow(
        /exited with 2[\s\S]*another Vigil process is using the data directory/,
      );
      let duplicates = 0;
      for (const batchIds of sent) {
        const [worker, seq] = (batchIds[0] ?? '').match(/\d+/g)?.map(Number) ?? [0, 0];
        const res = await fetch(`${restarted.baseUrl}/v1/events`, {
          method: 'POST',
          headers,
          body: JSON.stringify(batch(worker ?? 0, seq ?? 0)),
        });
        expect(res.status).toBe(202);
        duplicates += ((await res.json()) as { duplicates: number }).duplicates;
      }
      restarted.child.kill('SIGTERM');
      await restarted.exited;
      // A graceful stop applies the journal first.
      expect(journalIds()).toEqual([]);
      const after = await storedIds();
      const distinctSent = new Set(sent.flat());
      expect(after.size).toBe(distinctSent.size);
      expect(duplicates).toBe(ids.size);
      expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    });
  },
);
