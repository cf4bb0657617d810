import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_INGEST_CONFIG, loadConfig } from './env.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
      opensearchUrl: undefined,
      secret: undefined,
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      ingest: DEFAULT_INGEST_CONFIG,
      consentExpiryDays: 395,
      reviewSlaHours: 48,
      schedules: {
        purge: '0 * * * *',
        erasure: '* * * * *',
        fraudRetrain: '30 2 * * *',
        trafficDetector: '* * * * *',
      },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9090',
      VIGIL_DATA_DIR: '/var/lib/vigil',
      DATABASE_URL: 'postgres://vigil@127.0.0.1:5432/vigil',
      OPENSEARCH_URL: 'https://opensearch:9200',
      VIGIL_SECRET: 's'.repeat(40),
      VIGIL_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 9090,
      dataDir: '/var/lib/vigil',
      databaseUrl: 'postgres://vigil@127.0.0.1:5432/vigil',
      opensearchUrl: 'https://opensearch:9200',
      secret: 's'.repeat(40),
      logLevel: 'warn',
    });
  });

  it('reads the deadlines and bounds that keep slow clients from holding the service', () => {
    const config = loadConfig({
      VIGIL_HEADERS_TIMEOUT_MS: '2000',
      VIGIL_REQUEST_TIMEOUT_MS: '30000',
      VIGIL_BODY_IDLE_TIMEOUT_MS: '1000',
      VIGIL_FARO_MAX_IN_FLIGHT: '8',
      VIGIL_FARO_ANONYMOUS_TELEMETRY: 'exempt',
    });
    expect(config).toMatchObject({ headersTimeoutMs: 2000, requestTimeoutMs: 30_000 });
    expect(config.ingest).toMatchObject({
      bodyIdleTimeoutMs: 1000,
      faroMaxInFlight: 8,
      faroAnonymous: 'exempt',
    });
    expect(DEFAULT_INGEST_CONFIG).toMatchObject({
      bodyIdleTimeoutMs: 5000,
      faroMaxInFlight: 64,
      faroAnonymous: 'consent',
    });
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 8080, databaseUrl: undefined });
  });

  it.each([
    ['PORT', 'eighty', /PORT: expected a TCP port number \(got "eighty"\)/],
    ['PORT', '70000', /PORT: expected a port from 0 to 65535/],
    ['DATABASE_URL', 'mysql://db/vigil', /DATABASE_URL: expected a postgres/],
    ['OPENSEARCH_URL', 'opensearch:9200', /OPENSEARCH_URL: expected/],
    ['VIGIL_LOG_LEVEL', 'loud', /VIGIL_LOG_LEVEL: expected one of debug, info/],
    ['VIGIL_SECRET', 'short', /VIGIL_SECRET: expected at least 32 characters/],
    ['VIGIL_INGEST_MAX_BODY_BYTES', '12', /VIGIL_INGEST_MAX_BODY_BYTES: expected at least 1024 bytes/],
    ['VIGIL_URL_QUERY_ALLOWLIST', 'utm_*,,x', /VIGIL_URL_QUERY_ALLOWLIST: expected comma-separated/],
    ['VIGIL_INGEST_MAX_IN_FLIGHT', '0', /VIGIL_INGEST_MAX_IN_FLIGHT: .*>=1/],
    ['VIGIL_FARO_MAX_IN_FLIGHT', '0', /VIGIL_FARO_MAX_IN_FLIGHT: .*>=1/],
    [
      'VIGIL_FARO_ANONYMOUS_TELEMETRY',
      'always',
      /VIGIL_FARO_ANONYMOUS_TELEMETRY: expected one of consent, exempt/,
    ],
    ['VIGIL_BODY_IDLE_TIMEOUT_MS', '5s', /VIGIL_BODY_IDLE_TIMEOUT_MS: expected milliseconds/],
    ['VIGIL_REQUEST_TIMEOUT_MS', '10', /VIGIL_REQUEST_TIMEOUT_MS: expected at least 100 ms/],
    [
      'VIGIL_HEADERS_TIMEOUT_MS',
      '120000',
      /VIGIL_HEADERS_TIMEOUT_MS: expected at most VIGIL_REQUEST_TIMEOUT_MS/,
    ],
  ])('rejects a bad %s, naming it and what it expected', (variable, value, message) => {
    const error = configError({ [variable]: value });
    expect(error.issues.map((i) => i.variable)).toEqual([variable]);
    expect(error.message).toMatch(message);
  });

  it('never echoes a secret value', () => {
    const error = configError({ VIGIL_SECRET: 'hunter2', DATABASE_URL: 'mysql://user:pa55word@db/x' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('pa55word');
    expect(error.message).toContain('a value of 7 characters');
  });

  it('names every bad variable at once', () => {
    expect(configError({ PORT: 'x', VIGIL_LOG_LEVEL: 'y' }).issues.map((i) => i.variable)).toEqual([
      'PORT',
      'VIGIL_LOG_LEVEL',
    ]);
  });
});
