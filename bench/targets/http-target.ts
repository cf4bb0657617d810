// Serves the two apps the http benchmark compares, each on its own port, and prints
// `{"vigil":<port>,"bare":<port>,"key":"<dpo key>"}` on stdout when both listen.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createApiKey } from '../../api/api-keys.ts';
import { createApp } from '../../api/app.ts';
import { createDeps } from '../../api/deps.ts';
import { createLogger } from '../../api/logger.ts';
import { createRegistry } from '../../api/metrics.ts';
import { appendAudit, migrateToLatest, openSqlite } from '../../storage/index.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: http-target <dataDir>');
const storage = openSqlite(dataDir);
await migrateToLatest(storage.db);
const actor = { name: 'bench', role: 'operator' };
const { key } = await createApiKey(storage.db, { name: 'bench-dpo', role: 'dpo' }, actor, new Date());
await storage.db.transaction().execute(async (trx) => {
  for (let i = 0; i < 100; i += 1)
    await appendAudit(trx, actor, { action: 'bench', target: `t:${i}` }, new Date());
});

const vigil = createApp(
  createDeps({
    storage,
    secret: Buffer.from('b'.repeat(32)),
    registry: createRegistry({ processMetrics: true }),
    logger: createLogger('warn'),
  }),
);
// The baseline: Hono with no middleware, answering a JSON document of the same shape from memory.
const sample = await (
  await vigil.request('/v1/audit?limit=10', { headers: { authorization: `Bearer ${key}` } })
).json();
const bare = new Hono().get('/v1/audit', (c) => c.json(sample));

const listen = (fetch: (req: Request) => Response | Promise<Response>) =>
  new Promise<number>((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(info.port),
    );
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
  });
const [vigilPort, barePort] = await Promise.all([listen(vigil.fetch), listen(bare.fetch)]);
process.stdout.write(`${JSON.stringify({ vigil: vigilPort, bare: barePort, key })}\n`);
