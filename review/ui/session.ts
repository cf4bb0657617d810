// Sessions of the review UI: an analyst or admin key signs in once; the browser then holds only a random token
// in an HttpOnly, SameSite=Strict cookie. The database keeps the token's keyed hash, the key it came from (a
// revoked key ends its sessions), a CSRF token for the session's forms, and an expiry pushed back by each
// request until the session has been idle too long.
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Kysely } from 'kysely';
import type { Role } from '../../http/roles.ts';
import type { Database } from '../../storage/index.ts';

const SESSION_COOKIE = 'vigil_review';
/** Sign-in happens before a session: its form's CSRF token is checked against this cookie (double submit). */
export const SIGN_IN_COOKIE = 'vigil_review_signin';
/** A session ends after this long without a request. */
const IDLE_MS = 30 * 60 * 1000;
/** And after this long in any case. */
const MAX_AGE_MS = 12 * 60 * 60 * 1000;

/** Roles that may use the review UI. */
export const REVIEW_ROLES: readonly Role[] = ['analyst', 'admin'];

export interface ReviewSession {
  id: string;
  keyName: string;
  role: Role;
  csrf: string;
}

const token = () => randomBytes(32).toString('base64url');
const hashOf = (secret: Buffer, value: string) =>
  createHmac('sha256', secret).update(`review-session:${value}`).digest('hex');

/** Cookies are Secure when the request came over HTTPS (directly, or through a proxy that says so). */
function secure(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

function cookieOptions(c: Context, maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: secure(c),
    path: '/review',
    maxAge: maxAgeSeconds,
  };
}

/** Opens a session for a key and sets its cookie. */
export async function openSession(
  c: Context,
  db: Kysely<Database>,
  secret: Buffer,
  key: { id: string; name: string; role: Role },
  now: Date,
): Promise<void> {
  const value = token();
  await pruneSessions(db, now);
  await db
    .insertInto('review_sessions')
    .values({
      id: hashOf(secret, value),
      key_id: key.id,
      key_name: key.name,
      role: key.role,
      csrf: token(),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: new Date(now.getTime() + IDLE_MS).toISOString(),
    })
    .execute();
  setCookie(c, SESSION_COOKIE, value, cookieOptions(c, MAX_AGE_MS / 1000));
  deleteCookie(c, SIGN_IN_COOKIE, { path: '/review' });
}

/**
 * The request's live session, its expiry pushed back; undefined when there is none, it expired (idle or too
 * old), or its key was revoked (then it is removed).
 */
export async function currentSession(
  c: Context,
  db: Kysely<Database>,
  secret: Buffer,
  now: Date,
): Promise<ReviewSession | undefined> {
  const value = getCookie(c, SESSION_COOKIE);
  if (!value || value.length > 100) return undefined;
  const id = hashOf(secret, value);
  const row = await db
    .selectFrom('review_sessions as s')
    .leftJoin('api_keys as k', 'k.id', 's.key_id')
    .select(['s.id', 's.key_name', 's.role', 's.csrf', 's.created_at', 's.expires_at', 'k.revoked_at'])
    .where('s.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const expired =
    row.expires_at <= now.toISOString() ||
    Date.parse(row.created_at) + MAX_AGE_MS <= now.getTime() ||
    row.revoked_at !== null ||
    !REVIEW_ROLES.includes(row.role as Role);
  if (expired) {
    await db.deleteFrom('review_sessions').where('id', '=', id).execute();
    return undefined;
  }
  await db
    .updateTable('review_sessions')
    .set({ last_seen_at: now.toISOString(), expires_at: new Date(now.getTime() + IDLE_MS).toISOString() })
    .where('id', '=', id)
    .execute();
  return { id, keyName: row.key_name, role: row.role as Role, csrf: row.csrf };
}

export async function closeSession(c: Context, db: Kysely<Database>, session: ReviewSession): Promise<void> {
  await db.deleteFrom('review_sessions').where('id', '=', session.id).execute();
  deleteCookie(c, SESSION_COOKIE, { path: '/review' });
}

/** The sign-in form's CSRF token: the one in its cookie, or a new one set now. */
export function signInToken(c: Context): string {
  const existing = getCookie(c, SIGN_IN_COOKIE);
  if (existing && existing.length <= 100) return existing;
  const value = token();
  setCookie(c, SIGN_IN_COOKIE, value, cookieOptions(c, 3600));
  return value;
}

/** Removes sessions that have expired: each sign-in clears them, so the table holds live sessions only. */
async function pruneSessions(db: Kysely<Database>, now: Date): Promise<void> {
  await db.deleteFrom('review_sessions').where('expires_at', '<=', now.toISOString()).execute();
}
