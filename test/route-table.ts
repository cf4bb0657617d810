import type { Role } from '../api/roles.ts';

/** One protected route and a request that its allowed roles may send (the body need not succeed). */
export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The Hono route template, as `app.routes` lists it. */
  template: string;
  /** A concrete path for the template. */
  path: string;
  roles: Role[];
  body?: unknown;
}

/** Every route that takes an API key. A route the app serves must be here or in PUBLIC_ROUTES. */
export const PROTECTED_ROUTES: ProtectedRoute[] = [
  { method: 'GET', template: '/v1/audit', path: '/v1/audit', roles: ['dpo', 'admin'] },
  { method: 'GET', template: '/v1/audit/verify', path: '/v1/audit/verify', roles: ['dpo', 'admin'] },
  { method: 'GET', template: '/v1/keys', path: '/v1/keys', roles: ['admin'] },
  {
    method: 'POST',
    template: '/v1/keys',
    path: '/v1/keys',
    roles: ['admin'],
    body: { name: 'auth-suite', role: 'sre' },
  },
  {
    method: 'POST',
    template: '/v1/keys/:name/revoke',
    path: '/v1/keys/no-such-key/revoke',
    roles: ['admin'],
  },
];

/** Routes open to anyone, by method and template. */
export const PUBLIC_ROUTES: string[] = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
];
