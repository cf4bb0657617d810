import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../http/context.ts';
import { createRouter, problemResponses, schemaProblem } from '../../http/openapi.ts';
import { ProblemError } from '../../http/problem.ts';
import { parseJson, readRequestBody } from '../../http/request-body.ts';
import type { IngestDeps } from '../deps.ts';
import { countRejections } from '../ingest-metrics.ts';
import { allLiveOrigins, authenticateFaroApp, type FaroApp } from './apps.ts';
import { queryKeyMatcher } from './page-url.ts';
import { CompiledFaroPayloadSchema, type FaroPayload, FaroPayloadSchema } from './schemas.ts';
import { countItems, insertTelemetry, insertTelemetryPostgres, toTelemetryRows } from './store.ts';
import { TelemetryPolicy } from './telemetry-policy.ts';
import { TokenBuckets } from './token-bucket.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** The request headers `@grafana/faro-web-sdk` sends, allowed in CORS preflights. */
const ALLOWED_HEADERS =
  'content-type, content-encoding, x-api-key, x-faro-session-id, idempotency-key, traceparent';
const ACCEPTED_TYPES = /^(application\/json|text\/plain)$/i;

function allowOrigin(c: Context<AppEnv>, origin: string): void {
  c.header('access-control-allow-origin', origin);
  c.header('access-control-expose-headers', 'Retry-After');
}

/**
 * Nesting a payload may have: its fixed structure goes 13 deep (`traces.resourceSpans[].scopeSpans[].spans[]
 * .attributes[].value`), and `context` and `attributes` maps are free — 32 leaves them a good 25 levels.
 */
const MAX_PAYLOAD_DEPTH = 32;

/**
 * Reads the body within `maxBytes`, before and after decompression, so a gzip bomb is a 413 too; a body that
 * stalls for `idleTimeoutMs` is a 408.
 */
async function readFaroBody(c: Context<AppEnv>, maxBytes: number, idleTimeoutMs: number): Promise<Buffer> {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!ACCEPTED_TYPES.test(mediaType)) {
    throw new ProblemError('unsupported-media-type', 'send the Faro payload as application/json');
  }
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  if (!['identity', 'gzip', 'x-gzip', 'deflate'].includes(encoding)) {
    throw new ProblemError(
      'unsupported-media-type',
      `content encoding ${encoding.slice(0, 40)} is not supported`,
    );
  }
  const tooLarge = () =>
    new ProblemError('payload-too-large', `the payload exceeds the limit of ${maxBytes} bytes`);
  const raw = await readRequestBody(c, { maxBytes, idleTimeoutMs, tooLarge });
  if (encoding === 'identity') return raw;
  try {
    const options = { maxOutputLength: maxBytes };
    return encoding === 'deflate' ? await inflateAsync(raw, options) : await gunzipAsync(raw, options);
  } catch (error) {
    if (error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw tooLarge();
    throw new ProblemError('bad-request', `the body is not valid ${encoding}`);
  }
}

function parsePayload(body: Buffer): FaroPayload {
  // Nesting is refused before parsing: a deep body costs the parser seconds and the schema its stack.
  const json = parseJson(body, MAX_PAYLOAD_DEPTH);
  const result = CompiledFaroPayloadSchema.safeParse(json);
  if (!result.success) {
    throw schemaProblem(result.error.issues.slice(0, 50), 'the payload does not match the Faro format', json);
  }
  return result.data;
}

const collectResponses = {
  202: {
    description: 'Stored, counted once for a repeated `Idempotency-Key`, or dropped for want of consent',
    content: {
      'application/json': {
        schema: z.object({
          accepted: z.number().int(),
          duplicate: z.boolean(),
          dropped: z
            .number()
            .int()
            .openapi({ description: 'Items dropped for want of consent (counted in metrics)' }),
        }),
      },
    },
  },
  ...problemResponses(
    'unauthorized',
    'forbidden',
    'malformed-json',
    'payload-too-large',
    'unsupported-media-type',
    'validation-failed',
    'nesting-too-deep',
    'request-timeout',
    'rate-limited',
    'unavailable',
  ),
};

