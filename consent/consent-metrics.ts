import { Counter, type Registry } from 'prom-client';

/** The consent routes' metrics, built once with the app's dependencies. */
export interface ConsentMetrics {
  records: Counter<'purpose' | 'decision' | 'source'>;
  withdrawals: Counter<'purpose'>;
}

/** Withdrawals of each purpose count from 0 at start, so a rate over them exists before the first. */
export function createConsentMetrics(registry: Registry, purposes: readonly string[] = []): ConsentMetrics {
  const metrics: ConsentMetrics = {
    records: new Counter({
      name: 'vigil_consent_records_total',
      help: 'Consent decisions recorded, by purpose, decision and source.',
      labelNames: ['purpose', 'decision', 'source'] as const,
      registers: [registry],
    }),
    withdrawals: new Counter({
      name: 'vigil_consent_withdrawals_total',
      help: 'Consent withdrawals, by purpose.',
      labelNames: ['purpose'] as const,
      registers: [registry],
    }),
  };
  for (const purpose of purposes) metrics.withdrawals.inc({ purpose }, 0);
  return metrics;
}
