import type { Selectable } from 'kysely';

/** One API key. Only the SHA-256 of the secret is stored; `id` is the public part of the key. */
export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
