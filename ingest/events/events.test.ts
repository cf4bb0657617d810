import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../../http/problem.ts';
import { hashIdentifier } from '../../storage/identifiers.ts';
import { createTestContext, jsonHeaders, ON_SQLITE, type TestContext } from '../../test/harness.ts';
import { journalDir } from '../write-path/journal.ts';
import { readJournal } from '../write-path/segment-log.ts';

let ctx: TestContext;

const click = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'click',
  ts: '2026-11-28T10:00:00Z',
  affiliateId: 'aff-1',
  campaignId: 'black-friday',
  clickId: `c-${id}`,
  ip: '203.0.113.77',
  userAgent: 'Mozilla/5.0 (iPhone)',
  referrer: 'https://www.instagram.com/p/abc?igshid=secret',
  landingUrl: 'https://shop.example/p/42?utm_source=instagram&utm_medium=story&utm_campaign=bf&email=a@b.c',
  country: 'DE',
  ...extra,
});
const conversion = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'conversion',
  ts: 1_764_324_000_000,
  affiliateId: 'aff-1',
  clickId: 'c-e1',
  orderId: `o-${id}`,
  subjectId: 'subject-9',
  amount: 59.9,
  currency: 'EUR',
  couponCode: 'anna10',
  ip: '2001:db8:1234:5678::9',
  userAgent: 'Mozilla/5.0 (iPhone)',
  newCustomer: true,
  ...extra,
});
const refund = (id: string) => ({
  id,
  type: 'refund',
  ts: '2026-11-29T10:00:00+01:00',
  orderId: 'o-e2',
  amount: 59.9,
  currency: 'EUR',
  reason: 'damaged',
});

const post = (p: string, body: unknown, role: 'ingest' | 'sre' = 'ingest') =>
  ctx.app.request(p, { method: 'POST', headers: jsonHeaders(ctx, role), body: JSON.stringify(body) });

/** Rows in a table; for affiliate events, once every acknowledged event is applied from the journal. */
const count = async (table: 'affiliate_events' | 'affiliates' | 'affiliate_coupons' | 'payouts') => {
  if (table === 'affiliate_events') await ctx.deps.writer.settle();
  return Number(
    (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(ctx.storage.db)).rows[0]
      ?.n,
  );
};

beforeEach(async () => {
  ctx = await createTestContext({ ingest: { maxBatchItems: 50, maxBodyBytes: 64 * 1024 } });
});
afterEach(async () => {
  await ctx.close();
});

