import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The metrics of scheduled job runs, whichever area's job it is. */
export interface JobMetrics {
  jobRuns: Counter<'job' | 'outcome'>;
  lastSuccess: Gauge<'job'>;
  jobDuration: Histogram<'job'>;
}

const cache = new WeakMap<Registry, JobMetrics>();

/** The job metrics of `registry`, registered at the first call (several runners of one registry share them). */
export function jobMetrics(registry: Registry): JobMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: JobMetrics = {
    jobRuns: new Counter({
      name: 'vigil_job_runs_total',
      help: 'Scheduled job runs, by job and outcome (succeeded, failed, skipped).',
      labelNames: ['job', 'outcome'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'vigil_job_last_success_timestamp_seconds',
      help: 'When each job last finished successfully (Unix time).',
      labelNames: ['job'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'vigil_job_duration_seconds',
      help: 'How long successful job runs took.',
      labelNames: ['job'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
