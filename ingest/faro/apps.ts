import type { Kysely } from 'kysely';
import { generateSecretKey, secretKeyId, secretMatches } from '../../http/secret-key.ts';
import type { FaroAppRow } from '../../storage/faro.table.ts';
import {
  type Actor,
  appendAudit,
  ConflictError,
  type Database,
  InvalidInputError,
  NotFoundError,
} from '../../storage/index.ts';

const KEY_PREFIX = 'vfa';

/** A registered browser app (its key is shown once, at creation). */
export interface FaroApp {
  id: string;
  name: string;
  origins: string[];
  createdAt: string;
  revokedAt: string | null;
}

function toApp(row: FaroAppRow): FaroApp {
  return {
    id: row.id,
    name: row.name,
    origins: JSON.parse(row.origins) as string[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** `scheme://host[:port]`, lower-cased, nothing else: the form browsers send in `Origin`. */
function normaliseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (
    url.username ||
    url.password ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  ) {
    return undefined;
  }
  return url.origin;
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Registers an app with its allowed origins and audits it; returns the key, which is stored only hashed. */
export async function createFaroApp(
  db: Kysely<Database>,
  input: { name: string; origins: string[] },
  actor: Actor,
  now: Date,
): Promise<{ key: string; app: FaroApp }> {
  if (!APP_NAME.test(input.name)) {
    throw new InvalidInputError('expected 1-64 letters, digits, dots, dashes or underscores as the name');
  }
  const origins = input.origins.map((o) => ({ given: o, origin: normaliseOrigin(o) }));
  const bad = origins.find((o) => o.origin === undefined);
  if (bad || origins.length === 0) {
    throw new InvalidInputError(
      bad ? `${bad.given} is not an origin (scheme://host[:port])` : 'an app needs at least one origin',
    );
  }
  const { id, key, hash } = generateSecretKey(KEY_PREFIX);
  const row = await db.transaction().execute(async (trx) => {
    const taken = await trx
      .selectFrom('faro_apps')
      .select('id')
      .where('name', '=', input.name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (taken) throw new ConflictError(`a live app named "${input.name}" already exists`);
    const inserted = await trx
      .insertInto('faro_apps')
      .values({
        id,
        name: input.name,
        key_hash: hash,
        origins: JSON.stringify([...new Set(origins.map((o) => o.origin))]),
        created_at: now.toISOString(),
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(
      trx,
      actor,
      {
        action: 'faro_app.create',
        target: `faro_app:${id}`,
        detail: { name: input.name, origins: JSON.parse(inserted.origins) },
      },
      now,
    );
    return inserted;
  });
  return { key, app: toApp(row) };
}

export async function listFaroApps(
  db: Kysely<Database>,
  options: { includeRevoked: boolean },
): Promise<FaroApp[]> {
  let q = db.selectFrom('faro_apps').selectAll().orderBy('created_at').orderBy('id');
  if (!options.includeRevoked) q = q.where('revoked_at', 'is', null);
  return (await q.execute()).map(toApp);
}

export async function revokeFaroApp(
  db: Kysely<Database>,
  name: string,
  actor: Actor,
  now: Date,
): Promise<FaroApp> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('faro_apps')
      .set({ revoked_at: now.toISOString() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`no live app is named "${name}"`);
    await appendAudit(
      trx,
      actor,
      { action: 'faro_app.revoke', target: `faro_app:${row.id}`, detail: { name } },
      now,
    );
    return toApp(row);
  });
}

/** The live app a presented key belongs to, or undefined; the hash is compared in constant time. */
export async function authenticateFaroApp(
  db: Kysely<Database>,
  presented: string,
): Promise<FaroApp | undefined> {
  const id = secretKeyId(KEY_PREFIX, presented);
  const row = id
    ? await db.selectFrom('faro_apps').selectAll().where('id', '=', id).executeTakeFirst()
    : undefined;
  if (!secretMatches(presented, row?.key_hash) || !row || row.revoked_at !== null) return undefined;
  return toApp(row);
}

/** Every origin some live app allows: what a preflight without an app key in its path is checked against. */
export async function allLiveOrigins(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('faro_apps').select('origins').where('revoked_at', 'is', null).execute();
  return new Set(rows.flatMap((r) => JSON.parse(r.origins) as string[]));
}
