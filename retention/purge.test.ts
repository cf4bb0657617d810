import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyConsentChain } from '../consent/index.ts';
import { verifyAuditChain } from '../storage/index.ts';
import { createTestContext, jsonHeaders, ON_SQLITE, type TestContext } from '../test/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: the tests read responses loosely
type Json = Record<string, any>;
let ctx: TestContext;
let now: Date;
beforeEach(async () => {
  now = new Date('2019-06-01T12:00:00Z');
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

async function send(route: string, body: unknown, role: 'ingest' | 'dpo' = 'ingest') {
  const res = await ctx.app.request(route, {
    method: 'POST',
    headers: jsonHeaders(ctx, role),
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return res.json() as Promise<Json>;
}

function click(id: string) {
  return {
    id,
    type: 'click',
    ts: now.toISOString(),
    affiliateId: 'a',
    clickId: `c-${id}`,
    ip: '203.0.113.9',
    userAgent: 'UA',
  };
}

function log(message: string) {
  return { ts: now.toISOString(), level: 'info', service: 'shop', message };
}

async function count(table: 'affiliate_events' | 'server_logs' | 'consent_records') {
  return (
    await ctx.storage.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;
}

/** 2019: consents (one later withdrawn). 2025: events and logs. 2026-06: fresh events and logs, and the run. */
async function timeline() {
  const consent = (subjectId: string) =>
    send('/v1/consents', {
      subjectId,
      decisions: { analytics: 'granted' },
      policyVersion: 'v1',
      source: 'banner',
    });
  await consent('kept-consent');
  await consent('withdrawn-later');
  await send('/v1/subjects/withdrawn-later/consents/withdraw', { purposes: 'all' });
  now = new Date('2025-01-01T00:00:00Z');
  await send('/v1/events', { events: [click('old-1'), click('old-2')] });
  await send('/v1/logs', [log('old line one'), log('old line two')]);
  now = new Date('2026-06-01T00:00:00Z');
  await send('/v1/events', { events: [click('new-1')] });
  await send('/v1/logs', [log('new line')]);
}

async function run(dryRun: boolean) {
  const res = await ctx.app.request('/v1/retention/run', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'dpo'),
    body: JSON.stringify({ dryRun }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    outcomes: { table: string; action: string; rows: number; cutoff: string }[];
  };
  return Object.fromEntries(body.outcomes.filter((o) => o.rows > 0).map((o) => [o.table, o]));
}

describe('retention', () => {
  it('lists every category with its maximum age, action, purpose and legal basis', async () => {
    const res = await ctx.app.request('/v1/retention/policies', { headers: ctx.auth('admin') });
    const { policies } = (await res.json()) as { policies: Record<string, unknown>[] };
    expect(policies.find((p) => p.category === 'server-logs')).toMatchObject({
      maxAge: 'P30D',
      action: 'delete',
      tables: ['server_logs'],
    });
    expect(policies.every((p) => typeof p.legalBasis === 'string')).toBe(true);
  });

  it('counts what is due in a dry run and changes nothing', async () => {
    await timeline();
    const due = await run(true);
    expect(due.affiliate_events).toMatchObject({ rows: 2, cutoff: '2025-05-01T00:00:00.000Z' });
    expect(due.server_logs).toMatchObject({ rows: 2 });
    expect(due.consent_state).toMatchObject({ action: 'delete' });
    expect(due.consent_records).toMatchObject({ rows: 1, action: 'pseudonymise' });
    expect(due.audit_log?.rows).toBeGreaterThan(0);
    expect(await count('affiliate_events')).toBe(3);
    expect(await count('server_logs')).toBe(3);
  });

  it('deletes and pseudonymises what is past its age, keeps the rest, and keeps both chains whole', async () => {
    await timeline();
    const done = await run(false);
    expect(done.affiliate_events?.rows).toBe(2);
    expect(done.server_logs?.rows).toBe(2);
    const events = await ctx.storage.db.selectFrom('affiliate_events').select('id').execute();
    expect(events.map((e) => e.id)).toEqual(['new-1']);
    const search = await ctx.app.request('/v1/logs?q=line', { headers: ctx.auth('sre') });
    const found = (await search.json()) as { items: { message: string }[] };
    expect(found.items.map((l) => l.message)).toEqual(['new line']);

    // The current consent stays whole; the superseded ones (and a withdrawal whose state has expired) lose
    // their subject, not their place in the chain.
    const records = await ctx.storage.db
      .selectFrom('consent_records')
      .select(['subject_id', 'redacted_by'])
      .orderBy('id')
      .execute();
    expect(records[0]).toEqual({ subject_id: 'kept-consent', redacted_by: null });
    expect(records[1]?.subject_id).toMatch(/^erased:[0-9a-f]{16}$/);
    expect(records[1]?.redacted_by).toMatch(/^audit:\d+$/);
    expect(records[2]?.subject_id).toMatch(/^erased:/);
    expect(await verifyConsentChain(ctx.storage.db)).toEqual({ ok: true, checked: 3, redacted: 2 });
    const audit = await verifyAuditChain(ctx.storage.db);
    expect(audit).toMatchObject({ ok: true });
    expect(audit.ok && audit.redacted).toBeGreaterThan(0);

    expect(await ctx.registry.metrics()).toContain(
      'vigil_retention_rows_total{category="affiliate-events",action="delete"} 2',
    );
    // Nothing is due twice.
    expect(await run(false)).toEqual({});
  });

  it.skipIf(!ON_SQLITE)('notices a redaction that no erasure or retention run recorded', async () => {
    await timeline();
    await ctx.storage.sqlite.exec(
      `update consent_records set subject_id = 'someone', redacted_by = 'audit:1' where id = 1`,
    );
    expect(await verifyConsentChain(ctx.storage.db)).toMatchObject({ ok: false, brokenAtId: 1 });
  });
});
