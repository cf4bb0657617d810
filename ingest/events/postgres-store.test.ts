// Affiliate events written by two replicas at once into one real PostgreSQL (127.0.0.1:5432, database `test`, a
// schema of this file's own, dropped after): every event id is stored once and counted once as accepted, the rows
// are those the SQLite write path stores, and a batch that cannot be stored leaves nothing behind. Skipped,
// saying why, where no PostgreSQL answers.
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  type Database,
  InvalidInputError,
  migrateToLatest,
  openSqlite,
} from '../../storage/index.ts';
import { openPostgres } from '../../storage/postgres.ts';
import { tempDataDir } from '../../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../../test/postgres.ts';
import { insertEventRowsPostgres, insertPayoutPostgres, upsertAffiliatesPostgres } from './postgres-store.ts';
import type { Affiliate, AffiliateEvent, PayoutRequest } from './schemas.ts';
import { type EventCounts, eventRowBatch, insertEventRows } from './store.ts';

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(`event store tests on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

const SECRET = Buffer.alloc(32, 3);
const RECEIVED = '2026-12-07T10:00:00.000Z';

/** Event `n`: clicks, sales on those clicks and refunds of those sales, in turn. */
function event(n: number): AffiliateEvent {
  const ts = new Date(Date.UTC(2026, 11, 1) + n * 1000).toISOString();
  const browser = { ip: `198.51.100.${n % 250}`, userAgent: 'Mozilla/5.0 (Android 14) Chrome/142.0' };
  if (n % 3 === 0)
    return {
      id: `e-${n}`,
      type: 'click',
      ts,
      affiliateId: `aff-${n % 7}`,
      clickId: `ck-${n}`,
      referrer: n % 2 === 0 ? 'https://www.instagram.com/' : undefined,
      landingUrl: 'https://shop.example/p?utm_source=ig&utm_campaign=x',
      country: 'DE',
      ...browser,
    } as AffiliateEvent;
  if (n % 3 === 1)
    return {
      id: `e-${n}`,
      type: 'conversion',
      ts,
      clickId: `ck-${n - 1}`,
      orderId: `o-${n}`,
      subjectId: `cust-${n % 11}`,
      amount: 20 + (n % 9),
      currency: 'EUR',
      couponCode: n % 4 === 1 ? 'ANNA10' : undefined,
      newCustomer: n % 2 === 0,
      ...browser,
    } as AffiliateEvent;
  return {
    id: `e-${n}`,
    type: 'refund',
    ts,
    orderId: `o-${n - 1}`,
    amount: 5,
    currency: 'EUR',
  } as AffiliateEvent;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => event(from + i));
const total = (counts: EventCounts[]) =>
  counts.reduce(
    (sum, c) => ({
      accepted: sum.accepted + c.click.accepted + c.conversion.accepted + c.refund.accepted,
      duplicates: sum.duplicates + c.click.duplicates + c.conversion.duplicates + c.refund.duplicates,
    }),
    { accepted: 0, duplicates: 0 },
  );

describe.skipIf(unreachable !== undefined)('affiliate events on PostgreSQL', () => {
  const SCHEMA = testSchema('vigil_event_store');
  let replicaA: Kysely<Database>;
  let replicaB: Kysely<Database>;
  beforeAll(async () => {
    replicaA = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 4 });
    replicaB = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 4 });
    await migrateToLatest(replicaA);
  });
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(replicaA);
    await replicaA.destroy();
    await replicaB.destroy();
  });

  it('two replicas sending overlapping batches at once store each id once and count it once', async () => {
    // Replica A gets events 0–2999, B gets 1500–4499, both in batches of 500 sent concurrently; each batch
    // also repeats its own first event.
    const batches = (db: Kysely<Database>, from: number) =>
      Array.from({ length: 6 }, (_, k) => {
        const events = range(from + k * 500, from + (k + 1) * 500);
        return () =>
          insertEventRowsPostgres(
            db,
            eventRowBatch([...events, events[0] as AffiliateEvent], SECRET, RECEIVED),
          );
      });
    const a = batches(replicaA, 0);
    const b = batches(replicaB, 1500);
    const counts = await Promise.all(
      a.flatMap((send, k) => [send(), (b[k] as () => Promise<EventCounts>)()]),
    );
    expect(total(counts)).toEqual({ accepted: 4500, duplicates: 12 * 501 - 4500 });
    const stored = await replicaB
      .selectFrom('affiliate_events')
      .select(({ fn }) => [fn.countAll<number>().as('rows'), fn.count<number>('id').distinct().as('ids')])
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ rows: 4500, ids: 4500 });
    // Sent again through either replica: nothing new.
    const again = await insertEventRowsPostgres(replicaA, eventRowBatch(range(0, 10), SECRET, RECEIVED));
    expect(total([again])).toEqual({ accepted: 0, duplicates: 10 });
  });

  it('stores the rows the SQLite write path stores, keys included', async () => {
    const events = range(10_000, 10_060);
    await insertEventRowsPostgres(replicaA, eventRowBatch(events, SECRET, RECEIVED));
    const storage = openSqlite(tempDataDir());
    try {
      await migrateToLatest(storage.db);
      storage.sqlite.transaction(() =>
        insertEventRows(storage.sqlite, eventRowBatch(events, SECRET, RECEIVED)),
      )();
      const ids = events.map((e) => e.id);
      const onSqlite = await storage.db.selectFrom('affiliate_events').selectAll().orderBy('id').execute();
      const onPostgres = await replicaA
        .selectFrom('affiliate_events')
        .selectAll()
        .where('id', 'in', ids)
        .orderBy('id')
        .execute();
      expect(onPostgres).toEqual(onSqlite);
      expect(onSqlite).toHaveLength(60);
    } finally {
      await storage.close();
    }
  });

  it('a batch with a row the database refuses stores none of its rows', async () => {
    const batch = eventRowBatch(range(20_000, 20_003), SECRET, RECEIVED);
    // A row without its id (the route's schema never lets one through).
    (batch.values[2] as unknown[])[0] = null;
    await expect(insertEventRowsPostgres(replicaA, batch)).rejects.toThrow(/null value/);
    const left = await replicaA
      .selectFrom('affiliate_events')
      .select('id')
      .where('id', 'in', ['e-20000', 'e-20001', 'e-20002'])
      .execute();
    expect(left).toEqual([]);
  });

  it('upserts affiliates and their coupon codes; a code held elsewhere refuses the whole batch', async () => {
    const now = '2026-12-07T10:00:00.000Z';
    const anna: Affiliate = { id: 'anna', name: 'Anna', couponCodes: ['anna10', 'ANNA15'] };
    await upsertAffiliatesPostgres(replicaA, [anna], SECRET, now);
    await upsertAffiliatesPostgres(
      replicaB,
      [{ ...anna, name: 'Anna K.', couponCodes: ['ANNA10'], payoutAccount: 'DE02 1203 0000 0000 2020 51' }],
      SECRET,
      now,
    );
    const stored = await replicaA.selectFrom('affiliates').selectAll().where('id', '=', 'anna').execute();
    expect(stored).toMatchObject([{ name: 'Anna K.', subject_id: null }]);
    expect(stored[0]?.payout_account_hash).toMatch(/^[0-9a-f]{16,}$/);
    const codes = await replicaA.selectFrom('affiliate_coupons').selectAll().orderBy('code').execute();
    expect(codes).toEqual([{ code: 'ANNA10', affiliate_id: 'anna' }]);
    const refused = upsertAffiliatesPostgres(
      replicaB,
      [
        { id: 'ben', name: 'Ben', couponCodes: ['BEN5'] },
        { id: 'carl', name: 'Carl', couponCodes: ['CARL', 'anna10'] },
      ],
      SECRET,
      now,
    );
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ errors: [{ path: '/1/couponCodes' }] });
    const after = await replicaA
      .selectFrom('affiliates')
      .select('id')
      .where('id', 'in', ['ben', 'carl'])
      .execute();
    expect(after).toEqual([]);
  });

  it('two replicas giving one new code to two affiliates at once: one gets it, the other a 409', async () => {
    const now = '2026-12-07T10:00:00.000Z';
    const results = await Promise.allSettled([
      upsertAffiliatesPostgres(
        replicaA,
        [{ id: 'dora', name: 'Dora', couponCodes: ['SAME20'] }],
        SECRET,
        now,
      ),
      upsertAffiliatesPostgres(
        replicaB,
        [{ id: 'emil', name: 'Emil', couponCodes: ['SAME20'] }],
        SECRET,
        now,
      ),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed?.status === 'rejected' && failed.reason).toBeInstanceOf(ConflictError);
    const holders = await replicaA
      .selectFrom('affiliate_coupons')
      .select('affiliate_id')
      .where('code', '=', 'SAME20')
      .execute();
    expect(holders).toHaveLength(1);
  });

  it('stores a payout request once across replicas; different details under its id are a 409', async () => {
    const now = '2026-12-07T10:00:00.000Z';
    await upsertAffiliatesPostgres(replicaA, [{ id: 'fay', name: 'Fay', couponCodes: [] }], SECRET, now);
    const request: PayoutRequest = {
      id: 'pay-1',
      affiliateId: 'fay',
      periodStart: '2026-11-01T00:00:00.000Z',
      periodEnd: '2026-12-01T00:00:00.000Z',
      amount: 120.5,
      currency: 'EUR',
    };
    const both = await Promise.all([
      insertPayoutPostgres(replicaA, request, now),
      insertPayoutPostgres(replicaB, request, now),
    ]);
    expect(both.map((w) => w.created).sort()).toEqual([false, true]);
    expect(both[0]?.payout).toMatchObject({ id: 'pay-1', status: 'pending', amount: 120.5 });
    await expect(insertPayoutPostgres(replicaB, { ...request, amount: 99 }, now)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(
      insertPayoutPostgres(replicaA, { ...request, id: 'pay-2', affiliateId: 'nobody' }, now),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});
