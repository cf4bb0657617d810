// The review UI at /review: sign-in with an analyst or admin key, the queue, one payout, decisions, assignment
// and bulk approval. Pages send a strict Content-Security-Policy (scripts and styles from Vigil only, no
// inline script), are never cached, and every state-changing form is checked against the session's CSRF token
// and the request's origin; a post without them changes nothing.
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { authenticateApiKey } from '../../http/api-keys.ts';
import type { AppEnv } from '../../http/context.ts';
import { toProblem } from '../../http/problem.ts';
import { sameSecret } from '../../http/secret-key.ts';
import { isDomainError } from '../../storage/errors.ts';
import { createDecider, type DeciderOptions } from '../decider.ts';
import { assignToSelf, DECISIONS, type Decision, payoutView } from '../decisions.ts';
import { PayoutPage, QueuePage, SignInPage } from './pages.tsx';
import {
  earlierPayouts,
  payoutActivity,
  type QueueFilter,
  queueCounts,
  queuePage,
  queueReasons,
} from './queries.ts';
import {
  closeSession,
  currentSession,
  openSession,
  REVIEW_ROLES,
  type ReviewSession,
  SIGN_IN_COOKIE,
  signInToken,
} from './session.ts';

const ASSETS = path.join(import.meta.dirname, 'assets');
const asset = (name: string) => fs.readFileSync(path.join(ASSETS, name), 'utf8');

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Payouts above this level are never approved in bulk. */
const BULK_LEVELS = ['low', 'medium'];

export interface ReviewUiDeps extends DeciderOptions {
  /** How long a payout may wait for a decision. */
  reviewSlaHours: number;
}

type Ctx = Context<AppEnv>;

const who = (s: ReviewSession) => ({ name: s.keyName, role: s.role, csrf: s.csrf });
const reviewerOf = (s: ReviewSession) => ({ name: s.keyName, role: s.role });

/** A form post is ours: same origin when the browser says, and the session's token. */
function trustedPost(c: Ctx, expected: string | undefined, sent: unknown): boolean {
  const origin = c.req.header('origin');
  if (origin && origin !== new URL(c.req.url).origin && origin !== 'null') return false;
  return typeof sent === 'string' && sameSecret(sent, expected);
}

function filterFrom(c: Ctx): QueueFilter {
  const q = c.req.query();
  const text = (v: string | undefined, max = 128) =>
    v && v.trim() !== '' ? v.trim().slice(0, max) : undefined;
  const min = Number(q.minScore);
  const date = (v: string | undefined) => {
    const d = text(v, 10);
    return d && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d))
      ? `${d}T00:00:00.000Z`
      : undefined;
  };
  const status = q.status;
  const to = date(q.to);
  return {
    reason: text(q.reason, 40),
    status: status === 'flagged' || status === 'held' || status === 'escalated' ? status : undefined,
    affiliate: text(q.affiliate),
    campaign: text(q.campaign),
    minScore: q.minScore && Number.isFinite(min) ? Math.max(0, Math.min(1, min)) : undefined,
    from: date(q.from),
    // The "to" day is included.
    to: to ? new Date(Date.parse(to) + 86_400_000).toISOString() : undefined,
    cursor: text(q.cursor, 400),
  };
}

function filterQuery(c: Ctx): string {
  const params = new URLSearchParams();
  for (const key of ['reason', 'status', 'affiliate', 'campaign', 'minScore', 'from', 'to']) {
    const value = c.req.query(key);
    if (value) params.set(key, value);
  }
  return params.toString();
}

