import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { DEFAULT_INGEST_CONFIG, type IngestConfig } from '../ingest/config.ts';

export { DEFAULT_INGEST_CONFIG };

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const postgresUrl = z
  .string()
  .url('expected a URL such as postgres://user@127.0.0.1:5432/vigil')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'expected a postgres:// or postgresql:// URL');

const byteCount = (fallback: number) =>
  z.coerce
    .number({ message: 'expected a number of bytes' })
    .int('expected a whole number of bytes')
    .min(1024, 'expected at least 1024 bytes')
    .max(1024 * 1024 * 1024, 'expected at most 1 GiB')
    .default(fallback);

const milliseconds = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ message: 'expected milliseconds' })
    .int('expected a whole number of milliseconds')
    .min(min, `expected at least ${min} ms`)
    .max(max, `expected at most ${max} ms`)
    .default(fallback);

const FARO_ANONYMOUS = ['consent', 'exempt'] as const;

const envSchema = z
  .object({
    PORT: z.coerce
      .number({ message: 'expected a TCP port number' })
      .int('expected a whole number')
      .min(0, 'expected a port from 0 to 65535')
      .max(65535, 'expected a port from 0 to 65535')
      .default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    VIGIL_DATA_DIR: z.string().min(1, 'expected a directory path').default('./data'),
    DATABASE_URL: postgresUrl.optional(),
    OPENSEARCH_URL: z
      .string()
      .url('expected a URL such as https://opensearch:9200')
      .refine((value) => /^https?:\/\//.test(value), 'expected an http:// or https:// URL')
      .optional(),
    VIGIL_SECRET: z.string().min(32, 'expected at least 32 characters of secret material').optional(),
    VIGIL_LOG_LEVEL: z
      .enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
    VIGIL_INGEST_MAX_BODY_BYTES: byteCount(5 * 1024 * 1024),
    VIGIL_INGEST_MAX_BATCH_ITEMS: z.coerce.number().int().min(1).max(100_000).default(1000),
    VIGIL_INGEST_QUEUE_MAX_ROWS: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
    VIGIL_INGEST_BACKLOG_MAX_EVENTS: z.coerce.number().int().min(1000).max(100_000_000).default(2_000_000),
    VIGIL_INGEST_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1_000_000).default(512),
    VIGIL_FARO_MAX_BODY_BYTES: byteCount(5 * 1024 * 1024),
    VIGIL_FARO_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1_000_000).default(64),
    VIGIL_FARO_ANONYMOUS_TELEMETRY: z
      .enum(FARO_ANONYMOUS, { message: `expected one of ${FARO_ANONYMOUS.join(', ')}` })
      .default('consent'),
    VIGIL_HEADERS_TIMEOUT_MS: milliseconds(100, 600_000, 10_000),
    VIGIL_REQUEST_TIMEOUT_MS: milliseconds(100, 3_600_000, 60_000),
    VIGIL_BODY_IDLE_TIMEOUT_MS: milliseconds(100, 600_000, 5000),
    VIGIL_FARO_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(100),
    VIGIL_FARO_BURST: z.coerce.number().int().min(1).max(1_000_000).default(500),
    VIGIL_PAGE_ROUTE_CAP: z.coerce.number().int().min(1).max(10_000).default(200),
    VIGIL_URL_QUERY_ALLOWLIST: z
      .string()
      .regex(
        /^[\w*.-]+(,[\w*.-]+)*$/,
        'expected comma-separated query keys, `*` as a wildcard (e.g. utm_*,ref)',
      )
      .default('utm_*'),
    VIGIL_CONSENT_EXPIRY_DAYS: z.coerce
      .number({ message: 'expected a number of days' })
      .int()
      .min(1)
      .max(3650)
      .default(395),
    VIGIL_REVIEW_SLA_HOURS: z.coerce
      .number({ message: 'expected a number of hours' })
      .positive()
      .max(24 * 90)
      .default(48),
    VIGIL_RETENTION_CRON: z
      .string()
      .refine((v) => cron.validate(v), 'expected a cron expression such as "0 * * * *"')
      .default('0 * * * *'),
    VIGIL_ERASURE_CRON: z
      .string()
      .refine((v) => cron.validate(v), 'expected a cron expression such as "* * * * *"')
      .default('* * * * *'),
    VIGIL_FRAUD_RETRAIN_CRON: z
      .string()
      .refine((v) => cron.validate(v), 'expected a cron expression such as "30 2 * * *"')
      .default('30 2 * * *'),
    VIGIL_TRAFFIC_CRON: z
      .string()
      .refine((v) => cron.validate(v), 'expected a cron expression such as "* * * * *"')
      .default('* * * * *'),
    VIGIL_SHUTDOWN_TIMEOUT_MS: z.coerce
      .number({ message: 'expected milliseconds' })
      .int()
      .min(100)
      .max(60_000)
      .default(10_000),
  })
  .refine((v) => v.VIGIL_HEADERS_TIMEOUT_MS <= v.VIGIL_REQUEST_TIMEOUT_MS, {
    message: 'expected at most VIGIL_REQUEST_TIMEOUT_MS: the headers are part of the request',
    path: ['VIGIL_HEADERS_TIMEOUT_MS'],
    // Only between two valid values: a bad one is reported once, by its own check.
    when: (payload) => payload.issues.length === 0,
  });

