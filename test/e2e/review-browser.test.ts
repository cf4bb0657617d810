// The fraud analysts' review UI in Debian's headless Chromium, driven by playwright-core, against a real Vigil
// process filled over HTTP with a simulated influencer campaign: sign-in and its refusals, the queue's filters,
// decisions with their audit trail, the keyboard shortcuts, forged posts and expired sessions, the security
// headers as the browser sees them, and full-page screenshots of the queue and of a payout for a person to look at.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FillSummary, fillCampaign } from '../../demo/fill-campaign.ts';
import { createVigilClient } from '../../demo/vigil-client.ts';
import { createApiKey } from '../../http/api-keys.ts';
import { migrateToLatest } from '../../storage/index.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium.ts';
import { tempDataDir } from '../harness.ts';
import { ROOT, type ServerProcess, startServerProcess } from '../processes.ts';
import { databaseEnv, openServerStorage } from '../server-database.ts';

const ARTIFACTS = path.join(ROOT, 'test/e2e/artifacts');
const ROLES = ['admin', 'ingest', 'analyst', 'sre'] as const;
const keyName = (role: (typeof ROLES)[number]) => `e2e-${role}`;

const dataDir = tempDataDir();
const keys = {} as Record<(typeof ROLES)[number], string>;
let vigil: ServerProcess;
let browser: Browser;
let summary: FillSummary;
let contexts: BrowserContext[] = [];

/** What `GET /v1/payouts/:id` says of a payout's status and review. */
interface PayoutState {
  status: string;
  review: { status: string; note: string | null; decidedBy: string | null };
}

beforeAll(async () => {
  const storage = await openServerStorage(dataDir);
  await migrateToLatest(storage.db);
  for (const role of ROLES) {
    keys[role] = (
      await createApiKey(
        storage.db,
        { name: keyName(role), role },
        { name: 'e2e', role: 'operator' },
        new Date(),
      )
    ).key;
  }
  await storage.close();
  vigil = await startServerProcess({ VIGIL_DATA_DIR: dataDir, ...(await databaseEnv(dataDir)) });
  [summary, browser] = await Promise.all([
    fillCampaign(createVigilClient(vigil.baseUrl), { admin: keys.admin, ingest: keys.ingest }, { seed: 7 }),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
  ]);
}, 120_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  vigil?.child.kill('SIGTERM');
  await vigil?.exited;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A page in a browser context of its own: no cookies from any other test. */
async function freshPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts = [...contexts, context];
  return context.newPage();
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${vigil.baseUrl}/review/sign-in`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

async function signedInAnalyst(): Promise<Page> {
  const page = await freshPage();
  await signIn(page, keys.analyst);
  await page.waitForURL(`${vigil.baseUrl}/review/queue`);
  return page;
}

async function payoutState(id: string): Promise<PayoutState> {
  const res = await fetch(`${vigil.baseUrl}/v1/payouts/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${keys.analyst}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as PayoutState;
}

/** The queue's rows as the analyst reads them: payout id, reasons and status columns. */
async function queueRows(page: Page): Promise<{ id: string; reasons: string; status: string }[]> {
  return page.locator('tr[data-row]').evaluateAll((rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')].map((td) => td.textContent?.trim() ?? '');
      return { id: cells[1] ?? '', reasons: cells[5] ?? '', status: cells[6] ?? '' };
    }),
  );
}

/** The first payout the queue still shows, by opening the queue in this page. */
async function firstWaitingPayout(page: Page): Promise<string> {
  await page.goto(`${vigil.baseUrl}/review/queue`);
  const [first] = await queueRows(page);
  if (!first) throw new Error('the review queue is empty');
  return first.id;
}