export function reviewUiRoutes(deps: ReviewUiDeps) {
  const css = asset('review.css');
  const js = asset('review.js');
  const decide = createDecider(deps);
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('Cache-Control', c.req.path.startsWith('/review/assets/') ? 'public, max-age=300' : 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
  });

  const session = (c: Ctx) => currentSession(c, c.var.db, deps.secret, c.var.clock());
  const toSignIn = (c: Ctx) => c.redirect('/review/sign-in', 303);

  app.get('/assets/review.css', (c) => c.body(css, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.get('/assets/review.js', (c) => c.body(js, 200, { 'content-type': 'text/javascript; charset=utf-8' }));

  app.get('/', async (c) => ((await session(c)) ? c.redirect('/review/queue', 303) : toSignIn(c)));

  app.get('/sign-in', async (c) => {
    if (await session(c)) return c.redirect('/review/queue', 303);
    return c.html(<SignInPage csrf={signInToken(c)} />);
  });

  app.post('/sign-in', async (c) => {
    const form = await c.req.parseBody();
    const refuse = (status: 401 | 403, error: string) =>
      c.html(<SignInPage csrf={signInToken(c)} error={error} />, status);
    if (!trustedPost(c, getCookie(c, SIGN_IN_COOKIE), form._csrf))
      return refuse(403, 'The form expired. Sign in again.');
    const presented = typeof form.key === 'string' ? form.key.trim() : '';
    const key = presented ? await authenticateApiKey(c.var.db, presented) : undefined;
    if (!key) return refuse(401, 'That API key is unknown or revoked.');
    if (!REVIEW_ROLES.includes(key.role))
      return refuse(
        403,
        `A key of role ${key.role} cannot review payouts: sign in with an analyst or admin key.`,
      );
    await openSession(c, c.var.db, deps.secret, key, c.var.clock());
    return c.redirect('/review/queue', 303);
  });

  app.post('/sign-out', async (c) => {
    const current = await session(c);
    const form = await c.req.parseBody();
    if (current && trustedPost(c, current.csrf, form._csrf)) await closeSession(c, c.var.db, current);
    return toSignIn(c);
  });

  const renderQueue = async (c: Ctx, s: ReviewSession, extra: { message?: string; error?: string } = {}) => {
    const filter = filterFrom(c);
    const [page, counts, reasons] = await Promise.all([
      queuePage(c.var.db, filter),
      queueCounts(c.var.db),
      queueReasons(c.var.db),
    ]);
    return (
      <QueuePage
        who={who(s)}
        rows={page.rows}
        nextCursor={page.nextCursor}
        filter={filter}
        reasons={reasons}
        counts={counts}
        slaHours={deps.reviewSlaHours}
        now={c.var.clock()}
        filterQuery={filterQuery(c)}
        {...extra}
      />
    );
  };

  app.get('/queue', async (c) => {
    const s = await session(c);
    if (!s) return toSignIn(c);
    const done = Number(c.req.query('approved'));
    const message =
      Number.isInteger(done) && done >= 0 && c.req.query('approved')
        ? `Approved ${done} payouts.`
        : undefined;
    return c.html(await renderQueue(c, s, { message }));
  });

  const renderPayout = async (
    c: Ctx,
    s: ReviewSession,
    id: string,
    extra: { error?: string; note?: string } = {},
  ) => {
    const payout = await payoutView(c.var.db, id);
    if (!payout) return undefined;
    const [activity, earlier] = await Promise.all([
      payoutActivity(c.var.db, payout),
      earlierPayouts(c.var.db, payout.affiliateId, payout.id),
    ]);
    return (
      <PayoutPage
        who={who(s)}
        payout={payout}
        activity={activity}
        earlier={earlier}
        slaHours={deps.reviewSlaHours}
        now={c.var.clock()}
        {...extra}
      />
    );
  };

  const notFound = (c: Ctx, s: ReviewSession) =>
    c.html(
      <QueuePage
        who={who(s)}
        rows={[]}
        nextCursor={null}
        filter={{}}
        reasons={[]}
        counts={{ flagged: 0, held: 0, escalated: 0, oldest: null }}
        slaHours={deps.reviewSlaHours}
        now={c.var.clock()}
        filterQuery=""
        error="No payout has this id."
      />,
      404,
    );

  app.get('/payouts/:id', async (c) => {
    const s = await session(c);
    if (!s) return toSignIn(c);
    const page = await renderPayout(c, s, c.req.param('id'));
    return page ? c.html(page) : notFound(c, s);
  });

  app.post('/payouts/:id/decision', async (c) => {
    const s = await session(c);
    if (!s) return toSignIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const note = typeof form.note === 'string' ? form.note : '';
    const fail = async (status: 403 | 404 | 409 | 422, error: string) => {
      const page = await renderPayout(c, s, id, { error, note });
      return page ? c.html(page, status) : notFound(c, s);
    };
    if (!trustedPost(c, s.csrf, form._csrf))
      return fail(403, 'The form expired or did not come from this page: nothing changed. Try again.');
    const decision = form.decision;
    if (typeof decision !== 'string' || !(DECISIONS as readonly string[]).includes(decision))
      return fail(422, 'Choose Approve, Reject or Escalate.');
    try {
      await decide(
        c.var.db,
        { payoutId: id, decision: decision as Decision, note },
        reviewerOf(s),
        c.var.clock(),
      );
      return c.redirect(`/review/payouts/${encodeURIComponent(id)}`, 303);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      return fail(toProblem(error).status as 404 | 409 | 422, error.message);
    }
  });

  app.post('/payouts/:id/assign', async (c) => {
    const s = await session(c);
    if (!s) return toSignIn(c);
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const fail = async (status: 403 | 404 | 409, error: string) => {
      const page = await renderPayout(c, s, id, { error });
      return page ? c.html(page, status) : notFound(c, s);
    };
    if (!trustedPost(c, s.csrf, form._csrf))
      return fail(403, 'The form expired or did not come from this page: nothing changed. Try again.');
    try {
      await assignToSelf(c.var.db, id, reviewerOf(s), c.var.clock());
      return c.redirect(`/review/payouts/${encodeURIComponent(id)}`, 303);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      return fail(toProblem(error).status as 404 | 409, error.message);
    }
  });

  app.post('/bulk-approve', async (c) => {
    const s = await session(c);
    if (!s) return toSignIn(c);
    const form = await c.req.parseBody({ all: true });
    if (!trustedPost(c, s.csrf, form._csrf))
      return c.html(
        await renderQueue(c, s, {
          error: 'The form expired or did not come from this page: nothing changed.',
        }),
        403,
      );
    const ids = (Array.isArray(form.ids) ? form.ids : [form.ids])
      .filter((v): v is string => typeof v === 'string')
      .slice(0, 100);
    if (ids.length === 0)
      return c.html(await renderQueue(c, s, { error: 'Select the payouts to approve first.' }), 422);
    const refused: string[] = [];
    let approved = 0;
    for (const id of ids) {
      const payout = await c.var.db
        .selectFrom('payouts as p')
        .leftJoin('fraud_scores as f', 'f.payout_id', 'p.id')
        .select(['p.status', 'f.level'])
        .where('p.id', '=', id)
        .executeTakeFirst();
      if (payout?.status !== 'flagged' || !BULK_LEVELS.includes(payout.level ?? 'high')) {
        refused.push(id);
        continue;
      }
      try {
        await decide(
          c.var.db,
          { payoutId: id, decision: 'approve', note: 'Approved in bulk from the review queue' },
          reviewerOf(s),
          c.var.clock(),
        );
        approved += 1;
      } catch (error) {
        if (!isDomainError(error)) throw error;
        refused.push(id);
      }
    }
    if (refused.length > 0)
      return c.html(
        await renderQueue(c, s, {
          message: `Approved ${approved} payouts.`,
          error: `Not approved (held, high risk or already decided): ${refused.join(', ')}.`,
        }),
        409,
      );
    return c.redirect(`/review/queue?approved=${approved}`, 303);
  });

  return app;
}
