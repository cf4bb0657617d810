import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import { PayoutSchema, type PayoutScore, toPayoutScore } from '../../detectors/fraud/index.ts';
import { requireRole } from '../../http/auth.ts';
import type { AppEnv } from '../../http/context.ts';
import { jsonBody } from '../../http/json-body.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
  schemaProblem,
  servePlain,
} from '../../http/openapi.ts';
import { ProblemError } from '../../http/problem.ts';
import { scrubText } from '../../http/scrub.ts';
import { subjectPseudonym } from '../../storage/identifiers.ts';
import type { Database } from '../../storage/index.ts';
import type { PayoutRow } from '../../storage/payouts.table.ts';
import type { IngestDeps } from '../deps.ts';
import { inFlightBound } from '../in-flight.ts';
import { countRejections, type IngestMetrics } from '../ingest-metrics.ts';
import { insertPayoutPostgres, upsertAffiliatesPostgres } from './postgres-store.ts';
import {
  type Affiliate,
  type AffiliateEvent,
  affiliateBody,
  CompiledEventBatchSchema,
  documentedEventBatch,
  PayoutRequestSchema,
} from './schemas.ts';
import { insertPayout, unhashedRowBatch, upsertAffiliates } from './store.ts';

const WRITE_PROBLEMS = [
  ...AUTH_PROBLEMS,
  ...BODY_PROBLEMS,
  'nesting-too-deep',
  'request-timeout',
  'unavailable',
] as const;

/** Nesting the bodies here may have: `{affiliates: [{couponCodes: [...]}]}`, the deepest, is 4. */
const MAX_BODY_DEPTH = 8;

