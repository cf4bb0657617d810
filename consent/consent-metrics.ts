import { Counter, type Registry } from 'prom-client';

/** The consent routes' metrics, built once with the app's dependencies. */
export interface ConsentMetrics {
  records: Counter<'purpose' | 'decision' | 'source'>;
  withdrawals: Counter<'purpose'>;
}

export function createConsentMetrics(registry: Registry): ConsentMetrics {
  return {
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
}
