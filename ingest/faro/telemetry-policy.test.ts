import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { consentReference } from '../../consent/reference.ts';
import { eraseSubjectStores, subjectKeys } from '../../retention/subject-data.ts';
import { createTestContext, jsonHeaders, type TestContext } from '../../test/harness.ts';
import type { IngestConfig } from '../config.ts';
import { createFaroApp } from './apps.ts';

const ORIGIN = 'https://shop.example.test';
const actor = { name: 'test', role: 'operator' };

let ctx: TestContext;
let key: string;

async function setup(ingest: Partial<IngestConfig> = {}) {
  ctx = await createTestContext({ ingest });
  key = (await createFaroApp(ctx.storage.db, { name: 'shop', origins: [ORIGIN] }, actor, new Date())).key;
}
afterEach(() => ctx.close());

async function consent(subjectId: string, analytics: 'granted' | 'denied'): Promise<string> {
  const res = await ctx.app.request('/v1/consents', {
    method: 'POST',
    headers: jsonHeaders(ctx, 'ingest'),
    body: JSON.stringify({ subjectId, decisions: { analytics }, policyVersion: 'v1', source: 'banner' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { reference: string }).reference;
}

/** A payload of one log with personal data in every free-text place, from session `s-1`. */
function payload(meta: { user?: { id: string }; attributes?: Record<string, string>; session?: string }) {
  return {
    meta: {
      session: { id: meta.session ?? 's-1', ...(meta.attributes ? { attributes: meta.attributes } : {}) },
      ...(meta.user ? { user: meta.user } : {}),
      page: { url: 'https://shop.example.test/account/alice%40example.com/orders?utm_source=ig&email=x@y.z' },
    },
    logs: [
      {
        message: 'login failed for jörg@bücher.de from ip_198.51.100.23',
        level: 'warn',
        context: { customer: 'alice@example.com', nested: { ip: '2a02::1f' } },
      },
    ],
    events: [{ name: 'click', attributes: { target: 'mailto:bob@example.com', protoKey: 'kept' } }],
  };
}

function collect(body: unknown) {
  return ctx.app.request(`/collect/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    // JSON as a page would send it, with a `__proto__` key (an object literal cannot hold one as data).
    body: JSON.stringify(body).replace('"protoKey"', '"__proto__"'),
  });
}

const rows = () => ctx.storage.db.selectFrom('browser_telemetry').selectAll().orderBy('id').execute();

describe('browser telemetry that names no user', () => {
  it('is dropped without a consent reference, and counted', async () => {
    await setup();
    const res = await collect(payload({}));
    expect(await res.json()).toEqual({ accepted: 0, duplicate: false, dropped: 2 });
    expect(await rows()).toEqual([]);
    expect(await (await ctx.app.request('/metrics')).text()).toContain(
      'vigil_ingest_items_total{kind="faro_log",outcome="dropped",reason="no_consent_reference"} 1',
    );
  });

  it("is kept under its consent reference, as that subject's, and dropped once consent is withdrawn", async () => {
    await setup();
    const reference = await consent('visitor-7', 'granted');
    const sent = payload({ attributes: { consentReference: reference } });
    expect(await (await collect(sent)).json()).toMatchObject({ accepted: 2 });
    expect((await rows()).map((r) => [r.user_id, r.session_id])).toEqual([
      ['visitor-7', 's-1'],
      ['visitor-7', 's-1'],
    ]);
    const withdrawn = await ctx.app.request('/v1/subjects/visitor-7/consents/withdraw', {
      method: 'POST',
      headers: jsonHeaders(ctx, 'ingest'),
      body: JSON.stringify({ purposes: ['analytics'] }),
    });
    expect(withdrawn.status).toBe(201);
    expect(await (await collect(sent)).json()).toMatchObject({ accepted: 0, dropped: 2 });
  });

  it('is dropped under a reference this installation did not make, or of a subject that denied', async () => {
    await setup();
    const forged = consentReference(Buffer.from('another-secret-another-secret-xx'), 'visitor-7');
    await consent('visitor-7', 'granted');
    expect(await (await collect(payload({ attributes: { consentReference: forged } }))).json()).toMatchObject(
      {
        accepted: 0,
      },
    );
    const denied = await consent('visitor-8', 'denied');
    expect(await (await collect(payload({ attributes: { consentReference: denied } }))).json()).toMatchObject(
      {
        accepted: 0,
      },
    );
    const text = await (await ctx.app.request('/metrics')).text();
    expect(text).toContain('reason="bad_consent_reference"');
    expect(text).toContain('vigil_ingest_items_total{kind="faro_log",outcome="dropped",reason="denied"} 1');
  });

  it('is kept scrubbed, without user and with a visit pseudonym, under the audience-measurement exemption', async () => {
    await setup({ faroAnonymous: 'exempt' });
    expect(await (await collect(payload({}))).json()).toMatchObject({ accepted: 2 });
    const [log] = await rows();
    expect(log?.user_id).toBeNull();
    expect(log?.session_id).toMatch(/^visit:[0-9a-f]{32}$/);
  });
});

describe('free text of browser telemetry', () => {
  it('keeps no e-mail or IP address, in messages, context, attributes or the page path', async () => {
    await setup();
    await consent('u-1', 'granted');
    expect((await collect(payload({ user: { id: 'u-1' } }))).status).toBe(202);
    const stored = JSON.stringify(await rows());
    for (const raw of [
      'alice',
      'example.com',
      'jörg',
      'bücher',
      '198.51.100.23',
      '2a02::1f',
      'bob@',
      'x@y.z',
    ]) {
      expect(stored).not.toContain(raw);
    }
    expect(stored).toContain('utm_source=ig');
    const [, event] = await rows();
    // A `__proto__` key is data like any other.
    expect(JSON.parse(event?.detail ?? '{}').attributes).toHaveProperty(['__proto__'], 'kept');
  });
});

describe('erasure of browser telemetry', () => {
  it("follows the subject's sessions to rows that named no user, and finds rows by the e-mail's token", async () => {
    await setup({ faroAnonymous: 'exempt' });
    const reference = await consent('u-1', 'granted');
    await consent('u-2', 'granted');
    // Before sign-in (under the subject's consent reference, session s-1), after sign-in, and another visitor.
    await collect(payload({ attributes: { consentReference: reference } }));
    await collect(payload({ user: { id: 'u-1' } }));
    await collect(payload({ user: { id: 'u-2' }, session: 's-2' }));
    // Rows of session s-1 that name no user at all (sent by the page before the banner ran).
    await ctx.storage.db
      .insertInto('browser_telemetry')
      .values({
        app_id: 'a',
        kind: 'log',
        ts: '2026-12-01T00:00:00.000Z',
        session_id: 's-1',
        user_id: null,
        received_at: '2026-12-01T00:00:00.000Z',
      })
      .execute();
    const keys = subjectKeys(ctx.deps.secret, { subjectId: 'u-1' });
    const outcomes = await eraseSubjectStores(ctx.storage.db, keys, {
      ref: 'privacy-request:t',
      pseudonym: 'p',
    });
    expect(outcomes.find((o) => o.store === 'browser_telemetry')?.rows).toBe(5);
    const left = await rows();
    expect(left.every((r) => r.session_id === 's-2' && r.user_id === 'u-2')).toBe(true);
    // By e-mail: the other visitor's rows carry alice@example.com in their context.
    const byEmail = subjectKeys(ctx.deps.secret, { subjectId: 'nobody', email: 'Alice@Example.com' });
    await eraseSubjectStores(ctx.storage.db, byEmail, { ref: 'privacy-request:t2', pseudonym: 'p2' });
    const { rows: remaining } = await sql<{ n: number }>`select count(*) as n from browser_telemetry`.execute(
      ctx.storage.db,
    );
    expect(remaining[0]?.n).toBe(0);
  });
});
