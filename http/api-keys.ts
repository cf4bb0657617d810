import type { CompiledQuery, Kysely } from 'kysely';
import { type Actor, type ApiKeyRow, appendAudit, type Database } from '../storage/index.ts';
import { ProblemError } from './problem.ts';
import type { Role } from './roles.ts';
import { generateSecretKey, secretKeyId, secretMatches } from './secret-key.ts';

const KEY_PREFIX = 'vgl';

/** An API key's metadata; the secret itself is shown once, at creation, and never stored. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
}

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role as Role,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** Creates a key and audits it in one transaction. Returns the secret, which is not kept anywhere. */
export async function createApiKey(
  db: Kysely<Database>,
  input: { name: string; role: Role },
  actor: Actor,
  now: Date,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const { id, key, hash } = generateSecretKey(KEY_PREFIX);
  const row = await db.transaction().execute(async (trx) => {
    const taken = await trx
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', input.name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (taken) throw new ProblemError('conflict', `a live API key named "${input.name}" already exists`);
    const inserted = await trx
      .insertInto('api_keys')
      .values({
        id,
        name: input.name,
        role: input.role,
        hash,
        created_at: now.toISOString(),
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(
      trx,
      actor,
      { action: 'api_key.create', target: `api_key:${id}`, detail: { name: input.name, role: input.role } },
      now,
    );
    return inserted;
  });
  return { key, info: toInfo(row) };
}

export async function listApiKeys(
  db: Kysely<Database>,
  options: { includeRevoked: boolean },
): Promise<ApiKeyInfo[]> {
  let q = db.selectFrom('api_keys').selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc');
  if (!options.includeRevoked) q = q.where('revoked_at', 'is', null);
  return (await q.execute()).map(toInfo);
}

/** Revokes the live key with this name and audits it; a revoked key is refused from the next request on. */
export async function revokeApiKey(
  db: Kysely<Database>,
  name: string,
  actor: Actor,
  now: Date,
): Promise<ApiKeyInfo> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('api_keys')
      .set({ revoked_at: now.toISOString() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new ProblemError('not-found', `no live API key is named "${name}"`);
    await appendAudit(
      trx,
      actor,
      { action: 'api_key.revoke', target: `api_key:${row.id}`, detail: { name } },
      now,
    );
    return toInfo(row);
  });
}

// The key lookup runs on every authenticated request. It is compiled once per database (in its dialect's SQL)
// and run with the id as its only parameter, instead of building and compiling the same query each time.
const keyLookups = new WeakMap<Kysely<Database>, CompiledQuery<ApiKeyRow>>();

function keyLookup(db: Kysely<Database>, id: string): CompiledQuery<ApiKeyRow> {
  let compiled = keyLookups.get(db);
  if (!compiled) {
    compiled = db.selectFrom('api_keys').selectAll().where('id', '=', id).compile();
    keyLookups.set(db, compiled);
  }
  return { ...compiled, parameters: [id] };
}

/** The live key a presented secret belongs to, or undefined. The hash comparison runs in constant time. */
export async function authenticateApiKey(
  db: Kysely<Database>,
  presented: string,
): Promise<ApiKeyInfo | undefined> {
  const id = secretKeyId(KEY_PREFIX, presented);
  const row = id ? (await db.executeQuery(keyLookup(db, id))).rows[0] : undefined;
  if (!secretMatches(presented, row?.hash) || !row || row.revoked_at !== null) return undefined;
  return toInfo(row);
}