describe('POST /v1/events', () => {
  it('counts the events that reached the database, on either database, for the same dashboard', async () => {
    expect((await post('/v1/events', { events: [click('m1'), click('m2'), conversion('m3')] })).status).toBe(
      202,
    );
    expect((await post('/v1/events', { events: [click('m1'), refund('m4')] })).status).toBe(202);
    await ctx.deps.writer.settle();
    const metrics = await (await ctx.app.request('/metrics')).text();
    expect(metrics).toMatch(/^vigil_ingest_applied_events_total 4$/m);
    expect(metrics).toMatch(/^vigil_ingest_apply_failures_total 0$/m);
    expect(metrics).toMatch(/^vigil_ingest_request_thread_utilization (0|0?\.\d+|1)$/m);
  });

  it('refuses a NUL character in a user agent or URL with a 422 on either database, storing nothing', async () => {
    for (const extra of [
      { userAgent: 'Mozilla/5.0\u0000' },
      { referrer: 'https://www.instagram.com/\u0000' },
      { landingUrl: 'https://shop.example/p/42\u0000' },
    ]) {
      const res = await post('/v1/events', { events: [click('ok'), click('nul', extra)] });
      expect(res.status).toBe(422);
      expect(((await res.json()) as ProblemBody).errors?.[0]?.path).toMatch(/^\/events\/1\//);
    }
    await ctx.deps.writer.settle();
    expect(await count('affiliate_events')).toBe(0);
  });

  it('stores clicks, conversions and refunds with identifiers minimised', async () => {
    const res = await post('/v1/events', { events: [click('e1'), conversion('e2'), refund('e3')] });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 3, duplicates: 0 });

    await ctx.deps.writer.settle();
    const rows = await ctx.storage.db.selectFrom('affiliate_events').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(3);
    const [c, v, r] = rows;
    expect(c).toMatchObject({
      type: 'click',
      ts: '2026-11-28T10:00:00.000Z',
      affiliate_id: 'aff-1',
      campaign_id: 'black-friday',
      click_id: 'c-e1',
      ip_prefix: '203.0.113.0/24',
      referrer_host: 'www.instagram.com',
      landing_path: '/p/42',
      utm_source: 'instagram',
      utm_medium: 'story',
      utm_campaign: 'bf',
      utm_term: null,
      country: 'DE',
    });
    expect(c?.ip_hash).toBe(hashIdentifier(ctx.deps.secret, 'ip', '203.0.113.77'));
    expect(v).toMatchObject({
      type: 'conversion',
      ts: new Date(1_764_324_000_000).toISOString(),
      order_id: 'o-e2',
      subject_id: 'subject-9',
      amount: 59.9,
      currency: 'EUR',
      coupon_code: 'ANNA10',
      ip_prefix: '2001:db8:1234::/48',
      new_customer: 1,
    });
    expect(r).toMatchObject({
      type: 'refund',
      ts: '2026-11-29T09:00:00.000Z',
      order_id: 'o-e2',
      reason: 'damaged',
    });
  });

  it('stores a click with an empty referrer as direct traffic, and a landing URL without a query string', async () => {
    const direct = click('d1', {
      referrer: '',
      landingUrl: 'https://shop.example/p/7',
      campaignId: '',
      country: '',
    });
    const { referrer: _, ...absent } = click('d2', { landingUrl: 'https://shop.example' });
    const coupon = conversion('d3', { affiliateId: '', clickId: '', couponCode: '', country: '' });
    const res = await post('/v1/events', { events: [direct, absent, coupon] });
    expect(res.status).toBe(202);
    await ctx.deps.writer.settle();
    const rows = await ctx.storage.db
      .selectFrom('affiliate_events')
      .select([
        'id',
        'referrer_host',
        'landing_path',
        'utm_source',
        'campaign_id',
        'country',
        'click_id',
        'coupon_code',
      ])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      {
        id: 'd1',
        referrer_host: null,
        landing_path: '/p/7',
        utm_source: null,
        campaign_id: null,
        country: null,
        click_id: 'c-d1',
        coupon_code: null,
      },
      {
        id: 'd2',
        referrer_host: null,
        landing_path: '/',
        utm_source: null,
        campaign_id: 'black-friday',
        country: 'DE',
        click_id: 'c-d2',
        coupon_code: null,
      },
      {
        id: 'd3',
        referrer_host: null,
        landing_path: null,
        utm_source: null,
        campaign_id: null,
        country: null,
        click_id: null,
        coupon_code: null,
      },
    ]);
  });

  it('stores a guest checkout: a conversion without a customer id, or with an empty one', async () => {
    const { subjectId: _, ...guest } = conversion('g1');
    const empty = conversion('g2', { subjectId: '' });
    const res = await post('/v1/events', { events: [guest, empty] });
    expect(res.status, await res.clone().text()).toBe(202);
    await ctx.deps.writer.settle();
    const rows = await ctx.storage.db
      .selectFrom('affiliate_events')
      .select(['id', 'subject_id', 'order_id'])
      .where('id', 'in', ['g1', 'g2'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'g1', subject_id: null, order_id: 'o-g1' },
      { id: 'g2', subject_id: null, order_id: 'o-g2' },
    ]);
  });

  it.skipIf(!ON_SQLITE)(
    'keeps no raw IP, email or referrer query anywhere in the database file',
    async () => {
      await post('/v1/events', { events: [click('e1'), conversion('e2')] });
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.storage.db);
      const bytes = fs.readFileSync(path.join(ctx.dataDir, 'vigil.sqlite')).toString('latin1');
      for (const raw of ['203.0.113.77', '2001:db8:1234:5678::9', 'a@b.c', 'igshid', 'secret']) {
        expect(bytes).not.toContain(raw);
      }
    },
  );

  it.skipIf(!ON_SQLITE)(
    'journals IPs only as their keyed hashes, hashed on the write thread, also for a batch with repeats',
    async () => {
      const ips = ['198.51.100.7', '198.51.100.8', '2001:db8:77::1'];
      const events = [
        { ...click('h1'), ip: ips[0] },
        { ...conversion('h2'), ip: ips[2] },
        { ...click('h3'), ip: ips[1] },
      ];
      // The apply thread waits for the write lock meanwhile: what was acknowledged stays in the journal.
      ctx.storage.sqlite.exec('begin immediate');
      let journal: string;
      try {
        expect((await post('/v1/events', { events })).status).toBe(202);
        // A repeat of h1 in the batch: only the new rows are journaled, re-encoded with their hashes.
        const again = [events[0], { ...click('h4'), ip: ips[1] }];
        expect(await (await post('/v1/events', { events: again })).json()).toEqual({
          accepted: 1,
          duplicates: 1,
        });
        journal = readJournal(journalDir(ctx.storage.file))
          .map((r) => r.text)
          .join('\n');
      } finally {
        ctx.storage.sqlite.exec('commit');
      }
      for (const ip of ips) {
        expect(journal).not.toContain(ip);
        expect(journal).toContain(hashIdentifier(ctx.deps.secret, 'ip', ip));
      }
      await ctx.deps.writer.settle();
      const rows = await ctx.storage.db
        .selectFrom('affiliate_events')
        .select(['id', 'ip_hash', 'ip_prefix'])
        .where('id', 'in', ['h1', 'h2', 'h3', 'h4'])
        .orderBy('id')
        .execute();
      const row = (id: string, ip: string, prefix: string) => ({
        id,
        ip_hash: hashIdentifier(ctx.deps.secret, 'ip', ip),
        ip_prefix: prefix,
      });
      const [ip0, ip1, ip2] = ips as [string, string, string];
      expect(rows).toEqual([
        row('h1', ip0, '198.51.100.0/24'),
        row('h2', ip2, '2001:db8:77::/48'),
        row('h3', ip1, '198.51.100.0/24'),
        row('h4', ip1, '198.51.100.0/24'),
      ]);
    },
  );

  it('is idempotent on event id, within and across batches', async () => {
    expect(
      await (await post('/v1/events', { events: [click('e1'), click('e1'), click('e2')] })).json(),
    ).toEqual({
      accepted: 2,
      duplicates: 1,
    });
    expect(await (await post('/v1/events', { events: [click('e1'), click('e3')] })).json()).toEqual({
      accepted: 1,
      duplicates: 1,
    });
    expect(await count('affiliate_events')).toBe(3);
    const metrics = await (await ctx.app.request('/metrics')).text();
    expect(metrics).toContain('vigil_ingest_items_total{kind="click",outcome="accepted",reason="ok"} 3');
    expect(metrics).toContain(
      'vigil_ingest_items_total{kind="click",outcome="duplicate",reason="duplicate"} 2',
    );
  });

  it('rejects the whole batch for one bad event, naming its index, and stores nothing', async () => {
    const res = await post('/v1/events', {
      events: [click('e1'), click('e2'), conversion('e3', { amount: -5 })],
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as ProblemBody;
    expect(body.errors?.map((e) => e.path)).toContain('/events/2/amount');
    expect(await count('affiliate_events')).toBe(0);
    const metrics = await (await ctx.app.request('/metrics')).text();
    expect(metrics).toContain(
      'vigil_ingest_rejected_requests_total{route="/v1/events",reason="validation"} 1',
    );
  });

  it.each([
    ['an unknown type', { ...click('x'), type: 'view' }],
    ['a bad IP', click('x', { ip: '999.1.1.1' })],
    ['a missing click id', click('x', { clickId: undefined })],
    ['an unknown field', click('x', { password: 'hunter2' })],
    ['a bad currency', conversion('x', { currency: 'euro' })],
    ['a bad timestamp', click('x', { ts: 'yesterday' })],
  ])('answers 422 for %s', async (_what, event) => {
    expect((await post('/v1/events', { events: [event] })).status).toBe(422);
    expect(await count('affiliate_events')).toBe(0);
  });

  it.each([
    ['missing', undefined],
    ['not a time', 'yesterday'],
    ['a date without a time', '2026-11-28'],
    ['negative epoch milliseconds', -5],
  ])('says what a timestamp must look like when it is %s', async (_what, ts) => {
    const res = await post('/v1/events', { events: [click('x', { ts })] });
    expect(res.status).toBe(422);
    expect(((await res.json()) as ProblemBody).errors).toEqual([
      {
        path: '/events/0/ts',
        message: `expected an ISO 8601 date-time with an offset, such as 2026-11-28T12:00:00Z, or epoch milliseconds${
          ts === undefined ? '' : `, got ${JSON.stringify(ts)}`
        }`,
      },
    ]);
  });

  it('answers 413 past the batch limit and past the body limit, storing nothing', async () => {
    const many = Array.from({ length: 51 }, (_, i) => click(`e${i}`));
    const res = await post('/v1/events', { events: many });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ProblemBody).detail).toMatch(/51 events exceed the batch limit of 50/);
    const huge = Array.from({ length: 40 }, (_, i) =>
      click(`e${i}`, { userAgent: 'x'.repeat(1000), referrer: `https://r.example/${'y'.repeat(1000)}` }),
    );
    expect((await post('/v1/events', { events: huge })).status).toBe(413);
    expect(await count('affiliate_events')).toBe(0);
  });

  it('answers 503 with Retry-After when the write queue is full, and stores what it accepted', async () => {
    await ctx.close();
    ctx = await createTestContext({ ingest: { queueMaxRows: 100, maxBatchItems: 1000 } });
    const batch = (tag: string) => ({ events: Array.from({ length: 60 }, (_, i) => click(`${tag}-${i}`)) });
    const responses = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => post('/v1/events', batch(tag))));
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(202);
    expect(statuses).toContain(503);
    for (const r of responses.filter((x) => x.status === 503)) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await count('affiliate_events')).toBe(60 * statuses.filter((s) => s === 202).length);
  });

  it('refuses ingest requests past the bound on those in flight, before reading them, and takes them again once answered', async () => {
    await ctx.close();
    ctx = await createTestContext({ ingest: { maxInFlight: 2 } });
    /** A request whose body arrives only when `finish` is called: it stays in flight until then. */
    const slow = (events: unknown[]) => {
      let finish = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          finish = () => {
            controller.enqueue(new TextEncoder().encode(JSON.stringify({ events })));
            controller.close();
          };
        },
      });
      const response = ctx.app.request('/v1/events', {
        method: 'POST',
        headers: jsonHeaders(ctx, 'ingest'),
        body,
        duplex: 'half',
      } as RequestInit);
      return { response, finish: () => finish() };
    };
    const metric = async (name: string) =>
      (await (await ctx.app.request('/metrics')).text()).split('\n').find((line) => line.startsWith(name));
    const first = slow([click('s1')]);
    const second = slow([click('s2')]);
    await expect
      .poll(() => metric('vigil_ingest_requests_in_flight'), { timeout: 5000 })
      .toBe('vigil_ingest_requests_in_flight 2');
    // Both slots are taken: events and logs alike are refused, with nothing read or stored.
    const refused = await post('/v1/events', { events: [click('s3')] });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { detail: string }).detail).toContain('as many ingest requests');
    const log = { ts: '2026-11-28T12:00:00Z', level: 'info', service: 'shop', message: 'hello' };
    expect((await post('/v1/logs', [log])).status).toBe(503);
    first.finish();
    second.finish();
    expect((await first.response).status).toBe(202);
    expect((await second.response).status).toBe(202);
    expect(await metric('vigil_ingest_requests_in_flight')).toBe('vigil_ingest_requests_in_flight 0');
    expect((await post('/v1/events', { events: [click('s3')] })).status).toBe(202);
    await ctx.deps.writer.settle();
    expect(await count('affiliate_events')).toBe(3);
    expect(await metric('vigil_ingest_refused_total{reason="overloaded"}')).toBe(
      'vigil_ingest_refused_total{reason="overloaded"} 2',
    );
  });

  it.skipIf(!ON_SQLITE)(
    'answers 503 with Retry-After while the journal backlog is full, and accepts again once it is applied',
    async () => {
      await ctx.close();
      ctx = await createTestContext({ ingest: { backlogMaxEvents: 100, maxBatchItems: 1000 } });
      const batch = (tag: string) => ({ events: Array.from({ length: 60 }, (_, i) => click(`${tag}-${i}`)) });
      // The apply thread waits for this write lock, so what is acknowledged stays in the journal meanwhile.
      ctx.storage.sqlite.exec('begin immediate');
      let held = true;
      try {
        expect((await post('/v1/events', batch('a'))).status).toBe(202);
        const refused = await post('/v1/events', batch('b'));
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(((await refused.json()) as { detail: string }).detail).toContain(
          'faster than they are applied',
        );
        // Filled to the bound, the route refuses before it reads a body: even one that is not JSON.
        const fill = { events: Array.from({ length: 40 }, (_, i) => click(`f-${i}`)) };
        expect((await post('/v1/events', fill)).status).toBe(202);
        const unread = await ctx.app.request('/v1/events', {
          method: 'POST',
          headers: jsonHeaders(ctx, 'ingest'),
          body: '{not json',
        });
        expect(unread.status).toBe(503);
        expect(unread.headers.get('retry-after')).toBe('1');
        ctx.storage.sqlite.exec('commit');
        held = false;
      } finally {
        if (held) ctx.storage.sqlite.exec('rollback');
      }
      expect(await count('affiliate_events')).toBe(100);
      expect((await post('/v1/events', batch('b'))).status).toBe(202);
      expect(await count('affiliate_events')).toBe(160);
      const metrics = await (await ctx.app.request('/metrics')).text();
      expect(metrics).toContain('vigil_ingest_refused_total{reason="backlog"} 2');
      expect(metrics).toMatch(/vigil_ingest_applied_events_total 160/);
    },
  );
});

