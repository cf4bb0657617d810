import type { Role } from '../http/roles.ts';

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
  {
    method: 'POST',
    template: '/v1/events',
    path: '/v1/events',
    roles: ['ingest'],
    body: {
      events: [
        {
          id: 'auth-suite-1',
          type: 'refund',
          ts: '2026-11-28T10:00:00Z',
          orderId: 'o-1',
          amount: 1,
          currency: 'EUR',
        },
      ],
    },
  },
  {
    method: 'POST',
    template: '/v1/affiliates',
    path: '/v1/affiliates',
    roles: ['ingest'],
    body: { id: 'aff-auth-suite', name: 'Auth Suite', couponCodes: [] },
  },
  {
    method: 'POST',
    template: '/v1/payouts',
    path: '/v1/payouts',
    roles: ['ingest'],
    body: {
      id: 'p-auth-suite',
      affiliateId: 'aff-auth-suite',
      periodStart: '2026-11-01T00:00:00Z',
      periodEnd: '2026-11-28T00:00:00Z',
      amount: 10,
      currency: 'EUR',
    },
  },
  {
    method: 'GET',
    template: '/v1/payouts/:id',
    path: '/v1/payouts/p-auth-suite',
    roles: ['ingest', 'analyst', 'admin'],
  },
  {
    method: 'POST',
    template: '/v1/payouts/:id/paid',
    path: '/v1/payouts/p-auth-suite/paid',
    roles: ['ingest'],
  },
  {
    method: 'POST',
    template: '/v1/logs',
    path: '/v1/logs',
    roles: ['ingest'],
    body: [{ ts: '2026-11-28T10:00:00Z', level: 'info', service: 'checkout', message: 'auth suite' }],
  },
  { method: 'GET', template: '/v1/logs', path: '/v1/logs?q=auth', roles: ['sre'] },
  {
    method: 'POST',
    template: '/v1/consents',
    path: '/v1/consents',
    roles: ['ingest', 'dpo'],
    body: {
      subjectId: 'auth-suite',
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'api',
    },
  },
  {
    method: 'GET',
    template: '/v1/consents/expiring',
    path: '/v1/consents/expiring?within=30d',
    roles: ['dpo'],
  },
  {
    method: 'GET',
    template: '/v1/consents/export',
    path: '/v1/consents/export?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z',
    roles: ['dpo'],
  },
  { method: 'GET', template: '/v1/consents/verify', path: '/v1/consents/verify', roles: ['dpo', 'admin'] },
  {
    method: 'GET',
    template: '/v1/subjects/:id/consents',
    path: '/v1/subjects/auth-suite/consents',
    roles: ['dpo'],
  },
  {
    method: 'POST',
    template: '/v1/subjects/:id/consents/withdraw',
    path: '/v1/subjects/auth-suite/consents/withdraw',
    roles: ['ingest', 'dpo'],
    body: { purposes: 'all' },
  },
  {
    method: 'POST',
    template: '/v1/privacy-requests',
    path: '/v1/privacy-requests',
    roles: ['dpo'],
    body: { type: 'access', subjectId: 'auth-suite' },
  },
  { method: 'GET', template: '/v1/privacy-requests', path: '/v1/privacy-requests', roles: ['dpo'] },
  {
    method: 'GET',
    template: '/v1/privacy-requests/:id',
    path: '/v1/privacy-requests/pr_none',
    roles: ['dpo'],
  },
  {
    method: 'GET',
    template: '/v1/privacy-requests/:id/export',
    path: '/v1/privacy-requests/pr_none/export',
    roles: ['dpo'],
  },
  ...(['approve', 'deny', 'cancel', 'retry', 'extend'] as const).map(
    (action): ProtectedRoute => ({
      method: 'POST',
      template: `/v1/privacy-requests/:id/${action}`,
      path: `/v1/privacy-requests/pr_none/${action}`,
      roles: ['dpo'],
      body:
        action === 'deny'
          ? { reason: 'auth suite' }
          : action === 'extend'
            ? { months: 1, reason: 'auth suite' }
            : {},
    }),
  ),
  { method: 'GET', template: '/v1/flags', path: '/v1/flags', roles: ['analyst'] },
  {
    method: 'POST',
    template: '/v1/flags/:payoutId/decision',
    path: '/v1/flags/p-auth-suite/decision',
    roles: ['analyst', 'admin'],
    body: { decision: 'approve' },
  },
  {
    method: 'POST',
    template: '/v1/detectors/fraud/run',
    path: '/v1/detectors/fraud/run',
    roles: ['admin'],
    body: { periodStart: '2026-10-01T00:00:00Z', periodEnd: '2026-11-01T00:00:00Z' },
  },
  { method: 'GET', template: '/v1/anomalies', path: '/v1/anomalies', roles: ['sre', 'admin'] },
  {
    method: 'POST',
    template: '/v1/detectors/traffic/run',
    path: '/v1/detectors/traffic/run',
    roles: ['admin'],
    body: { from: '2026-11-27T12:00:00Z', to: '2026-11-27T12:30:00Z' },
  },
  {
    method: 'GET',
    template: '/v1/retention/policies',
    path: '/v1/retention/policies',
    roles: ['dpo', 'admin'],
  },
  {
    method: 'POST',
    template: '/v1/retention/run',
    path: '/v1/retention/run',
    roles: ['dpo', 'admin'],
    body: { dryRun: true },
  },
];

/** Routes open to anyone, by method and template. */
export const PUBLIC_ROUTES: string[] = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/assets/:name',
  // Browser telemetry: protected by app keys and origins, not API-key roles (see ingest/faro/faro.test.ts).
  'POST /collect',
  'POST /collect/:appKey',
  'OPTIONS /collect',
  'OPTIONS /collect/:appKey',
  // The review UI: its pages need a session that an analyst or admin key opened (see review/ui/ui.test.ts).
  'GET /review/assets/review.css',
  'GET /review/assets/review.js',
  'GET /review',
  'GET /review/sign-in',
  'POST /review/sign-in',
  'POST /review/sign-out',
  'GET /review/queue',
  'GET /review/payouts/:id',
  'POST /review/payouts/:id/decision',
  'POST /review/payouts/:id/assign',
  'POST /review/bulk-approve',
];
