import { createRoute, z } from '@hono/zod-openapi';
import { createApiKey, listApiKeys, revokeApiKey } from '../../http/api-keys.ts';
import { requireRole } from '../../http/auth.ts';
import { jsonBody } from '../../http/json-body.ts';
import {
  AUTH_PROBLEMS,
  BEARER_SECURITY,
  BODY_PROBLEMS,
  createRouter,
  problemResponses,
} from '../../http/openapi.ts';
import { ROLES } from '../../http/roles.ts';

/** Key names: short, printable, safe in a URL path and a log line. */
export const KeyNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 letters, digits, dots, dashes or underscores');

const ApiKeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.string().openapi({ format: 'date-time' }),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const listKeysRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['keys'],
  summary: 'API keys (metadata only; secrets are never stored)',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: {
    query: z.object({ includeRevoked: z.enum(['true', 'false']).default('false') }),
  },
  responses: {
    200: {
      description: 'The keys',
      content: { 'application/json': { schema: z.object({ items: z.array(ApiKeyInfoSchema) }) } },
    },
    ...problemResponses(...AUTH_PROBLEMS, 'validation-failed'),
  },
});

const createKeyRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['keys'],
  summary: 'Creates an API key; the secret is in this answer and nowhere else',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin'), jsonBody()] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({ name: KeyNameSchema, role: z.enum(ROLES) }),
          example: { name: 'grafana-sre', role: 'sre' },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Created',
      content: { 'application/json': { schema: ApiKeyInfoSchema.extend({ key: z.string() }) } },
    },
    ...problemResponses(...AUTH_PROBLEMS, ...BODY_PROBLEMS, 'conflict'),
  },
});

const revokeKeyRoute = createRoute({
  method: 'post',
  path: '/{name}/revoke',
  tags: ['keys'],
  summary: 'Revokes the live key with this name',
  security: BEARER_SECURITY,
  middleware: [requireRole('admin')] as const,
  request: { params: z.object({ name: KeyNameSchema }) },
  responses: {
    200: { description: 'Revoked', content: { 'application/json': { schema: ApiKeyInfoSchema } } },
    ...problemResponses(...AUTH_PROBLEMS, 'not-found', 'validation-failed'),
  },
});

export const keyRoutes = createRouter()
  .openapi(listKeysRoute, async (c) => {
    const { includeRevoked } = c.req.valid('query');
    return c.json({ items: await listApiKeys(c.var.db, { includeRevoked: includeRevoked === 'true' }) }, 200);
  })
  .openapi(createKeyRoute, async (c) => {
    const { key, info } = await createApiKey(c.var.db, c.req.valid('json'), c.var.actor, c.var.clock());
    return c.json({ ...info, key }, 201);
  })
  .openapi(revokeKeyRoute, async (c) => {
    const info = await revokeApiKey(c.var.db, c.req.valid('param').name, c.var.actor, c.var.clock());
    return c.json(info, 200);
  });
