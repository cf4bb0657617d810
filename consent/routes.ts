import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { requireRole } from '../http/auth.ts';
import { jsonBody } from '../http/json-body.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  IpAddressSchema,
  problemResponses,
  servePlain,
} from '../http/openapi.ts';
import { ProblemError, toJsonPointer } from '../http/problem.ts';
import type { ConsentMetrics } from './consent-metrics.ts';
import type { ConsentGate } from './gate.ts';
import {
  type ConsentRecord,
  consentHistory,
  currentConsents,
  expiringConsents,
  exportRecords,
  recordConsent,
  verifyConsentChain,
  withdrawConsent,
} from './ledger.ts';
import type { Purpose } from './purposes.ts';
import { GCM_SIGNALS } from './purposes.ts';
import { consentReference } from './reference.ts';

const SubjectId = z.string().min(1).max(256);
const Decision = z.enum(['granted', 'denied']);

const ConsentBodySchema = z
  .strictObject({
    subjectId: SubjectId,
    decisions: z.record(z.string().max(32), Decision).optional(),
    policyVersion: z.string().min(1).max(64),
    noticeId: z.string().max(128).optional(),
    source: z.enum(['banner', 'app', 'api', 'import']),
    method: z.enum(['accept_all', 'reject_all', 'save', 'gpc']).optional(),
    locale: z.string().max(35).optional(),
    tcString: z.string().max(10_000).optional(),
    gcm: z.partialRecord(z.enum(GCM_SIGNALS), Decision).optional(),
    collectedAt: z.iso.datetime({ offset: true }).optional(),
    proof: z
      .strictObject({
        ip: IpAddressSchema.optional(),
        userAgent: z.string().max(1024).optional(),
        pageUrl: z
          .url({ protocol: /^https?$/ })
          .max(4096)
          .optional(),
      })
      .optional(),
  })
  .openapi('ConsentInput');

const RecordSchema = z
  .object({
    id: z.number().int(),
    subjectId: z.string(),
    kind: z.enum(['consent', 'withdrawal']),
    decisions: z.record(z.string(), Decision),
    policyVersion: z.string(),
    noticeId: z.string().nullable(),
    source: z.string(),
    method: z.string().nullable(),
    locale: z.string().nullable(),
    tcString: z.string().nullable(),
    tcf: z.record(z.string(), z.unknown()).nullable(),
    gcm: z.record(z.string(), Decision).nullable(),
    collectedAt: z.string(),
    recordedAt: z.string(),
    expiresAt: z.string().nullable(),
    proof: z.object({
      ipHash: z.string().nullable(),
      userAgent: z.string().nullable(),
      pageUrl: z.string().nullable(),
    }),
    actor: z.string(),
    hash: z.string(),
  })
  .openapi('ConsentRecord');

const RecordedSchema = RecordSchema.extend({
  reference: z.string().openapi({
    description:
      "The subject's consent reference: put it in the Faro session attributes as `consentReference`, so that " +
      'telemetry sent before sign-in is kept under this consent (and dropped once it is withdrawn)',
  }),
}).openapi('RecordedConsent');

const StateSchema = z.object({
  status: z.enum(['granted', 'denied', 'withdrawn', 'expired']),
  since: z.string(),
  policyVersion: z.string(),
  expiresAt: z.string().nullable(),
  recordId: z.number().int(),
});

const DURATION = /^(\d{1,4})([dh])$/;
const ExportQuery = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
});

/** What the consent routes need from the app; the composition root provides it. */
export interface ConsentDeps {
  /** Keys the MAC of consent references and the hashes of identifiers. */
  secret: Buffer;
  consent: { purposes: Purpose[]; gate: ConsentGate; expiryMs: number; metrics: ConsentMetrics };
}

/** The ledger's context at `now`, as its service functions take it. */
function ledgerContext(deps: ConsentDeps) {
  return (now: Date) => ({
    purposes: deps.consent.purposes,
    gate: deps.consent.gate,
    secret: deps.secret,
    expiryMs: deps.consent.expiryMs,
    now,
  });
}

