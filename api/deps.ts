import type { Registry } from 'prom-client';
import { ConsentGate, createConsentMetrics, loadGatePolicy, loadPurposes } from '../consent/index.ts';
import { createFraudDetector } from '../detectors/fraud/index.ts';
import { createTrafficDetector } from '../detectors/traffic/index.ts';
import { createLogger, type Logger } from '../http/logger.ts';
import { createRegistry } from '../http/metrics.ts';
import { DEFAULT_INGEST_CONFIG, type IngestConfig } from '../ingest/config.ts';
import { createIngestMetrics } from '../ingest/ingest-metrics.ts';
import { BatchWriter } from '../ingest/write-path/batch-writer.ts';
import { PostgresWriter } from '../ingest/write-path/postgres-writer.ts';
import { JobRunner, jobMetrics } from '../jobs/index.ts';
import { createRetention, type ExternalStore } from '../retention/index.ts';
import type { Storage } from '../storage/index.ts';
import type { AppDeps } from './context.ts';

/** What `createDeps` needs; everything but storage and secret has a default fit for tests. */
export interface DepsOptions {
  storage: Storage;
  secret: Buffer;
  registry?: Registry;
  /** See `AppDeps.metricsCacheMs`; 0 unless given, so that a test's scrape sees what it just did. */
  metricsCacheMs?: number;
  logger?: Logger;
  clock?: () => Date;
  ingest?: Partial<IngestConfig>;
  consentExpiryDays?: number;
  /** How long a flagged or held payout may wait for a decision (48 h unless given). */
  reviewSlaHours?: number;
  /** Another retention policies file (tests); the repo's `retention/policies.yaml` otherwise. */
  retentionPoliciesFile?: string;
  /** Stores outside the database with copies of personal data (OpenSearch), erased with the database. */
  externalStores?: ExternalStore[];
  /** The logs shipped to OpenSearch: `GET /v1/logs` searches them there when given. */
  logSearch?: AppDeps['logSearch'];
}

/**
 * Assembles the app's dependencies around one storage: the server, the tests and the benchmarks use this.
 * The consent gate starts empty: call `deps.consent.gate.load(db)` once the migrations have run.
 */
export function createDeps(options: DepsOptions): AppDeps {
  const registry = options.registry ?? createRegistry({ processMetrics: false });
  const logger = options.logger ?? createLogger('silent');
  const ingest = { ...DEFAULT_INGEST_CONFIG, ...options.ingest };
  const purposes = loadPurposes();
  const clock = options.clock ?? (() => new Date());
  const gate = new ConsentGate(purposes, loadGatePolicy(purposes), registry);
  const limits = {
    maxQueuedRows: ingest.queueMaxRows,
    maxBacklogEvents: ingest.backlogMaxEvents,
    maxInFlightRequests: ingest.maxInFlight,
    retryAfterSeconds: 1,
    ipSecret: options.secret,
  };
  const writer =
    options.storage.kind === 'postgres'
      ? new PostgresWriter(options.storage.db, registry, limits)
      : new BatchWriter(options.storage, registry, logger, limits);
  const jobs = new JobRunner(options.storage.db, { logger, metrics: jobMetrics(registry), clock });
  return {
    db: options.storage.db,
    registry,
    metricsCacheMs: options.metricsCacheMs ?? 0,
    reviewSlaHours: options.reviewSlaHours ?? 48,
    ...(options.logSearch ? { logSearch: options.logSearch } : {}),
    clock,
    logger,
    secret: options.secret,
    jobs,
    ingest,
    ingestMetrics: createIngestMetrics(registry, ingest),
    writer,
    consent: {
      purposes,
      gate,
      expiryMs: (options.consentExpiryDays ?? 395) * 24 * 60 * 60 * 1000,
      metrics: createConsentMetrics(
        registry,
        purposes.map((p) => p.name),
      ),
    },
    retention: createRetention({
      storage: options.storage,
      secret: options.secret,
      registry,
      logger,
      clock,
      gate,
      policiesFile: options.retentionPoliciesFile,
      journal: writer,
      runner: jobs,
      externalStores: options.externalStores,
    }),
    fraud: createFraudDetector({
      storage: options.storage,
      registry,
      logger,
      clock,
      journal: writer,
      reviewSlaSeconds: (options.reviewSlaHours ?? 48) * 3600,
    }),
    traffic: createTrafficDetector({ storage: options.storage, registry, clock, journal: writer }),
  };
}
