import { isIPv6 } from 'node:net';
import { expandIPv6, hashIdentifier, truncateIp } from '../storage/identifiers.ts';

/*
 * Email addresses, as they appear in logs, URLs and free text. Every quantifier is bounded and every alternation
 * is decided by its first character, so a match attempt costs a constant and a scan is linear in the text.
 *
 * The local part takes letters, digits and marks of any script, `.`, `_`, `+`, `-`, and an apostrophe between
 * letters (o'brien). The other characters RFC 5322 allows (`! # $ & * / = ? ^ { | } ~`) end it: in logs they far more often
 * separate an address from what precedes it (`email=…`, `/users/…`) than belong to it.
 * Percent-encoded, once or twice (`%40`, `%2540`), are the `@`, a `+` and non-ASCII bytes — never an encoded
 * `/` or `=`, so an encoded path or query around an address is not taken into it.
 */
const LOCAL_UNIT = String.raw`[\p{L}\p{N}\p{M}_+\-]|%(?:25)?(?:2[Bb]|[89A-Fa-f][0-9A-Fa-f])`;
// Not started inside a percent escape: in `%2Falice%40…` the address is `alice@…`, not `2falice@…`.
const LOCAL = String.raw`(?<!%|%[0-9A-Fa-f])(?:${LOCAL_UNIT})(?:${LOCAL_UNIT}|\.|(?<=\p{L})'(?=\p{L})){0,63}`;
const AT = '(?:@|%(?:25)?40)';
const DOMAIN_UNIT = String.raw`[\p{L}\p{N}\p{M}\-]|%(?:25)?[89A-Fa-f][0-9A-Fa-f]`;
const DOMAIN_ENCODED = '%(?:25)?[89A-Fa-f][0-9A-Fa-f]';
// Punycode first: the letters-only form would stop a top-level `xn--p1ai` at `xn`.
const TLD = String.raw`xn--[0-9A-Za-z\-]{1,59}|(?:\p{L}|${DOMAIN_ENCODED})(?:[\p{L}\p{M}]|${DOMAIN_ENCODED}){1,62}`;
const EMAIL = new RegExp(String.raw`(?:${LOCAL})${AT}(?:(?:${DOMAIN_UNIT}){1,63}\.){1,16}(?:${TLD})`, 'gu');

const IPV4_TEXT = String.raw`(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}`;
/*
 * IPv6 candidates, validated by `isIPv6` afterwards: up to eight hex groups, any of them empty (`::`), the last
 * one optionally an IPv4 tail, then optionally a colon ending a sentence. A candidate starts where no letter, digit
 * or colon precedes it (so `ip_2a02::1f`, `=fe80::1`, `[2001:db8::1]:443` are found, `std::vector` is not), or
 * after a word and a colon (`ip:2001:db8::1`). It never ends inside an IPv4 tail (`::ffff:1.2.3` of
 * `::ffff:1.2.3.4:`). A zone (`%eth0`) is left as text after the token: it names an interface, not a person.
 */