/** `/v1/consents` (record, expiring, export, verify). */
export function consentRoutes(deps: ConsentDeps) {
  const { records } = deps.consent.metrics;
  const ctx = ledgerContext(deps);

  const recordRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['consent'],
    summary: 'Records a consent (decisions, a TC string, Consent Mode signals) with its proof',
    description:
      'A TC string is decoded offline and must meet TCF policy (policy version 4 or later, service-specific); ' +
      'otherwise 422 says why. Decisions not in the body are derived from the TC string, `gcm` and `method`.',
    security: BEARER_SECURITY,
    middleware: [requireRole('ingest', 'dpo'), jsonBody()] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: ConsentBodySchema,
            example: {
              subjectId: 'u-42',
              decisions: { analytics: 'granted', marketing: 'denied' },
              policyVersion: '2026-11',
              source: 'banner',
              method: 'save',
              locale: 'de-DE',
            },
          },
        },
      },
    },
    responses: {
      201: {
        description: 'Recorded, with the consent reference for browser telemetry',
        content: { 'application/json': { schema: RecordedSchema } },
      },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS),
    },
  });

  const expiringRoute = createRoute({
    method: 'get',
    path: '/expiring',
    tags: ['consent'],
    summary: 'Grants that expire within a period (e.g. `30d`): whom to ask again',
    security: BEARER_SECURITY,
    middleware: [requireRole('dpo')] as const,
    request: {
      query: z.object({
        within: z.string().regex(DURATION, 'expected a duration such as 30d or 12h').default('30d'),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
    },
    responses: {
      200: {
        description: 'Expiring grants, soonest first',
        content: {
          'application/json': {
            schema: z.object({
              items: z.array(
                z.object({ subjectId: z.string(), purpose: z.string(), expiresAt: z.string().nullable() }),
              ),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });

  const exportRoute = createRoute({
    method: 'get',
    path: '/export',
    tags: ['consent'],
    summary: 'Every record recorded in [from, to), streamed as NDJSON',
    security: BEARER_SECURITY,
    request: { query: ExportQuery },
    responses: {
      200: {
        description: 'One ConsentRecord per line',
        content: { 'application/x-ndjson': { schema: z.string() } },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });

  const verifyRoute = createRoute({
    method: 'get',
    path: '/verify',
    tags: ['consent'],
    summary: "Recomputes the ledger's hash chain",
    security: BEARER_SECURITY,
    middleware: [requireRole('dpo', 'admin')] as const,
    responses: {
      200: {
        description: 'The verification result',
        content: {
          'application/json': {
            schema: z.object({
              ok: z.boolean(),
              checked: z.number().int(),
              brokenAtId: z.number().int().optional(),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS),
    },
  });

  const consents = createRouter()
    .openapi(recordRoute, async (c) => {
      const record = await recordConsent(c.var.db, c.req.valid('json'), c.var.actor, ctx(c.var.clock()));
      for (const [purpose, decision] of Object.entries(record.decisions)) {
        records.inc({ purpose, decision, source: record.source });
      }
      return c.json({ ...record, reference: consentReference(deps.secret, record.subjectId) }, 201);
    })
    .openapi(expiringRoute, async (c) => {
      const { within, limit } = c.req.valid('query');
      const [, amount, unit] = DURATION.exec(within) ?? [];
      const ms = Number(amount) * (unit === 'd' ? 86_400_000 : 3_600_000);
      const items = await expiringConsents(c.var.db, new Date(c.var.clock().getTime() + ms), limit);
      return c.json({ items }, 200);
    })
    .openapi(verifyRoute, async (c) => c.json(await verifyConsentChain(c.var.db), 200));

  // The export streams: a plain handler, documented by `exportRoute`.
  servePlain(consents, exportRoute, requireRole('dpo'), async (c) => {
    const parsed = ExportQuery.safeParse(c.req.query());
    if (!parsed.success) {
      throw new ProblemError('validation-failed', 'the query string does not match the schema', {
        errors: parsed.error.issues.map((i) => ({ path: toJsonPointer(i.path), message: i.message })),
      });
    }
    c.header('content-type', 'application/x-ndjson');
    const requestId = c.get('requestId');
    return stream(
      c,
      async (out) => {
        for await (const record of exportRecords(
          c.var.db,
          new Date(parsed.data.from),
          new Date(parsed.data.to),
        )) {
          await out.write(`${JSON.stringify(record)}\n`);
        }
      },
      // The status line has gone out: all that is left is to log the failure and cut the body short, which
      // the client sees as an incomplete NDJSON document rather than a complete one.
      async (error) => {
        c.var.logger.error('consent export failed', { error, requestId });
      },
    );
  });
  return consents;
}

/** `/v1/subjects/{id}/consents`: a subject's consents, and their withdrawal. */
export function subjectConsentRoutes(deps: ConsentDeps) {
  const { withdrawals } = deps.consent.metrics;
  const ctx = ledgerContext(deps);
  const SubjectParam = z.object({ id: SubjectId });

  const currentRoute = createRoute({
    method: 'get',
    path: '/{id}/consents',
    tags: ['consent'],
    summary: "A subject's current consent per purpose; `history=true` adds every record, newest first",
    security: BEARER_SECURITY,
    middleware: [requireRole('dpo')] as const,
    request: {
      params: SubjectParam,
      query: z.object({ history: z.enum(['true', 'false']).default('false') }),
    },
    responses: {
      200: {
        description: 'Current state (and history)',
        content: {
          'application/json': {
            schema: z.object({
              subjectId: z.string(),
              purposes: z.record(z.string(), StateSchema),
              history: z.array(RecordSchema).optional(),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });

  const withdrawRoute = createRoute({
    method: 'post',
    path: '/{id}/consents/withdraw',
    tags: ['consent'],
    summary: 'Withdraws the named purposes, or all, in one call',
    security: BEARER_SECURITY,
    middleware: [requireRole('ingest', 'dpo'), jsonBody()] as const,
    request: {
      params: SubjectParam,
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.strictObject({
              purposes: z.union([z.literal('all'), z.array(z.string().max(32)).min(1)]),
            }),
            example: { purposes: ['analytics'] },
          },
        },
      },
    },
    responses: {
      201: { description: 'Withdrawn', content: { 'application/json': { schema: RecordSchema } } },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS),
    },
  });

  const subjects = createRouter()
    .openapi(currentRoute, async (c) => {
      const { id } = c.req.valid('param');
      const purposes = (await currentConsents(c.var.db, id, c.var.clock())) as Record<
        string,
        z.infer<typeof StateSchema>
      >;
      const history: ConsentRecord[] | undefined =
        c.req.valid('query').history === 'true' ? await consentHistory(c.var.db, id) : undefined;
      return c.json({ subjectId: id, purposes, ...(history ? { history } : {}) }, 200);
    })
    .openapi(withdrawRoute, async (c) => {
      const { id } = c.req.valid('param');
      const record = await withdrawConsent(
        c.var.db,
        id,
        c.req.valid('json').purposes,
        c.var.actor,
        ctx(c.var.clock()),
      );
      for (const purpose of Object.keys(record.decisions)) withdrawals.inc({ purpose });
      return c.json(record, 201);
    });
  return subjects;
}
