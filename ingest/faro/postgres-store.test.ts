// Browser telemetry on a real PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's own, dropped
// after): the rows of a real Faro payload (test/fixtures) are stored as the SQLite write path stores them, and an
// `Idempotency-Key` sent through two replicas at once, or again within a day, stores its batch once. Skipped,
// saying why, where no PostgreSQL answers.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrateToLatest, openSqlite } from '../../storage/index.ts';
import { openPostgres } from '../../storage/postgres.ts';
import { tempDataDir } from '../../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema, withJsonParsed } from '../../test/postgres.ts';
import { FaroPayloadSchema } from './schemas.ts';
import { insertTelemetry, insertTelemetryPostgres, toTelemetryRows } from './store.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(
    `telemetry store tests on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`,
  );

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const payload = FaroPayloadSchema.parse(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/faro-payload-sample.json'), 'utf8')),
);
const { rows } = toTelemetryRows(payload, {
  appId: 'shop',
  keepQueryKey: (key) => key.startsWith('utm_'),
  receivedAt: '2026-12-07T10:00:00.000Z',
  secret: Buffer.alloc(32, 2),
  verdict: { subjectId: null, session: 'keep' },
});
const NOW = new Date('2026-12-07T10:00:00.000Z');

describe.skipIf(unreachable !== undefined)('browser telemetry on PostgreSQL', () => {
  const SCHEMA = testSchema('vigil_faro_store');
  let replicaA: Kysely<Database>;
  let replicaB: Kysely<Database>;
  beforeAll(async () => {
    replicaA = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    replicaB = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    await migrateToLatest(replicaA);
  });
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(replicaA);
    await replicaA.destroy();
    await replicaB.destroy();
  });

  const stored = (db: Kysely<Database>) =>
    db.selectFrom('browser_telemetry').selectAll().orderBy('id').execute();

  it('stores the rows the SQLite write path stores', async () => {
    expect(rows.length).toBeGreaterThan(3);
    expect(await insertTelemetryPostgres(replicaA, rows, undefined)).toBe(true);
    const storage = openSqlite(tempDataDir());
    try {
      await migrateToLatest(storage.db);
      storage.sqlite.transaction(() => insertTelemetry(rows, undefined)(storage.sqlite))();
      expect(withJsonParsed(await stored(replicaA), ['detail', 'meta'])).toEqual(
        withJsonParsed(await stored(storage.db), ['detail', 'meta']),
      );
    } finally {
      await storage.close();
    }
  });

  it('an Idempotency-Key sent through two replicas at once stores its batch once, and again within a day not at all', async () => {
    const before = (await stored(replicaA)).length;
    const key = { appId: 'shop', key: 'retry-1', now: NOW };
    const raced = await Promise.all([
      insertTelemetryPostgres(replicaA, rows, key),
      insertTelemetryPostgres(replicaB, rows, key),
    ]);
    expect(raced.sort()).toEqual([false, true]);
    const later = { ...key, now: new Date(NOW.getTime() + 23 * 3_600_000) };
    expect(await insertTelemetryPostgres(replicaB, rows, later)).toBe(false);
    expect((await stored(replicaA)).length).toBe(before + rows.length);
    // A day and more later the key is free again, and the expired claim is pruned with the next one.
    const nextDay = { ...key, now: new Date(NOW.getTime() + 25 * 3_600_000) };
    expect(await insertTelemetryPostgres(replicaA, rows, nextDay)).toBe(true);
    expect((await stored(replicaA)).length).toBe(before + 2 * rows.length);
    await insertTelemetryPostgres(replicaA, [], {
      appId: 'shop',
      key: 'other',
      now: new Date(NOW.getTime() + 50 * 3_600_000),
    });
    const keys = await replicaA.selectFrom('faro_idempotency').select('key').orderBy('key').execute();
    expect(keys).toEqual([{ key: 'other' }]);
  });
});
