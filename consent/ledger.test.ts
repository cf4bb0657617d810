import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../http/problem.ts';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { verifyConsentChain } from './ledger.ts';

let ctx: TestContext;
let now: Date;
beforeEach(async () => {
  now = new Date('2026-11-28T12:00:00Z');
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

const post = (p: string, body: unknown) =>
  ctx.app.request(p, {
    method: 'POST',
    headers: { ...ctx.auth('dpo'), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const consent = (subjectId: string, extra: Record<string, unknown>) => ({
  subjectId,
  policyVersion: 'privacy-2026-11',
  source: 'banner',
  ...extra,
});

describe('the ledger', () => {
  it('refuses a collectedAt in the future, which would stretch the grant past its expiry', async () => {
    const res = await post(
      '/v1/consents',
      consent('s', { decisions: { analytics: 'granted' }, collectedAt: '2027-01-01T00:00:00Z' }),
    );
    expect(res.status).toBe(422);
    expect(((await res.json()) as ProblemBody).errors?.[0]?.path).toBe('/collectedAt');
    // A few seconds of CMP clock skew is fine.
    const skewed = await post(
      '/v1/consents',
      consent('s', { decisions: { analytics: 'granted' }, collectedAt: '2026-11-28T12:00:30Z' }),
    );
    expect(skewed.status).toBe(201);
  });

  it('refuses a proof page URL that is not http(s)', async () => {
    const res = await post(
      '/v1/consents',
      consent('s', { decisions: { analytics: 'granted' }, proof: { pageUrl: 'javascript:alert(1)' } }),
    );
    expect(res.status).toBe(422);
  });

  it('keeps the newer state when an older consent is imported later, and the gate agrees', async () => {
    await post('/v1/consents', consent('anna', { decisions: { analytics: 'denied', marketing: 'denied' } }));
    const imported = await post('/v1/consents', {
      ...consent('anna', { decisions: { analytics: 'granted', functional: 'granted' } }),
      source: 'import',
      collectedAt: '2026-11-01T00:00:00Z',
    });
    expect(imported.status).toBe(201);
    const res = await ctx.app.request('/v1/subjects/anna/consents?history=true', {
      headers: ctx.auth('dpo'),
    });
    const body = (await res.json()) as {
      purposes: Record<string, { status: string; since: string }>;
      history: { source: string }[];
    };
    // analytics: the live denial is newer than the imported grant; functional had no state, so it is taken.
    expect(body.purposes.analytics).toMatchObject({ status: 'denied', since: '2026-11-28T12:00:00.000Z' });
    expect(body.purposes.functional).toMatchObject({ status: 'granted', since: '2026-11-01T00:00:00.000Z' });
    expect(body.history.map((h) => h.source)).toEqual(['import', 'banner']);
    expect(ctx.deps.consent.gate.decide('browser_telemetry', 'anna', now.getTime()).reason).toBe('denied');
    expect(ctx.deps.consent.gate.granted('anna', 'functional', now.getTime())).toBe(true);
  });

  it('leaves the gate untouched when the write rolls back', async () => {
    // A record for a subject whose audit insert fails: the whole transaction, state included, rolls back.
    await ctx.storage.db.schema.dropTable('audit_log').execute();
    const res = await post('/v1/consents', consent('bob', { decisions: { analytics: 'granted' } }));
    expect(res.status).toBe(500);
    expect(ctx.deps.consent.gate.decide('browser_telemetry', 'bob', now.getTime()).reason).toBe('no_record');
    expect(await ctx.storage.db.selectFrom('consent_state').selectAll().execute()).toEqual([]);
    expect(await verifyConsentChain(ctx.storage.db)).toEqual({ ok: true, checked: 0, redacted: 0 });
  });

  it('withdraws every purpose in one call, even those never granted, as one chained record', async () => {
    await post('/v1/consents', consent('cleo', { method: 'accept_all' }));
    const res = await ctx.app.request('/v1/subjects/cleo/consents/withdraw', {
      method: 'POST',
      headers: { ...ctx.auth('ingest'), 'content-type': 'application/json' },
      body: JSON.stringify({ purposes: 'all' }),
    });
    expect(res.status).toBe(201);
    const record = (await res.json()) as { kind: string; decisions: Record<string, string> };
    expect(record.kind).toBe('withdrawal');
    expect(Object.keys(record.decisions).sort()).toEqual([
      'analytics',
      'functional',
      'marketing',
      'personalization',
    ]);
    expect(ctx.deps.consent.gate.grantedShares(now.getTime()).get('functional')).toBe(0);
    expect(await verifyConsentChain(ctx.storage.db)).toEqual({ ok: true, checked: 2, redacted: 0 });
  });
});
