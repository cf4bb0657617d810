import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_HEX_LENGTH = 12;

/**
 * Secrets of the form `<prefix>_<12 hex id>_<43 base64url>`: the id finds the stored row without revealing
 * anything, the SHA-256 of the whole secret proves it. Used for API keys and Faro app keys.
 */
export function generateSecretKey(prefix: string): { id: string; key: string; hash: string } {
  const id = randomBytes(ID_HEX_LENGTH / 2).toString('hex');
  const key = `${prefix}_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: sha256(key).toString('hex') };
}

/** The id part of a presented secret with this prefix, or undefined when it does not have the shape. */
export function secretKeyId(prefix: string, presented: string): string | undefined {
  const head = `${prefix}_`;
  if (!presented.startsWith(head)) return undefined;
  const id = presented.slice(head.length, head.length + ID_HEX_LENGTH);
  if (!/^[0-9a-f]{12}$/.test(id) || presented[head.length + ID_HEX_LENGTH] !== '_') return undefined;
  return id;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

// Compared against when the id matches no row, so that a miss costs the same hash-and-compare as a hit.
const DECOY_HASH = sha256('vigil-decoy-key');

/** Whether `presented` hashes to `storedHex`, compared in constant time; a missing row still costs a compare. */
export function secretMatches(presented: string, storedHex: string | undefined): boolean {
  const expected = storedHex === undefined ? DECOY_HASH : Buffer.from(storedHex, 'hex');
  const equal = expected.length === 32 && timingSafeEqual(sha256(presented), expected);
  return equal && storedHex !== undefined;
}

/** Whether two strings are equal, in time that does not depend on where they differ (tokens, signatures). */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
