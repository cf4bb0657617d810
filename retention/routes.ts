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
import { ProblemError } from '../http/problem.ts';
import { appendAudit, type EventJournal } from '../storage/index.ts';
import { PRIVACY_REQUEST_STATUSES } from '../storage/privacy.table.ts';
import {
  actOnPrivacyRequest,
  completeAccessRequest,
  createPrivacyRequest,
  getPrivacyRequest,
  keysOfRequest,
  listPrivacyRequests,
  type RequestAction,
} from './privacy-requests.ts';
import type { PurgeOutcome } from './purge.ts';
import type { Retention } from './retention.ts';
import { exportSubjectStores, type StoreOutcome } from './subject-data.ts';

const RequestIdParam = z.object({ id: z.string().min(1).max(64) });

const NewRequestSchema = z
  .strictObject({
    type: z.enum(['access', 'erasure']),
    subjectId: z.string().min(1).max(256),
    identifiers: z
      .strictObject({
        email: z.email().max(320).optional(),
        ip: IpAddressSchema.optional(),
      })
      .optional()
      .openapi({ description: 'Used only to compute keyed hashes, which is all any store holds of them' }),
    note: z.string().max(2000).optional(),
  })
  .openapi('PrivacyRequestInput');

const RequestSchema = z
  .object({
    id: z.string(),
    type: z.enum(['access', 'erasure']),
    status: z.enum(PRIVACY_REQUEST_STATUSES),
    subjectId: z.string().nullable().openapi({ description: 'Null once an erasure has completed' }),
    identifiers: z.object({ email: z.boolean(), ip: z.boolean() }),
    note: z.string().nullable(),
    receivedAt: z.string(),
    dueAt: z.string(),
    extendedMonths: z.number().int(),
    overdue: z.boolean(),
    statusReason: z.string().nullable(),
    attempts: z.number().int(),
    receipt: z.unknown().openapi({ description: 'The erasure receipt: counts per store, no personal data' }),
    createdBy: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('PrivacyRequest');

const StepSchema = z.object({
  store: z.string(),
  category: z.string(),
  action: z.string(),
  rows: z.number().int(),
  status: z.enum(['done', 'failed']),
  error: z.string().nullable(),
  at: z.string(),
});

const Reason = z.string().trim().min(1, 'a reason is required').max(2000);

const ACTION_BODIES = {
  approve: z.strictObject({}),
  deny: z.strictObject({ reason: Reason }),
  cancel: z.strictObject({ reason: Reason.optional() }),
  retry: z.strictObject({}),
  extend: z.strictObject({
    months: z.union([z.literal(1), z.literal(2)]),
    reason: Reason,
  }),
} as const;

const ACTION_EXAMPLES: { [A in keyof typeof ACTION_BODIES]: z.input<(typeof ACTION_BODIES)[A]> } = {
  approve: {},
  deny: { reason: 'The identity of the requester could not be verified' },
  cancel: { reason: 'Withdrawn by the data subject' },
  retry: {},
  extend: { months: 1, reason: 'Several requests of the same subject are being handled together' },
};

const ACTION_SUMMARIES: Record<keyof typeof ACTION_BODIES, string> = {
  approve: 'Approves a pending request; an approved erasure is carried out by the erasure queue',
  deny: 'Denies a pending or approved request; a reason is required (Art. 12(4))',
  cancel: 'Cancels a request that is not being processed',
  retry: 'Puts a failed request back in the queue',
  extend: 'Extends the due date by one or two months, up to three months from receipt in all (Art. 12(3))',
};

/** What the privacy-request and retention routes need from the app; the composition root provides it. */
export interface RetentionDeps {
  /** Keys the hashes of a request's identifiers. */
  secret: Buffer;
  retention: Retention;
  /** The event write path: settled before an export, so that it holds every acknowledged event. */
  writer: EventJournal;
}

/** `/v1/privacy-requests` (role dpo): access and erasure requests and their lifecycle. */
export function privacyRequestRoutes(deps: RetentionDeps) {
  const dpo = requireRole('dpo');
  const createRequestRoute = createRoute({
    method: 'post',
    path: '/',
    tags: ['privacy'],
    summary: "Files a data subject's access or erasure request, due one month after receipt",
    security: BEARER_SECURITY,
    middleware: [dpo, jsonBody()] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: NewRequestSchema,
            example: { type: 'erasure', subjectId: 'u-42', identifiers: { email: 'jane@example.com' } },
          },
        },
      },
    },
    responses: {
      201: { description: 'Filed as pending', content: { 'application/json': { schema: RequestSchema } } },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS),
    },
  });

  const listRoute = createRoute({
    method: 'get',
    path: '/',
    tags: ['privacy'],
    summary: 'Lists requests, newest first',
    security: BEARER_SECURITY,
    middleware: [dpo] as const,
    request: {
      query: z.object({
        status: RequestSchema.shape.status.optional(),
        type: z.enum(['access', 'erasure']).optional(),
        overdue: z.enum(['true', 'false']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        before: z.string().max(64).optional().openapi({ description: 'The last id of the previous page' }),
      }),
    },
    responses: {
      200: {
        description: 'The requests',
        content: { 'application/json': { schema: z.object({ requests: z.array(RequestSchema) }) } },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
    },
  });

  const getRoute = createRoute({
    method: 'get',
    path: '/{id}',
    tags: ['privacy'],
    summary: 'One request with its per-store execution log',
    security: BEARER_SECURITY,
    middleware: [dpo] as const,
    request: { params: RequestIdParam },
    responses: {
      200: {
        description: 'The request',
        content: {
          'application/json': { schema: z.object({ request: RequestSchema, steps: z.array(StepSchema) }) },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'not-found', 'validation-failed'),
    },
  });

  const exportRoute = createRoute({
    method: 'get',
    path: '/{id}/export',
    tags: ['privacy'],
    summary: "Streams everything held about an approved access request's subject, with a manifest",
    description:
      'One JSON document: `request`, `stores` (every row about the subject, store by store), and `manifest` ' +
      '(per store: category, rows, purpose, retention, legal basis). Delivering it whole completes the request.',
    security: BEARER_SECURITY,
    request: { params: RequestIdParam },
    responses: {
      200: {
        description: 'The export',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
      ...problemResponses(...AUTH_PROBLEMS, 'not-found', 'conflict', 'validation-failed'),
    },
  });

  const router = createRouter()
    .openapi(createRequestRoute, async (c) => {
      const request = await createPrivacyRequest(
        c.var.db,
        deps.secret,
        c.req.valid('json'),
        c.var.actor,
        c.var.clock(),
      );
      return c.json(request, 201);
    })
    .openapi(listRoute, async (c) => {
      const q = c.req.valid('query');
      const requests = await listPrivacyRequests(
        c.var.db,
        {
          status: q.status,
          type: q.type,
          overdue: q.overdue === undefined ? undefined : q.overdue === 'true',
          limit: q.limit,
          before: q.before,
        },
        c.var.clock(),
      );
      return c.json({ requests }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { request, steps } = await getPrivacyRequest(c.var.db, c.req.valid('param').id, c.var.clock());
      return c.json({ request, steps }, 200);
    });

  // The export streams: a plain handler, documented by `exportRoute`.
  servePlain(router, exportRoute, dpo, async (c) => {
    const id = c.req.param('id') ?? '';
    if (id.length === 0 || id.length > 64)
      throw new ProblemError('not-found', 'no privacy request has this id');
    const now = c.var.clock();
    const { request, row } = await getPrivacyRequest(c.var.db, id, now);
    if (request.type !== 'access') throw new ProblemError('conflict', 'only an access request has an export');
    if (!['approved', 'in_processing', 'complete'].includes(request.status)) {
      throw new ProblemError('conflict', `the request is ${request.status}: approve it first`);
    }
    const keys = keysOfRequest(row, deps.secret);
    if (!keys) throw new ProblemError('conflict', 'the subject of this request has since been erased');
    // Every event acknowledged before the export must be in it.
    await deps.writer.settle();
    const policies = new Map(deps.retention.policies.map((p) => [p.category, p]));
    const outcomes: StoreOutcome[] = [];
    const actor = c.var.actor;
    const requestId = c.get('requestId');
    c.header('content-type', 'application/json; charset=utf-8');
    c.header('content-disposition', `attachment; filename="${request.id}.json"`);
    c.header('cache-control', 'no-store');
    return stream(
      c,
      async (out) => {
        const head = {
          id: request.id,
          type: request.type,
          subjectId: keys.subjectId,
          receivedAt: request.receivedAt,
          exportedAt: now.toISOString(),
        };
        await out.write(`{"request":${JSON.stringify(head)},"stores":{`);
        for await (const chunk of exportSubjectStores(c.var.db, keys, (o) => outcomes.push(o))) {
          await out.write(chunk);
        }
        const manifest = outcomes.map((o) => {
          const policy = policies.get(o.category);
          return {
            store: o.store,
            category: o.category,
            rows: o.rows,
            purpose: policy?.purpose ?? null,
            retention: policy?.maxAge?.text ?? null,
            retentionAction: policy?.action ?? null,
            legalBasis: policy?.legalBasis ?? null,
          };
        });
        await out.write(`},"manifest":${JSON.stringify(manifest)}}`);
        await completeAccessRequest(c.var.db, request.id, outcomes, actor, c.var.clock());
      },
      // The status line has gone out: log the failure and cut the body short (an incomplete JSON document),
      // and the request stays open.
      async (error) => {
        c.var.logger.error('privacy export failed', { error, requestId });
      },
    );
  });

  for (const action of Object.keys(ACTION_BODIES) as (keyof typeof ACTION_BODIES)[]) {
    const route = createRoute({
      method: 'post',
      path: `/{id}/${action}`,
      tags: ['privacy'],
      summary: ACTION_SUMMARIES[action],
      security: BEARER_SECURITY,
      middleware: [dpo, jsonBody(undefined, { optional: action !== 'deny' && action !== 'extend' })] as const,
      request: {
        params: RequestIdParam,
        body: {
          required: action === 'deny' || action === 'extend',
          content: {
            'application/json': { schema: ACTION_BODIES[action], example: ACTION_EXAMPLES[action] },
          },
        },
      },
      responses: {
        200: {
          description: 'The request after the action',
          content: { 'application/json': { schema: RequestSchema } },
        },
        ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS, 'not-found', 'conflict'),
      },
    });
    // Registered on the router itself (its type is the same for every action: no cast needed).
    router.openapi(route, async (c) => {
      const body = c.req.valid('json') as Record<string, unknown>;
      const request = await actOnPrivacyRequest(
        c.var.db,
        c.req.valid('param').id,
        { action, ...body } as RequestAction,
        c.var.actor,
        c.var.clock(),
      );
      return c.json(request, 200);
    });
  }
  return router;
}

const PolicySchema = z
  .object({
    category: z.string(),
    maxAge: z
      .string()
      .nullable()
      .openapi({ description: 'ISO 8601 duration; null: no limit (no personal data)' }),
    action: z.enum(['delete', 'pseudonymise', 'keep']),
    purpose: z.string(),
    legalBasis: z.string(),
    tables: z.array(z.string()),
  })
  .openapi('RetentionPolicy');

const PurgeOutcomeSchema = z.object({
  category: z.string(),
  table: z.string(),
  action: z.enum(['delete', 'pseudonymise']),
  cutoff: z.string(),
  rows: z.number().int(),
});

/** `/v1/retention` (roles dpo, admin): the policies, and a run on demand (or its dry run). */
export function retentionRoutes(deps: RetentionDeps) {
  const roles = requireRole('dpo', 'admin');
  const policiesRoute = createRoute({
    method: 'get',
    path: '/policies',
    tags: ['privacy'],
    summary: 'Retention policies per data category, with purpose and legal basis (Art. 30(1)(f))',
    security: BEARER_SECURITY,
    middleware: [roles] as const,
    responses: {
      200: {
        description: 'The policies',
        content: { 'application/json': { schema: z.object({ policies: z.array(PolicySchema) }) } },
      },
      ...problemResponses(...AUTH_PROBLEMS),
    },
  });
  const runRoute = createRoute({
    method: 'post',
    path: '/run',
    tags: ['privacy'],
    summary: 'Runs the retention purge now; with dryRun, counts what is due and changes nothing',
    security: BEARER_SECURITY,
    middleware: [roles, jsonBody(undefined, { optional: true })] as const,
    request: {
      body: {
        required: false,
        content: {
          'application/json': {
            schema: z.strictObject({ dryRun: z.boolean().default(false) }),
            example: { dryRun: true },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'What was (or would be) purged',
        content: {
          'application/json': {
            schema: z.object({
              dryRun: z.boolean(),
              runId: z.number().int().nullable(),
              outcomes: z.array(PurgeOutcomeSchema),
            }),
          },
        },
      },
      ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS, 'conflict', 'internal'),
    },
  });
  return createRouter()
    .openapi(policiesRoute, (c) =>
      c.json(
        {
          policies: deps.retention.policies.map((p) => ({
            category: p.category,
            maxAge: p.maxAge?.text ?? null,
            action: p.action,
            purpose: p.purpose,
            legalBasis: p.legalBasis,
            tables: p.tables,
          })),
        },
        200,
      ),
    )
    .openapi(runRoute, async (c) => {
      const { dryRun } = c.req.valid('json');
      const now = c.var.clock();
      if (dryRun) {
        const outcomes = await deps.retention.purge(now, { dryRun: true, actor: c.var.actor });
        return c.json({ dryRun, runId: null, outcomes }, 200);
      }
      const actor = c.var.actor;
      await c.var.db
        .transaction()
        .execute((trx) =>
          appendAudit(trx, actor, { action: 'retention.run', target: 'retention', detail: {} }, now),
        );
      const result = await deps.retention.runner.run({
        name: 'retention.purge',
        leaseMs: deps.retention.purgeLeaseMs,
        run: (at) => deps.retention.purge(at, { dryRun: false, actor }),
      });
      if (result.status === 'skipped')
        throw new ProblemError('conflict', 'a retention run is in progress; try again when it ends');
      if (result.status === 'failed')
        throw new ProblemError('internal', 'the retention run failed; its error is in the job run record');
      return c.json({ dryRun, runId: result.runId, outcomes: result.summary as PurgeOutcome[] }, 200);
    });
}
