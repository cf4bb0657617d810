// The period's events load the same through Kysely as through the SQLite connection, on SQLite and on the real
// PostgreSQL (127.0.0.1:5432, database `test`, a schema of this file's own, dropped after): one campaign of the
// independent simulator is ingested through the API into SQLite, its rows copied into PostgreSQL, and every
// affiliate's features compared, for the whole period and for one affiliate at a time. The PostgreSQL part is
// skipped, saying why, where none answers.
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateIndependentCampaign } from '../../eval/independent-simulator.ts';
import { type Database, migrateToLatest } from '../../storage/index.ts';
import { openPostgres } from '../../storage/postgres.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';
import { POSTGRES_URL, postgresUnreachable, testSchema } from '../../test/postgres.ts';
import { affiliatePeriodFeatures, periodFeatures } from './detector.ts';
import { type AffiliateFeatures, computeFeatures, DatacenterRanges } from './features.ts';
import { loadPeriodEvents, type PeriodRange } from './period-events.ts';

const campaign = simulateIndependentCampaign({ seed: 11, honest: 40, fraudPerKind: 1, scale: 0.4 });
const range: PeriodRange = { start: campaign.periodStart, end: campaign.periodEnd };
const at = (days: number) => new Date(campaign.periodStart.getTime() + days * 86_400_000).toISOString();
/**
 * Sales the simulator does not make: credited only through their click (no affiliate on the conversion), one
 * click before the period and one in it, one charged back. They take the loaders' lookups by click id.
 */
const browser = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };
const creditedByClick = [
  {
    id: 'x-click-1',
    type: 'click',
    ts: at(-5),
    affiliateId: 'aff-0001',
    clickId: 'x-ck-1',
    country: 'DE',
    ...browser,
  },
  {
    id: 'x-click-2',
    type: 'click',
    ts: at(1),
    affiliateId: 'aff-0002',
    clickId: 'x-ck-2',
    country: 'FR',
    // A paid search click: the loaders carry that its landing URL had an ad click id.
    landingUrl: 'https://shop.example/p/1?gclid=Cj0KCQiA',
    ...browser,
  },
  {
    id: 'x-click-3',
    type: 'click',
    ts: at(1),
    affiliateId: 'aff-0003',
    clickId: 'x-ck-3',
    // A paid click of an affiliate the programme allows to run search ads: allowed traffic.
    landingUrl: 'https://shop.example/p/2?msclkid=0f3c',
    ...browser,
  },
  ...[1, 2].map((n) => ({
    id: `x-sale-${n}`,
    type: 'conversion',
    ts: at(2),
    clickId: `x-ck-${n}`,
    orderId: `x-order-${n}`,
    amount: 40,
    currency: 'EUR',
    country: 'DE',
    ...browser,
  })),
  // Charged back: the loaders read the reason as a dispute.
  {
    id: 'x-refund-1',
    type: 'refund',
    ts: at(3),
    orderId: 'x-order-1',
    amount: 40,
    currency: 'EUR',
    reason: 'Chargeback (card holder dispute)',
  },
];
const datacenter = DatacenterRanges.load();
let ctx: TestContext;

async function post(route: string, body: unknown, status: number) {
  const res = await ctx.app.request(route, {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify(body),
  });
  expect(res.status, await res.text()).toBe(status);
}

const byAffiliate = (features: AffiliateFeatures[]) =>
  Object.fromEntries(features.map((f) => [f.affiliateId, f]));

/** Values to 12 significant digits: sums over rows in another order differ in the last bits. */
const rounded = (features: AffiliateFeatures[]) =>
  byAffiliate(
    features.map((f) => ({
      ...f,
      values: Object.fromEntries(
        Object.entries(f.values).map(([k, v]) => [k, Number(v.toPrecision(12))]),
      ) as AffiliateFeatures['values'],
    })),
  );

/** Features through Kysely, for the period or (range.affiliateId) one affiliate. */
async function throughKysely(db: Kysely<Database>, of: PeriodRange = range) {
  return computeFeatures(await loadPeriodEvents(db, of), datacenter);
}

/** A few affiliates of each truth: every fraud kind and some honest shapes. */
const sample = [
  ...campaign.affiliates.filter((a) => a.id === 'aff-0001' || a.id === 'aff-0002'),
  ...campaign.affiliates.filter((a) => a.fraud !== null),
  ...campaign.affiliates.filter((a) => a.fraud === null).slice(0, 10),
];

