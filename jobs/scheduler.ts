import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Kysely, sql } from 'kysely';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../http/logger.ts';
import type { Database } from '../storage/index.ts';
import { announceTask, type JobMetrics } from './job-metrics.ts';

/** A periodic job: what it does, given the time it runs at. Its summary is stored with the run. */
export interface Job {
  name: string;
  /** A cron expression (node-cron, five or six fields). */
  schedule: string;
  /** How long a run may hold the job before another process may take it over. */
  leaseMs: number;
  run: (now: Date) => Promise<unknown>;
}

/** How one attempt to run a job ended. */
export type JobOutcome =
  | { status: 'succeeded'; runId: number; summary: unknown }
  | { status: 'failed'; runId: number; error: string }
  | { status: 'skipped'; reason: 'running' | 'leased' };

/** Identifies this process among the replicas that share the database. */
function leaseHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Takes the job's lease when it is free, expired or already ours — and, for a scheduled run, when no replica has
 * run this `tick` yet; answers whether we hold it now. One statement, so two processes cannot both take it.
 */
export async function acquireLease(
  db: Kysely<Database>,
  job: string,
  holder: string,
  now: Date,
  leaseMs: number,
  tick?: string,
): Promise<boolean> {
  const expires = new Date(now.getTime() + leaseMs).toISOString();
  const result = await sql`
    insert into job_leases (job, holder, expires_at, tick) values (${job}, ${holder}, ${expires}, ${tick ?? null})
    on conflict (job) do update set holder = excluded.holder, expires_at = excluded.expires_at,
      tick = coalesce(excluded.tick, job_leases.tick)
    where (job_leases.expires_at <= ${now.toISOString()} or job_leases.holder = ${holder})
      and (excluded.tick is null or job_leases.tick is null or job_leases.tick < excluded.tick)`.execute(db);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Frees the lease at once; it keeps the tick it ran for, so no replica runs that tick again. */
async function releaseLease(db: Kysely<Database>, job: string, holder: string, now: Date): Promise<void> {
  await db
    .updateTable('job_leases')
    .set({ expires_at: now.toISOString() })
    .where('job', '=', job)
    .where('holder', '=', holder)
    .execute();
}

/** A schedule tick as replicas name it alike: its time to the second. */
function tickOf(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Runs jobs: never two runs of one job at once (in this process, or across processes by the lease). */
export class JobRunner {
  private readonly running = new Set<string>();
  private readonly inFlight = new Set<Promise<JobOutcome>>();
  readonly holder: string;

  get metrics(): JobMetrics {
    return this.options.metrics;
  }

  clock(): Date {
    return this.options.clock();
  }

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: {
      logger: Logger;
      metrics: JobMetrics;
      clock: () => Date;
      holder?: string;
    },
  ) {
    this.holder = options.holder ?? leaseHolder();
  }

  /**
   * Runs the job once now, unless it is already running here or elsewhere, or (given the schedule `tick`) a
   * replica has run that tick already. Records the run with its summary or error, and never rejects: a failing
   * job is logged and counted, and the next run comes as scheduled.
   */
  async run(job: Pick<Job, 'name' | 'leaseMs' | 'run'>, tick?: string): Promise<JobOutcome> {
    if (this.running.has(job.name)) {
      this.options.metrics.jobRuns.inc({ task: job.name, outcome: 'skipped' });
      return { status: 'skipped', reason: 'running' };
    }
    this.running.add(job.name);
    const run = this.runLeased(job, tick);
    this.inFlight.add(run);
    try {
      return await run;
    } catch (error) {
      // Reached only when the database itself fails (lease or run record); still never rejects.
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger.error('job could not run', { job: job.name, error: message });
      this.options.metrics.jobRuns.inc({ task: job.name, outcome: 'failed' });
      return { status: 'failed', runId: 0, error: message };
    } finally {
      this.running.delete(job.name);
      this.inFlight.delete(run);
    }
  }

  /** Resolves when no job is running (for a clean shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async runLeased(job: Pick<Job, 'name' | 'leaseMs' | 'run'>, tick?: string): Promise<JobOutcome> {
    const { db, options } = this;
    const started = options.clock();
    if (!(await acquireLease(db, job.name, this.holder, started, job.leaseMs, tick))) {
      options.metrics.jobRuns.inc({ task: job.name, outcome: 'skipped' });
      return { status: 'skipped', reason: 'leased' };
    }
    const { id: runId } = await db
      .insertInto('job_runs')
      .values({
        job: job.name,
        started_at: started.toISOString(),
        status: 'running',
        summary: null,
        error: null,
        finished_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    try {
      const summary = await job.run(started);
      const finished = options.clock();
      await db
        .updateTable('job_runs')
        .set({
          status: 'succeeded',
          finished_at: finished.toISOString(),
          summary: JSON.stringify(summary ?? null),
        })
        .where('id', '=', runId)
        .execute();
      options.metrics.jobRuns.inc({ task: job.name, outcome: 'succeeded' });
      options.metrics.lastSuccess.set({ task: job.name }, finished.getTime() / 1000);
      options.metrics.jobDuration.observe(
        { task: job.name },
        (finished.getTime() - started.getTime()) / 1000,
      );
      return { status: 'succeeded', runId, summary };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.logger.error('job failed', { job: job.name, run: runId, error: message });
      options.metrics.jobRuns.inc({ task: job.name, outcome: 'failed' });
      await db
        .updateTable('job_runs')
        .set({ status: 'failed', finished_at: options.clock().toISOString(), error: message.slice(0, 1000) })
        .where('id', '=', runId)
        .execute();
      return { status: 'failed', runId, error: message };
    } finally {
      await releaseLease(db, job.name, this.holder, options.clock());
    }
  }
}

/** The scheduled jobs of one process; `stop` ends the timers (a run in progress finishes on its own). */
export interface Scheduler {
  runner: JobRunner;
  stop(): Promise<void>;
}

/** Scheduled runs looked at for a task's interval: enough to see a monthly schedule's longest month. */
const GAP_SAMPLE = 13;

/** The longest gap between consecutive runs, in seconds (0 with fewer than two). */
export function longestGapSeconds(runs: Date[]): number {
  let longest = 0;
  for (let i = 1; i < runs.length; i += 1)
    longest = Math.max(longest, ((runs[i]?.getTime() ?? 0) - (runs[i - 1]?.getTime() ?? 0)) / 1000);
  return longest;
}

/** Schedules each job with node-cron; timers are unref'd so they never keep the process alive. */
export function startScheduler(runner: JobRunner, jobs: Job[]): Scheduler {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      async (context) => {
        // Every replica fires the tick; the first to take the lease for it runs the job.
        await runner.run(job, tickOf(context.date));
      },
      { name: job.name, noOverlap: true },
    ),
  );
  for (const task of tasks) task.unref();
  const now = runner.clock();
  jobs.forEach((job, i) => {
    const task = tasks[i];
    if (task) announceTask(runner.metrics, job.name, longestGapSeconds(task.getNextRuns(GAP_SAMPLE)), now);
  });
  return {
    runner,
    async stop() {
      for (const task of tasks) await task.destroy();
      await runner.drain();
    },
  };
}