describe('POST /v1/affiliates', () => {
  it.skipIf(!ON_SQLITE)(
    'upserts one affiliate or a batch, replacing coupon codes and hashing the payout account',
    async () => {
      expect(
        (
          await post('/v1/affiliates', {
            id: 'aff-1',
            name: 'Anna',
            couponCodes: ['anna10', 'ANNA20'],
            subjectId: 's-anna',
            payoutAccount: 'DE89370400440532013000',
          })
        ).status,
      ).toBe(200);
      const res = await post('/v1/affiliates', {
        affiliates: [
          { id: 'aff-1', name: 'Anna K.', couponCodes: ['anna30'] },
          { id: 'aff-2', name: 'Ben', couponCodes: ['ben5'] },
        ],
      });
      expect(await res.json()).toEqual({ upserted: 2 });
      const affiliates = await ctx.storage.db.selectFrom('affiliates').selectAll().orderBy('id').execute();
      expect(affiliates.map((a) => a.name)).toEqual(['Anna K.', 'Ben']);
      const codes = await ctx.storage.db
        .selectFrom('affiliate_coupons')
        .selectAll()
        .orderBy('code')
        .execute();
      expect(codes).toEqual([
        { code: 'ANNA30', affiliate_id: 'aff-1' },
        { code: 'BEN5', affiliate_id: 'aff-2' },
      ]);
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(ctx.storage.db);
      expect(fs.readFileSync(path.join(ctx.dataDir, 'vigil.sqlite')).toString('latin1')).not.toContain(
        'DE89370400440532013000',
      );
    },
  );

  it('refuses a coupon code held by another affiliate with 409, storing nothing of the batch', async () => {
    await post('/v1/affiliates', { id: 'aff-1', name: 'Anna', couponCodes: ['ANNA10'] });
    const res = await post('/v1/affiliates', {
      affiliates: [
        { id: 'aff-3', name: 'Cleo', couponCodes: ['CLEO'] },
        { id: 'aff-2', name: 'Ben', couponCodes: ['anna10'] },
      ],
    });
    expect(res.status).toBe(409);
    expect(await count('affiliates')).toBe(1);
    expect(await count('affiliate_coupons')).toBe(1);
  });

  it('keeps whether the programme allows the affiliate to run search ads, as each upsert says', async () => {
    const allowed = async () =>
      (await ctx.storage.db.selectFrom('affiliates').select('search_ads_allowed').executeTakeFirstOrThrow())
        .search_ads_allowed;
    const comparison = { id: 'aff-1', name: 'Compare.example', couponCodes: [] };
    expect((await post('/v1/affiliates', { ...comparison, searchAdsAllowed: true })).status).toBe(200);
    expect(await allowed()).toBe(1);
    // An upsert says the whole affiliate: without the field, it is not allowed.
    expect((await post('/v1/affiliates', comparison)).status).toBe(200);
    expect(await allowed()).toBe(0);
    const bad = await post('/v1/affiliates', { ...comparison, searchAdsAllowed: 'yes' });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses one code given to two affiliates in the same batch', async () => {
    const res = await post('/v1/affiliates', {
      affiliates: [
        { id: 'aff-1', name: 'Anna', couponCodes: ['SAME'] },
        { id: 'aff-2', name: 'Ben', couponCodes: ['same'] },
      ],
    });
    expect(res.status).toBe(409);
    expect(await count('affiliates')).toBe(0);
  });
});

