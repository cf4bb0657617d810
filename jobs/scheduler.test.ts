import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { jobMetrics } from './job-metrics.ts';
import { acquireLease, JobRunner, longestGapSeconds, startScheduler } from './scheduler.ts';

let ctx: TestContext;
let now: Date;
beforeEach(async () => {
  now = new Date('2026-11-29T10:00:00Z');
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

function runner(holder?: string) {
  return new JobRunner(ctx.storage.db, {
    logger: ctx.deps.logger,
    metrics: jobMetrics(ctx.registry),
    clock: () => now,
    holder,
  });
}

const runs = () => ctx.storage.db.selectFrom('job_runs').selectAll().orderBy('id').execute();

describe('the job runner', () => {
  it('shows every scheduled task from the start: zero runs, its interval, when it was scheduled, no success yet', async () => {
    const scheduler = startScheduler(runner(), [
      { name: 'hourly', schedule: '0 * * * *', leaseMs: 60_000, run: async () => undefined },
      { name: 'monthly', schedule: '0 3 1 * *', leaseMs: 60_000, run: async () => undefined },
    ]);
    try {
      const metrics = await ctx.registry.metrics();
      for (const outcome of ['succeeded', 'failed', 'skipped'])
        expect(metrics).toContain(`vigil_job_runs_total{task="hourly",outcome="${outcome}"} 0`);
      expect(metrics).toContain('vigil_job_interval_seconds{task="hourly"} 3600');
      // The longest month decides: 31 days.
      expect(metrics).toContain(`vigil_job_interval_seconds{task="monthly"} ${31 * 86400}`);
      expect(metrics).toContain(
        `vigil_job_scheduled_timestamp_seconds{task="hourly"} ${now.getTime() / 1000}`,
      );
      expect(metrics).toContain('vigil_job_duration_seconds_count{task="hourly"} 0');
      expect(metrics).not.toMatch(/vigil_job_last_success_timestamp_seconds\{/);
      // Prometheus sets `job` on every series it scrapes: no series of ours may carry one.
      expect(metrics).not.toMatch(/[{,]job="/);
    } finally {
      await scheduler.stop();
    }
  });

  it('measures a schedule by its longest gap', () => {
    const at = (iso: string) => new Date(iso);
    expect(longestGapSeconds([])).toBe(0);
    expect(longestGapSeconds([at('2026-01-01T00:00:00Z')])).toBe(0);
    expect(
      longestGapSeconds([at('2026-01-01T00:00:00Z'), at('2026-01-01T00:01:00Z'), at('2026-01-01T01:00:00Z')]),
    ).toBe(3540);
  });

  it('records a job that throws as failed, never rejects, and runs it again next time', async () => {
    const jobs = runner();
    let fail = true;
    const job = {
      name: 'flaky',
      leaseMs: 60_000,
      run: async () => {
        if (fail) throw new Error('the disk is full');
        return { purged: 3 };
      },
    };
    expect(await jobs.run(job)).toMatchObject({ status: 'failed', error: 'the disk is full' });
    fail = false;
    expect(await jobs.run(job)).toMatchObject({ status: 'succeeded', summary: { purged: 3 } });
    expect((await runs()).map((r) => [r.status, r.error, r.summary && JSON.parse(r.summary)])).toEqual([
      ['failed', 'the disk is full', null],
      ['succeeded', null, { purged: 3 }],
    ]);
    const metrics = await ctx.registry.metrics();
    expect(metrics).toContain('vigil_job_runs_total{task="flaky",outcome="failed"} 1');
    expect(metrics).toContain(
      `vigil_job_last_success_timestamp_seconds{task="flaky"} ${now.getTime() / 1000}`,
    );
    // The lease is given back after each run: free from the moment the run ended.
    const leases = await ctx.storage.db.selectFrom('job_leases').selectAll().execute();
    expect(leases).toEqual([
      { job: 'flaky', holder: jobs.holder, expires_at: now.toISOString(), tick: null },
    ]);
  });

  it('runs a scheduled tick once across replicas, even after the first run has ended', async () => {
    const replicaA = runner('replica-a');
    const replicaB = runner('replica-b');
    let runs = 0;
    const job = { name: 'tick-once', leaseMs: 60_000, run: async () => ({ run: ++runs }) };
    expect(await replicaA.run(job, '2026-12-07T10:00:00Z')).toMatchObject({ status: 'succeeded' });
    expect(await replicaB.run(job, '2026-12-07T10:00:00Z')).toEqual({ status: 'skipped', reason: 'leased' });
    expect(await replicaA.run(job, '2026-12-07T10:00:00Z')).toEqual({ status: 'skipped', reason: 'leased' });
    // The next tick goes to whoever fires first; a run asked for directly needs no tick.
    expect(await replicaB.run(job, '2026-12-07T10:01:00Z')).toMatchObject({ status: 'succeeded' });
    expect(await replicaA.run(job)).toMatchObject({ status: 'succeeded' });
    expect(await replicaA.run(job, '2026-12-07T10:01:00Z')).toEqual({ status: 'skipped', reason: 'leased' });
    expect(runs).toBe(3);
  });

  it('never runs two of one job at once in a process', async () => {
    const jobs = runner();
    let release = () => {};
    const job = {
      name: 'slow',
      leaseMs: 60_000,
      run: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    const first = jobs.run(job);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await jobs.run(job)).toEqual({ status: 'skipped', reason: 'running' });
    release();
    expect(await first).toMatchObject({ status: 'succeeded' });
  });

  it('skips a job another process holds the lease of, and takes over an expired lease', async () => {
    expect(await acquireLease(ctx.storage.db, 'purge', 'replica-b', now, 60_000)).toBe(true);
    const job = { name: 'purge', leaseMs: 60_000, run: async () => 'done' };
    expect(await runner('replica-a').run(job)).toEqual({ status: 'skipped', reason: 'leased' });
    expect(await runs()).toEqual([]);
    now = new Date(now.getTime() + 61_000);
    expect(await runner('replica-a').run(job)).toMatchObject({ status: 'succeeded' });
    // replica-b, back from a pause, no longer holds it either.
    expect(await acquireLease(ctx.storage.db, 'purge', 'replica-c', now, 60_000)).toBe(true);
    expect(await acquireLease(ctx.storage.db, 'purge', 'replica-b', now, 60_000)).toBe(false);
  });
});

describe('the scheduler', () => {
  it('keeps running a job on schedule after it throws', async () => {
    const jobs = new JobRunner(ctx.storage.db, {
      logger: ctx.deps.logger,
      metrics: jobMetrics(ctx.registry),
      clock: () => new Date(),
    });
    let calls = 0;
    const scheduler = startScheduler(jobs, [
      {
        name: 'always-fails',
        schedule: '* * * * * *',
        leaseMs: 60_000,
        run: async () => {
          calls += 1;
          throw new Error(`failure ${calls}`);
        },
      },
    ]);
    try {
      const deadline = Date.now() + 10_000;
      while (calls < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await scheduler.stop();
    }
    expect(calls).toBeGreaterThanOrEqual(2);
    const recorded = await runs();
    expect(recorded.length).toBe(calls);
    expect(recorded.every((r) => r.status === 'failed')).toBe(true);
  });
});
