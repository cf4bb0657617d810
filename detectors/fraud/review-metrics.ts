// The review queue as Prometheus sees it: payouts waiting for an analyst, by status, the oldest one's age and
// the SLA it is held to. Read from the database at scrape time, so every replica reports the same queue.
import { Gauge, type Registry } from 'prom-client';
import { perScrape } from '../../http/metrics.ts';
import type { Storage } from '../../storage/index.ts';

/** Payout statuses that wait for a person's decision. */
const REVIEW_STATUSES = ['flagged', 'held'] as const;

export function reviewQueueMetrics(
  registry: Registry,
  storage: Storage,
  clock: () => Date,
  slaSeconds: number,
): void {
  const registers = [registry];
  // The two gauges share one query per scrape.
  const queue = perScrape(clock, () =>
    storage.db
      .selectFrom('payouts')
      .select(({ fn }) => ['status', fn.countAll<number>().as('n'), fn.min('created_at').as('oldest')])
      .where('status', 'in', REVIEW_STATUSES)
      .groupBy('status')
      .execute(),
  );
  new Gauge({
    name: 'vigil_fraud_review_payouts',
    help: 'Payouts waiting for an analyst, by status (flagged, held).',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      const rows = await queue();
      for (const status of REVIEW_STATUSES)
        this.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
    },
  });
  new Gauge({
    name: 'vigil_fraud_review_oldest_age_seconds',
    help: 'Age of the oldest payout waiting for an analyst, since it was requested (0 when none waits).',
    registers,
    async collect() {
      const oldest = (await queue())
        .map((r) => (r.oldest === null ? Number.NaN : Date.parse(r.oldest)))
        .filter((t) => Number.isFinite(t));
      this.set(oldest.length === 0 ? 0 : Math.max(0, (clock().getTime() - Math.min(...oldest)) / 1000));
    },
  });
  new Gauge({
    name: 'vigil_fraud_review_sla_seconds',
    help: 'How long a flagged or held payout may wait for a decision (VIGIL_REVIEW_SLA_HOURS).',
    registers,
  }).set(slaSeconds);
}
