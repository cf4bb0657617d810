import { createMiddleware } from 'hono/factory';
import { Counter, type Registry } from 'prom-client';
import { routeTemplate } from '../http/metrics.ts';

const ITEMS_METRIC = 'vigil_ingest_items_total';

/**
 * `vigil_ingest_items_total{kind,outcome,reason}`, shared by every ingest route of one registry. `kind` is a
 * fixed item type (click, conversion, refund, affiliate, payout, log, faro_log, faro_exception, …), `reason` a
 * fixed code (ok, validation, too_large, rate_limited, duplicate, consent, queue_full, …) — never input.
 */
export function ingestItemsCounter(registry: Registry): Counter<'kind' | 'outcome' | 'reason'> {
  const existing = registry.getSingleMetric(ITEMS_METRIC);
  if (existing) return existing as Counter<'kind' | 'outcome' | 'reason'>;
  return new Counter({
    name: ITEMS_METRIC,
    help: 'Ingested items by kind and outcome (accepted, duplicate, rejected, dropped) and reason.',
    labelNames: ['kind', 'outcome', 'reason'] as const,
    registers: [registry],
  });
}

const REJECTED_METRIC = 'vigil_ingest_rejected_requests_total';

/** `vigil_ingest_rejected_requests_total{route,reason}`: whole requests refused (a batch is refused whole). */
function ingestRejectedCounter(registry: Registry): Counter<'route' | 'reason'> {
  const existing = registry.getSingleMetric(REJECTED_METRIC);
  if (existing) return existing as Counter<'route' | 'reason'>;
  return new Counter({
    name: REJECTED_METRIC,
    help: 'Ingest requests refused whole, by route template and reason (validation, too_large, queue_full, …).',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
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
export function countRejections(registry: Registry, itemKind?: string) {
  const rejected = ingestRejectedCounter(registry);
  const items = ingestItemsCounter(registry);
  return createMiddleware(async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const reason = rejectionReason(c.res.status);
    rejected.inc({ route: routeTemplate(c), reason });
    if (itemKind !== undefined) items.inc({ kind: itemKind, outcome: 'rejected', reason });
  });
}
