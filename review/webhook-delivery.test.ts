// The webhook outbox's delivery against a real HTTP receiver on 127.0.0.1, with a clock the tests move.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../http/logger.ts';
import { createRegistry } from '../http/metrics.ts';
import { NotFoundError } from '../storage/index.ts';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { startReceiver } from '../test/webhook-receiver.ts';
import { replayDeliveries } from './webhook-admin.ts';
import { createWebhookDelivery, nextAttemptDelayMs, signature, verifySignature } from './webhook-delivery.ts';
import {
  type DecisionEvent,
  enqueueDecisionEvent,
  removeWebhookEndpoint,
  setWebhookEndpoint,
} from './webhooks.ts';

const NOTE = 'private note about the affiliate';

function decision(payoutId: string): DecisionEvent['data'] {
  return {
    payoutId,
    affiliateId: 'aff-1',
    decision: 'reject',
    status: 'rejected',
    note: NOTE,
    decidedBy: 'test-analyst',
    decidedAt: '2026-12-08T10:00:00.000Z',
  };
}

let ctx: TestContext;
let now: Date;
const clock = () => now;
let logs: string[];
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  ctx = await createTestContext();
  now = new Date('2026-12-08T10:00:00.000Z');
  logs = [];
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await ctx.close();
});

async function receiver(status: (n: number) => number, delayMs = 0) {
  const r = await startReceiver(status, delayMs);
  closers.push(r.close);
  return r;
}

function delivery(options: { registry?: Registry; maxAttempts?: number; pollMs?: number } = {}) {
  return createWebhookDelivery({
    db: ctx.storage.db,
    registry: options.registry ?? createRegistry({ processMetrics: false }),
    logger: createLogger('debug', (line) => logs.push(line)),
    clock,
    maxAttempts: options.maxAttempts,
    pollMs: options.pollMs,
  });
}

async function enqueue(payoutId: string): Promise<DecisionEvent> {
  const event = await ctx.storage.db
    .transaction()
    .execute((trx) => enqueueDecisionEvent(trx, decision(payoutId), now));
  if (!event) throw new Error('no webhook is set');
  return event;
}

