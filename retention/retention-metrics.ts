import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { perScrape } from '../http/metrics.ts';
import type { Database } from '../storage/index.ts';
import { privacyRequestBacklog } from './privacy-requests.ts';

/** The retention and privacy-request metrics of one registry. */
export interface RetentionMetrics {
  purgedRows: Counter<'category' | 'action'>;
  erasedRows: Counter<'category' | 'action'>;
}

const cache = new WeakMap<Registry, RetentionMetrics>();

/**
 * Creates the metrics once per registry. The privacy-request gauges are read from the database when scraped,
 * so every replica reports the same backlog.
 */
export function retentionMetrics(
  registry: Registry,
  db: Kysely<Database>,
  clock: () => Date,
): RetentionMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  // The four gauges share one query per scrape.
  const backlog = perScrape(clock, (now) => privacyRequestBacklog(db, now));
  const TYPES = ['access', 'erasure'] as const;
  new Gauge({
    name: 'vigil_privacy_requests_open',
    help: 'Privacy requests not yet answered (pending, approved, in processing or failed), by type.',
    labelNames: ['type'] as const,
    registers,
    async collect() {
      const rows = await backlog();
      for (const type of TYPES) this.set({ type }, rows.find((b) => b.type === type)?.open ?? 0);
    },
  });
  new Gauge({
    name: 'vigil_privacy_requests_overdue',
    help: 'Open privacy requests past their due date, by type.',
    labelNames: ['type'] as const,
    registers,
    async collect() {
      const rows = await backlog();
      for (const type of TYPES) this.set({ type }, rows.find((b) => b.type === type)?.overdue ?? 0);
    },
  });
  new Gauge({
    name: 'vigil_privacy_requests_due_soon',
    help: 'Open privacy requests due within the next 7 days and not yet overdue, by type.',
    labelNames: ['type'] as const,
    registers,
    async collect() {
      const rows = await backlog();
      for (const type of TYPES) this.set({ type }, rows.find((b) => b.type === type)?.dueSoon ?? 0);
    },
  });
  new Gauge({
    name: 'vigil_privacy_request_oldest_open_age_seconds',
    help: 'Age of the oldest open privacy request.',
    registers,
    async collect() {
      this.set(Math.max(0, ...(await backlog()).map((b) => b.oldestAgeSeconds)));
    },
  });
  const metrics: RetentionMetrics = {
    purgedRows: new Counter({
      name: 'vigil_retention_rows_total',
      help: 'Rows past their retention period, deleted or pseudonymised, by data category and action.',
      labelNames: ['category', 'action'] as const,
      registers,
    }),
    erasedRows: new Counter({
      name: 'vigil_erasure_rows_total',
      help: 'Rows erased for privacy requests, by data category and action.',
      labelNames: ['category', 'action'] as const,
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
