// An installation with ordinary affiliates and their traffic, for tests of what is scored and decided on it.
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../storage/index.ts';
import { createTestContext, jsonHeaders, type TestContext } from './harness.ts';

type Json = Record<string, unknown>;

/** A new installation with `n` ordinary affiliates in October's first half, and no model yet. */
export async function installation(n: number): Promise<TestContext> {
  const c = await createTestContext();
  const send = (route: string, body: unknown) =>
    c.app.request(route, { method: 'POST', headers: jsonHeaders(c, 'ingest'), body: JSON.stringify(body) });
  const affiliates = Array.from({ length: n }, (_, i) => ({
    id: `a${i}`,
    name: `A ${i}`,
    couponCodes: [`A${i}CODE`],
  }));
  expect((await send('/v1/affiliates', { affiliates })).status).toBe(200);
  const events: Json[] = [];
  for (let i = 0; i < n; i += 1) {
    for (let k = 0; k < 20 + i; k += 1) {
      const ts = Date.parse('2026-10-02T18:00:00Z') + k * 3_600_000 + i * 60_000;
      events.push({
        id: `c-${i}-${k}`,
        type: 'click',
        ts,
        affiliateId: `a${i}`,
        clickId: `k-${i}-${k}`,
        ip: `84.${i}.${k}.9`,
        userAgent: `Mozilla/5.0 (iPhone; CPU iPhone OS 18_${k % 4})`,
        referrer: '',
        country: 'DE',
      });
      if (k % 10 === 0) {
        events.push({
          id: `v-${i}-${k}`,
          type: 'conversion',
          ts: ts + (5 + k) * 60_000,
          affiliateId: `a${i}`,
          clickId: `k-${i}-${k}`,
          orderId: `o-${i}-${k}`,
          subjectId: `s-${i}-${k}`,
          amount: 40,
          currency: 'EUR',
          ip: `84.${i}.${k}.9`,
          userAgent: 'Mozilla/5.0 (iPhone)',
          country: 'DE',
        });
      }
    }
  }
  expect((await send('/v1/events', { events })).status).toBe(202);
  return c;
}

/** A payout of a fresh affiliate `aff-<id>`, put in review with the given status (as the detector would). */
export async function insertPayoutInReview(
  db: Kysely<Database>,
  payout: {
    id: string;
    status: 'flagged' | 'held';
    at: Date;
    periodStart: string;
    periodEnd: string;
    amount: number;
  },
): Promise<void> {
  const at = payout.at.toISOString();
  await db
    .insertInto('affiliates')
    .values({
      id: `aff-${payout.id}`,
      name: payout.id,
      subject_id: `s-${payout.id}`,
      payout_account_hash: null,
      created_at: at,
      updated_at: at,
    })
    .execute();
  await db
    .insertInto('payouts')
    .values({
      id: payout.id,
      affiliate_id: `aff-${payout.id}`,
      period_start: payout.periodStart,
      period_end: payout.periodEnd,
      amount: payout.amount,
      currency: 'EUR',
      status: payout.status,
      created_at: at,
      updated_at: at,
    })
    .execute();
}
