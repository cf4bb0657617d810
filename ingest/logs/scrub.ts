import { hashIdentifier, truncateIp } from '../identifiers.ts';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const IPV4 = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
// Full and compressed IPv6 forms with at least two colons and hex groups; validated by truncateIp afterwards.
const IPV6 =
  /(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{1,4}){0,6}(?![\w:])|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])/g;

/** Attribute keys whose values identify a person by IP or email. */
const IP_KEY = /(^|[._-])(ip|ip_?address|client_?ip|remote_?addr|x_forwarded_for)$/i;
const EMAIL_KEY = /(^|[._-])(e_?mail|mail|email_?address)$/i;

/** `ip:<prefix>#<hash>`: the network stays readable, the host is replaced by a keyed hash. */
function ipToken(secret: Buffer, ip: string): string {
  return `ip:${truncateIp(ip) ?? 'unknown'}#${hashIdentifier(secret, 'ip', ip)}`;
}

function emailToken(secret: Buffer, email: string): string {
  return `email:${hashIdentifier(secret, 'email', email)}`;
}

/**
 * Replaces email addresses and IP addresses in free text by keyed-hash tokens, so logs keep their meaning and a
 * privacy request can still find a subject's lines by the hash of its identifiers.
 */
export function scrubText(secret: Buffer, text: string): string {
  return text
    .replace(EMAIL, (email) => emailToken(secret, email))
    .replace(IPV4, (ip) => ipToken(secret, ip))
    .replace(IPV6, (candidate) => (truncateIp(candidate) ? ipToken(secret, candidate) : candidate));
}

/**
 * Scrubs attributes recursively: values under identifier keys are replaced whole, other strings and every key are
 * scrubbed as text (a sender may key a map by email address).
 */
export function scrubAttrs(secret: Buffer, value: unknown, key = '', depth = 0): unknown {
  if (depth > 8) return '[depth limit]';
  if (typeof value === 'string') {
    if (IP_KEY.test(key))
      return value
        .split(',')
        .map((ip) => ipToken(secret, ip.trim()))
        .join(',');
    if (EMAIL_KEY.test(key)) return emailToken(secret, value);
    return scrubText(secret, value);
  }
  if (Array.isArray(value)) return value.map((item) => scrubAttrs(secret, item, key, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        scrubText(secret, k),
        scrubAttrs(secret, v, k, depth + 1),
      ]),
    );
  }
  return value;
}