describe('POST /v1/payouts and GET /v1/payouts/:id', () => {
  const payout = {
    id: 'p-1',
    affiliateId: 'aff-1',
    periodStart: '2026-11-01T00:00:00Z',
    periodEnd: '2026-12-01T00:00:00Z',
    amount: 1200.5,
    currency: 'EUR',
  };

  beforeEach(async () => {
    await post('/v1/affiliates', { id: 'aff-1', name: 'Anna', couponCodes: [] });
  });

  it('stores a request, scores it within the request, and shows it with its score', async () => {
    const res = await post('/v1/payouts', payout);
    expect(res.status).toBe(201);
    // No traffic and no model yet: nothing speaks against it.
    const score = { decision: 'approved', level: 'low', risk: 0, modelVersion: null, reasons: [] };
    expect(await res.json()).toMatchObject({
      id: 'p-1',
      status: 'approved',
      amount: 1200.5,
      periodStart: '2026-11-01T00:00:00.000Z',
      score,
    });
    const shown = await ctx.app.request('/v1/payouts/p-1', { headers: ctx.auth('ingest') });
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ id: 'p-1', affiliateId: 'aff-1', status: 'approved', score });
  });

  it('is idempotent on id, and refuses a different request under the same id', async () => {
    expect((await post('/v1/payouts', payout)).status).toBe(201);
    expect((await post('/v1/payouts', payout)).status).toBe(200);
    expect((await post('/v1/payouts', { ...payout, amount: 9999 })).status).toBe(409);
    expect(await count('payouts')).toBe(1);
  });

  it('answers 422 for an unknown affiliate or a period that ends before it starts', async () => {
    const unknown = await post('/v1/payouts', { ...payout, affiliateId: 'nobody' });
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as ProblemBody).errors?.[0]?.path).toBe('/affiliateId');
    const backwards = await post('/v1/payouts', { ...payout, periodEnd: '2026-10-01T00:00:00Z' });
    expect(backwards.status).toBe(422);
    expect(((await backwards.json()) as ProblemBody).errors?.[0]?.path).toBe('/periodEnd');
    expect(await count('payouts')).toBe(0);
  });

  it('answers 404 for an unknown payout', async () => {
    expect((await ctx.app.request('/v1/payouts/nope', { headers: ctx.auth('ingest') })).status).toBe(404);
  });
});

