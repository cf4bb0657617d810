import { hash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { ONE_BLOCK_MESSAGE_BYTES, SHA256_IV, Sha256Block } from './sha256-block.ts';

/** The kinds of identifier hashed; the kind is part of the hash, so equal strings of two kinds differ. */
export type IdentifierKind = 'ip' | 'email' | 'device' | 'account' | 'subject';

/**
 * A keyed hash of a personal identifier (IP, email, device id): equal inputs match, but without the secret
 * the value cannot be recovered or confirmed by guessing. 128 bits, hex: the first half of
 * HMAC-SHA256(secret, "<kind>:<value>").
 */
export function hashIdentifier(secret: Buffer, kind: IdentifierKind, value: string): string {
  const normalised = kind === 'email' ? normaliseEmail(value) : value.trim();
  return hmacFor(secret).hex128(`${kind}:${normalised}`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is meant
const ASCII = /^[\x00-\x7f]*$/;

/**
 * The one form of an email address that is hashed, whoever gives it (a DPO's request, the scrubber of logs and
 * telemetry): trimmed, NFC, lower case, an internationalised domain in its ASCII (punycode) form, so
 * `bob@bücher.de` and `bob@xn--bcher-kva.de` are one address. An ASCII address is only trimmed and lowercased,
 * as it always was, so hashes stored before stay findable.
 */
function normaliseEmail(email: string): string {
  const lower = email.trim().toLowerCase();
  if (ASCII.test(lower)) return lower;
  const value = email.trim().normalize('NFC').toLowerCase();
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const domain = value.slice(at + 1);
  // domainToASCII answers '' for a domain it cannot convert: the Unicode form is then the best there is.
  const ascii = domainToASCII(domain);
  return `${value.slice(0, at)}@${ascii === '' ? domain : ascii.toLowerCase()}`;
}

/**
 * What stands for a subject id where consent asks for minimisation: `sub:` and the keyed hash of the id. The same
 * subject keeps linking its rows, and erasure finds them by computing this again, so it is built here only.
 */
export function subjectPseudonym(secret: Buffer, subjectId: string): string {
  return `sub:${hashIdentifier(secret, 'subject', subjectId)}`;
}

const BLOCK = 64;
const SHA256_BYTES = 32;
/** Messages up to this many bytes are hashed in place; longer ones get a buffer of their own. */
const INLINE_MESSAGE_BYTES = 1024;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function wordHex(word: number): string {
  return (
    (HEX[word >>> 24] as string) +
    (HEX[(word >>> 16) & 0xff] as string) +
    (HEX[(word >>> 8) & 0xff] as string) +
    (HEX[word & 0xff] as string)
  );
}

/**
 * HMAC-SHA256 (RFC 2104) with the key's pads prepared once per secret. It runs on every ingested event (each
 * IP is hashed). A message that fits one SHA-256 block (an IP with its prefix does) costs two compressions
 * from the pads' precomputed states, about half the time of two one-shot `crypto.hash` calls, which is how
 * longer messages are hashed. Both give HMAC-SHA256 exactly (checked against `createHmac` in the tests).
 */
class Hmac {
  readonly #inner = Buffer.alloc(BLOCK + INLINE_MESSAGE_BYTES);
  readonly #outer = Buffer.alloc(BLOCK + SHA256_BYTES);
  /** The hash states after the inner and the outer pad block. */
  readonly #innerState = new Int32Array(8);
  readonly #outerState = new Int32Array(8);
  readonly #block = new Sha256Block();
  readonly #lastBlock = Buffer.alloc(BLOCK);
  readonly #digest = new Int32Array(8);

  constructor(secret: Buffer) {
    const key = Buffer.alloc(BLOCK);
    (secret.length > BLOCK ? hash('sha256', secret, 'buffer') : secret).copy(key);
    for (let i = 0; i < BLOCK; i += 1) {
      this.#inner[i] = (key[i] as number) ^ 0x36;
      this.#outer[i] = (key[i] as number) ^ 0x5c;
    }
    this.#block.load(this.#inner);
    this.#block.compress(SHA256_IV, this.#innerState);
    this.#block.load(this.#outer);
    this.#block.compress(SHA256_IV, this.#outerState);
  }

  /** The first 128 bits of HMAC-SHA256(key, message), in hex. */
  hex128(message: string): string {
    if (message.length > ONE_BLOCK_MESSAGE_BYTES) return this.#hexLong(message).slice(0, 32);
    const length = Buffer.byteLength(message);
    if (length > ONE_BLOCK_MESSAGE_BYTES) return this.#hexLong(message).slice(0, 32);
    // Inner hash: the message, padded, after the inner pad block (64 bytes already hashed).
    const last = this.#lastBlock;
    last.fill(0);
    last.write(message, 0, 'utf8');
    last[length] = 0x80;
    last.writeUInt16BE((BLOCK + length) * 8, BLOCK - 2);
    const block = this.#block;
    block.load(last);
    block.compress(this.#innerState, this.#digest);
    // Outer hash: the inner digest, padded, after the outer pad block (64 + 32 bytes in all).
    const words = block.words;
    words.set(this.#digest);
    words[8] = 0x80000000 | 0;
    words.fill(0, 9, 15);
    words[15] = (BLOCK + SHA256_BYTES) * 8;
    block.compress(this.#outerState, this.#digest);
    const d = this.#digest;
    return (
      wordHex(d[0] as number) + wordHex(d[1] as number) + wordHex(d[2] as number) + wordHex(d[3] as number)
    );
  }

  #hexLong(message: string): string {
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
  const v4 = ipv4Network(value);
  if (v4 !== undefined) return v4;
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

const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The /24 of a dotted-quad IPv4 address (`203.0.113.0/24`), or undefined for anything else: four decimal parts
 * of 0–255 without leading zeros, as `isIPv4` accepts them (tested against it). One scan of the string; it
 * runs for every ingested event.
 */
export function ipv4Network(ip: string): string | undefined {
  if (ip.length < 7 || ip.length > 15) return undefined;
  let dots = 0;
  let lastDot = -1;
  let partStart = 0;
  let part = 0;
  for (let i = 0; i <= ip.length; i += 1) {
    const code = i < ip.length ? ip.charCodeAt(i) : DOT;
    if (code === DOT) {
      const digits = i - partStart;
      if (digits === 0 || part > 255 || (digits > 1 && ip.charCodeAt(partStart) === ZERO)) return undefined;
      if (i < ip.length) {
        dots += 1;
        lastDot = i;
      }
      partStart = i + 1;
      part = 0;
    } else if (code >= ZERO && code <= NINE && i - partStart < 3) {
      part = part * 10 + (code - ZERO);
    } else return undefined;
  }
  return dots === 3 ? `${ip.slice(0, lastDot)}.0/24` : undefined;
}
