import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { ConsentGate, ConsentMetrics, Purpose } from '../consent/index.ts';
import type { FraudDetector } from '../detectors/fraud/index.ts';
import type { TrafficDetector } from '../detectors/traffic/index.ts';
import type { Logger } from '../http/logger.ts';
import type { IngestConfig } from '../ingest/config.ts';
import type { IngestMetrics } from '../ingest/ingest-metrics.ts';
import type { SearchSink } from '../ingest/opensearch/client.ts';
import type { Writer } from '../ingest/write-path/writer.ts';
import type { JobRunner } from '../jobs/index.ts';
import type { Retention } from '../retention/index.ts';
import type { Database } from '../storage/index.ts';

/** Everything the app needs from outside; tests build as many apps as they like, each with its own. */
export interface AppDeps {
  db: Kysely<Database>;
  /** The registry `/metrics` serves; never prom-client's global one. */
  registry: Registry;
  /** How long a rendered `/metrics` text is served again (the server: 1 s); 0 renders it for every scrape. */
  metricsCacheMs: number;
  clock: () => Date;
  logger: Logger;
  /** Keys the hashes of personal identifiers (IP, email); from `VIGIL_SECRET` or the data dir. */
  secret: Buffer;
  /** The group-commit writer every ingest route submits to. */
  writer: Writer;
  ingest: IngestConfig;
  /** The ingest routes' metrics and each Faro app's in-flight bound, built once for every router. */
  ingestMetrics: IngestMetrics;
  consent: {
    purposes: Purpose[];
    /** Answers from memory whether ingestion may keep an item about a subject. */
    gate: ConsentGate;
    expiryMs: number;
    /** The consent routes' metrics, built once for every router. */
    metrics: ConsentMetrics;
  };
  /** Runs scheduled jobs under their lease, once per tick across replicas, and records their runs. */
  jobs: JobRunner;
  /** Retention policies, the purge and the erasure queue. */
  retention: Retention;
  /** Payout scoring: features, the isolation forest, the rules. */
  fraud: FraudDetector;
  /** Bottlenecks per route and page: per-minute series against their robust bands. */
  traffic: TrafficDetector;
  /** How long a flagged or held payout may wait for an analyst's decision. */
  reviewSlaHours: number;
  /** The logs shipped to OpenSearch, when `OPENSEARCH_URL` is set: `GET /v1/logs` searches them there. */
  logSearch?: Pick<SearchSink, 'searchLogs'>;
  /** Called after each decision: the server wakes the webhook delivery, so the marketplace hears at once. */
  onDecision?: () => void;
}
