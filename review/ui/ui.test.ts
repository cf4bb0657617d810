// The review UI through HTTP, as a browser without JavaScript uses it: sign-in, sessions and their expiry,
// CSRF, security headers, the queue's filters and pages, decisions, assignment and bulk approval.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../http/api-keys.ts';
import { insertPayoutInReview } from '../../test/affiliate-installation.ts';
import { createTestContext, type TestContext } from '../../test/harness.ts';

let ctx: TestContext;
let now: Date;
beforeEach(async () => {
  now = new Date('2026-11-30T12:00:00Z');
  ctx = await createTestContext({ now: () => now });
});
afterEach(() => ctx.close());

/** A browser's cookie jar for one client. */
class Browser {
  readonly cookies = new Map<string, string>();

  async request(
    path: string,
    init: {
      method?: string;
      form?: Record<string, string | string[]>;
      headers?: Record<string, string>;
    } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form))
        for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await ctx.app.request(`http://vigil.test${path}`, {
      method: init.method ?? 'GET',
      headers,
      body,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = (pair ?? '').split('=');
      if (!name) continue;
      if (!value || /max-age=0/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, html: await res.text() };
  }

  /** The CSRF token of the first form on a page. */
  static csrf(html: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  }

  async signIn(key: string) {
    const page = await this.request('/review/sign-in');
    return this.request('/review/sign-in', { method: 'POST', form: { _csrf: Browser.csrf(page.html), key } });
  }
}

async function payout(
  id: string,
  status: 'flagged' | 'held',
  risk: number,
  level: 'medium' | 'high',
  code = 'CLICK_INJECTION',
) {
  const at = now.toISOString();
  await insertPayoutInReview(ctx.storage.db, {
    id,
    status,
    at: now,
    periodStart: '2026-11-01T00:00:00Z',
    periodEnd: '2026-11-15T00:00:00Z',
    amount: 99,
  });
  await ctx.storage.db
    .insertInto('fraud_scores')
    .values({
      payout_id: id,
      affiliate_id: `aff-${id}`,
      model_version: null,
      risk,
      model_score: null,
      level,
      decision: status,
      reasons: JSON.stringify([
        {
          code,
          description: 'Many sales follow their click within seconds',
          compares: 'The share of sales less than 10 s after their click',
          risk,
          hold: status === 'held',
          evidence: [
            {
              feature: 'fastConversionShare',
              value: 0.6,
              peerMedian: 0.01,
              percentile: 99,
              threshold: 0.15,
              peers: 'all 40 affiliates',
              condition: '0.6 is above 0.15',
            },
          ],
        },
      ]),
      features: '{}',
      scored_at: at,
      peers: 'all 40 affiliates of the period',
      model_note: null,
    })
    .execute();
}

