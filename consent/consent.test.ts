import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ProblemBody } from '../http/problem.ts';
import { createTestContext, type TestContext } from '../test/harness.ts';
import { ConsentGate, loadGatePolicy } from './gate.ts';
import { loadPurposes } from './purposes.ts';
import { decodeTcString, tcfPolicyViolation } from './tcf.ts';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures');
const samples = (
  JSON.parse(fs.readFileSync(path.join(DATA, 'tcf-samples.json'), 'utf8')) as {
    samples: {
      source: string;
      tcString: string;
      decoded: Record<string, unknown>;
      policyValid: boolean;
      why?: string;
    }[];
  }
).samples;
const VALID = samples.find((s) => s.policyValid);

let ctx: TestContext;
const post = (p: string, body: unknown, role: 'ingest' | 'dpo' = 'dpo', c = ctx) =>
  c.app.request(p, {
    method: 'POST',
    headers: { ...c.auth(role), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const get = (p: string, role: 'dpo' | 'admin' = 'dpo') => ctx.app.request(p, { headers: ctx.auth(role) });
const consent = (subjectId: string, extra: Record<string, unknown> = {}) => ({
  subjectId,
  policyVersion: 'privacy-2026-11',
  source: 'banner',
  ...extra,
});

describe('TC strings from tcf-samples.json', () => {
  it.each(samples.map((s) => [s.source, s] as const))(
    '%s decodes to the listed fields and policy verdict',
    (_source, sample) => {
      const decoded = decodeTcString(sample.tcString) as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(sample.decoded))
        expect(decoded[field], field).toEqual(value);
      expect(tcfPolicyViolation(decodeTcString(sample.tcString))).toBe(
        sample.policyValid ? undefined : sample.why,
      );
    },
  );
});

describe('POST /v1/consents', () => {
  beforeEach(async () => {
    ctx = await createTestContext();
  });
  afterEach(() => ctx.close());

  it('derives decisions from a valid TC string and keeps it decoded beside the record', async () => {
    const res = await post('/v1/consents', consent('s-tcf', { tcString: VALID?.tcString }), 'ingest');
    expect(res.status).toBe(201);
    const record = (await res.json()) as {
      decisions: Record<string, string>;
      tcf: { policyVersion: number };
    };
    // purposeConsents [1, 3, 4]: functional (1) granted; analytics (8, 9), marketing (1, 2, 4, 7) and
    // personalization (3, 4, 5, 6) are not fully consented.
    expect(record.decisions).toEqual({
      analytics: 'denied',
      marketing: 'denied',
      personalization: 'denied',
      functional: 'granted',
    });
    expect(record.tcf.policyVersion).toBe(5);
  });

  it.each(samples.filter((s) => !s.policyValid).map((s) => [s.why, s] as const))(
    'refuses a TC string that breaks policy (%s) with a 422 saying why',
    async (why, sample) => {
      const res = await post('/v1/consents', consent('s-bad', { tcString: sample.tcString }));
      expect(res.status).toBe(422);
      expect(((await res.json()) as ProblemBody).detail).toContain(why);
    },
  );

  it('refuses an undecodable TC string with a 422', async () => {
    const res = await post('/v1/consents', consent('s-bad', { tcString: 'not.a.tcstring' }));
    expect(res.status).toBe(422);
    expect(((await res.json()) as ProblemBody).errors?.[0]?.path).toBe('/tcString');
  });

  it('derives decisions from Consent Mode signals and GPC, body decisions winning', async () => {
    const res = await post(
      '/v1/consents',
      consent('s-gcm', {
        method: 'gpc',
        gcm: { analytics_storage: 'granted', ad_storage: 'granted', ad_user_data: 'granted' },
        decisions: { functional: 'granted' },
      }),
    );
    const record = (await res.json()) as { decisions: Record<string, string> };
    expect(record.decisions).toEqual({
      analytics: 'granted',
      marketing: 'granted',
      personalization: 'denied',
      functional: 'granted',
    });
  });

  it('refuses unknown purposes, and a consent with no decisions at all', async () => {
    expect((await post('/v1/consents', consent('s', { decisions: { tracking: 'granted' } }))).status).toBe(
      422,
    );
    expect((await post('/v1/consents', consent('s'))).status).toBe(422);
    expect(
      Number(
        (await sql<{ n: number }>`select count(*) as n from consent_records`.execute(ctx.storage.db)).rows[0]
          ?.n,
      ),
    ).toBe(0);
  });

  it('keeps the proof minimised: IP as keyed hash, page URL without query', async () => {
    const res = await post(
      '/v1/consents',
      consent('s-proof', {
        decisions: { analytics: 'granted' },
        proof: {
          ip: '203.0.113.9',
          userAgent: 'Mozilla/5.0',
          pageUrl: 'https://shop.example/cart?email=a@b.c',
        },
      }),
    );
    const record = (await res.json()) as { proof: { ipHash: string; pageUrl: string; userAgent: string } };
    expect(record.proof.ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(record.proof.pageUrl).toBe('https://shop.example/cart');
    expect(
      JSON.stringify(await ctx.storage.db.selectFrom('consent_records').selectAll().execute()),
    ).not.toContain('203.0.113.9');
  });

  it('never answers a 5xx to an arbitrary tcString', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.base64String(),
          fc.stringMatching(/^C[A-Za-z0-9_-]{10,80}(\.[A-Za-z0-9_-]{2,20})?$/),
        ),
        async (tcString) => {
          const res = await post('/v1/consents', consent('s-fc', { tcString }));
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the ledger over time', () => {
  let now = new Date('2026-11-28T12:00:00Z');
  beforeEach(async () => {
    now = new Date('2026-11-28T12:00:00Z');
    ctx = await createTestContext({ now: () => now });
  });
  afterEach(() => ctx.close());

  it('grant keeps telemetry, withdrawal drops it; history shows both, newest first; all audited', async () => {
    const gate = ctx.deps.consent.gate;
    expect(gate.decide('browser_telemetry', 'anna', now.getTime())).toEqual({
      action: 'drop',
      reason: 'no_record',
    });
    await post(
      '/v1/consents',
      consent('anna', { decisions: { analytics: 'granted', marketing: 'denied' } }),
      'ingest',
    );
    expect(gate.decide('browser_telemetry', 'anna', now.getTime())).toEqual({
      action: 'keep',
      reason: 'consent',
    });
    now = new Date('2026-11-29T12:00:00Z');
    expect((await post('/v1/subjects/anna/consents/withdraw', { purposes: 'all' }, 'ingest')).status).toBe(
      201,
    );
    expect(gate.decide('browser_telemetry', 'anna', now.getTime())).toEqual({
      action: 'drop',
      reason: 'withdrawn',
    });

    const res = await get('/v1/subjects/anna/consents?history=true');
    const body = (await res.json()) as {
      purposes: Record<string, { status: string }>;
      history: { kind: string; recordedAt: string }[];
    };
    expect(body.purposes.analytics?.status).toBe('withdrawn');
    expect(body.history.map((h) => h.kind)).toEqual(['withdrawal', 'consent']);
    const audit = await ctx.storage.db
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('action', 'like', 'consent.%')
      .execute();
    expect(audit).toEqual([
      { action: 'consent.record', actor: 'test-ingest' },
      { action: 'consent.withdraw', actor: 'test-ingest' },
    ]);
  });

  it('verifies the chain, and detects a tampered record', async () => {
    await post('/v1/consents', consent('a', { decisions: { analytics: 'granted' } }));
    await post('/v1/consents', consent('b', { decisions: { analytics: 'denied' } }));
    await post('/v1/consents', consent('c', { decisions: { marketing: 'granted' } }));
    expect(await (await get('/v1/consents/verify')).json()).toEqual({ ok: true, checked: 3, redacted: 0 });
    await sql`update consent_records set decisions = '{"analytics":"granted"}' where subject_id = 'b'`.execute(
      ctx.storage.db,
    );
    expect(await (await get('/v1/consents/verify', 'admin')).json()).toEqual({
      ok: false,
      checked: 1,
      brokenAtId: 2,
    });
  });

  it('lets a grant expire after the configured period (13 months), and lists grants to ask again', async () => {
    await post(
      '/v1/consents',
      consent('old', { decisions: { analytics: 'granted' }, collectedAt: '2025-10-20T00:00:00Z' }),
    );
    await post('/v1/consents', consent('new', { decisions: { analytics: 'granted' } }));
    const current = (await (await get('/v1/subjects/old/consents')).json()) as {
      purposes: Record<string, { status: string; expiresAt: string }>;
    };
    expect(current.purposes.analytics?.expiresAt).toBe('2026-11-19T00:00:00.000Z');
    expect(current.purposes.analytics?.status).toBe('expired');
    expect(ctx.deps.consent.gate.decide('browser_telemetry', 'old', now.getTime())).toEqual({
      action: 'drop',
      reason: 'expired',
    });
    expect(ctx.deps.consent.gate.decide('browser_telemetry', 'new', now.getTime()).action).toBe('keep');
    const expiring = (await (await get('/v1/consents/expiring?within=30d')).json()) as {
      items: { subjectId: string }[];
    };
    expect(expiring.items.map((i) => i.subjectId)).toEqual(['old']);
  });

  it('exports the records of a period as NDJSON', async () => {
    await post('/v1/consents', consent('a', { decisions: { analytics: 'granted' } }));
    now = new Date('2026-12-05T00:00:00Z');
    await post('/v1/consents', consent('b', { decisions: { analytics: 'granted' } }));
    const res = await get('/v1/consents/export?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { subjectId: string });
    expect(lines.map((l) => l.subjectId)).toEqual(['a']);
    expect((await get('/v1/consents/export?from=yesterday&to=2026-12-01T00:00:00Z')).status).toBe(422);
  });

  it('is what a new gate loads at start, with one query', async () => {
    await post('/v1/consents', consent('a', { decisions: { analytics: 'granted' } }));
    await post('/v1/consents', consent('b', { decisions: { analytics: 'denied' } }));
    const purposes = loadPurposes();
    const fresh = new ConsentGate(purposes, loadGatePolicy(purposes), new Registry());
    expect(await fresh.load(ctx.storage.db)).toBe(2);
    expect(fresh.decide('browser_telemetry', 'a', now.getTime()).action).toBe('keep');
    expect(fresh.decide('browser_telemetry', 'b', now.getTime())).toEqual({
      action: 'drop',
      reason: 'denied',
    });
    expect(fresh.grantedShares(now.getTime()).get('analytics')).toBe(0.5);
  });
});

describe('the consent metrics', () => {
  let shared: TestContext;
  beforeAll(async () => {
    shared = await createTestContext();
  });
  afterAll(() => shared.close());

  it('count records by purpose, decision and source, withdrawals, and the share granting', async () => {
    await post('/v1/consents', consent('m1', { decisions: { analytics: 'granted' } }), 'dpo', shared);
    await post('/v1/consents', consent('m2', { decisions: { analytics: 'denied' } }), 'dpo', shared);
    await post('/v1/subjects/m1/consents/withdraw', { purposes: ['analytics'] }, 'ingest', shared);
    const text = await (await shared.app.request('/metrics')).text();
    expect(text).toContain(
      'vigil_consent_records_total{purpose="analytics",decision="granted",source="banner"} 1',
    );
    expect(text).toContain('vigil_consent_withdrawals_total{purpose="analytics"} 1');
    expect(text).toContain('vigil_consent_granted_share{purpose="analytics"} 0');
  });
});
