import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../../http/auth.ts';
import { AUTH_PROBLEMS, BEARER_SECURITY, createRouter, problemResponses } from '../../http/openapi.ts';
import { listAudit, verifyAuditChain } from '../../storage/index.ts';

const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string().openapi({ format: 'date-time' }),
    actor: z.string().openapi({ description: "The API key's name, or `cli:<user>` for the command line" }),
    role: z.string(),
    action: z.string().openapi({ example: 'api_key.create' }),
    target: z.string().openapi({ example: 'api_key:3f9c2a1b7d40' }),
    detail: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry');

const listAuditRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['audit'],
  summary: 'The audit trail, oldest first; page with `afterId`',
  security: BEARER_SECURITY,
  middleware: [requireRole('dpo', 'admin')] as const,
  request: {
    query: z.object({
      afterId: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      action: z.string().max(100).optional(),
      actor: z.string().max(200).optional(),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
    }),
  },
  responses: {
    200: {
      description: 'A page of entries; `nextAfterId` is null on the last page',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(AuditEntrySchema), nextAfterId: z.number().int().nullable() }),
        },
      },
    },
    ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
  },
});

const verifyAuditRoute = createRoute({
  method: 'get',
  path: '/verify',
  tags: ['audit'],
  summary: 'Recomputes the hash chain and says whether, and where, it is broken',
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
            lastHash: z.string().optional(),
            redacted: z
              .number()
              .int()
              .optional()
              .openapi({ description: 'Entries pseudonymised by an erasure' }),
            brokenAtId: z.number().int().optional(),
            reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'unrecorded_redaction']).optional(),
          }),
        },
      },
    },
    ...problemResponses(...AUTH_PROBLEMS),
  },
});

export const auditRoutes = createRouter()
  .openapi(listAuditRoute, async (c) => {
    const q = c.req.valid('query');
    const items = await listAudit(c.var.db, {
      afterId: q.afterId,
      limit: q.limit,
      action: q.action,
      actor: q.actor,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
    });
    const last = items.at(-1);
    return c.json({ items, nextAfterId: items.length === q.limit && last ? last.id : null }, 200);
  })
  .openapi(verifyAuditRoute, async (c) => c.json(await verifyAuditChain(c.var.db), 200));