/** The validated configuration every other module receives; nothing else reads `process.env`. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  opensearchUrl: string | undefined;
  secret: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  shutdownTimeoutMs: number;
  /** The HTTP server's deadlines: all headers of a request, and the whole request, must arrive within them. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  ingest: IngestConfig;
  /** How long a consent lasts before it must be asked again (13 months, the TCF re-ask rule). */
  consentExpiryDays: number;
  /** How long a flagged or held payout may wait for an analyst's decision. */
  reviewSlaHours: number;
  /** When the retention purge and the erasure queue run (cron expressions). */
  schedules: { purge: string; erasure: string; fraudRetrain: string; trafficDetector: string };
}

/** Thrown when the environment holds a bad value; its message names every offending variable. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type RawEnv = Record<string, string | undefined>;

/** Variables whose values may hold credentials: an error names them but never echoes the value. */
const SECRET_VARIABLES = new Set(['VIGIL_SECRET', 'DATABASE_URL', 'OPENSEARCH_URL']);

function describeValue(variable: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  return SECRET_VARIABLES.has(variable) ? `a value of ${value.length} characters` : JSON.stringify(value);
}

/** Empty strings count as unset, as a shell `VAR=` usually means. */
function withoutEmpty(env: RawEnv): RawEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

/** Parses the environment once at start. Throws `ConfigError` naming each bad variable. */
export function loadConfig(env: RawEnv = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(environment)');
        return { variable, message: `${issue.message} (got ${describeValue(variable, env[variable])})` };
      }),
    );
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    host: v.HOST,
    dataDir: path.resolve(v.VIGIL_DATA_DIR),
    databaseUrl: v.DATABASE_URL,
    opensearchUrl: v.OPENSEARCH_URL,
    secret: v.VIGIL_SECRET,
    logLevel: v.VIGIL_LOG_LEVEL,
    shutdownTimeoutMs: v.VIGIL_SHUTDOWN_TIMEOUT_MS,
    headersTimeoutMs: v.VIGIL_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: v.VIGIL_REQUEST_TIMEOUT_MS,
    ingest: {
      maxBodyBytes: v.VIGIL_INGEST_MAX_BODY_BYTES,
      maxBatchItems: v.VIGIL_INGEST_MAX_BATCH_ITEMS,
      queueMaxRows: v.VIGIL_INGEST_QUEUE_MAX_ROWS,
      backlogMaxEvents: v.VIGIL_INGEST_BACKLOG_MAX_EVENTS,
      maxInFlight: v.VIGIL_INGEST_MAX_IN_FLIGHT,
      bodyIdleTimeoutMs: v.VIGIL_BODY_IDLE_TIMEOUT_MS,
      faroMaxBodyBytes: v.VIGIL_FARO_MAX_BODY_BYTES,
      faroMaxInFlight: v.VIGIL_FARO_MAX_IN_FLIGHT,
      faroAnonymous: v.VIGIL_FARO_ANONYMOUS_TELEMETRY,
      faroRatePerSecond: v.VIGIL_FARO_RATE_PER_SECOND,
      faroBurst: v.VIGIL_FARO_BURST,
      pageRouteCap: v.VIGIL_PAGE_ROUTE_CAP,
      urlQueryAllowList: v.VIGIL_URL_QUERY_ALLOWLIST.split(','),
    },
    consentExpiryDays: v.VIGIL_CONSENT_EXPIRY_DAYS,
    reviewSlaHours: v.VIGIL_REVIEW_SLA_HOURS,
    schedules: {
      purge: v.VIGIL_RETENTION_CRON,
      erasure: v.VIGIL_ERASURE_CRON,
      fraudRetrain: v.VIGIL_FRAUD_RETRAIN_CRON,
      trafficDetector: v.VIGIL_TRAFFIC_CRON,
    },
  };
}
