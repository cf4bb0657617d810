import { Counter, type Registry } from 'prom-client';

/** What happened to an ingested item. */
export type ItemOutcome = 'accepted' | 'duplicate' | 'rejected' | 'dropped';

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