describe('arbitrary input to the affiliate ingest routes', () => {
  let shared: TestContext;
  beforeAll(async () => {
    shared = await createTestContext({ ingest: { maxBatchItems: 20 } });
  });
  afterAll(async () => {
    await shared.close();
  });

  const total = async () =>
    Number(
      (
        await sql<{
          n: number;
        }>`select (select count(*) from affiliate_events) + (select count(*) from affiliates)
          + (select count(*) from affiliate_coupons) + (select count(*) from payouts) as n`.execute(
          shared.storage.db,
        )
      ).rows[0]?.n,
    );

  const nearlyValidEvent = fc.record(
    {
      id: fc.oneof(fc.string({ maxLength: 10 }), fc.constant('dup')),
      type: fc.constantFrom('click', 'conversion', 'refund', 'other'),
      ts: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.integer(),
        fc.string(),
      ),
      affiliateId: fc.string({ maxLength: 8 }),
      clickId: fc.string({ maxLength: 8 }),
      orderId: fc.string({ maxLength: 8 }),
      subjectId: fc.string({ maxLength: 8 }),
      amount: fc.oneof(fc.double(), fc.integer()),
      currency: fc.constantFrom('EUR', 'usd', ''),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
      userAgent: fc.string({ maxLength: 20 }),
      landingUrl: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string()),
    },
    { requiredKeys: ['id', 'type'] },
  );

  it('never yields a 5xx, and a write is all or nothing', async () => {
    const bodies = fc.oneof(
      fc.jsonValue(),
      fc.record({ events: fc.array(nearlyValidEvent, { maxLength: 25 }) }),
      fc.record({
        affiliates: fc.array(
          fc.record({
            id: fc.string({ maxLength: 5 }),
            name: fc.string(),
            couponCodes: fc.array(fc.constantFrom('A', 'B', 'c'), { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/events', '/v1/affiliates', '/v1/payouts'),
        bodies,
        async (route, body) => {
          const before = await total();
          const res = await shared.app.request(route, {
            method: 'POST',
            headers: jsonHeaders(shared, 'ingest'),
            body: JSON.stringify(body),
          });
          expect(res.status).toBeLessThan(500);
          const after = await total();
          if (res.status >= 400) expect(after).toBe(before);
          if (route === '/v1/events' && res.status === 202) {
            const { accepted } = (await res.json()) as { accepted: number };
            expect(after - before).toBe(accepted);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the consent gate on /v1/events', () => {
  it('keeps clicks and conversions under legitimate interest by default, and counts the decisions', async () => {
    const res = await post('/v1/events', {
      events: [click('g1', { subjectId: 'nobody' }), conversion('g2')],
    });
    expect(await res.json()).toEqual({ accepted: 2, duplicates: 0 });
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain(
      'vigil_consent_gate_decisions_total{kind="affiliate_click",action="keep",reason="legitimate_interest"} 1',
    );
  });

  it('drops, or pseudonymises, events when the policy asks for consent', async () => {
    const gate = ctx.deps.consent.gate;
    const open = { basis: 'legitimate_interest' as const, note: 'test' };
    gate.usePolicy({
      kinds: {
        browser_telemetry: open,
        affiliate_click: { purpose: 'marketing', without: 'drop' },
        affiliate_conversion: { purpose: 'marketing', without: 'minimise' },
      },
      noRecord: 'deny',
    });
    const res = await post('/v1/events', { events: [click('d1', { subjectId: 's-1' }), conversion('d2')] });
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    await ctx.deps.writer.settle();
    const rows = await ctx.storage.db.selectFrom('affiliate_events').select(['id', 'subject_id']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).toBe('d2');
    expect(rows[0]?.subject_id).toMatch(/^sub:[0-9a-f]{32}$/);
  });
});