const IPV6_TEXT = String.raw`(?:(?<![0-9A-Za-z:])|(?<=[A-Za-z_]{2}:))[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:\.\d{1,3}){0,3}:?(?![0-9A-Za-z:]|\.\d)`;
const IP = new RegExp(String.raw`(${IPV6_TEXT})|(?<!\d)${IPV4_TEXT}(?!\d)`, 'g');
const IPV4_ONLY = new RegExp(String.raw`(?<!\d)${IPV4_TEXT}(?!\d)`, 'g');

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/** Decodes each run of percent escapes that is valid UTF-8, leaving any other run as it is. */
function decodePercentRuns(text: string): string {
  return text.replace(PERCENT_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** One email address in decoded text, bounded like `EMAIL` (letters, digits and marks; no percent escapes). */
const DECODED_EMAIL =
  /[\p{L}\p{N}\p{M}_+-](?:[\p{L}\p{N}\p{M}_+\-.]|(?<=\p{L})'(?=\p{L})){0,63}@(?:[\p{L}\p{N}\p{M}-]{1,63}\.){1,16}(?:xn--[0-9A-Za-z-]{1,59}|\p{L}[\p{L}\p{M}]{1,62})/u;

/**
 * The address an email match stands for: percent escapes decoded twice, so `alice%40example.com` and the
 * double-encoded `alice%2540example.com` (an encoded URL inside a query parameter) are both `alice@example.com`.
 * Encoded punctuation that the match took in with the address (an encoded curly quote is non-ASCII bytes, like
 * an encoded letter) is left out once decoded, so `%E2%80%9Calice%40example.com%E2%80%9D` is `alice@example.com`.
 */
function decodeEmail(match: string): string {
  if (!match.includes('%')) return match;
  const decoded = decodePercentRuns(decodePercentRuns(match));
  return DECODED_EMAIL.exec(decoded)?.[0] ?? decoded;
}

/**
 * The form of an IP address that is hashed: brackets, a port and a zone dropped, and an IPv4-mapped IPv6
 * address as its IPv4 address (`::ffff:198.51.100.7` is `198.51.100.7`, as a data subject knows it). Other
 * forms are hashed as written.
 */
function ipForHash(raw: string): string {
  let ip = raw.trim();
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(ip);
  if (bracketed) ip = bracketed[1] ?? ip;
  else if (/^[\d.]+:\d{1,5}$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  const zone = ip.indexOf('%');
  if (zone >= 0 && ip.includes(':')) ip = ip.slice(0, zone);
  if (isIPv6(ip)) {
    const groups = expandIPv6(ip);
    if (groups?.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      const hi = groups[6] ?? 0;
      const lo = groups[7] ?? 0;
      return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
  }
  return ip;
}

/** `ip:<prefix>#<hash>`: the network stays readable, the host is replaced by a keyed hash of the address. */
function ipToken(secret: Buffer, ip: string): string {
  const address = ipForHash(ip);
  return `ip:${truncateIp(address) ?? 'unknown'}#${hashIdentifier(secret, 'ip', address)}`;
}

/** `email:<hash>`: the keyed hash of the normalised address (see `normaliseEmail`). */
function emailToken(secret: Buffer, email: string): string {
  return `email:${hashIdentifier(secret, 'email', decodeEmail(email))}`;
}

function scrubIpv6Candidate(secret: Buffer, candidate: string): string {
  // `::` alone is a separator in text far more often than the unspecified address.
  if (/[0-9A-Fa-f]/.test(candidate)) {
    if (isIPv6(candidate)) return ipToken(secret, candidate);
    // A colon ending a sentence or a `key: value` (`from 2001:db8::1: refused`, `from 2001:db8::: refused`).
    if (candidate.endsWith(':') && isIPv6(candidate.slice(0, -1)))
      return `${ipToken(secret, candidate.slice(0, -1))}:`;
  }
  // Not IPv6 (a time, a MAC address): an IPv4 address inside it is still one.
  return candidate.replace(IPV4_ONLY, (ip) => ipToken(secret, ip));
}

/**
 * Replaces email addresses and IP addresses in free text by keyed-hash tokens, so logs keep their meaning and a
 * privacy request can still find a subject's lines by the hash of its identifiers, and drops NUL characters.
 * Emails go first: their tokens hold nothing an IP pattern takes.
 */
export function scrubText(secret: Buffer, raw: string): string {
  // NUL is no text anyone reads, and PostgreSQL stores it neither in text nor in jsonb: dropped on both databases.
  const text = raw.includes('\u0000') ? raw.replaceAll('\u0000', '') : raw;
  const emailsDone =
    text.includes('@') || text.includes('%')
      ? text.replace(EMAIL, (email) => emailToken(secret, email))
      : text;
  return emailsDone.replace(IP, (match, ipv6: string | undefined) =>
    ipv6 === undefined ? ipToken(secret, match) : scrubIpv6Candidate(secret, ipv6),
  );
}

/** Decodes a URL component, twice at most (double encoding), or answers undefined when it is not valid. */
function decodeComponent(raw: string): string | undefined {
  try {
    const once = decodeURIComponent(raw);
    return /%[0-9A-Fa-f]{2}/.test(once) ? decodeURIComponent(once) : once;
  } catch {
    return undefined;
  }
}

function scrubComponent(secret: Buffer, raw: string, decoded: string | undefined): string {
  // An undecodable component is scrubbed as it stands: the email pattern reads percent escapes itself.
  if (decoded === undefined) return scrubText(secret, raw);
  const scrubbed = scrubText(secret, decoded);
  if (scrubbed === decoded) return raw;
  // Re-encoded so the token's `/` and `#` stay inside the component; `:` is kept readable.
  return encodeURIComponent(scrubbed).replaceAll('%3A', ':');
}

/**
 * Scrubs a URL path segment by segment: a segment holding an email or IP (also percent-encoded) is replaced by
 * its scrubbed form, percent-encoded (decoding it gives back the tokens); other segments are left as they are.
 */
export function scrubPath(secret: Buffer, path: string): string {
  return path
    .split('/')
    .map((segment) => (segment === '' ? segment : scrubComponent(secret, segment, decodeComponent(segment))))
    .join('/');
}

/** Scrubs one raw (form-encoded) query value as `scrubPath` scrubs a segment. */
export function scrubQueryValue(secret: Buffer, value: string): string {
  return scrubComponent(secret, value, decodeComponent(value.replaceAll('+', ' ')));
}

/** Attribute keys whose values identify a person by IP or email. */
const IP_KEY = /(^|[._-])(ip|ip_?address|client_?ip|remote_?addr|x_forwarded_for)$/i;
const EMAIL_KEY = /(^|[._-])(e_?mail|mail|email_?address)$/i;

/** How deep `scrubAttrs` descends; deeper values become `[depth limit]`. */
const ATTRS_MAX_DEPTH = 8;
/** How many keys and values `scrubAttrs` visits in all; later ones become `[truncated]`. */
const ATTRS_MAX_NODES = 10_000;
const TRUNCATED = '[truncated]';

/**
 * Scrubs attributes recursively: values under identifier keys are replaced whole, other strings and every key are
 * scrubbed as text (a sender may key a map by email address). The work is bounded by depth and by the number of
 * keys and values visited, as senders choose the shape (browser `context` and `attributes` objects too): past
 * the budget, array items and object entries left are replaced by one `[truncated]` marker.
 */
export function scrubAttrs(secret: Buffer, value: unknown): unknown {
  return scrubNode(secret, value, '', 0, { left: ATTRS_MAX_NODES });
}

function scrubNode(
  secret: Buffer,
  value: unknown,
  key: string,
  depth: number,
  budget: { left: number },
): unknown {
  if (depth > ATTRS_MAX_DEPTH) return '[depth limit]';
  if (budget.left <= 0) return TRUNCATED;
  budget.left -= 1;
  if (typeof value === 'string') {
    if (IP_KEY.test(key))
      return value
        .split(',')
        .map((ip) => ipToken(secret, ip))
        .join(',');
    if (EMAIL_KEY.test(key)) return emailToken(secret, value);
    return scrubText(secret, value);
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      if (budget.left <= 0) {
        out.push(TRUNCATED);
        break;
      }
      out.push(scrubNode(secret, item, key, depth + 1, budget));
    }
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      if (budget.left <= 0) {
        // The keys left are not copied: a key may itself be an address.
        out[TRUNCATED] = true;
        break;
      }
      budget.left -= 1;
      // Defined, not assigned: a `__proto__` key stays data instead of becoming the prototype.
      Object.defineProperty(out, scrubText(secret, k), {
        value: scrubNode(secret, (value as Record<string, unknown>)[k], k, depth + 1, budget),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