function toPayout(row: PayoutRow, score: PayoutScore | null): z.infer<typeof PayoutSchema> {
  return {
    score,
    id: row.id,
    affiliateId: row.affiliate_id,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    amount: row.amount,
    currency: row.currency,
    status: row.status as z.infer<typeof PayoutSchema>['status'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function storedScore(db: Kysely<Database>, payoutId: string): Promise<PayoutScore | undefined> {
  const row = await db
    .selectFrom('fraud_scores')
    .selectAll()
    .where('payout_id', '=', payoutId)
    .executeTakeFirst();
  return row && toPayoutScore(row);
}

function tooMany(count: number, limit: number, what: string): ProblemError {
  return new ProblemError('payload-too-large', `${count} ${what} exceed the batch limit of ${limit}`);
}

/**
 * Asks the consent gate about every click and conversion. Under the default policy both are processed for
 * fraud prevention (legitimate interest), so all are kept; a policy that needs consent drops them, or — with
 * `minimise` — keeps them with the subject id pseudonymised. Dropped events are counted, not stored.
 */
function gateEvents(
  events: AffiliateEvent[],
  deps: IngestDeps,
  nowMs: number,
  items: IngestMetrics['items'],
): AffiliateEvent[] {
  const kept: AffiliateEvent[] = [];
  for (const event of events) {
    if (event.type === 'refund') {
      // A refund's reason is free text the marketplace's staff or customer wrote: scrubbed like a log message.
      kept.push(event.reason ? { ...event, reason: scrubText(deps.secret, event.reason) } : event);
      continue;
    }
    const decision = deps.consent.gate.decide(
      event.type === 'click' ? 'affiliate_click' : 'affiliate_conversion',
      event.subjectId,
      nowMs,
    );
    if (decision.action === 'drop')
      items.inc({ kind: event.type, outcome: 'dropped', reason: decision.reason });
    else if (decision.action === 'minimise') {
      // Pseudonymised: the same subject still links its events, but the id no longer names them.
      const subjectId = event.subjectId && subjectPseudonym(deps.secret, event.subjectId);
      kept.push({ ...event, subjectId } as AffiliateEvent);
    } else kept.push(event);
  }
  return kept;
}

/** What the affiliate-tracking routers share: the batch limit, the body guard and the bounds of ingestion. */
function trackingParts(deps: IngestDeps) {
  return {
    items: deps.ingestMetrics.items,
    limit: deps.ingest.maxBatchItems,
    body: jsonBody(deps.ingest.maxBodyBytes, {
      maxDepth: MAX_BODY_DEPTH,
      idleTimeoutMs: deps.ingest.bodyIdleTimeoutMs,
    }),
    rejections: countRejections(deps.ingestMetrics),
    inFlight: inFlightBound(deps.writer.admission),
  };
}

/** `POST /v1/affiliates` (ingest): affiliates and their coupon codes. */
/** A click, the conversion it led to and a partial refund: the batch shown in the API reference. */
const EVENT_BATCH_EXAMPLE = {
  events: [
    {
      id: 'e-1',
      type: 'click',
      ts: '2026-11-28T12:00:00Z',
      affiliateId: 'aff-1',
      campaignId: 'bf-2026',
      clickId: 'c-1',
      ip: '198.51.100.23',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
      referrer: 'https://www.instagram.com/',
      landingUrl: 'https://shop.example/p/1?utm_campaign=bf-2026',
      country: 'DE',
    },
    {
      id: 'e-2',
      type: 'conversion',
      ts: '2026-11-28T12:09:30Z',
      affiliateId: 'aff-1',
      campaignId: 'bf-2026',
      clickId: 'c-1',
      orderId: 'o-1',
      subjectId: 'u-42',
      amount: 59.9,
      currency: 'EUR',
      couponCode: 'JANE10',
      ip: '198.51.100.23',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
      newCustomer: true,
      country: 'DE',
    },
    { id: 'e-3', type: 'refund', ts: '2026-11-30T08:00:00Z', orderId: 'o-1', amount: 19.9, currency: 'EUR' },
  ],
};

export function affiliateRoutes(deps: IngestDeps) {
  const { items, limit, body, rejections, inFlight } = trackingParts(deps);
  // Past the limit a batch is a 413, as for events: checked before the schema, which documents the same limit.
  const batchLimit = createMiddleware<AppEnv>(async (c, next) => {
    const input: unknown = await c.req.json();
    const batch =
      typeof input === 'object' && input !== null && 'affiliates' in input ? input.affiliates : [];
    if (Array.isArray(batch) && batch.length > limit) throw tooMany(batch.length, limit, 'affiliates');
    await next();
  });
  const affiliatesRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['ingest'],
    summary: 'Upserts one affiliate, or a batch `{affiliates: [...]}`, with its coupon codes',
    security: BEARER_SECURITY,
    middleware: [rejections, requireRole('ingest'), inFlight, body, batchLimit] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: affiliateBody(limit),
            example: { id: 'aff-1', name: 'Jane Creator', couponCodes: ['JANE10'] },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'Committed',
        content: { 'application/json': { schema: z.object({ upserted: z.number().int() }) } },
      },
      ...problemResponses(...WRITE_PROBLEMS, 'conflict'),
    },
  });

  return createRouter().openapi(affiliatesRoute, async (c) => {
    const input = c.req.valid('json');
    const affiliates: Affiliate[] = 'affiliates' in input ? input.affiliates : [input];
    if (affiliates.length > limit) throw tooMany(affiliates.length, limit, 'affiliates');
    const seen = new Map<string, number>();
    affiliates.forEach((a, i) => {
      for (const code of a.couponCodes.map((x) => x.toUpperCase())) {
        const other = seen.get(code);
        if (other !== undefined && affiliates[other]?.id !== a.id) {
          throw new ProblemError('conflict', `coupon code ${code} is given to two affiliates in this batch`, {
            errors: [
              { path: `/affiliates/${i}/couponCodes`, message: `${code} also belongs to item ${other}` },
            ],
          });
        }
        seen.set(code, i);
      }
    });
    const now = c.var.clock().toISOString();
    const upserted = await deps.writer.submit(affiliates.length, {
      sqlite: upsertAffiliates(affiliates, deps.secret, now),
      postgres: (db) => upsertAffiliatesPostgres(db, affiliates, deps.secret, now),
    });
    items.inc({ kind: 'affiliate', outcome: 'accepted', reason: 'ok' }, upserted);
    return c.json({ upserted }, 200);
  });
}

