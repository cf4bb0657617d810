import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

const postgresUrl = z
  .string()
  .url('expected a URL such as postgres://user@127.0.0.1:5432/vigil')
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'expected a postgres:// or postgresql:// URL');

const envSchema = z.object({
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
  VIGIL_SHUTDOWN_TIMEOUT_MS: z.coerce
    .number({ message: 'expected milliseconds' })
    .int()
    .min(100)
    .max(60_000)
    .default(10_000),
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
  };
}