describe('signing in to the review UI', () => {
  it('sends a strict CSP and a form with a labelled API key field and a CSRF token', async () => {
    const page = await new Browser().request('/review/sign-in');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('cache-control')).toBe('no-store');
    // A doctype keeps browsers out of quirks mode.
    expect(page.html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.html).toContain('<label for="key">API key</label>');
    expect(page.html).toContain('>Sign in</button>');
    expect(page.html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(Browser.csrf(page.html)).toMatch(/^[\w-]{40,}$/);
  });

  it('opens an HttpOnly, SameSite=Strict session for an analyst key, Secure behind HTTPS', async () => {
    const browser = new Browser();
    const page = await browser.request('/review/sign-in');
    const res = await browser.request('/review/sign-in', {
      method: 'POST',
      form: { _csrf: Browser.csrf(page.html), key: ctx.keys.analyst },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/review/queue');
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('vigil_review='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/Path=\/review/);
    // The token is not stored: the session's id is its keyed hash.
    const token = browser.cookies.get('vigil_review') ?? '';
    const rows = await ctx.storage.db.selectFrom('review_sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    const queue = await browser.request('/review/queue');
    expect(queue.status).toBe(200);
    expect(queue.html).toContain('<h1>Review queue</h1>');
  });

  it('refuses other roles, unknown keys and a post without its token, with a visible alert', async () => {
    const sre = await new Browser().signIn(ctx.keys.sre);
    expect(sre.status).toBe(403);
    expect(sre.html).toContain('role="alert"');
    expect(sre.html).toContain('cannot review payouts');
    const unknown = await new Browser().signIn('vgl_not-a-key');
    expect(unknown.status).toBe(401);
    expect(unknown.html).toContain('role="alert"');
    const forged = await new Browser().request('/review/sign-in', {
      method: 'POST',
      form: { key: ctx.keys.analyst },
    });
    expect(forged.status).toBe(403);
    expect(await ctx.storage.db.selectFrom('review_sessions').selectAll().execute()).toEqual([]);
  });

  it('ends the session after 30 idle minutes, when its key is revoked, and on sign-out', async () => {
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    now = new Date(now.getTime() + 29 * 60_000);
    expect((await browser.request('/review/queue')).status).toBe(200);
    now = new Date(now.getTime() + 29 * 60_000);
    expect((await browser.request('/review/queue')).status).toBe(200);
    now = new Date(now.getTime() + 31 * 60_000);
    const idle = await browser.request('/review/queue');
    expect(idle.status).toBe(303);
    expect(idle.headers.get('location')).toBe('/review/sign-in');

    const admin = new Browser();
    await admin.signIn(ctx.keys.admin);
    await revokeApiKey(ctx.storage.db, 'test-admin', { name: 'test', role: 'operator' }, now);
    expect((await admin.request('/review/queue')).status).toBe(303);

    const analyst = new Browser();
    await analyst.signIn(ctx.keys.analyst);
    const queue = await analyst.request('/review/queue');
    const out = await analyst.request('/review/sign-out', {
      method: 'POST',
      form: { _csrf: Browser.csrf(queue.html) },
    });
    expect(out.status).toBe(303);
    expect((await analyst.request('/review/queue')).status).toBe(303);
  });
});

describe('the review queue', () => {
  it('lists payouts in review riskiest first, filters them, and counts them by status', async () => {
    await payout('p-low', 'flagged', 0.62, 'medium');
    await payout('p-high', 'flagged', 0.91, 'high', 'BOT_USER_AGENTS');
    await payout('p-held', 'held', 1, 'high', 'SELF_REFERRAL');
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    const all = await browser.request('/review/queue');
    const order = [...all.html.matchAll(/href="\/review\/payouts\/([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['p-held', 'p-high', 'p-low']);
    expect(all.html).toMatch(/Flagged <strong>2<\/strong>/);
    expect(all.html).toMatch(/Held <strong>1<\/strong>/);
    expect(all.html).toContain('<label for="f-reason">Reason</label>');
    const bots = await browser.request('/review/queue?reason=BOT_USER_AGENTS');
    expect([...bots.html.matchAll(/href="\/review\/payouts\/([^"]+)"/g)].map((m) => m[1])).toEqual([
      'p-high',
    ]);
    const held = await browser.request('/review/queue?status=held&minScore=0.5');
    expect([...held.html.matchAll(/href="\/review\/payouts\/([^"]+)"/g)].map((m) => m[1])).toEqual([
      'p-held',
    ]);
    // Only the medium-risk flagged payout can be approved in bulk.
    expect([...all.html.matchAll(/name="ids" value="([^"]+)"/g)].map((m) => m[1])).toEqual(['p-low']);
  });

  it('pages with a cursor', async () => {
    for (let i = 0; i < 30; i += 1) await payout(`p-${String(i).padStart(2, '0')}`, 'flagged', 0.7, 'medium');
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    const first = await browser.request('/review/queue');
    const next = /href="(\/review\/queue\?cursor=[^"]+)"/.exec(first.html)?.[1];
    expect(next).toBeDefined();
    const second = await browser.request((next ?? '').replaceAll('&amp;', '&'));
    const ids = (html: string) => [...html.matchAll(/href="\/review\/payouts\/([^"]+)"/g)].map((m) => m[1]);
    expect(ids(first.html)).toHaveLength(25);
    expect(ids(second.html)).toHaveLength(5);
    expect(new Set([...ids(first.html), ...ids(second.html)]).size).toBe(30);
  });

  it('approves selected low-risk payouts in bulk, and refuses high-risk and held ones', async () => {
    await payout('p-a', 'flagged', 0.62, 'medium');
    await payout('p-b', 'flagged', 0.65, 'medium');
    await payout('p-c', 'held', 1, 'high', 'SELF_REFERRAL');
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    const queue = await browser.request('/review/queue');
    const csrf = Browser.csrf(queue.html);
    const ok = await browser.request('/review/bulk-approve', {
      method: 'POST',
      form: { _csrf: csrf, ids: ['p-a', 'p-b'] },
    });
    expect(ok.status).toBe(303);
    const statuses = await ctx.storage.db
      .selectFrom('payouts')
      .select(['id', 'status'])
      .orderBy('id')
      .execute();
    expect(statuses).toEqual([
      { id: 'p-a', status: 'approved' },
      { id: 'p-b', status: 'approved' },
      { id: 'p-c', status: 'held' },
    ]);
    const held = await browser.request('/review/bulk-approve', {
      method: 'POST',
      form: { _csrf: csrf, ids: 'p-c' },
    });
    expect(held.status).toBe(409);
    expect(held.html).toContain('role="alert"');
    expect(
      (
        await ctx.storage.db
          .selectFrom('payouts')
          .select('status')
          .where('id', '=', 'p-c')
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('held');
  });
});

describe('a payout page', () => {
  it('shows the payout, its reasons against peers as SVG bars, and takes a decision with a note', async () => {
    await payout('p-1', 'flagged', 0.9, 'high');
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    const page = await browser.request('/review/payouts/p-1');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>p-1</h1>');
    expect(page.html).toContain('CLICK_INJECTION');
    expect(page.html).toMatch(/<svg class="bar"[^>]*aria-label="fastConversionShare at the 99th percentile/);
    expect(page.html).toContain('<label for="note">Note</label>');
    for (const word of ['Approve', 'Reject', 'Escalate']) expect(page.html).toContain(`>${word}</button>`);
    const csrf = Browser.csrf(page.html);

    const forged = await browser.request('/review/payouts/p-1/decision', {
      method: 'POST',
      form: { decision: 'reject', note: 'x' },
    });
    expect(forged.status).toBe(403);
    const crossSite = await browser.request('/review/payouts/p-1/decision', {
      method: 'POST',
      form: { _csrf: csrf, decision: 'approve' },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const bare = await browser.request('/review/payouts/p-1/decision', {
      method: 'POST',
      form: { _csrf: csrf, decision: 'reject', note: '' },
    });
    expect(bare.status).toBe(422);
    expect(bare.html).toContain('role="alert"');
    expect(
      (
        await ctx.storage.db
          .selectFrom('payouts')
          .select('status')
          .where('id', '=', 'p-1')
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('flagged');

    const done = await browser.request('/review/payouts/p-1/decision', {
      method: 'POST',
      form: { _csrf: csrf, decision: 'reject', note: 'Sales seconds after clicks from one device' },
    });
    expect(done.status).toBe(303);
    const after = await browser.request('/review/payouts/p-1');
    expect(after.html).toContain('<strong class="state">Rejected</strong>');
    expect(after.html).toContain('<q>Sales seconds after clicks from one device</q>');
    expect(after.html).not.toContain('>Approve</button>');
  });

  it('assigns a payout to the analyst, and says so', async () => {
    await payout('p-2', 'flagged', 0.7, 'medium');
    const browser = new Browser();
    await browser.signIn(ctx.keys.analyst);
    const page = await browser.request('/review/payouts/p-2');
    const res = await browser.request('/review/payouts/p-2/assign', {
      method: 'POST',
      form: { _csrf: Browser.csrf(page.html) },
    });
    expect(res.status).toBe(303);
    expect((await browser.request('/review/payouts/p-2')).html).toContain('assigned to test-analyst');
  });

  it('answers an unknown payout with 404, and a page without a session with the sign-in page', async () => {
    const browser = new Browser();
    expect((await browser.request('/review/payouts/p-1')).headers.get('location')).toBe('/review/sign-in');
    await browser.signIn(ctx.keys.analyst);
    const missing = await browser.request('/review/payouts/nope');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('role="alert"');
  });
});
