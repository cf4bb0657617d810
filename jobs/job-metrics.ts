import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a job run ended, as counted. */
const JOB_OUTCOMES = ['succeeded', 'failed', 'skipped'] as const;

/**
 * The metrics of scheduled job runs, whichever area's job it is. The label is `task`: Prometheus sets `job`
 * itself on every scraped series (and would rename ours to `exported_job`).
 */
export interface JobMetrics {
  jobRuns: Counter<'task' | 'outcome'>;
  lastSuccess: Gauge<'task'>;
  jobDuration: Histogram<'task'>;
  /** When this process scheduled the task: where the wait for a first success starts. */
  scheduledAt: Gauge<'task'>;
  /** The longest gap between two scheduled runs of the task. */
  interval: Gauge<'task'>;
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
      help: 'Scheduled task runs, by task and outcome (succeeded, failed, skipped); every series from the start.',
      labelNames: ['task', 'outcome'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: 'vigil_job_last_success_timestamp_seconds',
      help: 'When each task last finished successfully (Unix time); absent until its first success.',
      labelNames: ['task'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'vigil_job_duration_seconds',
      help: 'How long successful task runs took.',
      labelNames: ['task'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
    scheduledAt: new Gauge({
      name: 'vigil_job_scheduled_timestamp_seconds',
      help: 'When this process scheduled each task (Unix time): the start of the wait for its first success.',
      labelNames: ['task'] as const,
      registers,
    }),
    interval: new Gauge({
      name: 'vigil_job_interval_seconds',
      help: 'The longest gap between two scheduled runs of each task, from its cron expression.',
      labelNames: ['task'] as const,
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}

/**
 * Makes a scheduled task's series exist before its first run: zero runs of each outcome, its interval and
 * when it was scheduled, so "never succeeded" is alertable.
 */
export function announceTask(metrics: JobMetrics, task: string, intervalSeconds: number, now: Date): void {
  for (const outcome of JOB_OUTCOMES) metrics.jobRuns.inc({ task, outcome }, 0);
  metrics.jobDuration.zero({ task });
  metrics.interval.set({ task }, intervalSeconds);
  metrics.scheduledAt.set({ task }, now.getTime() / 1000);
}
