// A decision's webhook event survives a server killed while the receiver is down: after a restart the event
// reaches the receiver exactly once, signed with the secret the CLI printed.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../http/api-keys.ts';
import { verifySignature } from '../../review/webhook-delivery.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { tempDataDir } from '../harness.ts';
import { freePort, runVigilCli, type ServerProcess, startServerProcess, until } from '../processes.ts';
import { databaseEnv, openServerStorage } from '../server-database.ts';
import { startReceiver } from '../webhook-receiver.ts';

const dataDir = tempDataDir();
const env = { VIGIL_DATA_DIR: dataDir, ...(await databaseEnv(dataDir)) };
const children: ServerProcess[] = [];
let receiver: { close(): Promise<void> } | undefined;
afterAll(async () => {
  for (const s of children)
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await receiver?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const PAYOUT = 'p-webhook-1';

/** An analyst's key and a flagged payout, as the detector would leave it. */
async function seed(): Promise<string> {
  const storage = await openServerStorage(dataDir);
  try {
    await migrateToLatest(storage.db);
    const at = new Date().toISOString();
    await storage.db
      .insertInto('affiliates')
      .values({
        id: 'aff-webhook',
        name: 'Anna',
        subject_id: 's-webhook',
        payout_account_hash: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await storage.db
      .insertInto('payouts')
      .values({
        id: PAYOUT,
        affiliate_id: 'aff-webhook',
        period_start: '2026-10-01T00:00:00Z',
        period_end: '2026-10-15T00:00:00Z',
        amount: 240,
        currency: 'EUR',
        status: 'flagged',
        created_at: at,
        updated_at: at,
      })
      .execute();
    const analyst = { name: 'analyst', role: 'analyst' } as const;
    return (await createApiKey(storage.db, analyst, { name: 'test-setup', role: 'operator' }, new Date()))
      .key;
  } finally {
    await storage.close();
  }
}

/** The outbox row of the payout's event, read through a connection of the test's own. */
async function outboxRow() {
  const storage = await openServerStorage(dataDir);
  try {
    return await storage.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('payout_id', '=', PAYOUT)
      .executeTakeFirst();
  } finally {
    await storage.close();
  }
}

describe('webhook delivery across a crash', () => {
  it('delivers a decision made while the receiver was down, once, after a SIGKILL and a restart', async () => {
    const analystKey = await seed();
    const port = await freePort();
    const receiverUrl = `http://127.0.0.1:${port}/hooks/vigil`;

    const first = await startServerProcess(env);
    children.push(first);
    const set = await runVigilCli(['webhook', 'set', '--url', receiverUrl], env);
    expect(set.code).toBe(0);
    const secret = set.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(secret).toMatch(/^whsec_/);

    const decided = await fetch(`${first.baseUrl}/v1/flags/${PAYOUT}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analystKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'reject', note: 'Sales 2-4 s after their clicks' }),
    });
    expect(decided.status).toBe(200);
    // The server tried the receiver, found it down, and scheduled a retry (at least 2.5 s later).
    const failed = await until('a failed first attempt', async () => {
      const row = await outboxRow();
      return row && row.attempts >= 1 ? row : undefined;
    });
    expect(failed).toMatchObject({ status: 'pending', delivered_at: null });
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    first.child.kill('SIGKILL');
    await first.exited;

    const server = await startReceiver(() => 204, 0, port);
    receiver = server;
    const { received } = server;

    const second = await startServerProcess(env);
    children.push(second);
    await until('the event at the receiver', async () => (received.length > 0 ? true : undefined));
    const delivered = await until('the event marked delivered', async () => {
      const row = await outboxRow();
      return row?.status === 'delivered' ? row : undefined;
    });
    // A clean stop waits for the poll in flight: whatever was going to be sent has been.
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got?.id).toBe(delivered.id);
    expect(got?.body).toBe(delivered.payload);
    expect(got && verifySignature(secret, got.signature, got.body, 300, new Date())).toBe(true);
    expect(JSON.parse(got?.body ?? '{}')).toMatchObject({
      id: delivered.id,
      type: 'payout.decided',
      data: { payoutId: PAYOUT, decision: 'reject', status: 'rejected', decidedBy: 'analyst' },
    });
    expect(delivered.attempts).toBe(2);
  }, 60_000);
});