function row(id: string) {
  return ctx.storage.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Moves the clock to just past the row's next attempt. */
async function advancePastNextAttempt(id: string): Promise<void> {
  now = new Date(new Date((await row(id)).next_attempt_at).getTime() + 1);
}

async function metric(registry: Registry, name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const series = labels ? `${name}\\{${labels}\\}` : name;
  const match = new RegExp(`^${series} (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`no ${name}{${labels}} in\n${text}`);
  return Number(match[1]);
}

describe('webhook delivery', () => {
  it('retries a failing receiver with growing backoff and delivers the same signed event once', async () => {
    const r = await receiver((n) => (n <= 2 ? 500 : 204));
    const { secret } = await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const event = await enqueue('p-1');
    const registry = createRegistry({ processMetrics: false });
    const deliverer = delivery({ registry });

    const delays: number[] = [];
    for (const attempt of [1, 2]) {
      const before = now.getTime();
      expect(await deliverer.deliverDue()).toBe(1);
      const stored = await row(event.id);
      expect(stored).toMatchObject({ status: 'pending', attempts: attempt, last_error: 'HTTP 500' });
      delays.push(new Date(stored.next_attempt_at).getTime() - before);
      // Not due yet: nothing is sent.
      expect(await deliverer.deliverDue()).toBe(0);
      await advancePastNextAttempt(event.id);
    }
    expect(delays[0]).toBeGreaterThanOrEqual(2_500);
    expect(delays[0]).toBeLessThan(7_500);
    expect(delays[1]).toBeGreaterThanOrEqual(5_000);
    expect(delays[1]).toBeLessThan(15_000);

    expect(await deliverer.deliverDue()).toBe(1);
    expect(await row(event.id)).toMatchObject({
      status: 'delivered',
      attempts: 3,
      delivered_at: now.toISOString(),
    });
    now = new Date(now.getTime() + 24 * 3600 * 1000);
    expect(await deliverer.deliverDue()).toBe(0);

    expect(r.received).toHaveLength(3);
    const stored = await row(event.id);
    for (const got of r.received) {
      expect(got).toMatchObject({
        id: event.id,
        contentType: 'application/json',
        userAgent: 'Vigil-Webhook/1',
        body: stored.payload,
      });
      expect(got.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(got.signature).toBe(signature(secret, Number(/^t=(\d+)/.exec(got.signature)?.[1]), got.body));
      expect(verifySignature(secret, got.signature, got.body, 7 * 24 * 3600, now)).toBe(true);
      expect(verifySignature('whsec_another', got.signature, got.body, 7 * 24 * 3600, now)).toBe(false);
      const tampered = got.body.replace('"reject"', '"approve"');
      expect(tampered).not.toBe(got.body);
      expect(verifySignature(secret, got.signature, tampered, 7 * 24 * 3600, now)).toBe(false);
    }
    // A signature older than the tolerance is refused: an old delivery cannot be replayed to the receiver.
    const last = r.received.at(-1);
    expect(last && verifySignature(secret, last.signature, last.body, 300, now)).toBe(false);
    expect(JSON.parse(stored.payload)).toEqual(event);

    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="delivered"')).toBe(1);
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="retry"')).toBe(2);
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="failed"')).toBe(0);
    expect(await metric(registry, 'vigil_webhook_outbox_events', 'status="pending"')).toBe(0);
    expect(await metric(registry, 'vigil_webhook_delivery_duration_seconds_count', '')).toBe(3);
    const logged = logs.join('');
    expect(logged).toContain(event.id);
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(NOTE);
  });

  it('signs "<t>.<body>" with HMAC-SHA256 (the Stripe scheme), and a receiver checks it within a tolerance', () => {
    const body = '{"id":"evt_1"}';
    const t = 1_796_000_000;
    const hex = createHmac('sha256', 'whsec_k').update(`${t}.${body}`).digest('hex');
    expect(signature('whsec_k', t, body)).toBe(`t=${t},v1=${hex}`);
    const at = new Date(t * 1000);
    expect(verifySignature('whsec_k', `t=${t},v1=${hex}`, body, 300, at)).toBe(true);
    // Another v1 beside it (a rotated secret's) does not stop a match.
    expect(verifySignature('whsec_k', `t=${t},v1=${'0'.repeat(64)},v1=${hex}`, body, 300, at)).toBe(true);
    expect(verifySignature('whsec_k', `t=${t},v1=${hex}`, body, 300, new Date(at.getTime() + 301_000))).toBe(
      false,
    );
    expect(verifySignature('whsec_k', `t=${t + 1},v1=${hex}`, body, 300, at)).toBe(false);
    for (const header of ['', `v1=${hex}`, `t=${t}`, `t=${t},v1=${hex.slice(1)}`, `t=x,v1=${hex}`])
      expect(verifySignature('whsec_k', header, body, 300, at)).toBe(false);
  });

  it('waits between attempts 5 s doubled per attempt, at most an hour, times a jitter in [0.5, 1.5)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, random) => {
          const base = Math.min(3_600_000, 2 ** (attempts - 1) * 5_000);
          const delay = nextAttemptDelayMs(attempts, random);
          expect(delay).toBeGreaterThanOrEqual(base * 0.5);
          expect(delay).toBeLessThan(base * 1.5);
          expect(nextAttemptDelayMs(attempts + 1, random)).toBeGreaterThanOrEqual(delay);
        },
      ),
    );
    expect(nextAttemptDelayMs(1, 0.5)).toBe(5_000);
    expect(nextAttemptDelayMs(4, 0.5)).toBe(40_000);
    expect(nextAttemptDelayMs(30, 0.5)).toBe(3_600_000);
  });

  it('gives an event up after maxAttempts, and a replay sends it again with a fresh count', async () => {
    let answer = 503;
    const r = await receiver(() => answer);
    await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const event = await enqueue('p-2');
    const registry = createRegistry({ processMetrics: false });
    const deliverer = delivery({ registry, maxAttempts: 3 });
    for (let i = 0; i < 3; i += 1) {
      expect(await deliverer.deliverDue()).toBe(1);
      await advancePastNextAttempt(event.id);
    }
    expect(await row(event.id)).toMatchObject({ status: 'failed', attempts: 3, last_error: 'HTTP 503' });
    now = new Date(now.getTime() + 24 * 3600 * 1000);
    expect(await deliverer.deliverDue()).toBe(0);
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="retry"')).toBe(2);
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="failed"')).toBe(1);
    expect(await metric(registry, 'vigil_webhook_outbox_events', 'status="failed"')).toBe(1);
    expect(logs.join('')).toMatch(/"level":"error","msg":"webhook event given up/);

    const operator = { name: 'cli:test', role: 'operator' };
    expect(await replayDeliveries(ctx.storage.db, { failed: true }, operator, now)).toBe(1);
    expect(await row(event.id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      next_attempt_at: now.toISOString(),
    });
    expect(await metric(registry, 'vigil_webhook_outbox_events', 'status="failed"')).toBe(0);
    expect(await metric(registry, 'vigil_webhook_outbox_events', 'status="pending"')).toBe(1);
    answer = 200;
    expect(await deliverer.deliverDue()).toBe(1);
    expect(await row(event.id)).toMatchObject({ status: 'delivered', attempts: 1 });

    // A delivered event can be sent again by its id; the receiver dedupes by the id.
    expect(await replayDeliveries(ctx.storage.db, { id: event.id }, operator, now)).toBe(1);
    expect(await deliverer.deliverDue()).toBe(1);
    expect(r.received.map((got) => got.id)).toEqual(Array(5).fill(event.id));
    await expect(replayDeliveries(ctx.storage.db, { id: 'evt_nope' }, operator, now)).rejects.toThrow(
      NotFoundError,
    );
    const audit = await ctx.storage.db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('target', '=', 'webhook')
      .execute();
    expect(audit).toEqual([
      { action: 'webhook.replay', actor: 'cli:test' },
      { action: 'webhook.replay', actor: 'cli:test' },
    ]);
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="delivered"')).toBe(2);
  });

  it('records a receiver that is down as a retry, with the reason and without the secret', async () => {
    const r = await startReceiver(() => 204);
    await r.close();
    const { secret } = await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const event = await enqueue('p-3');
    expect(await delivery().deliverDue()).toBe(1);
    const stored = await row(event.id);
    expect(stored).toMatchObject({ status: 'pending', attempts: 1, last_attempt_at: now.toISOString() });
    expect(stored.last_error).toMatch(/ECONNREFUSED/);
    expect(stored.last_error?.length).toBeLessThanOrEqual(500);
    expect(stored.last_error).not.toContain(secret);
  });

  it('keeps events pending while no webhook is set, and says so once', async () => {
    const r = await receiver(() => 204);
    await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const event = await enqueue('p-4');
    await removeWebhookEndpoint(ctx.storage.db);
    const deliverer = delivery();
    expect(await deliverer.deliverDue()).toBe(0);
    expect(await deliverer.deliverDue()).toBe(0);
    expect(await row(event.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(r.received).toEqual([]);
    expect(logs.filter((line) => line.includes('no webhook is set'))).toHaveLength(1);
    expect(logs[0]).toMatch(/"level":"warn"/);

    await setWebhookEndpoint(ctx.storage.db, r.url, now);
    expect(await deliverer.deliverDue()).toBe(1);
    expect(await row(event.id)).toMatchObject({ status: 'delivered' });
  });

  it('sends each event once when two deliverers poll one database at the same time', async () => {
    const r = await receiver(() => 204, 5);
    await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const events = [];
    for (let i = 0; i < 20; i += 1) events.push(await enqueue(`p-${i}`));
    const registry = createRegistry({ processMetrics: false });
    const [a, b] = [delivery({ registry }), delivery({ registry })];
    const attempted = await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue()]);
    expect(attempted.reduce((sum, n) => sum + n, 0)).toBe(20);
    expect(r.received.map((got) => got.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await metric(registry, 'vigil_webhook_deliveries_total', 'outcome="delivered"')).toBe(20);
  });

  it('polls on its own once started, and stop waits for the poll in flight', async () => {
    const r = await receiver(() => 204, 50);
    await setWebhookEndpoint(ctx.storage.db, r.url, now);
    const deliverer = delivery({ pollMs: 10 });
    deliverer.start();
    const event = await enqueue('p-5');
    deliverer.kick();
    for (let i = 0; i < 200 && r.received.length === 0; i += 1)
      await new Promise((res) => setTimeout(res, 10));
    await deliverer.stop();
    expect(await row(event.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(r.received).toHaveLength(1);
  });
});
