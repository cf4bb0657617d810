import type { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { StatusCode } from 'hono/utils/http-status';
import { Counter } from 'prom-client';
import { consentRoutes, subjectConsentRoutes } from '../consent/index.ts';
import { flagRoutes, fraudRunRoutes } from '../detectors/fraud/routes.ts';
import { anomalyRoutes, trafficRunRoutes } from '../detectors/traffic/index.ts';
import type { AppEnv } from '../http/context.ts';
import { httpMetrics, routeTemplate } from '../http/metrics.ts';
import { createRouter } from '../http/openapi.ts';
import { ProblemError, problemResponse, toProblem } from '../http/problem.ts';
import { ClientAbortedError } from '../http/request-body.ts';
import { affiliateRoutes, eventRoutes, payoutRoutes } from '../ingest/events/index.ts';
import { faroRoutes } from '../ingest/faro/index.ts';
import { logRoutes } from '../ingest/logs/index.ts';
import { privacyRequestRoutes, retentionRoutes } from '../retention/index.ts';
import { decisionRoutes, payoutReviewRoutes, reviewUiRoutes } from '../review/index.ts';
import { isDomainError } from '../storage/index.ts';
import type { AppDeps } from './context.ts';
import { auditRoutes } from './routes/audit.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { keyRoutes } from './routes/keys.ts';

const API_VERSION = '0.1.0';

/** The status recorded for a request its client abandoned (nginx's; no answer reaches anyone). */
const CLIENT_CLOSED_REQUEST = 499 as StatusCode;

/** Turns Hono route paths into matchers, to tell a 405 (path known, method not) from a 404. */
function methodsByPath(app: OpenAPIHono<AppEnv>): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(
          `^${r.path
            .split('/')
            .map((part) =>
              part.startsWith(':')
                ? '[^/]+'
                : part === '*'
                  ? '.*'
                  : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('/')}/?$`,
        ),
      }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/** Builds the whole HTTP app from its dependencies. Holds no module-level state. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();

  app.use(requestId());
  app.use(secureHeaders());
  app.use(httpMetrics(deps.registry));
  app.use(
    createMiddleware<AppEnv>(async (c, next) => {
      c.set('db', deps.db);
      c.set('clock', deps.clock);
      c.set('logger', deps.logger);
      await next();
    }),
  );

  app.route('/', healthRoutes(deps.registry, deps.metricsCacheMs));
  app.route('/v1/audit', auditRoutes);
  app.route('/v1/keys', keyRoutes);
  // Ingestion routes are mounted below, one line per area.
  app.route('/v1/affiliates', affiliateRoutes(deps));
  app.route('/v1/events', eventRoutes(deps));
  app.route('/v1/payouts', payoutRoutes(deps));
  app.route('/v1/logs', logRoutes(deps));
  app.route('/collect', faroRoutes(deps));
  app.route('/v1/consents', consentRoutes(deps));
  app.route('/v1/subjects', subjectConsentRoutes(deps));
  app.route('/v1/privacy-requests', privacyRequestRoutes(deps));
  app.route('/v1/retention', retentionRoutes(deps));
  app.route('/v1/payouts', payoutReviewRoutes());
  app.route('/v1/flags', flagRoutes());
  app.route('/v1/flags', decisionRoutes({ ...deps, onDecision: () => deps.onDecision?.() }));
  app.route('/v1/detectors/fraud', fraudRunRoutes(deps));
  app.route('/v1/anomalies', anomalyRoutes(deps));
  app.route('/v1/detectors/traffic', trafficRunRoutes(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key made with `npx vigil keys create --role <role> --name <name>`',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Vigil',
      version: API_VERSION,
      description:
        'Observability, affiliate-fraud and GDPR control plane. Errors are RFC 9457 problems ' +
        '(`application/problem+json`) with a stable `type`.',
    },
  });
  app.route('/docs', docsRoutes());
  app.route(
    '/review',
    reviewUiRoutes({
      secret: deps.secret,
      registry: deps.registry,
      reviewSlaHours: deps.reviewSlaHours,
      onDecision: () => deps.onDecision?.(),
    }),
  );

  const allowedMethods = methodsByPath(app);
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    if (allow.length > 0) {
      return problemResponse(
        c,
        new ProblemError('method-not-allowed', `${c.req.method} is not allowed here`, {
          headers: { allow: allow.join(', ') },
        }),
      );
    }
    return problemResponse(c, new ProblemError('not-found', 'no route matches this path'));
  });

  const aborted = new Counter({
    name: 'vigil_http_aborted_requests_total',
    help: 'Requests whose client went away before its body arrived, by route template; never answered.',
    labelNames: ['route'] as const,
    registers: [deps.registry],
  });
  app.onError((error, c) => {
    if (
      error instanceof ClientAbortedError ||
      (c.req.raw.signal.aborted && !(error instanceof ProblemError) && !isDomainError(error))
    ) {
      // Nobody is left to read an answer: not a fault of ours. Recorded as nginx's 499 (client closed request).
      const route = routeTemplate(c);
      aborted.inc({ route });
      deps.logger.debug('client closed the request', { requestId: c.get('requestId'), route });
      return c.body(null, CLIENT_CLOSED_REQUEST);
    }
    const problem = toProblem(error);
    if (problem.code === 'internal') {
      deps.logger.error('unhandled error', { error, requestId: c.get('requestId'), route: c.req.routePath });
    }
    return problemResponse(c, problem);
  });

  return app;
}
