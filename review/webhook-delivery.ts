// Posts the webhook outbox: each pending event that is due goes to the installation's webhook, signed with its
// secret (Stripe's scheme), and is retried with capped, jittered exponential backoff until the receiver takes
// it or it has failed `maxAttempts` times. Replicas on one database share the work through a conditional claim.
// Delivery is at least once: a process that dies in mid-attempt leaves its claim, and the event is sent again
// when the claim runs out; receivers deduplicate by the event id.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../http/logger.ts';
import { sameSecret } from '../http/secret-key.ts';
import type { Database } from '../storage/index.ts';
import { type WebhookEndpoint, webhookEndpoint } from './webhooks.ts';

/** How long a claim keeps other deliverers off a row: longer than any attempt (`REQUEST_TIMEOUT_MS`). */
const CLAIM_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const BATCH_SIZE = 50;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 60 * 60 * 1000;
const MAX_ERROR_LENGTH = 500;

/** The `vigil-signature` header for a body sent at `timestampSeconds`: `t=<seconds>,v1=<hex HMAC-SHA256>`. */
export function signature(secret: string, timestampSeconds: number, payload: string): string {
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, payload)}`;
}

function hmacHex(secret: string, timestampSeconds: number, payload: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`).digest('hex');
}

/**
 * What a receiver checks: one of the header's `v1` signatures is the body's, under the secret, and its `t` is
 * within `toleranceSeconds` of `now` (which stops an old delivery from being replayed later).
 */
export function verifySignature(
  secret: string,
  header: string,
  payload: string,
  toleranceSeconds: number,
  now: Date,
): boolean {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = hmacHex(secret, timestamp, payload);
  return signatures.some((candidate) => sameSecret(candidate, expected));
}

/**
 * How long to wait after the `attempts`-th failed attempt: 5 s doubled per attempt, at most an hour, times a
 * jitter factor in [0.5, 1.5) drawn from `random` (in [0, 1)) so that many events failed together spread out.
 */
export function nextAttemptDelayMs(attempts: number, random: number): number {
  const base = Math.min(MAX_RETRY_MS, 2 ** (Math.max(1, attempts) - 1) * FIRST_RETRY_MS);
  // Whole milliseconds, and below 1.5 × base even where `0.5 + random` rounds up to 1.5.
  return Math.min(Math.floor(base * (0.5 + random)), base * 1.5 - 1);
}

/** What `createWebhookDelivery` needs. */
export interface WebhookDeliveryOptions {
  db: Kysely<Database>;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  /** The HTTP client (tests may pass another); the global `fetch` otherwise. */
  fetch?: typeof fetch;
  /** How often `start` polls the outbox; 1000 ms unless given. */
  pollMs?: number;
  /** Failed attempts after which an event is given up as `failed`; 15 unless given (about 8 h of retries). */
  maxAttempts?: number;
}

/** The outbox's delivery loop of one process. */
export interface WebhookDelivery {
  /** Attempts every event due now (at most 50); answers how many it attempted. */
  deliverDue(): Promise<number>;
  /** Polls every `pollMs` on an unref'd timer; never two polls at once. */
  start(): void;
  /** Ends the polling and waits for the poll in flight. */
  stop(): Promise<void>;
  /** Polls soon, e.g. after a decision wrote an event. */
  kick(): void;
}

const OUTCOMES = ['delivered', 'retry', 'failed'] as const;
type Outcome = (typeof OUTCOMES)[number];

interface DeliveryMetrics {
  deliveries: Counter<'outcome'>;
  duration: Histogram;
}

const metricsByRegistry = new WeakMap<Registry, DeliveryMetrics>();

