export { type JobMetrics, jobMetrics } from './job-metrics.ts';
export { acquireLease, type Job, JobRunner, type Scheduler, startScheduler } from './scheduler.ts';
