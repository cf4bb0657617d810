import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The metrics of the write path, whichever writer runs it (a dashboard reads the same families on SQLite and on
 * PostgreSQL): rows per transaction and its duration, events that reached the database and transactions that
 * failed to put them there, and how busy the thread that answers requests is.
 */
export function writeMetrics(registry: Registry, requestThreadUtilization: () => number) {
  new Gauge({
    name: 'vigil_ingest_request_thread_utilization',
    help:
      'Event loop utilisation (0-1) of the thread that answers requests. On SQLite measured every 100 ms (falls slowly); ' +
      'above 0.75 the apply thread holds back (the backlog grows) until half the backlog bound or 30 s. On PostgreSQL ' +
      'measured since the last scrape.',
    registers: [registry],
    collect() {
      this.set(requestThreadUtilization());
    },
  });
  return {
    batchRows: new Histogram({
      name: 'vigil_ingest_batch_rows',
      help: 'Rows committed per transaction of the write path (on SQLite, a group transaction of several requests).',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10_000, 20_000],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'vigil_ingest_commit_duration_seconds',
      help: 'Time to run and commit one transaction of the write path.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    appliedEvents: new Counter({
      name: 'vigil_ingest_applied_events_total',
      help:
        'Affiliate events that reached the database: on SQLite moved from the event journal, on PostgreSQL committed ' +
        'by their request.',
      registers: [registry],
    }),
    applyFailures: new Counter({
      name: 'vigil_ingest_apply_failures_total',
      help:
        'Transactions that failed to put affiliate events into the database and were rolled back: on SQLite an apply ' +
        'of the event journal (retried), on PostgreSQL a request (answered with an error, nothing acknowledged).',
      registers: [registry],
    }),
  };
}

/** This thread's event loop utilisation (0–1) since the last call. */
export function eventLoopUtilization(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, last);
    last = current;
    return utilization;
  };
}