beforeAll(async () => {
  ctx = await createTestContext({ ingest: { maxBatchItems: 5000 } });
  const affiliates = campaign.affiliates.map(({ id, name, couponCodes, subjectId }) => ({
    id,
    name,
    couponCodes,
    subjectId,
    ...(id === 'aff-0003' ? { searchAdsAllowed: true } : {}),
  }));
  await post('/v1/affiliates', { affiliates }, 200);
  const events = [...campaign.events, ...creditedByClick];
  for (let i = 0; i < events.length; i += 5000)
    await post('/v1/events', { events: events.slice(i, i + 5000) }, 202);
  await ctx.deps.writer.settle();
}, 60_000);
afterAll(() => ctx.close());

describe('the period loaded through Kysely', () => {
  it('gives every affiliate the features the SQLite connection gives, for the period and for one affiliate', async () => {
    const direct = await periodFeatures(ctx.storage, range.start, range.end, datacenter);
    expect(direct.length).toBeGreaterThan(40);
    // The sales credited through their click are there.
    const support = (id: string) => direct.find((f) => f.affiliateId === id)?.support;
    expect(support('aff-0001')?.timedConversions).toBeGreaterThan(0);
    expect(support('aff-0002')?.timedConversions).toBeGreaterThan(0);
    expect(direct.find((f) => f.affiliateId === 'aff-0002')?.values.paidSearchShare).toBeGreaterThan(0);
    expect(direct.find((f) => f.affiliateId === 'aff-0003')?.values.paidSearchShare).toBe(0);
    expect(direct.find((f) => f.affiliateId === 'aff-0001')?.values.disputedSaleShare).toBeGreaterThan(0);
    // Coupon sales of earlier periods are counted, for the sudden start of a leak.
    expect(direct.filter((f) => f.support.previousCouponSales > 0).length).toBeGreaterThan(0);
    expect(byAffiliate(await throughKysely(ctx.storage.db))).toEqual(byAffiliate(direct));
    for (const a of sample) {
      const one = await affiliatePeriodFeatures(ctx.storage, a.id, range.start, range.end, datacenter);
      const viaKysely = (await throughKysely(ctx.storage.db, { ...range, affiliateId: a.id })).find(
        (f) => f.affiliateId === a.id,
      );
      expect(viaKysely ?? null, a.id).toEqual(one.support.clicks + one.support.conversions > 0 ? one : null);
    }
  });
});

const unreachable = await postgresUnreachable();
if (unreachable)
  console.warn(`fraud loading on PostgreSQL skipped: ${POSTGRES_URL} does not answer (${unreachable})`);

describe.skipIf(unreachable !== undefined)('the period loaded on PostgreSQL', () => {
  const SCHEMA = testSchema('vigil_fraud_events');
  let pg: Kysely<Database>;
  beforeAll(async () => {
    pg = await openPostgres(POSTGRES_URL, { schema: SCHEMA, max: 2 });
    await migrateToLatest(pg);
    // The same rows, keys included, as the write path stored them in SQLite.
    await pg
      .insertInto('affiliates')
      .values(await ctx.storage.db.selectFrom('affiliates').selectAll().execute())
      .execute();
    const coupons = await ctx.storage.db.selectFrom('affiliate_coupons').selectAll().execute();
    if (coupons.length > 0) await pg.insertInto('affiliate_coupons').values(coupons).execute();
    const events = await ctx.storage.db.selectFrom('affiliate_events').selectAll().execute();
    for (let i = 0; i < events.length; i += 1000)
      await pg
        .insertInto('affiliate_events')
        .values(events.slice(i, i + 1000))
        .execute();
  }, 60_000);
  afterAll(async () => {
    await sql.raw(`drop schema if exists ${SCHEMA} cascade`).execute(pg);
    await pg.destroy();
  });

  it('gives every affiliate the same features as on SQLite, for the period and for one affiliate', async () => {
    const direct = await periodFeatures(ctx.storage, range.start, range.end, datacenter);
    expect(rounded(await throughKysely(pg))).toEqual(rounded(direct));
    for (const a of sample) {
      const onSqlite = await throughKysely(ctx.storage.db, { ...range, affiliateId: a.id });
      expect(rounded(await throughKysely(pg, { ...range, affiliateId: a.id })), a.id).toEqual(
        rounded(onSqlite),
      );
    }
  });
});
