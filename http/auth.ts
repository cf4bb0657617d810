import { createMiddleware } from 'hono/factory';
import { authenticateApiKey } from './api-keys.ts';
import type { AppEnv } from './context.ts';
import { ProblemError } from './problem.ts';
import type { Role } from './roles.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const CHALLENGE = { 'www-authenticate': 'Bearer realm="vigil"' };

/**
 * Admits a request whose `Authorization: Bearer <key>` names a live key holding one of `roles`:
 * no or unknown key → 401, another role → 403. Sets `c.var.actor`.
 */
export function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw new ProblemError('unauthorized', 'send an API key as "Authorization: Bearer <key>"', {
        headers: CHALLENGE,
      });
    }
    const token = BEARER.exec(header)?.[1];
    const key = token ? await authenticateApiKey(c.var.db, token) : undefined;
    if (!key) {
      throw new ProblemError('unauthorized', 'the API key is unknown or revoked', { headers: CHALLENGE });
    }
    if (!roles.includes(key.role)) {
      throw new ProblemError('forbidden', `this route needs the role ${roles.join(' or ')}`);
    }
    c.set('actor', { name: key.name, role: key.role, keyId: key.id });
    await next();
  });
}
