import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { ConsentGate, Purpose } from '../consent/index.ts';
import type { FraudDetector } from '../detectors/fraud/index.ts';
import type { BatchWriter } from '../ingest/batch-writer.ts';
import type { Retention } from '../retention/index.ts';
import type { Actor, Database } from '../storage/index.ts';
import type { IngestConfig } from './env.ts';
import type { Logger } from './logger.ts';
import type { Role } from './roles.ts';

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
  writer: BatchWriter;
  ingest: IngestConfig;
  consent: {
    purposes: Purpose[];
    /** Answers from memory whether ingestion may keep an item about a subject. */
    gate: ConsentGate;
    expiryMs: number;
  };
  /** Retention policies, the purge, the erasure queue and the job runner. */
  retention: Retention;
  /** Payout scoring: features, the isolation forest, the rules. */
  fraud: FraudDetector;
}

/** The caller behind an authenticated request. */
export interface RequestActor extends Actor {
  role: Role;
  keyId: string;
}

/** Hono's environment for every route: request-scoped values set by the app's middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    db: Kysely<Database>;
    clock: () => Date;
    logger: Logger;
    actor: RequestActor;
  };
}
