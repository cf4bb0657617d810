// Two Vigil servers for the consent benchmark, identical but for the consent gate: one with the policy from
// consent/gate-policy.yaml, one with the gate open. Prints `{"on":{port,key},"off":{port,key},"subjects":n}`.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.ts';
import { createDeps } from '../api/deps.ts';
import { openGatePolicy } from '../consent/index.ts';
import { createApiKey } from '../http/api-keys.ts';
import { createLogger } from '../http/logger.ts';
import { createFaroApp } from '../ingest/faro/index.ts';
import { migrateToLatest, openSqlite } from '../storage/index.ts';

export const BENCH_ORIGIN = 'https://shop.bench';
export const GRANTED_SUBJECTS = 1000;

const [root] = process.argv.slice(2);
if (!root) throw new Error('usage: consent-target <dir>');

async function start(name: string, gateOn: boolean) {
  const dataDir = path.join(root as string, name);
  fs.mkdirSync(dataDir, { recursive: true });
  const storage = openSqlite(dataDir);
  await migrateToLatest(storage.db);
  const actor = { name: 'bench', role: 'operator' };
  const deps = createDeps({
    storage,
    secret: Buffer.from('b'.repeat(32)),
    logger: createLogger('warn'),
    ingest: { faroRatePerSecond: 1_000_000, faroBurst: 1_000_000 },
  });
  const app = createApp(deps);
  const ingest = (await createApiKey(storage.db, { name: 'ingest', role: 'ingest' }, actor, new Date())).key;
  for (let i = 0; i < GRANTED_SUBJECTS; i += 1) {
    await app.request('/v1/consents', {
      method: 'POST',
      headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        subjectId: `u-${i}`,
        decisions: { analytics: 'granted' },
        policyVersion: 'v1',
        source: 'banner',
      }),
    });
  }
  if (!gateOn) deps.consent.gate.usePolicy(openGatePolicy());
  const { key } = await createFaroApp(
    storage.db,
    { name: `bench-${name}`, origins: [BENCH_ORIGIN] },
    actor,
    new Date(),
  );
  const port = await new Promise<number>((resolve) => {
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
  });
  return { port, key };
}

// Stopped after the measurement: it exits at once, whatever keep-alive connections are left.
process.once('SIGTERM', () => process.exit(0));
const on = await start('gate-on', true);
const off = await start('gate-off', false);
process.stdout.write(`${JSON.stringify({ on, off, subjects: GRANTED_SUBJECTS })}\n`);