/** `POST /v1/payouts` (ingest): payout requests, scored on arrival; `review/` serves reading them back. */
export function payoutRoutes(deps: IngestDeps) {
  const { items, body, rejections, inFlight } = trackingParts(deps);
  const createPayoutRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['ingest'],
    summary: 'A payout request, stored and scored for fraud within the request; idempotent on id',
    description:
      'The answer carries the score: risk 0–1, level, decision (approved, flagged for review, or held by a hard ' +
      'rule), reasons with their evidence (values and percentiles) and the model version. The payout status ' +
      'follows the decision.',
    security: BEARER_SECURITY,
    middleware: [rejections, requireRole('ingest'), inFlight, body] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: PayoutRequestSchema,
            example: {
              id: 'p-1',
              affiliateId: 'aff-1',
              periodStart: '2026-11-01T00:00:00Z',
              periodEnd: '2026-12-01T00:00:00Z',
              amount: 120.5,
              currency: 'EUR',
            },
          },
        },
      },
    },
    responses: {
      201: { description: 'Created', content: { 'application/json': { schema: PayoutSchema } } },
      200: {
        description: 'The same request was stored before',
        content: { 'application/json': { schema: PayoutSchema } },
      },
      ...problemResponses(...WRITE_PROBLEMS, 'conflict'),
    },
  });

  return createRouter().openapi(createPayoutRoute, async (c) => {
    const request = c.req.valid('json');
    const now = c.var.clock().toISOString();
    const { created, payout } = await deps.writer.submit(1, {
      sqlite: insertPayout(request, now),
      postgres: (db) => insertPayoutPostgres(db, request, now),
    });
    items.inc({
      kind: 'payout',
      outcome: created ? 'accepted' : 'duplicate',
      reason: created ? 'ok' : 'duplicate',
    });
    // Scored within the request. The payout is stored whatever happens here: a scoring failure leaves it
    // pending (and logged) for the next fraud run rather than failing a request that was committed.
    let score = await storedScore(c.var.db, payout.id);
    if (!score) {
      try {
        score = await deps.fraud.scorePayout(payout);
      } catch (error) {
        c.var.logger.error('payout scoring failed', { payout: payout.id, error });
      }
    }
    const current = await c.var.db
      .selectFrom('payouts')
      .selectAll()
      .where('id', '=', payout.id)
      .executeTakeFirstOrThrow();
    return c.json(toPayout(current, score ?? null), created ? 201 : 200);
  });
}

/** `POST /v1/events` (ingest): affiliate clicks, conversions and refunds. */
export function eventRoutes(deps: IngestDeps) {
  const { items, limit, body, rejections, inFlight } = trackingParts(deps);
  const eventsRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['ingest'],
    summary: 'Affiliate clicks, conversions and refunds; idempotent on event id',
    description:
      'The batch is validated whole: one bad event rejects it with 422 naming the event index, and nothing ' +
      'is stored. 202 means every event is committed. IPs are stored only as a keyed hash and a /24 or /48 prefix.',
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          'application/json': { schema: documentedEventBatch(limit), example: EVENT_BATCH_EXAMPLE },
        },
      },
    },
    responses: {
      202: {
        description: 'Committed',
        content: {
          'application/json': {
            schema: z.object({ accepted: z.number().int(), duplicates: z.number().int() }),
          },
        },
      },
      ...problemResponses(...WRITE_PROBLEMS),
    },
  });

  const router = createRouter();
  const backlogRoom = createMiddleware<AppEnv>(async (_c, next) => {
    deps.writer.admission.refuseIfBacklogFull();
    await next();
  });
  // Documented like the others, but validated here: the compiled schema's fast path runs only synchronously.
  servePlain(
    router,
    eventsRoute,
    rejections,
    requireRole('ingest'),
    inFlight,
    backlogRoom,
    body,
    async (c) => {
      const input: unknown = await c.req.json();
      const parsed = CompiledEventBatchSchema.safeParse(input);
      if (!parsed.success)
        throw schemaProblem(parsed.error.issues, 'the body does not match the schema', input);
      const received = parsed.data.events;
      if (received.length > limit) throw tooMany(received.length, limit, 'events');
      const now = c.var.clock();
      const events = gateEvents(received, deps, now.getTime(), items);
      // The writer hashes the IPs (on SQLite, on the write thread, before anything is journaled).
      const counts = await deps.writer.appendEvents(
        events.length,
        unhashedRowBatch(events, now.toISOString()),
      );
      let accepted = 0;
      let duplicates = 0;
      for (const [kind, n] of Object.entries(counts)) {
        if (n.accepted > 0) items.inc({ kind, outcome: 'accepted', reason: 'ok' }, n.accepted);
        if (n.duplicates > 0) items.inc({ kind, outcome: 'duplicate', reason: 'duplicate' }, n.duplicates);
        accepted += n.accepted;
        duplicates += n.duplicates;
      }
      return c.json({ accepted, duplicates }, 202);
    },
  );
  return router;
}
