// The server process the HTTP benchmarks measure. Serves Vigil (full pipeline, SQLite in <dataDir>, or the
// PostgreSQL of `BENCH_DATABASE_URL`) and a bare Hono baseline on two ports, then prints
// `{"vigil":…,"bare":…,"keys":{…}}` on stdout.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApp } from '../api/app.ts';
import { createDeps } from '../api/deps.ts';
import { createApiKey } from '../http/api-keys.ts';
import { createLogger } from '../http/logger.ts';
import { createRegistry } from '../http/metrics.ts';
import { appendAudit, migrateToLatest, openPostgresStorage, openSqlite } from '../storage/index.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: target <dataDir>');
const databaseUrl = process.env.BENCH_DATABASE_URL;
const storage = databaseUrl ? await openPostgresStorage(databaseUrl) : openSqlite(dataDir);
await migrateToLatest(storage.db);
const actor = { name: 'bench', role: 'operator' };
const now = new Date();
const keys = {
  dpo: (await createApiKey(storage.db, { name: 'bench-dpo', role: 'dpo' }, actor, now)).key,
  ingest: (await createApiKey(storage.db, { name: 'bench-ingest', role: 'ingest' }, actor, now)).key,
};
await storage.db.transaction().execute(async (trx) => {
  for (let i = 0; i < 100; i += 1) await appendAudit(trx, actor, { action: 'bench', target: `t:${i}` }, now);
});

const deps = createDeps({
  storage,
  secret: Buffer.from('b'.repeat(32)),
  registry: createRegistry({ processMetrics: true }),
  logger: createLogger('warn'),
  ingest: { maxBatchItems: 1000 },
});
// As the server does at boot: the event write path's threads are up before the first request.
await deps.writer.start();
const vigil = createApp(deps);

// The baselines: Hono with no middleware. GET answers the same document from memory; POST only parses the
// body as JSON and answers with the item count — no validation, no storage.
const sample = await (
  await vigil.request('/v1/audit?limit=10', { headers: { authorization: `Bearer ${keys.dpo}` } })
).json();
const bare = new Hono()
  .get('/v1/audit', (c) => c.json(sample))
  .post('/v1/events', async (c) => {
    const body = (await c.req.json()) as { events: unknown[] };
    return c.json({ accepted: body.events.length, duplicates: 0 }, 202);
  });

const listen = (fetch: (req: Request) => Response | Promise<Response>) =>
  new Promise<number>((resolve) => {
    serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
// Stopped between measurements: it exits at once, whatever connections (a load generator's keep-alive ones)
// and backlog are left, so that nothing of this run competes for the cores with the next one.
process.once('SIGTERM', () => process.exit(0));
const [vigilPort, barePort] = await Promise.all([listen(vigil.fetch), listen(bare.fetch)]);
process.stdout.write(`${JSON.stringify({ vigil: vigilPort, bare: barePort, keys })}\n`);