/** What `@grafana/faro-web-sdk` sends for a page view with a web vital, as shown in the API reference. */
const FARO_PAYLOAD_EXAMPLE = {
  meta: {
    sdk: { name: 'faro-web', version: '2.12.1' },
    app: { name: 'storefront', version: '1.2.3', environment: 'production' },
    page: { url: 'https://shop.example/p/1?utm_campaign=bf-2026' },
    session: { id: 'WwTcLkze7v' },
  },
  measurements: [
    {
      type: 'web-vitals',
      values: { lcp: 2345.6 },
      timestamp: '2026-11-28T12:00:03.135Z',
      context: { rating: 'needs-improvement' },
    },
  ],
};

const collectBody = {
  required: true,
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/FaroPayload' },
      example: FARO_PAYLOAD_EXAMPLE,
    },
  },
};

const collectDescription =
  "Wire-compatible with Grafana Alloy's `faro.receiver` for what `@grafana/faro-web-sdk` sends. The app key " +
  "is in the path or the `x-api-key` header; the browser's `Origin` must be one of the app's origins. " +
  '`Content-Encoding: gzip` is accepted. A repeated `Idempotency-Key` counts once. The page URL loses its ' +
  "query string except allow-listed keys; the user's email, name and attributes are never stored.";

/** The Faro receiver: `POST /collect[/:appKey]` and its CORS preflights. */
export function faroRoutes(deps: IngestDeps) {
  const { items, faro: metrics, faroInFlight: inFlight } = deps.ingestMetrics;
  const buckets = new TokenBuckets(deps.ingest.faroRatePerSecond, deps.ingest.faroBurst);
  const keepQueryKey = queryKeyMatcher(deps.ingest.urlQueryAllowList);
  // A refused payload was not read, so it counts as one `faro_payload` rather than per item kind.
  const rejections = countRejections(deps.ingestMetrics, 'faro_payload');
  // What `accept` reads the body with, under the configured body-idle timeout.
  const readBody = (c: Context<AppEnv>, maxBytes: number) =>
    readFaroBody(c, maxBytes, deps.ingest.bodyIdleTimeoutMs);

  async function receive(c: Context<AppEnv>, pathKey: string | undefined) {
    // Every answer depends on the Origin, refusals included, so caches must not share them across origins.
    c.header('vary', 'Origin');
    const key = pathKey ?? c.req.header('x-api-key');
    const app: FaroApp | undefined = key ? await authenticateFaroApp(c.var.db, key) : undefined;
    if (!app) throw new ProblemError('unauthorized', 'send a registered app key in the path or as x-api-key');
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      if (!app.origins.includes(origin))
        throw new ProblemError('forbidden', 'this origin is not allowed for the app');
      allowOrigin(c, origin);
    }
    const wait = buckets.take(app.id);
    if (wait > 0) {
      throw new ProblemError('rate-limited', 'this app sends faster than its rate limit', {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(wait))) },
      });
    }
    // Counted in flight once the answer carries its CORS headers, so that a browser can read a refusal.
    const leave = inFlight.enter(app.id);
    try {
      return await accept(c, app);
    } finally {
      leave();
    }
  }

  // Browser telemetry needs consent to analytics (consent/gate-policy.yaml): that of its signed-in user, or
  // the one its session's consent reference or TC string carries; `VIGIL_FARO_ANONYMOUS_TELEMETRY` says what
  // becomes of the rest.
  const policy = new TelemetryPolicy(
    deps.consent.gate,
    deps.consent.purposes,
    deps.secret,
    deps.ingest.faroAnonymous,
  );

  /** Reads, checks and stores the payload of an app's request that passed its key, origin and rate checks. */
  async function accept(c: Context<AppEnv>, app: FaroApp) {
    const payload = parsePayload(await readBody(c, deps.ingest.faroMaxBodyBytes));
    const now = c.var.clock();
    const verdict = policy.decide(payload, now.getTime());
    if (verdict.action === 'drop') {
      const dropped = countItems(payload);
      for (const [kind, n] of Object.entries(dropped)) {
        if (n > 0) items.inc({ kind: `faro_${kind}`, outcome: 'dropped', reason: verdict.reason }, n);
      }
      return c.json(
        { accepted: 0, duplicate: false, dropped: Object.values(dropped).reduce((a, b) => a + b, 0) },
        202,
      );
    }
    const batch = toTelemetryRows(payload, {
      appId: app.id,
      keepQueryKey,
      receivedAt: now.toISOString(),
      secret: deps.secret,
      verdict,
    });
    const idempotencyKey = c.req.header('idempotency-key')?.slice(0, 200);
    const idempotency = idempotencyKey ? { appId: app.id, key: idempotencyKey, now } : undefined;
    const stored = await deps.writer.submit(Math.max(1, batch.rows.length), {
      sqlite: insertTelemetry(batch.rows, idempotency),
      postgres: (db) => insertTelemetryPostgres(db, batch.rows, idempotency),
    });
    for (const [kind, n] of Object.entries(batch.counts)) {
      if (n === 0) continue;
      items.inc(
        {
          kind: `faro_${kind}`,
          outcome: stored ? 'accepted' : 'duplicate',
          reason: stored ? 'ok' : 'duplicate',
        },
        n,
      );
    }
    if (stored) metrics.observe(app.name, batch.pageRoute, payload);
    return c.json({ accepted: stored ? batch.rows.length : 0, duplicate: !stored, dropped: 0 }, 202);
  }

  async function preflight(c: Context<AppEnv>, pathKey: string | undefined) {
    c.header('vary', 'Origin');
    const origin = c.req.header('origin');
    const allowed = pathKey
      ? new Set((await authenticateFaroApp(c.var.db, pathKey))?.origins ?? [])
      : await allLiveOrigins(c.var.db);
    if (origin === undefined || !allowed.has(origin)) {
      throw new ProblemError('forbidden', 'this origin is not allowed to send telemetry here');
    }
    allowOrigin(c, origin);
    c.header('access-control-allow-methods', 'POST, OPTIONS');
    c.header('access-control-allow-headers', ALLOWED_HEADERS);
    c.header('access-control-max-age', '600');
    return c.body(null, 204);
  }

  const AppKeyParam = z.object({ appKey: z.string().min(1).max(200) });

  const router = createRouter();
  router.openAPIRegistry.register('FaroPayload', FaroPayloadSchema);
  return router
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['ingest'],
        summary: 'Browser telemetry from the Faro web SDK (app key in x-api-key)',
        description: collectDescription,
        middleware: [rejections] as const,
        request: { body: collectBody },
        responses: collectResponses,
      }),
      (c) => receive(c, undefined),
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{appKey}',
        tags: ['ingest'],
        summary: 'Browser telemetry from the Faro web SDK (app key in the path)',
        description: collectDescription,
        middleware: [rejections] as const,
        request: { params: AppKeyParam, body: collectBody },
        responses: collectResponses,
      }),
      (c) => receive(c, c.req.valid('param').appKey),
    )
    .openapi(
      createRoute({
        method: 'options',
        path: '/',
        tags: ['ingest'],
        summary: 'CORS preflight: allowed for origins of any live app',
        responses: { 204: { description: 'Allowed' }, ...problemResponses('forbidden') },
      }),
      (c) => preflight(c, undefined),
    )
    .openapi(
      createRoute({
        method: 'options',
        path: '/{appKey}',
        tags: ['ingest'],
        summary: "CORS preflight: allowed for the app's origins",
        request: { params: AppKeyParam },
        responses: { 204: { description: 'Allowed' }, ...problemResponses('forbidden') },
      }),
      (c) => preflight(c, c.req.valid('param').appKey),
    );
}
