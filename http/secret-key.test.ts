import { describe, expect, it } from 'vitest';
import { generateSecretKey, sameSecret, secretKeyId, secretMatches } from './secret-key.ts';

describe('secret keys', () => {
  it('are found by their id and proven by their hash', () => {
    const { id, key, hash } = generateSecretKey('vgl');
    expect(secretKeyId('vgl', key)).toBe(id);
    expect(secretKeyId('app', key)).toBeUndefined();
    expect(secretMatches(key, hash)).toBe(true);
    expect(secretMatches(`${key}x`, hash)).toBe(false);
    expect(secretMatches(key, undefined)).toBe(false);
  });

  it('compare tokens whole: equal only when both are there and the same', () => {
    expect(sameSecret('a-token', 'a-token')).toBe(true);
    expect(sameSecret('a-token', 'a-tokeN')).toBe(false);
    expect(sameSecret('a-token', 'a-token-longer')).toBe(false);
    expect(sameSecret('', '')).toBe(false);
    expect(sameSecret(undefined, 'a-token')).toBe(false);
  });
});
