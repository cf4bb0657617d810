import { createMiddleware } from 'hono/factory';
import { Counter, type Registry } from 'prom-client';
import { routeTemplate } from '../http/metrics.ts';
import type { IngestConfig } from './config.ts';
import { FaroMetrics } from './faro/faro-metrics.ts';
import { AppInFlightBound } from './in-flight.ts';
import { RedMetrics } from './logs/red-metrics.ts';

/** The ingest routes' metrics, built once with the app's dependencies (routers made from them share them). */
export interface IngestMetrics {
  /**
   * `vigil_ingest_items_total{kind,outcome,reason}`. `kind` is a fixed item type (click, conversion, refund,
   * affiliate, payout, log, faro_log, faro_exception, …), `reason` a fixed code (ok, validation, too_large,
   * rate_limited, duplicate, consent, queue_full, …) — never input.
   */
  items: Counter<'kind' | 'outcome' | 'reason'>;
  /** `vigil_ingest_rejected_requests_total{route,reason}`: whole requests refused (a batch is refused whole). */
  rejected: Counter<'route' | 'reason'>;
  /** Web vitals and browser exceptions of Faro payloads. */
  faro: FaroMetrics;
  /** RED metrics of the requests that server logs describe. */
  red: RedMetrics;
  /** The bound on each Faro app's requests in flight, with its gauge. */
  faroInFlight: AppInFlightBound;
}

export function createIngestMetrics(registry: Registry, config: IngestConfig): IngestMetrics {
  return {
    items: new Counter({
      name: 'vigil_ingest_items_total',
      help: 'Ingested items by kind and outcome (accepted, duplicate, rejected, dropped) and reason.',
      labelNames: ['kind', 'outcome', 'reason'] as const,
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'vigil_ingest_rejected_requests_total',
      help: 'Ingest requests refused whole, by route template and reason (validation, too_large, queue_full, …).',
      labelNames: ['route', 'reason'] as const,
      registers: [registry],
    }),
    faro: new FaroMetrics(registry, config.pageRouteCap),
    red: new RedMetrics(registry, config.pageRouteCap),
    faroInFlight: new AppInFlightBound(config.faroMaxInFlight, registry),
  };
}

/** The reason label for a refused ingest request, from its status. */
function rejectionReason(status: number): string {
  switch (status) {
    case 400:
      return 'malformed';
    case 401:
    case 403:
      return 'unauthorized';
    case 409:
      return 'conflict';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'validation';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'error' : 'other';
  }
}

/**
 * Middleware that counts every refused ingest request once, by route and reason, whatever refused it (key,
 * origin, rate, size, shape, full queue); `itemKind`, when given, also counts it as one rejected item of that
 * kind (for bodies refused before their items were read).
 */
export function countRejections({ rejected, items }: IngestMetrics, itemKind?: string) {
  return createMiddleware(async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const reason = rejectionReason(c.res.status);
    rejected.inc({ route: routeTemplate(c), reason });
    if (itemKind !== undefined) items.inc({ kind: itemKind, outcome: 'rejected', reason });
  });
}
