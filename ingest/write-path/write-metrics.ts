import { Histogram, type Registry } from 'prom-client';

/** The transactions of the write path, whichever writer runs them: rows per transaction and its duration. */
export function writeMetrics(registry: Registry) {
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
  };
}