describe('the review UI in headless Chromium (end to end)', () => {
  it('lets an analyst filter the queue by reason, refuses a rejection without a note, then rejects with one', async () => {
    const page = await signedInAnalyst();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Review queue');

    // A reason that some payouts in review have and others do not, so the filter visibly narrows the queue.
    const offered = await page
      .getByLabel('Reason')
      .locator('option')
      .evaluateAll((options) => options.map((o) => o.getAttribute('value') ?? '').filter((v) => v !== ''));
    const reason =
      offered.find((r) => summary.review.some((item) => !item.reasons.includes(r))) ?? offered[0] ?? '';
    expect(reason).not.toBe('');
    await page.getByLabel('Reason').selectOption(reason);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/[?&]reason=/);

    const rows = await queueRows(page);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.reasons.split(', ')).toContain(reason);
    expect(rows.map((r) => r.id).sort()).toEqual(
      summary.review
        .filter((item) => item.reasons.includes(reason))
        .map((item) => item.payoutId)
        .sort(),
    );

    const id = rows[0]?.id ?? '';
    await page.getByRole('link', { name: id, exact: true }).click();
    await page.waitForURL(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(id)}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(id);

    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/note is required/);
    const refused = await payoutState(id);
    expect(['flagged', 'held']).toContain(refused.status);
    expect(refused.review.status).toBe('pending');

    const note = 'Sales seconds after their clicks, all from one device model';
    await page.getByLabel('Note').fill(note);
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('strong.state', { hasText: 'Rejected' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const trail = page.locator('h2:text-is("Audit trail") + ol > li');
    const decided = trail.filter({ hasText: 'Rejected' });
    await expect(decided.textContent()).resolves.toContain(note);
    await expect(decided.textContent()).resolves.toContain(keyName('analyst'));

    const after = await payoutState(id);
    expect(after.status).toBe('rejected');
    expect(after.review).toMatchObject({ status: 'rejected', decidedBy: keyName('analyst'), note });

    const audit = await fetch(`${vigil.baseUrl}/v1/audit?action=payout.reject&limit=1000`, {
      headers: { authorization: `Bearer ${keys.admin}` },
    });
    expect(audit.status).toBe(200);
    const { items } = (await audit.json()) as { items: { action: string; target: string; actor: string }[] };
    expect(items).toContainEqual(
      expect.objectContaining({ action: 'payout.reject', target: `payout:${id}`, actor: keyName('analyst') }),
    );
  }, 60_000);

  it('works from the keyboard: help, moving through the queue, opening, approving and searching', async () => {
    const page = await signedInAnalyst();
    await page.goto(`${vigil.baseUrl}/review/queue?status=flagged`);
    const rows = await queueRows(page);
    expect(rows.length).toBeGreaterThanOrEqual(2);

    const help = page.locator('dialog#help');
    await page.keyboard.press('?');
    expect(await help.isVisible()).toBe(true);
    expect(await help.textContent()).toContain('j / k');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const selected = await page
      .locator('tr[data-row]')
      .evaluateAll((all) => all.map((row) => row.classList.contains('selected')));
    expect(selected.slice(0, 2)).toEqual([false, true]);
    expect(selected.filter(Boolean)).toHaveLength(1);
    const second = rows[1]?.id ?? '';
    expect(await page.locator(':focus').textContent()).toBe(second);
    expect((await payoutState(second)).status).toBe('flagged');

    await page.keyboard.press('Enter');
    await page.waitForURL(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(second)}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(second);

    // "r" with no note written asks for the note instead of rejecting.
    await page.keyboard.press('r');
    expect(await page.getByLabel('Note').evaluate((el) => el.matches(':focus'))).toBe(true);
    expect((await payoutState(second)).review.status).toBe('pending');
    await page.getByLabel('Note').blur();

    await page.keyboard.press('a');
    await page.locator('strong.state', { hasText: 'Approved' }).waitFor();
    const approved = await payoutState(second);
    expect(approved.status).toBe('approved');
    expect(approved.review).toMatchObject({ status: 'approved', decidedBy: keyName('analyst') });

    await page.goto(`${vigil.baseUrl}/review/queue`);
    await page.keyboard.press('/');
    const affiliate = page.getByLabel('Affiliate');
    expect(await affiliate.evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(await affiliate.inputValue()).toBe('');
  }, 60_000);

  it('refuses an sre key, a forged post and an expired session, and signs out', async () => {
    const sre = await freshPage();
    await signIn(sre, keys.sre);
    await sre.getByRole('alert').waitFor();
    expect(await sre.getByRole('alert').textContent()).toContain('cannot review payouts');
    expect((await sre.context().cookies()).map((c) => c.name)).not.toContain('vigil_review');
    await sre.goto(`${vigil.baseUrl}/review/queue`);
    expect(sre.url()).toBe(`${vigil.baseUrl}/review/sign-in`);
    await expect(sre.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');

    const page = await signedInAnalyst();
    const id = await firstWaitingPayout(page);
    await page.goto(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(id)}`);
    const before = await payoutState(id);
    // A script in the page cannot post at all: the policy has no connect-src, so fetch stops in the browser.
    const fetched = await page.evaluate(async (target) => {
      try {
        const res = await fetch(`/review/payouts/${encodeURIComponent(target)}/decision`, {
          method: 'POST',
          body: new URLSearchParams({ decision: 'approve' }),
        });
        return res.status;
      } catch {
        return 'refused by the browser';
      }
    }, id);
    expect(fetched).toBe('refused by the browser');
    // A form posted from the page without the session's token reaches Vigil, which refuses it.
    await page.locator('form.decide input[name="_csrf"]').evaluate((input) => input.remove());
    const [forged] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/decision')),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    expect(forged.status()).toBe(403);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('nothing changed');
    expect(await payoutState(id)).toEqual(before);
    expect(before.review.status).toBe('pending');

    await page.goto(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(id)}`);
    // Half an hour idle, as the session table sees it.
    const storage = await openServerStorage(dataDir);
    try {
      await storage.db
        .updateTable('review_sessions')
        .set({ expires_at: new Date(Date.now() - 60_000).toISOString() })
        .execute();
    } finally {
      await storage.close();
    }
    await page.reload();
    expect(page.url()).toBe(`${vigil.baseUrl}/review/sign-in`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');

    const leaving = await signedInAnalyst();
    await leaving.getByRole('button', { name: 'Sign out' }).click();
    await leaving.waitForURL(`${vigil.baseUrl}/review/sign-in`);
    expect((await leaving.context().cookies()).map((c) => c.name)).not.toContain('vigil_review');
    await leaving.goto(`${vigil.baseUrl}/review/queue`);
    expect(leaving.url()).toBe(`${vigil.baseUrl}/review/sign-in`);
  }, 60_000);

  it('sends a Content-Security-Policy without unsafe-inline, and the pages load nothing from elsewhere', async () => {
    const page = await signedInAnalyst();
    const requested: string[] = [];
    const refused: string[] = [];
    page.on('request', (request) => {
      requested.push(request.url());
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) refused.push(message.text());
    });

    const queue = await page.goto(`${vigil.baseUrl}/review/queue`);
    const queuePolicy = queue?.headers()['content-security-policy'] ?? '';
    expect(queuePolicy).toMatch(/script-src 'self'/);
    expect(queuePolicy).not.toContain('unsafe-inline');

    const [first] = await queueRows(page);
    const payout = await page.goto(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(first?.id ?? '')}`);
    expect(payout?.status()).toBe(200);
    const payoutPolicy = payout?.headers()['content-security-policy'] ?? '';
    expect(payoutPolicy).toMatch(/style-src 'self'/);
    expect(payoutPolicy).not.toContain('unsafe-inline');
    await page.waitForLoadState('load');

    expect(requested.length).toBeGreaterThanOrEqual(4);
    expect(requested.filter((url) => !url.startsWith(`${vigil.baseUrl}/`))).toEqual([]);
    expect(requested).toContain(`${vigil.baseUrl}/review/assets/review.js`);
    expect(refused).toEqual([]);
  }, 60_000);

  it('renders the queue and a payout as full-page screenshots', async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const page = await signedInAnalyst();
    const queueFile = path.join(ARTIFACTS, 'review-queue.png');
    const payoutFile = path.join(ARTIFACTS, 'review-payout.png');
    fs.rmSync(queueFile, { force: true });
    fs.rmSync(payoutFile, { force: true });

    const id = await firstWaitingPayout(page);
    await page.screenshot({ path: queueFile, fullPage: true });
    await page.goto(`${vigil.baseUrl}/review/payouts/${encodeURIComponent(id)}`);
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await page.screenshot({ path: payoutFile, fullPage: true });

    expect(fs.statSync(queueFile).size).toBeGreaterThan(0);
    expect(fs.statSync(payoutFile).size).toBeGreaterThan(0);
  }, 60_000);
});
