import type { Registry } from 'prom-client';
import type { ConsentGate } from '../consent/index.ts';
import type { Logger } from '../http/logger.ts';
import type { Job, JobRunner } from '../jobs/index.ts';
import { type Actor, type EventJournal, readEvents, type Storage } from '../storage/index.ts';
import { loadRetentionPolicies, type RetentionPolicy } from './policies.ts';
import { type ExternalStore, processErasureQueue, SCHEDULER_ACTOR } from './privacy-requests.ts';
import { type PurgeOutcome, runRetention } from './purge.ts';
import { type RetentionMetrics, retentionMetrics } from './retention-metrics.ts';
import { makeErasurePhysical } from './subject-data.ts';

/** Retention and erasure as the app and the scheduler use them. */
export interface Retention {
  policies: RetentionPolicy[];
  metrics: RetentionMetrics;
  runner: JobRunner;
  purgeLeaseMs: number;
  /** Applies the policies (or counts what is due), records metrics, and truncates the WAL after deleting. */
  purge(now: Date, options: { dryRun: boolean; actor: Actor }): Promise<PurgeOutcome[]>;
  /** The scheduled jobs: the purge and the erasure queue. */
  jobs(schedules: { purge: string; erasure: string }): Job[];
}

export interface RetentionOptions {
  storage: Storage;
  secret: Buffer;
  registry: Registry;
  logger: Logger;
  clock: () => Date;
  gate: ConsentGate;
  policiesFile?: string;
  batchSize?: number;
  /** The event journal, which the purge and erasure settle first and erasure truncates after. */
  journal: EventJournal;
  /** Runs jobs under their lease; the on-demand purge takes the scheduled purge's lease. */
  runner: JobRunner;
  /** Stores outside the database with copies of personal data (OpenSearch), erased with the database. */
  externalStores?: ExternalStore[];
}

export function createRetention(options: RetentionOptions): Retention {
  const { storage, logger, clock } = options;
  const policies = loadRetentionPolicies(options.policiesFile);
  const metrics = retentionMetrics(options.registry, storage.db, clock);
  // Every category the purge acts on counts from 0, so its rate exists before the first purge.
  for (const p of policies)
    if (p.action !== 'keep') metrics.purgedRows.inc({ category: p.category, action: p.action }, 0);
  const { runner } = options;
  const purgeLeaseMs = 30 * 60 * 1000;
  const purge: Retention['purge'] = async (now, { dryRun, actor }) => {
    // Acknowledged events still in the event journal count too.
    const outcomes = await readEvents(options.journal, () =>
      runRetention(storage.db, {
        policies,
        now,
        dryRun,
        actor,
        batchSize: options.batchSize,
        onTable: (o) => {
          if (!dryRun && o.rows > 0)
            metrics.purgedRows.inc({ category: o.category, action: o.action }, o.rows);
        },
      }),
    );
    if (!dryRun && outcomes.some((o) => o.rows > 0)) {
      await makeErasurePhysical(storage, {
        logsDeleted: outcomes.some((o) => o.table === 'server_logs' && o.rows > 0),
        attempts: 5,
      });
    }
    return outcomes;
  };
  return {
    policies,
    metrics,
    runner,
    purgeLeaseMs,
    purge,
    jobs: (schedules) => [
      {
        name: 'retention.purge',
        schedule: schedules.purge,
        leaseMs: purgeLeaseMs,
        run: (now) => purge(now, { dryRun: false, actor: SCHEDULER_ACTOR }),
      },
      {
        name: 'privacy.erasure',
        schedule: schedules.erasure,
        leaseMs: 10 * 60 * 1000,
        run: () =>
          processErasureQueue({
            storage,
            secret: options.secret,
            logger,
            forgetSubject: (subjectId) => options.gate.forget(subjectId),
            now: clock,
            batchSize: options.batchSize,
            journal: options.journal,
            externalStores: options.externalStores,
            onStore: (o) => {
              if (o.rows > 0 && o.action !== 'export')
                metrics.erasedRows.inc({ category: o.category, action: o.action }, o.rows);
            },
          }),
      },
    ],
  };
}
