import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { startConsentSync } from '../consent/index.ts';
import { listApiKeys } from '../http/api-keys.ts';
import { ConfigFileError } from '../http/config-file.ts';
import { createLogger, type Logger } from '../http/logger.ts';
import { createRegistry } from '../http/metrics.ts';
import { createSearchSink } from '../ingest/opensearch/client.ts';
import { searchErasure } from '../ingest/opensearch/erasure.ts';
import { createSearchShipper } from '../ingest/opensearch/shipper.ts';
import { startScheduler } from '../jobs/index.ts';
import { loadRetentionPolicies } from '../retention/policies.ts';
import { createWebhookDelivery } from '../review/webhook-delivery.ts';
import { DataDirInUseError, migrateToLatest, type Storage } from '../storage/index.ts';
import { createApp } from './app.ts';
import { createDeps } from './deps.ts';
import { type Config, ConfigError, loadConfig } from './env.ts';
import { openStorage } from './open-storage.ts';
import { resolveSecret } from './secret.ts';

/** A running Vigil: its address and a `stop` that drains it. */
export interface RunningServer {
  port: number;
  storage: Storage;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), closes the database. */
  stop(): Promise<void>;
}

/** Days a category's rows are kept, from its retention policy (30 when it has no limit in days). */
function retentionDays(category: string): number {
  const policy = loadRetentionPolicies().find((p) => p.category === category);
  const age = policy?.maxAge;
  return age ? Math.max(1, age.years * 365 + age.months * 31 + age.days) : 30;
}

/** The OpenSearch sink for `OPENSEARCH_URL`, and its part in erasure. */
function searchStore(node: string, storage: Storage) {
  const sink = createSearchSink({
    node,
    retentionDays: { logs: retentionDays('server-logs'), telemetry: retentionDays('browser-telemetry') },
  });
  const url = new URL(node);
  return { sink, erasure: searchErasure(sink, storage.db), where: `${url.protocol}//${url.host}` };
}

/** How often a replica on PostgreSQL reloads the whole consent gate, whatever it heard. */
const CONSENT_RESYNC_MS = 60_000;

/** Scrapes within this long of a render share it: many scrapers cost one render a second. */
const METRICS_CACHE_MS = 1000;

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const storage = await openStorage(config);
  let applied: string[];
  try {
    applied = await migrateToLatest(storage.db);
  } catch (error) {
    await storage.close();
    throw error;
  }
  if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  const search = config.opensearchUrl === undefined ? undefined : searchStore(config.opensearchUrl, storage);
  if (search)
    logger.info('server logs and browser telemetry are shipped to OpenSearch', { node: search.where });

  const deps = createDeps({
    storage,
    secret: resolveSecret(config.secret, config.dataDir),
    registry: createRegistry({ processMetrics: true }),
    metricsCacheMs: METRICS_CACHE_MS,
    logger,
    ingest: config.ingest,
    consentExpiryDays: config.consentExpiryDays,
    reviewSlaHours: config.reviewSlaHours,
    externalStores: search ? [search.erasure] : [],
    ...(search ? { logSearch: search.sink } : {}),
  });
  const subjects = await deps.consent.gate.load(storage.db);
  logger.info('consent gate loaded', { subjects });
  // Replicas on one PostgreSQL hear each other's consent changes (and reload all of it every minute).
  const consentSync =
    storage.kind === 'postgres' && config.databaseUrl !== undefined
      ? startConsentSync({
          db: storage.db,
          gate: deps.consent.gate,
          logger,
          listen: { connectionString: config.databaseUrl },
          resyncMs: CONSENT_RESYNC_MS,
        })
      : undefined;
  // Starts the event write path; the apply thread applies what an earlier run left in the event journal.
  // Fails when another Vigil process holds the data directory.
  try {
    await deps.writer.start();
  } catch (error) {
    await consentSync?.stop();
    await deps.writer.close();
    await storage.close();
    throw error;
  }
  const app = createApp(deps);
  const scheduler = startScheduler(deps.jobs, [
    ...deps.retention.jobs(config.schedules),
    ...deps.fraud.jobs(config.schedules),
    ...deps.traffic.jobs(config.schedules),
  ]);
  logger.info('scheduler started', config.schedules);
  // Posts the decisions' webhook events, including those an earlier run left in the outbox.
  const webhooks = createWebhookDelivery({
    db: storage.db,
    registry: deps.registry,
    logger,
    clock: deps.clock,
  });
  webhooks.start();
  // A decision wakes the delivery at once rather than at its next poll.
  deps.onDecision = () => webhooks.kick();
  // Ships stored logs and telemetry from where the last run stopped; while OpenSearch is away they wait.
  const shipper = search
    ? createSearchShipper({
        db: storage.db,
        sink: search.sink,
        registry: deps.registry,
        logger,
        clock: deps.clock,
      })
    : undefined;
  shipper?.start();

  const server = serve({
    fetch: app.fetch,
    port: config.port,
    hostname: config.host,
    // Node's default gives a request 300 s to arrive: a slow client would hold its slot that long. The check
    // runs every 30 s by default, which would stretch either deadline by as much.
    serverOptions: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('listening', { port, host: config.host, dataDir: config.dataDir });
  if ((await listApiKeys(storage.db, { includeRevoked: false })).length === 0) {
    logger.info('no API keys yet: create one with `npx vigil keys create --role admin --name <name>`');
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // A delivery in flight may take its whole timeout: let it finish while requests drain.
      const webhooksStopped = webhooks.stop();
      const shipperStopped = shipper?.stop();
      await scheduler.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections go idle as their last response is sent; close each as soon as it does,
      // rather than waiting out the keep-alive timeout.
      const closeIdle = () => {
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      };
      closeIdle();
      const sweeper = setInterval(closeIdle, 50);
      const deadline = setTimeout(() => {
        logger.warn('shutdown timeout reached: closing open connections');
        if ('closeAllConnections' in server) server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      deadline.unref();
      await closed;
      clearInterval(sweeper);
      clearTimeout(deadline);
      // Every request has been answered; commit anything still queued and apply the event journal (for a
      // while: what is left is applied at the next start) before the database closes.
      await webhooksStopped;
      await shipperStopped;
      await search?.sink.close();
      await consentSync?.stop();
      await deps.writer.close();
      await storage.close();
    })();
    return stopping;
  };
  return { port, storage, stop };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vigil: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  // Heard from the start: a signal that comes while the server starts (it may already be listening while its
  // last start-up queries run) stops it once started, drained like any other, instead of killing it outright.
  let running: RunningServer | undefined;
  let signalledWhileStarting: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (running === undefined) {
      signalledWhileStarting = signal;
      return;
    }
    logger.info('stopping', { signal });
    running.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    running = await startServer(config, logger);
  } catch (error) {
    // A bad consent vocabulary, gate policy or retention policy is a configuration error too: stop with its message.
    // Every config file in the repo (consent, retention, fraud rules) throws a ConfigFileError.
    if (
      error instanceof ConfigError ||
      error instanceof ConfigFileError ||
      error instanceof DataDirInUseError
    ) {
      process.stderr.write(`vigil: ${error.message}\n`);
      process.exit(2);
    }
    logger.error('start failed', { error });
    process.exit(1);
  }
  if (signalledWhileStarting) onSignal(signalledWhileStarting);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await main();
}