/** Creates the metrics once per registry; the outbox gauge is read from the table at scrape time. */
function deliveryMetrics(registry: Registry, db: Kysely<Database>): DeliveryMetrics {
  const existing = metricsByRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const deliveries = new Counter({
    name: 'vigil_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome: delivered, retry (failed, tried again later) or failed (given up).',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of OUTCOMES) deliveries.inc({ outcome }, 0);
  new Gauge({
    name: 'vigil_webhook_outbox_events',
    help: 'Webhook events in the outbox not delivered: pending (waiting or retrying) or failed (given up).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .select(['status', (eb) => eb.fn.countAll<number>().as('events')])
        .where('status', 'in', ['pending', 'failed'])
        .groupBy('status')
        .execute();
      for (const status of ['pending', 'failed'] as const)
        this.set({ status }, Number(rows.find((r) => r.status === status)?.events ?? 0));
    },
  });
  const duration = new Histogram({
    name: 'vigil_webhook_delivery_duration_seconds',
    help: 'Time from sending a webhook event to its answer (or the error), per attempt.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const metrics = { deliveries, duration };
  metricsByRegistry.set(registry, metrics);
  return metrics;
}

/** An attempt's error in at most 500 characters, with the secret blanked should anything echo it. */
function describeError(error: unknown, secret: string): string {
  let message: string;
  if (error instanceof Error && error.name === 'TimeoutError') {
    message = `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  } else if (error instanceof Error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    message = `${error.message}${cause}`;
  } else {
    message = String(error);
  }
  return message.replaceAll(secret, '[secret]').slice(0, MAX_ERROR_LENGTH);
}

export function createWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  const { db, logger, clock } = options;
  const send = options.fetch ?? fetch;
  const pollMs = options.pollMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 15;
  const metrics = deliveryMetrics(options.registry, db);
  let warnedNoEndpoint = false;

  /** Posts one event; answers undefined when the receiver took it, or why it did not. */
  async function post(endpoint: WebhookEndpoint, id: string, payload: string): Promise<string | undefined> {
    const started = process.hrtime.bigint();
    try {
      const response = await send(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Vigil-Webhook/1',
          'vigil-event-id': id,
          'vigil-signature': signature(endpoint.secret, Math.floor(clock().getTime() / 1000), payload),
        },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      // The answer's body is not read: drop it so the connection is freed.
      await response.body?.cancel().catch(() => {});
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      return describeError(error, endpoint.secret);
    } finally {
      metrics.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** Takes the row for one attempt, unless another deliverer took it since it was read. */
  async function claim(id: string, readNextAttemptAt: string): Promise<boolean> {
    const result = await db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: new Date(clock().getTime() + CLAIM_MS).toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', readNextAttemptAt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async function record(id: string, attempts: number, error: string | undefined): Promise<Outcome> {
    const now = clock();
    const attempted = { attempts, last_attempt_at: now.toISOString() };
    if (error === undefined) {
      await db
        .updateTable('webhook_deliveries')
        .set({ ...attempted, status: 'delivered', delivered_at: now.toISOString() })
        .where('id', '=', id)
        .execute();
      return 'delivered';
    }
    const failed = { ...attempted, last_error: error };
    if (attempts >= maxAttempts) {
      await db
        .updateTable('webhook_deliveries')
        .set({ ...failed, status: 'failed' })
        .where('id', '=', id)
        .execute();
      return 'failed';
    }
    const next = new Date(now.getTime() + nextAttemptDelayMs(attempts, Math.random()));
    await db
      .updateTable('webhook_deliveries')
      .set({ ...failed, next_attempt_at: next.toISOString() })
      .where('id', '=', id)
      .execute();
    return 'retry';
  }

  async function deliverDue(): Promise<number> {
    const now = clock().toISOString();
    const endpoint = await webhookEndpoint(db);
    if (!endpoint) {
      if (!warnedNoEndpoint) {
        const waiting = await db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .executeTakeFirst();
        if (waiting) {
          logger.warn(
            'webhook events are waiting, but no webhook is set: set one with `npx vigil webhook set`',
          );
          warnedNoEndpoint = true;
        }
      }
      return 0;
    }
    warnedNoEndpoint = false;
    const due = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'payload', 'attempts', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('created_at')
      .orderBy('id')
      .limit(BATCH_SIZE)
      .execute();
    let attempted = 0;
    // One at a time, oldest first: a receiver sees a payout's decisions in the order they were made.
    for (const row of due) {
      if (!(await claim(row.id, row.next_attempt_at))) continue;
      attempted += 1;
      const error = await post(endpoint, row.id, row.payload);
      const outcome = await record(row.id, row.attempts + 1, error);
      metrics.deliveries.inc({ outcome });
      if (outcome !== 'delivered') {
        // The event id and the error only: never the payload (its note) nor the secret.
        const fields = { event: row.id, attempts: row.attempts + 1, error };
        if (outcome === 'failed') logger.error('webhook event given up after its last attempt', fields);
        else logger.warn('webhook delivery failed; it will be retried', fields);
      }
    }
    return attempted;
  }

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  /**
   * One poll that never rejects. A tick of the timer during a poll is skipped; a kick during one asks for
   * another right after, since the event it announces may have been written after this poll read the outbox.
   */
  function poll(kicked = false): void {
    if (inFlight) {
      again ||= kicked;
      return;
    }
    inFlight = deliverDue()
      .then(
        () => {},
        (error: unknown) => logger.error('webhook delivery poll failed', { error }),
      )
      .finally(() => {
        inFlight = undefined;
        if (again && !stopped) {
          again = false;
          poll();
        }
      });
  }

  return {
    deliverDue,
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setInterval(() => poll(), pollMs);
      timer.unref();
      poll();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      while (inFlight) await inFlight;
    },
    kick() {
      if (!stopped) setImmediate(() => poll(true));
    },
  };
}
