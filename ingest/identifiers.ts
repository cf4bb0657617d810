import { hash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** The kinds of identifier hashed; the kind is part of the hash, so equal strings of two kinds differ. */
export type IdentifierKind = 'ip' | 'email' | 'device' | 'account' | 'subject';

/**
 * A keyed hash of a personal identifier (IP, email, device id): equal inputs match, but without the secret
 * the value cannot be recovered or confirmed by guessing. 128 bits, hex: the first half of
 * HMAC-SHA256(secret, "<kind>:<value>").
 */
export function hashIdentifier(secret: Buffer, kind: IdentifierKind, value: string): string {
  const normalised = kind === 'email' ? value.trim().toLowerCase() : value.trim();
  return hmacFor(secret).hex(`${kind}:${normalised}`).slice(0, 32);
}

const BLOCK = 64;
const SHA256_BYTES = 32;
/** Messages up to this many bytes are hashed in place; longer ones get a buffer of their own. */
const INLINE_MESSAGE_BYTES = 1024;

/**
 * HMAC-SHA256 (RFC 2104) as two one-shot hashes over key pads prepared once per secret. It runs on every
 * ingested event (each IP is hashed), where building an Hmac object per call costs about twice as much.
 */
class Hmac {
  readonly #inner = Buffer.alloc(BLOCK + INLINE_MESSAGE_BYTES);
  readonly #outer = Buffer.alloc(BLOCK + SHA256_BYTES);

  constructor(secret: Buffer) {
    const key = Buffer.alloc(BLOCK);
    (secret.length > BLOCK ? hash('sha256', secret, 'buffer') : secret).copy(key);
    for (let i = 0; i < BLOCK; i += 1) {
      this.#inner[i] = (key[i] as number) ^ 0x36;
      this.#outer[i] = (key[i] as number) ^ 0x5c;
    }
  }

  hex(message: string): string {
    const length = Buffer.byteLength(message);
    const inner =
      length <= INLINE_MESSAGE_BYTES
        ? this.#inner.subarray(0, BLOCK + this.#inner.write(message, BLOCK))
        : Buffer.concat([this.#inner.subarray(0, BLOCK), Buffer.from(message)]);
    hash('sha256', inner, 'buffer').copy(this.#outer, BLOCK);
    return hash('sha256', this.#outer, 'hex');
  }
}

const hmacs = new WeakMap<Buffer, Hmac>();

function hmacFor(secret: Buffer): Hmac {
  let hmac = hmacs.get(secret);
  if (!hmac) {
    hmac = new Hmac(secret);
    hmacs.set(secret, hmac);
  }
  return hmac;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an embedded IPv4 tail as two groups). */
export function expandIPv6(ip: string): number[] | undefined {
  const [head = '', tail] = ip.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  let groups = [...parse(head)];
  const tailGroups = tail === undefined ? [] : parse(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = tailGroups.at(-1) ?? groups.at(-1);
  const v4 = last && isIPv4(last) ? last : undefined;
  if (v4) {
    const octets = v4.split('.').map(Number);
    const hex = [((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)];
    const replace = (arr: string[]) => [...arr.slice(0, -1), ...hex.map((h) => h.toString(16))];
    if (tailGroups.length > 0) tailGroups.splice(0, tailGroups.length, ...replace(tailGroups));
    else groups = replace(groups);
  }
  const missing = 8 - groups.length - tailGroups.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const all = [...groups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return all.map((g) => Number.parseInt(g, 16));
}

/**
 * The network an IP belongs to, coarse enough not to single out a person: IPv4 /24 (`203.0.113.0/24`),
 * IPv6 /48 (`2001:db8:1::/48`); IPv4-mapped IPv6 counts as IPv4. Undefined for anything that is not an IP.
 */
export function truncateIp(ip: string): string | undefined {
  const value = ip.trim();
  if (isIPv4(value)) {
    const [a, b, c] = value.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (!isIPv6(value)) return undefined;
  const groups = expandIPv6(value.split('%')[0] ?? value);
  if (!groups) return undefined;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const hi = groups[6] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${(groups[7] ?? 0) >> 8}.0/24`;
  }
  return `${groups
    .slice(0, 3)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}
