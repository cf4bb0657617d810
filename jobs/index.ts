export { jobMetrics } from './job-metrics.ts';
export { type Job, JobRunner, startScheduler } from './scheduler.ts';
