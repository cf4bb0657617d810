// The review queue as Prometheus sees it: payouts waiting for an analyst, by status, the oldest one's age and
// the SLA it is held to. Read from the database at scrape time, so every replica reports the same queue.
import { Gauge, type Registry } from 'prom-client';
import type { Storage } from '../../storage/index.ts';

/** Payout statuses that wait for a person's decision. */
const REVIEW_STATUSES = ['flagged', 'held'] as const;

interface QueueSnapshot {
  at: number;
  /** The clock's second: a moved clock reads again. */
  second: number;
  rows: Promise<{ status: string; n: number; oldest: string | null }[]>;
}

export function reviewQueueMetrics(
  registry: Registry,
  storage: Storage,
  clock: () => Date,
  slaSeconds: number,
): void {
  const registers = [registry];
  // prom-client collects every gauge of a scrape at once: the two share one query.
  let snapshot: QueueSnapshot | undefined;
  const queue = () => {
    const at = Date.now();
    const second = Math.floor(clock().getTime() / 1000);
    if (!snapshot || at - snapshot.at > 1000 || snapshot.second !== second)
      snapshot = {
        at,
        second,
        rows: storage.db
          .selectFrom('payouts')
          .select(({ fn }) => ['status', fn.countAll<number>().as('n'), fn.min('created_at').as('oldest')])
          .where('status', 'in', REVIEW_STATUSES)
          .groupBy('status')
          .execute(),
      };
    return snapshot.rows;
  };
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
